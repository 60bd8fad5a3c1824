// The vocabulary as GET /api/meta serves it, given by tests/test_ui_reducer.py
// (from gateway/meta.py): the tests use podium's words, not a copy of them.
import { learnMeta } from "../meta.js";

const served = process.env.PODIUM_META;
if (!served) {
  throw new Error("PODIUM_META is not set: run these through tests/test_ui_reducer.py");
}
learnMeta(JSON.parse(served));
