// Following the bottom of a scrolling element, like a terminal: new content
// scrolls into view while the user is at the bottom; scrolling up holds the
// view still; scrolling back down to the bottom follows again.

export class BottomFollower {
  constructor(element, onChange = () => {}) {
    this.element = element;
    this.onChange = onChange;
    this.pinned = true;
    this.lastTop = 0;
    element.addEventListener("scroll", () => this.scrolled(), { passive: true });
  }

  scrolled() {
    // Only the user scrolls up: the page itself only ever scrolls to the
    // bottom. A scroll event arrives a frame late, when more content may have
    // come, so "not at the bottom" alone does not mean the user left it.
    const { element } = this;
    const top = element.scrollTop;
    if (top + element.clientHeight >= element.scrollHeight - 4) this.set(true);
    else if (top < this.lastTop) this.set(false);
    this.lastTop = top;
  }

  set(pinned) {
    if (pinned === this.pinned) return;
    this.pinned = pinned;
    this.onChange(pinned);
  }

  /** After new content: back to the bottom, if following. */
  stick() {
    if (this.pinned) this.element.scrollTop = this.element.scrollHeight;
  }

  toBottom() {
    this.set(true);
    this.stick();
  }
}
