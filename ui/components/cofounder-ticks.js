// One timer per page for everything on the build page that moves with time (clocks, the blink of the
// current stage): the browser draws their changes in one frame a second. The page ticks on its own
// phase (the moment its first clock appeared), not on the wall clock's whole second: tabs ticking on
// the same millisecond woke together, and with many builds watched in one browser that burst of
// frames delayed every page's pushed updates. A clock shows the truth at each tick, at most a second late.
const listeners = new Set();
let timer = null;

const fire = () => {
  const now = Date.now();
  for (const listener of listeners) listener(now);
};

export function onTick(listener) {
  listeners.add(listener);
  if (timer === null) timer = setInterval(fire, 1000);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}
