// node --test ui/tests: a tool's input as a person reads it, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readableInput, changeOf, inputLine } from "../tool-input.js";

test("a Bash command is a command, its description beside it", () => {
  const seen = readableInput("Bash", { command: "ls -la", description: "list the files" });
  assert.deepEqual(seen, { path: null, command: "ls -la", description: "list the files", diff: null, rest: null });
});

test("an Edit previews as the lines it takes out and the lines it puts in", () => {
  const seen = readableInput("Edit", {
    file_path: "/w/hello.py", old_string: 'print("hi")\n', new_string: 'print("Hello,")\nprint("World!")',
    replace_all: false,
  });
  assert.equal(seen.path, "/w/hello.py");
  assert.deepEqual(seen.diff, ['-print("hi")', '+print("Hello,")', '+print("World!")']);
  assert.deepEqual(seen.rest, { replace_all: false }); // what is not shown otherwise is still shown
});

test("a Write previews as every line added; a MultiEdit as each edit in turn", () => {
  assert.deepEqual(changeOf({ content: "a\nb\n" }), ["+a", "+b"]);
  assert.deepEqual(changeOf({ content: "" }), []);
  assert.deepEqual(changeOf({ edits: [{ old_string: "x", new_string: "y" }, { old_string: "", new_string: "z" }] }), [
    "@@ edit 1 of 2 @@", "-x", "+y", "@@ edit 2 of 2 @@", "+z",
  ]);
  assert.equal(changeOf({}), null);
});

test("anything else is its JSON; one line says what a request is about", () => {
  assert.deepEqual(readableInput("WebFetch", { url: "https://x.org", prompt: "read" }).rest, { url: "https://x.org", prompt: "read" });
  assert.equal(inputLine("Bash", { command: "npm   test\n  --watch" }), "Bash: npm test --watch");
  assert.equal(inputLine("Write", { file_path: "/w/a.py", content: "x" }), "Write: /w/a.py");
  assert.equal(inputLine("WebFetch", { url: "u" }), 'WebFetch: {"url":"u"}');
  assert.equal(inputLine("Glob", {}), "Glob");
  assert.equal(inputLine("Bash", { command: "x".repeat(300) }).length, "Bash: ".length + 120);
});
