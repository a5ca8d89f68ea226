// One timer per page, on the whole second, for everything on the build page that moves with time
// (clocks, the blink of the current stage): the browser draws their changes in one frame a second.
const listeners = new Set();
let timer = null;

const fire = () => {
  for (const listener of listeners) listener(Date.now());
};

export function onTick(listener) {
  listeners.add(listener);
  if (timer === null) {
    timer = setTimeout(() => {
      fire();
      timer = setInterval(fire, 1000);
    }, 1000 - (Date.now() % 1000));
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearTimeout(timer); // clears an interval too
      timer = null;
    }
  };
}
