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
    this.onScroll = () => {
      atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 8;
    };
    box.addEventListener("scroll", this.onScroll, { passive: true });
    // Scroll in the next frame, just before it is laid out: reading the height as soon as the DOM
    // changed laid the page out twice per update (~1 ms each in a profile).
    const follow = () => {
      pending = false;
      if (atEnd) box.scrollTop = box.scrollHeight;
    };
    this.observer = new MutationObserver(() => {
      if (!pending) {
        pending = true;
        requestAnimationFrame(follow);
      }
    });
    this.observer.observe(box, { childList: true, subtree: true });
    follow();
  },
  unmounted() {
    this.observer.disconnect();
    this.$el.removeEventListener("scroll", this.onScroll);
  },
};
