// node --test ui/tests: the reducer's persistent map of notification ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EMPTY_IDS, idGet, idSet } from "../idmap.js";

test("it holds what a Map holds, for ids small and past 2^32", () => {
  let map = EMPTY_IDS;
  const truth = new Map();
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647);
  for (let i = 0; i < 5000; i++) {
    const key = i % 5 === 0 ? 2 ** 40 + random() : random() % 3000;
    map = idSet(map, key, `v${i}`);
    truth.set(key, `v${i}`);
  }
  assert.equal(map.size, truth.size);
  for (const [key, value] of truth) assert.equal(idGet(map, key), value);
  for (const key of [0, 2999, 3001, 2 ** 33, 2 ** 53 - 1, -1, 1.5]) {
    assert.equal(idGet(map, key), truth.get(key));
  }
});

test("setting a key leaves the map it was set on as it was", () => {
  const one = idSet(EMPTY_IDS, 5, "five");
  const two = idSet(one, 5, "FIVE");
  const far = idSet(two, 10 ** 9, "far");
  assert.deepEqual([idGet(EMPTY_IDS, 5), idGet(one, 5), idGet(two, 5), idGet(far, 5)], [undefined, "five", "FIVE", "FIVE"]);
  assert.deepEqual([one.size, two.size, far.size], [1, 1, 2]);
  assert.equal(idGet(two, 10 ** 9), undefined);
  assert.equal(idGet(far, 10 ** 9), "far");
});
