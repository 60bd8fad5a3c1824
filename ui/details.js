// The expanded view of one event of the stream: its AI summary, full texts,
// tool inputs and outputs, file changes with their coloured diffs (a rename's
// old path, the tool that made it, how much of a long diff was kept).
// Everything is set as text, never as HTML.

import { h, pretty, dateTime } from "./format.js";
import { readableInput } from "./tool-input.js";

const MAX_CHARS = 20_000; // a huge tool output would make one row taller than the screen

/**
 * @param event the event to show
 * @param completion for a tool use, its ToolUseCompleted if it happened by the shown moment
 * @param ai its AI summary, if made by the shown moment
 */
export function eventDetails(event, completion, ai = null) {
  const p = event.payload ?? {};
  const meta = h(
    "div.details-meta",
    null,
    `#${event.id} · ${event.type} · ${dateTime(event.at)}`,
    p.task ? ` · task ${p.task}` : "",
  );
  const summary = ai === null ? null : h("div.details-ai", { title: "the AI summary of this event" }, ai);
  return h("div.details", { onclick: (e) => e.stopPropagation() }, meta, summary, ...body(event, p, completion));
}

function body(event, p, completion) {
  switch (event.type) {
    case "ToolUseRequested":
    case "OrchestratorToolUsed":
      return [
        section("input", toolInput(p.tool, p.input)),
        event.type === "ToolUseRequested" ? toolOutput(completion) : null,
      ];
    case "ApprovalRequested":
      return [
        section(`${p.agent} asks to use ${p.tool}`, toolInput(p.tool, p.input)),
        section("why it asks", block(ruleLabel(p.rule))),
      ];
    case "ToolUseCompleted":
      return [section(p.is_error ? "output (error)" : "output", block(pretty(p.output)), p.is_error)];
    case "FileChanged":
      return fileChange(p);
    case "UserMessageSent":
    case "OrchestratorReplied":
    case "AgentTextEmitted":
    case "AgentThinkingEmitted":
      return [block(p.text)];
    case "AgentFailed":
      return [block(p.error)];
    default:
      return [block(pretty(withoutVersion(p)))];
  }
}

/** A FileChanged payload: what became of which file, by which tool call, and its diff. */
export function fileChange(p) {
  const title = p.previous_path ? `${p.change} ${p.previous_path} → ${p.path}` : `${p.change} ${p.path}`;
  const by = p.tool ? h("div.muted.details-tool", null, `by ${p.tool}${p.tool_use_id ? ` (call ${p.tool_use_id})` : ""}`) : null;
  const cut = p.diff_cut_from == null ? null : h("div.details-cut", null, diffCutNote(p.diff, p.diff_cut_from));
  const change = p.diff ? diff(p.diff) : h("div.muted", null, "no diff");
  return [section(title, [by, cut, change])];
}

/** "diff cut at 64,000 of 250,123 characters": how much of a long diff was recorded. */
export function diffCutNote(kept, whole) {
  return `diff cut at ${String(kept ?? "").length.toLocaleString()} of ${whole.toLocaleString()} characters`;
}

function toolOutput(completion) {
  if (!completion) return section("output", h("div.muted", null, "running…"));
  const p = completion.payload;
  return section(p.is_error ? "output (error)" : "output", block(pretty(p.output)), p.is_error);
}

/** Tool inputs the way a person reads them (ui/tool-input.js). */
export function toolInput(tool, input = {}) {
  const { path, command, description, diff: change, rest } = readableInput(tool, input);
  const parts = [];
  if (path) parts.push(h("div.details-path", null, path));
  if (description) parts.push(h("div.muted", null, description));
  if (command != null) parts.push(block(`$ ${command}`));
  if (change) parts.push(diff(change.join("\n"), false));
  if (rest) parts.push(block(pretty(rest)));
  return parts.length ? parts : [block(pretty(input))];
}

/** The rule that asked, as a person reads it. */
export function ruleLabel(rule) {
  return rule ? `asked by the rule ${rule}` : "no rule allows it: podium asks by default";
}

function section(title, content, isError = false) {
  return h(`div.details-section${isError ? ".error" : ""}`, null, h("div.details-title", null, title), content);
}

function block(text) {
  const full = String(text ?? "");
  const pre = h("pre.details-text", null, cut(full));
  return showAll(pre, full, () => (pre.textContent = full));
}

/** `shown` (cut from `full`), with a button that shows all of it (`fill`) when it was cut. */
function showAll(shown, full, fill) {
  if (full.length <= MAX_CHARS) return shown;
  const more = h("button.link", {
    onclick: () => {
      fill();
      more.remove();
    },
  }, `show all ${full.length.toLocaleString()} characters`);
  return h("div", null, shown, more);
}

function cut(text) {
  return text.length > MAX_CHARS ? text.slice(0, MAX_CHARS) + "\n…" : text;
}

/**
 * A unified diff, line by line: additions green, removals red, hunks and headers
 * marked. A preview (`headers` false) has no file headers: its "---" is a removal.
 */
export function diff(text, headers = true) {
  const full = String(text ?? "");
  const pre = h("pre.diff");
  const fill = (shown) => pre.replaceChildren(
    ...shown.replace(/\n$/, "").split("\n").map((line) => h(`span.${diffClass(line, headers)}`, null, line)));
  fill(cut(full));
  return showAll(pre, full, () => fill(full));
}

function diffClass(line, headers) {
  if (headers && (line.startsWith("+++") || line.startsWith("---"))) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return "diff-context";
}

function withoutVersion(payload) {
  const { v, ...rest } = payload;
  return rest;
}
