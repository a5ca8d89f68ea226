"""Full garbage collections at a quiet moment: a second after pages open or close, not while builds stream.

Every open page holds its element tree (NiceGUI makes several objects per element), and the collector's
full pass scans all of it, and with many build pages open a pass held back every page's pushes
(bench/bench_build_push.py times the collections; figures in bench/README.md). Python starts that pass
once the objects that survived since the previous one exceed a quarter of the rest, that is soon after
pages were opened, in the middle of the live updates they were opened for. Collecting just after the
opening (or closing, which leaves a tree of garbage) does the pass while the page has only just loaded,
and resets the count: the next one comes only after the open pages have grown by a quarter.

That was not enough with many viewers of one build: Python's own full passes still came mid-stream and each
scanned every viewer's tree (170 ms at 100 viewers). So what survives the quiet pass is frozen (`gc.freeze`):
later automatic passes scan only newer objects (38 ms at 200 viewers), and the next quiet pass, after a
page opens or closes, unfreezes first, so a closed page's tree is still found and freed then.
"""

from __future__ import annotations

import asyncio
import gc

from nicegui import app

QUIET_AFTER = 1.0  # s after the last page opened or closed


class QuietCollector:
    """Runs `gc.collect()` once, `after` seconds after the latest `soon()` (a burst of calls: one pass)."""

    def __init__(self, after: float = QUIET_AFTER) -> None:
        self.after = after
        self._timer: asyncio.TimerHandle | None = None

    def soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self.after, self._collect)

    def _collect(self) -> None:
        self._timer = None
        gc.unfreeze()  # what closed pages left behind is garbage only a pass over everything finds
        gc.collect()
        # What survived (the open pages' trees, the app itself) is left out of the automatic full passes
        # that come mid-stream: they then scan only what is newer, not every viewer's page.
        gc.freeze()


def install() -> QuietCollector:
    """Collect after pages open (a client connects) and after closed ones are let go (a client is deleted)."""
    collector = QuietCollector()
    app.on_connect(collector.soon)
    app.on_delete(collector.soon)
    return collector
