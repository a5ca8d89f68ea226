// Tailwind's browser runtime (NiceGUI's styling) watches the whole page and, whenever an element is
// added anywhere, walks every element that has a class to find utilities it has not generated yet.
// The activity feed adds an element per update, without any class: it cannot bring a new utility,
// yet each addition cost a walk of the page, more as the page grows. Runs before Tailwind's script: additions that bring no class
// are kept from that one observer (the one watching class attributes on the whole document);
// everything else reaches it.
(() => {
  const Native = window.MutationObserver;
  const bringsClasses = (node) =>
    node.nodeType === 1 && (node.tagName === "STYLE" || node.hasAttribute("class") || node.querySelector("[class]") !== null);
  const matters = (record) => record.type !== "childList" || Array.prototype.some.call(record.addedNodes, bringsClasses);
  window.MutationObserver = class extends Native {
    constructor(callback) {
      super((records, observer) => {
        if (!this.watchesClasses) return callback(records, observer);
        const kept = records.filter(matters);
        if (kept.length > 0) callback(kept, observer);
      });
    }
    observe(target, options) {
      if (target === document.documentElement && options?.attributeFilter?.includes("class")) this.watchesClasses = true;
      return super.observe(target, options);
    }
  };
})();
