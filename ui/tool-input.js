// A tool's input the way a person reads it, before deciding on it or after
// it ran: a Bash command as a command, an Edit or a Write as the change it
// makes to the file (a diff preview), anything else as its JSON. Pure: the
// panels draw what this returns (ui/details.js, ui/approvals.js).

/** The parts of a tool's input worth reading, each null when absent. */
export function readableInput(tool, input) {
  const {
    file_path: filePath, path, notebook_path: notebook, command, description,
    content, old_string: before, new_string: after, edits, ...rest
  } = input ?? {};
  return {
    path: filePath ?? notebook ?? path ?? null,
    command: command == null ? null : String(command),
    description: description ?? null,
    diff: changeOf({ content, before, after, edits }),
    rest: Object.keys(rest).length ? rest : null,
  };
}

/**
 * The change an Edit, MultiEdit or Write makes, as unified diff lines (without
 * a header): what it replaces with "-", what it writes with "+". Null for an
 * input that changes no file.
 */
export function changeOf({ content, before, after, edits }) {
  if (content != null) return lines(content, "+");
  if (before != null || after != null) return editLines(before, after);
  if (Array.isArray(edits) && edits.length) {
    return edits.flatMap((edit, i) => [
      `@@ edit ${i + 1} of ${edits.length} @@`,
      ...editLines(edit.old_string, edit.new_string),
    ]);
  }
  return null;
}

function editLines(before, after) {
  return [...lines(before ?? "", "-"), ...lines(after ?? "", "+")];
}

function lines(text, sign) {
  const body = String(text);
  if (!body) return [];
  return body.replace(/\n$/, "").split("\n").map((line) => sign + line);
}

/** One line for a request, as a list or a notification shows it: "Bash: ls -la". */
export function inputLine(tool, input) {
  const { path, command, rest } = readableInput(tool, input);
  const what = command ?? path ?? (rest ? JSON.stringify(rest) : "");
  const line = what.replace(/\s+/g, " ").trim();
  const short = line.length > 120 ? `${line.slice(0, 119)}…` : line;
  return short ? `${tool}: ${short}` : tool;
}
