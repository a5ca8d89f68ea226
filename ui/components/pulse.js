import { onTick } from "cofounder-ticks";

// Makes its content blink while `active`, on the page's one-second tick. A CSS `infinite` animation
// looks the same but has the compositor draw ~60 frames a second per page, which starved the CPU when
// many builds were watched at once.
export default {
  template: `<span class="inline-flex"><slot></slot></span>`,
  props: { active: Boolean },
  mounted() {
    this.stop = onTick(() => {
      const next = this.active && this.$el.style.opacity !== "0.3" ? "0.3" : "";
      if (this.$el.style.opacity !== next) this.$el.style.opacity = next;
    });
  },
  unmounted() {
    this.stop();
  },
};
