// The activity feed's entries, drawn by this component with the DOM API, not by Vue.
//
// As NiceGUI elements, every entry was a node in NiceGUI's store and each push re-rendered the Vue
// component around it; with 20 build pages watched, that script (and the element updates that carried
// it) made a build page cost about twice the renderer CPU of a bare label update. Here the server sends
// new entries as a `runMethod("add", entries)` message and this component appends a node for each.
//
// The entries themselves live in the element's `entries` prop (the array in NiceGUI's store, which the
// methods below extend in place, unobserved): the server keeps the same list, so whenever the element is
// drawn afresh (a reload, a move to another parent, a full update) the list is there to draw from. The DOM
// is derived from it: `sync` draws what the list holds that the DOM does not yet show, by key (keys
// increase), and drops what the list no longer holds.
//
// Entries are drawn in blocks of `block`; blocks before the newest `drawn` are marked `data-skippable`,
// which the feed's stylesheet lets the browser skip while out of view. No node here has a class: each
// added node with one has Tailwind's runtime walk the whole page (see tailwind_quiet.js).
import { h, toRaw } from "vue";

const ROWS_STYLE = "display: flex; flex-direction: column; margin-bottom: auto; will-change: transform";

function line(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const name in attributes) if (attributes[name] !== undefined) node.setAttribute(name, attributes[name]);
  node.textContent = text;
  return node;
}

function draw(entry) {
  const head = { "data-at": entry.at, "data-icon": entry.icon, title: entry.title };
  if (entry.kind !== "call") {
    if (entry.kind === "verbose") head["data-verbose"] = "";
    return line("div", head, entry.text);
  }
  const details = line("details", { "data-verbose": "" }, "");
  details.append(line("summary", head, entry.text));
  const body = line("div", { "data-call-body": "" }, "");
  for (const [heading, text] of entry.parts || []) body.append(line("div", { "data-part": "" }, heading), line("pre", {}, text));
  details.append(body);
  return details;
}

export default {
  props: { entries: Array, verbose: Boolean, block: Number, drawn: Number },
  render() {
    return h("div", { style: "display: flex; flex-direction: column-reverse", "data-verbose-shown": this.verbose ? "" : undefined }, [
      h("div", { ref: "rows", style: ROWS_STYLE }),
    ]);
  },
  mounted() {
    this.sync();
  },
  updated() {
    this.sync(); // drawn afresh from a new list (a full update of the element): show what it holds
  },
  methods: {
    list() {
      return toRaw(this.entries);
    },
    add(entries, first) {
      // `first`: the oldest key the server still keeps (older entries went with its cap).
      const list = this.list();
      for (const entry of entries) if (list.length === 0 || list[list.length - 1].key < entry.key) list.push(entry);
      let gone = 0;
      while (gone < list.length && list[gone].key < first) gone++;
      if (gone > 0) list.splice(0, gone);
      this.sync();
    },
    patch(entry) {
      const list = this.list();
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].key !== entry.key) continue;
        list[i] = entry;
        const old = this.nodes?.get(entry.key);
        if (old) {
          const node = draw(entry);
          if (old.open) node.open = true; // a founder's open details stay open
          old.replaceWith(node);
          this.nodes.set(entry.key, node);
        }
        return;
      }
    },
    setVerbose(on) {
      // Noted in the element's props in NiceGUI's store, which the next render reads (as the entries are).
      const element = toRaw(this.$root.elements)[Number(String(this.$attrs.id).slice(1))];
      if (element) element.props.verbose = on;
      this.$el.toggleAttribute("data-verbose-shown", on);
    },
    sync() {
      const rows = this.$refs.rows;
      const list = this.list();
      if (this.synced !== list) {
        // A list this component has not drawn: start again from it.
        rows.replaceChildren();
        this.nodes = new Map();
        this.last = -Infinity; // the newest key drawn
        this.synced = list;
      }
      const first = list.length > 0 ? list[0].key : Infinity;
      for (const [key, node] of this.nodes) {
        if (key >= first) break; // a Map iterates in insertion order, oldest first
        const block = node.parentNode;
        node.remove();
        this.nodes.delete(key);
        if (block.childElementCount === 0) block.remove();
      }
      let start = list.length;
      while (start > 0 && list[start - 1].key > this.last) start--;
      for (let i = start; i < list.length; i++) this.append(rows, list[i]);
    },
    append(rows, entry) {
      let block = rows.lastElementChild;
      if (!block || block.childElementCount >= this.block) {
        block = line("div", { "data-block": "" }, "");
        rows.append(block);
        const blocks = rows.children;
        if (blocks.length > this.drawn) blocks[blocks.length - this.drawn - 1].setAttribute("data-skippable", "");
      }
      const node = draw(entry);
      block.append(node);
      this.nodes.set(entry.key, node);
      this.last = entry.key;
    },
  },
};
