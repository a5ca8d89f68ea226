// One timer per page for everything on the build page that moves with time (clocks, the blink of the
// current stage): the browser draws their changes in one frame a second. The page ticks on its own
// phase (the moment its first clock appeared), not on the wall clock's whole second: tabs ticking on
// the same millisecond woke together, and with many builds watched in one browser that burst of
// frames delayed every page's pushed updates. A clock shows the truth at each tick, at most a second late.
//
// A pushed update draws a frame anyway: once half a second has passed since the last tick, the next one
// is taken early, in that frame, and the timer starts over. A page receiving updates then draws no
// frame of its own for its clocks (each such frame cost ~8 ms of the browser's CPU per page per second).
const listeners = new Set();
const EARLY_AFTER = 500; // ms since the last tick
let timer = null;
let last = 0;
let hooked = false;

const fire = () => {
  last = Date.now();
  for (const listener of listeners) listener(last);
  clearTimeout(timer);
  timer = setTimeout(fire, 1000);
  if (!hooked && window.socket) {
    // Runs before NiceGUI applies the message: the clocks' changes render together with it.
    window.socket.onAny(() => {
      if (timer !== null && Date.now() - last >= EARLY_AFTER) fire();
    });
    hooked = true;
  }
};

export function onTick(listener) {
  listeners.add(listener);
  if (timer === null) {
    last = Date.now();
    timer = setTimeout(fire, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
}
