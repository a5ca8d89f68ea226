// A duration that counts in the browser: elapsed since `since` (frozen at `until` when set), or the
// time left until `until` when `countdown` is set. The server sends it once; the browser ticks it, so
// a watched build costs no message and no re-render of its card per second.
import { onTick } from "cofounder-ticks";

const format = (seconds) => {
  seconds = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = seconds % 60;
  const two = (n) => String(n).padStart(2, "0");
  if (hours) return `${hours}h ${two(minutes)}m`;
  return minutes ? `${minutes}m ${two(secs)}s` : `${secs}s`;
};

export default {
  template: `<span>{{ text }}</span>`,
  props: {
    since: Number, // ms since the epoch
    until: Number,
    countdown: Boolean,
    before: String,
    after: String,
    done: String, // shown instead once a countdown reaches zero
    idle: String, // shown while there is nothing to count
  },
  data() {
    return { now: Date.now() };
  },
  computed: {
    text() {
      if (this.countdown) {
        if (this.until == null) return this.idle || "";
        const left = (this.until - this.now) / 1000;
        return left > 0 ? `${this.before || ""}${format(left)}${this.after || ""}` : this.done || "";
      }
      if (this.since == null) return this.idle || "";
      const end = this.until == null ? this.now : this.until;
      return `${this.before || ""}${format((end - this.since) / 1000)}${this.after || ""}`;
    },
  },
  mounted() {
    this.stop = onTick((now) => {
      if (this.countdown || this.until == null) this.now = now; // a finished elapsed time stays put
    });
  },
  unmounted() {
    this.stop();
  },
};
