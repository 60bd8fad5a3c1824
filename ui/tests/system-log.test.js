// node --test ui/tests: the system log panel's entries, and a file change's cut diff.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { entryOf, contextLine } from "../system-log.js";
import { diffCutNote } from "../details.js";

test("a SystemLogged event of the stream is an entry as the API lists it", () => {
  const event = {
    id: 42, type: "SystemLogged", at: "2026-01-01T00:00:00Z", stream_type: "system_log",
    payload: { v: 1, level: "warning", message: "disk nearly full", context: { logger: "podium.x" }, session_id: null },
  };
  assert.deepEqual(entryOf(event), {
    notification_id: 42, at: "2026-01-01T00:00:00Z", level: "warning", message: "disk nearly full",
    context: { logger: "podium.x" }, session_id: null,
  });
  assert.equal(entryOf({ ...event, type: "SystemLogOpened", payload: { v: 1, day: "2026-01-01" } }), null);
  assert.equal(contextLine({ logger: "podium.x", exception: "ValueError: bad" }), "logger=podium.x · exception=ValueError: bad");
  assert.equal(contextLine({}), "");
});

test("a cut diff says how much of it was kept", () => {
  assert.equal(diffCutNote("x".repeat(64000), 250123), "diff cut at 64,000 of 250,123 characters");
});
