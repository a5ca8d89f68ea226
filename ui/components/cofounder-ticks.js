// One timer per page for everything on the build page that moves with time (clocks, the blink of the
// current stage): the browser draws their changes in one frame a second. Each page ticks on its own
// phase, drawn at random, not on the wall clock's whole second nor on the moment it opened: tabs
// ticking on the same millisecond woke together (and tabs opened in one go nearly so), and with many
// builds watched in one browser that burst of frames delayed every page's pushed updates. A clock
// shows the truth at each tick, at most a second late.
//
// A pushed update draws a frame anyway: when the next tick is due within half a second, it is taken
// early, in that frame, and the one after stays on the page's phase. A page receiving updates then
// draws few frames of its own for its clocks (each costs the browser a frame). Keeping the phase
// matters: restarting the second at each update lined up the ticks of all pages updated together.
const listeners = new Set();
const EARLY = 500; // ms before a tick is due
let timer = null;
let due = 0; // when the next tick is due (Date.now() ms)
let hooked = false;

const fire = () => {
  const now = Date.now();
  for (const listener of listeners) listener(now);
  while (due <= now + EARLY) due += 1000;
  clearTimeout(timer);
  timer = setTimeout(fire, due - now);
  if (!hooked && window.socket) {
    // Runs before NiceGUI applies the message: the clocks' changes render together with it.
    window.socket.onAny(() => {
      if (timer !== null && due - Date.now() < EARLY) fire();
    });
    hooked = true;
  }
};

export function onTick(listener) {
  listeners.add(listener);
  if (timer === null) {
    const phase = Math.random() * 1000;
    due = Date.now() + phase;
    timer = setTimeout(fire, phase);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
}
