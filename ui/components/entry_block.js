// One block of a feed's entries, behind its own Vue component, drawn again only when something in it
// changed.
//
// NiceGUI hands an element's children to a component as slots, and Vue re-renders every child
// component that has slots whenever its parent re-renders. So adding a block (which changes the list
// of blocks) re-rendered every block and every entry of the feed before the new entry showed: 3.5 ms
// of script with 20 entries, 7 ms with 200, on one page with nothing else running, one push in five.
//
// Here a block notes what it shows: the objects of its elements in NiceGUI's store, which NiceGUI
// replaces whenever one of them changes. Reading each one's key in the store also subscribes the block to
// it, so a change inside still re-renders it; the rest is read from the plain objects (tracking every
// children list too made the check cost as much as the re-render it saves). When its parent re-renders
// and nothing in the block changed, it hands Vue the tree it drew last time (Vue's own memo, as `v-memo`
// does), which Vue leaves alone.
import { h, toRaw, withMemo } from "vue";

export default {
  inheritAttrs: false, // the block's id and attributes go inside the memoised tree
  created() {
    this.drawn = []; // withMemo's cache: the tree drawn last and what it showed
    this.draws = 0; // how often the tree was drawn afresh (a test checks the memo holds)
  },
  mounted() {
    this.$el.cofounderDraws = () => this.draws; // a property, not an attribute: the DOM stays as drawn
  },
  render() {
    const store = this.$root.elements;
    const plain = toRaw(store);
    const shown = [];
    // Index loops and `for…in`: this runs at every push, and iterators and Object.values allocated more
    // than the rest of the block's render (the garbage collector's pauses came with every few pushes).
    const noteAll = (ids) => {
      if (ids) for (let i = 0; i < ids.length; i++) note(ids[i]);
    };
    const note = (id) => {
      store[id]; // read for the subscription only
      const element = plain[id];
      shown.push(element);
      if (!element) return;
      noteAll(element.children);
      for (const name in element.slots) noteAll(element.slots[name].ids);
    };
    note(Number(String(this.$attrs.id).slice(1))); // NiceGUI gives element 42 the DOM id "c42"
    const draw = () => {
      this.draws += 1;
      return h("div", { ...this.$attrs }, this.$slots.default?.());
    };
    return withMemo(shown, draw, this.drawn, 0);
  },
};
