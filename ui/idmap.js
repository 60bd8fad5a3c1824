// A persistent map from whole numbers (notification ids) to values, for the
// reducer's states: setting a key makes a new map that shares all but one path
// of the old one, so a log of 100,000 summaries folds in linear time, where
// copying an object per event would be quadratic. A trie of 32-way nodes,
// as deep as the largest key needs (arithmetic, not bit operations: ids can
// pass 2^32).

const WIDTH = 32;

/** The empty map. */
export const EMPTY_IDS = Object.freeze({ depth: 1, root: Object.freeze([]), size: 0 });

function capacity(depth) {
  return WIDTH ** depth;
}

function digit(key, level) {
  return Math.floor(key / WIDTH ** level) % WIDTH;
}

/** The value at `key`, or undefined. */
export function idGet(map, key) {
  if (!Number.isInteger(key) || key < 0 || key >= capacity(map.depth)) return undefined;
  let node = map.root;
  for (let level = map.depth - 1; level > 0 && node; level--) node = node[digit(key, level)];
  return node?.[digit(key, 0)];
}

/** A new map with `key` (a whole number) set to `value`; `map` stays as it was. */
export function idSet(map, key, value) {
  let { depth, root } = map;
  while (key >= capacity(depth)) {
    root = [root]; // the old root holds the lowest keys: slot 0 of a taller one
    depth += 1;
  }
  const had = idGet(map, key) !== undefined;
  return { depth, root: setIn(root, key, depth - 1, value), size: map.size + (had ? 0 : 1) };
}

function setIn(node, key, level, value) {
  const copy = node ? [...node] : [];
  const slot = digit(key, level);
  copy[slot] = level === 0 ? value : setIn(copy[slot], key, level - 1, value);
  return copy;
}
