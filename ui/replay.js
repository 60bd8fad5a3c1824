// The timeline bar: a scrubber over the session's events, play / pause at
// 1× 4× 16× or instant, step one event, jump to a time, and back to live.
//
// It only moves a cursor (how many events are shown); what the page shows
// at the cursor is the reducer's business. Playing at the end of the log
// becomes the live view: a replay that has caught up keeps up.

import { h, clock, dateTime, setText } from "./format.js";

const SPEEDS = [["1", "1×"], ["4", "4×"], ["16", "16×"], ["instant", "instant"]];
const MAX_IDLE_MS = 2000; // a pause longer than this in the log plays as this long (at 1×)

export class ReplayBar {
  /**
   * @param log the EventLog (events and their times)
   * @param view {seek(count), goLive()} moves the shown moment
   */
  constructor(root, log, view) {
    this.log = log;
    this.view = view;
    this.playing = false;
    this.playhead = 0; // the log time playback has reached, in ms

    this.startButton = button("|◀", "to the start", () => this.seek(0), "replay-start");
    this.backButton = button("◀", "back one event", () => this.step(-1), "replay-back");
    this.playButton = button("▶", "play / pause", () => this.toggle(), "replay-play");
    this.forwardButton = button("▶|", "forward one event", () => this.step(1), "replay-forward");
    this.speed = h("select#replay-speed", { title: "playback speed" },
      SPEEDS.map(([value, label]) => h("option", { value }, label)));
    this.scrubber = h("input#scrubber", {
      type: "range", min: 0, max: 0, step: 1, value: 0, title: "scrub through the session",
      oninput: () => this.seek(Number(this.scrubber.value)),
    });
    this.label = h("span.replay-label#replay-label");
    this.jump = h("input#jump-time", {
      type: "text", placeholder: "jump to hh:mm:ss", title: "jump to a time (hh:mm[:ss], or a full date and time)",
      onkeydown: (e) => {
        if (e.key === "Enter") this.jumpTo(this.jump.value);
      },
    });
    this.liveButton = h("button.live#live", { type: "button", title: "follow the session as it happens", onclick: () => this.goLive() }, "live");
    root.append(this.startButton, this.backButton, this.playButton, this.forwardButton, this.speed,
      this.scrubber, this.label, this.jump, this.liveButton);
  }

  /** Draw the bar for a cursor at `count` of the log's events. */
  render(count, following) {
    const { events } = this.log;
    if (this.scrubber.max !== String(events.length)) this.scrubber.max = String(events.length);
    if (this.scrubber.value !== String(count)) this.scrubber.value = String(count);
    const event = events[count - 1];
    const loading = this.log.complete ? "" : " · loading…";
    setText(this.label, event
      ? `#${event.id} · ${clock(event.at)} · ${count.toLocaleString()} / ${events.length.toLocaleString()}${loading}`
      : `start · 0 / ${events.length.toLocaleString()}${loading}`);
    this.label.title = event ? dateTime(event.at) : "";
    this.liveButton.classList.toggle("on", following);
    setText(this.liveButton, following ? "● live" : "go live");
    setText(this.playButton, this.playing ? "⏸" : "▶");
    this.count = count;
  }

  seek(count) {
    this.pause();
    this.moveTo(count);
  }

  /** Move the shown moment; the bar keeps the count itself, as it is drawn only next frame. */
  moveTo(count) {
    this.count = count;
    this.view.seek(count);
  }

  step(delta) {
    this.seek(Math.max(0, Math.min(this.log.events.length, this.count + delta)));
  }

  goLive() {
    this.pause();
    this.view.goLive();
  }

  jumpTo(text) {
    const ms = parseMoment(text, this.log.times[Math.max(0, this.count - 1)] ?? Date.now());
    this.jump.classList.toggle("invalid", ms === null);
    if (ms !== null) this.seek(this.log.countUpToTime(ms));
  }

  // --- playback -------------------------------------------------------------

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    const { events, times } = this.log;
    let count = this.count;
    if (count >= events.length) count = 0; // at the end: play from the start
    if (this.speed.value === "instant") {
      this.moveTo(events.length);
      return;
    }
    this.playing = true;
    this.playhead = count > 0 ? times[count - 1] : (times[0] ?? 0);
    this.moveTo(count);
    this.lastFrame = performance.now();
    requestAnimationFrame((now) => this.tick(now));
  }

  pause() {
    this.playing = false;
  }

  tick(now) {
    if (!this.playing) return;
    const { events, times } = this.log;
    const speed = Number(this.speed.value) || 1;
    this.playhead += (now - this.lastFrame) * speed;
    this.lastFrame = now;
    let count = this.count;
    if (count < events.length && times[count] - this.playhead > MAX_IDLE_MS) {
      this.playhead = times[count] - MAX_IDLE_MS; // skip the quiet part
    }
    while (count < events.length && times[count] <= this.playhead) count++;
    if (count >= events.length && this.log.complete) {
      this.playing = false;
      this.view.goLive(); // caught up: from here on, this is the live view
      return;
    }
    if (count !== this.count) this.moveTo(count);
    requestAnimationFrame((t) => this.tick(t));
  }
}

function button(text, title, onclick, id) {
  return h(`button.icon#${id}`, { type: "button", title, onclick }, text);
}

/**
 * A moment typed by a person: "14:03", "14:03:27", or a full date and time.
 * A bare time is on the day of `reference` (ms), in local time.
 */
export function parseMoment(text, reference) {
  const value = text.trim();
  const time = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(value);
  if (time) {
    const day = new Date(reference);
    day.setHours(Number(time[1]), Number(time[2]), Number(time[3] ?? 0), Number((time[4] ?? "0").padEnd(3, "0")));
    return Number.isNaN(day.getTime()) ? null : day.getTime();
  }
  const ms = Date.parse(value.replace(" ", "T"));
  return Number.isNaN(ms) ? null : ms;
}
