// A scroll box that keeps its newest content (at the end) in view while the reader is at the end, and
// leaves the view alone once they have scrolled back to read. New entries go at the end, so nothing
// above them moves: the browser paints the new entry and scrolls, where inserting on top repainted
// every entry in view (with many builds watched, ~2 ms more per entry in each page).
export default {
  template: `<div><slot></slot></div>`,
  mounted() {
    const box = this.$el;
    let atEnd = true;
    let pending = false;
    let ours = -1; // the scroll position we set: its scroll event is not the reader's
    // Scroll in the next frame, just before it is laid out: reading the height as soon as the DOM
    // changed laid the page out twice per update (~1 ms each in a profile).
    const follow = () => {
      pending = false;
      if (!atEnd) return;
      box.scrollTop = box.scrollHeight;
      ours = box.scrollTop;
    };
    const soon = () => {
      if (!pending) {
        pending = true;
        requestAnimationFrame(follow);
      }
    };
    this.onScroll = () => {
      // Our own scroll counts as at the end even if blocks drawn since have grown the box; a reader who
      // comes back down to the end is followed again.
      atEnd = box.scrollTop === ours || box.scrollHeight - box.scrollTop - box.clientHeight < 8;
    };
    box.addEventListener("scroll", this.onScroll, { passive: true });
    // Blocks out of view are drawn late (content-visibility) and only then get their real height: when
    // that leaves the end out of view, follow it again. After a usual update this finds it in view.
    this.resized = new ResizeObserver(() => {
      if (atEnd && box.scrollTop + box.clientHeight < box.scrollHeight - 1) soon();
    });
    this.added = new MutationObserver((records) => {
      for (const record of records) {
        if (record.target !== box) continue; // an entry within a block
        // a new block: its height is watched too
        for (const node of record.addedNodes) if (node.nodeType === 1) this.resized.observe(node);
      }
      soon();
    });
    this.added.observe(box, { childList: true, subtree: true });
    for (const child of box.children) this.resized.observe(child);
    follow();
  },
  unmounted() {
    this.added.disconnect();
    this.resized.disconnect();
    this.$el.removeEventListener("scroll", this.onScroll);
  },
};
