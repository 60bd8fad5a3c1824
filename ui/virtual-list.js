// A virtualised list: only the rows on screen (and a few around them) exist
// in the DOM, so a list of 100,000 rows scrolls like one of 100.
//
// Rows have one fixed height, except expanded rows, whose extra height is
// measured (by a ResizeObserver) once they are drawn. Few rows are expanded
// at once, so a row's offset is `position * rowHeight` plus the extras of the
// expanded rows above it, and the row at an offset is found the same way.
//
// Drawing never reads the DOM: the viewport's height and scroll position are
// kept from resize and scroll events, so a scrub that redraws every row costs
// one layout, not one per read. The list follows its bottom while the user
// is there (see follow.js).

import { BottomFollower } from "./follow.js";

const OVERSCAN = 8;

export class VirtualList {
  /**
   * @param {HTMLElement} viewport the scrolling element
   * @param {object} rows how to draw them:
   *   key(position) -> a stable key of the row at that position;
   *   signature(position) -> a string that changes when the row must be redrawn;
   *   render(position, expanded) -> the row's element;
   *   positionOf(key) -> the row's position in the list now, or -1.
   */
  constructor(viewport, rows, rowHeight) {
    this.viewport = viewport;
    this.rows = rows;
    this.rowHeight = rowHeight;
    this.count = 0;
    this.total = 0; // the content's height
    this.expanded = new Map(); // key -> extra height in px beyond rowHeight
    this.extras = []; // [{position, extra}] of expanded rows in the list, by position
    this.drawn = new Map(); // key -> {node, signature}
    this.height = viewport.clientHeight;
    this.scrollTop = 0;
    this.onPinnedChange = () => {};
    this.follower = new BottomFollower(viewport, (pinned) => this.onPinnedChange(pinned));
    this.content = document.createElement("div");
    this.content.className = "vlist-content";
    viewport.append(this.content);
    viewport.addEventListener("scroll", () => {
      this.scrollTop = viewport.scrollTop;
      this.draw();
    }, { passive: true });
    new ResizeObserver(([entry]) => {
      this.height = entry.contentRect.height;
      this.refresh();
    }).observe(viewport);
    this.rowSizes = new ResizeObserver((entries) => this.measured(entries));
  }

  /**
   * Show `count` rows. With `relayout`, positions changed (a new filter):
   * forget drawn rows. The caller calls stick() once its other DOM writes are done.
   */
  setCount(count, relayout = false) {
    this.count = count;
    if (relayout) this.clear();
    this.layout();
    this.draw();
  }

  /** Scroll to the bottom if following it: the one DOM write that needs a layout, so last. */
  stick() {
    if (this.pinned) this.viewport.scrollTop = this.total;
  }

  get pinned() {
    return this.follower.pinned;
  }

  setPinned(pinned) {
    this.follower.set(pinned);
  }

  toggle(key) {
    if (this.expanded.has(key)) this.expanded.delete(key);
    else this.expanded.set(key, 0);
    const position = this.rows.positionOf(key);
    if (position < this.count - 1) this.setPinned(false); // the user is reading: hold still
    this.forget(key);
    this.refresh();
  }

  scrollToBottom() {
    this.setPinned(true);
    this.refresh();
  }

  refresh() {
    this.layout();
    this.draw();
    this.stick();
  }

  // --- geometry -----------------------------------------------------------

  layout() {
    const extras = [];
    for (const [key, extra] of this.expanded) {
      const position = this.rows.positionOf(key);
      if (position >= 0 && position < this.count) extras.push({ position, extra });
    }
    extras.sort((a, b) => a.position - b.position);
    this.extras = extras;
    this.total = extras.reduce((sum, e) => sum + e.extra, this.count * this.rowHeight);
    this.content.style.height = `${this.total}px`;
    if (this.pinned) this.scrollTop = Math.max(0, this.total - this.height);
  }

  offsetOf(position) {
    let offset = position * this.rowHeight;
    for (const e of this.extras) {
      if (e.position >= position) break;
      offset += e.extra;
    }
    return offset;
  }

  positionAt(offset) {
    let above = 0; // extra height of the expanded rows above
    for (const e of this.extras) {
      const top = e.position * this.rowHeight + above;
      if (offset < top) break;
      if (offset < top + this.rowHeight + e.extra) return e.position;
      above += e.extra;
    }
    return Math.floor((offset - above) / this.rowHeight);
  }

  // --- drawing ------------------------------------------------------------

  draw() {
    const { rows } = this;
    const first = Math.max(0, this.positionAt(this.scrollTop) - OVERSCAN);
    const last = Math.min(this.count - 1, this.positionAt(this.scrollTop + this.height) + OVERSCAN);
    const wanted = new Set();
    for (let position = first; position <= last; position++) {
      const key = rows.key(position);
      wanted.add(key);
      const signature = rows.signature(position);
      let drawn = this.drawn.get(key);
      if (!drawn || drawn.signature !== signature) {
        if (drawn) this.forget(key);
        const expanded = this.expanded.has(key);
        const node = rows.render(position, expanded);
        node.classList.add("vlist-row");
        drawn = { node, signature, top: -1 };
        this.drawn.set(key, drawn);
        this.content.append(node);
        if (expanded) {
          node.vlistKey = key;
          this.rowSizes.observe(node);
        }
      }
      const top = this.offsetOf(position);
      if (top !== drawn.top) {
        drawn.node.style.transform = `translateY(${top}px)`;
        drawn.top = top;
      }
    }
    for (const key of this.drawn.keys()) {
      if (!wanted.has(key)) this.forget(key);
    }
  }

  /** Expanded rows were laid out: take their heights, and move the rows below. */
  measured(entries) {
    let changed = false;
    for (const entry of entries) {
      const key = entry.target.vlistKey;
      if (!this.expanded.has(key)) continue;
      const extra = Math.max(0, Math.round(entry.borderBoxSize[0].blockSize) - this.rowHeight);
      if (extra !== this.expanded.get(key)) {
        this.expanded.set(key, extra);
        changed = true;
      }
    }
    if (changed) this.refresh();
  }

  forget(key) {
    const drawn = this.drawn.get(key);
    if (!drawn) return;
    this.rowSizes.unobserve(drawn.node);
    drawn.node.remove();
    this.drawn.delete(key);
  }

  clear() {
    for (const key of [...this.drawn.keys()]) this.forget(key);
  }
}
