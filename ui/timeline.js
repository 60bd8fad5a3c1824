// The state at any point of a log, fast: checkpoints of the one reducer.
//
// Every CHECKPOINT_EVERY events the folded state is kept (states share
// structure, so a checkpoint costs a reference, not a copy). The state after
// `count` events folds from the nearest checkpoint at or before it: at most
// CHECKPOINT_EVERY - 1 events, whatever the size of the log. Following the
// head folds only the new events.

import { initialState, reduce } from "./reducer.js";

export const CHECKPOINT_EVERY = 500;

export class Timeline {
  /** @param {object[]} events the log, in order; appended to by its owner, never rewritten */
  constructor(events, every = CHECKPOINT_EVERY) {
    this.events = events;
    this.every = every;
    this.checkpoints = [initialState()]; // checkpoints[k]: the state after k * every events
    this.last = this.checkpoints[0]; // the last state asked for: the live view asks again and again
  }

  /** The state after the first `count` events. */
  stateAt(count) {
    count = Math.max(0, Math.min(count, this.events.length));
    const { events, every, checkpoints } = this;
    // Start from the latest state known at or before `count`: a checkpoint, or the last answer.
    let state = checkpoints[Math.min(Math.floor(count / every), checkpoints.length - 1)];
    if (this.last.count <= count && this.last.count > state.count) state = this.last;
    while (state.count < count) {
      state = reduce(state, events[state.count]);
      if (state.count % every === 0 && state.count / every === checkpoints.length) {
        checkpoints.push(state);
      }
    }
    this.last = state;
    return state;
  }
}
