"""A list of entries, oldest first, that stays cheap to update however long it grows (the activity feed).

When an element's children change, NiceGUI's client re-renders the nearest Vue component that encloses
the element, and every component below it. In a flat list of N entries each new entry therefore costs
N entries of rendering in the browser (and with 20 builds watched, the CPU it starves pushes back
every page's updates). Here the entries live in blocks of `block`, each behind its own component: a
new entry re-renders its block only, and a new block (one per `block` entries) re-renders the blocks
once. The oldest block is dropped once the list holds more than `cap` entries.

The newest entry goes at the end and the box follows it (follow_end.js) while the reader is at the end:
nothing already drawn moves. Newest on top moved every entry in view down at each push, and the browser
repainted them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from nicegui import ui

E = TypeVar('E', bound=ui.element)  # the element an entry is (ActivityFeed types its entries with it too)
# A new entry re-renders its block: with blocks of 20 a push cost the page ~4.8 ms of script, with 5 ~3.5 ms
# (Chromium trace, one page, 20 pushes); a new block, once per 5 entries, re-renders only the list of blocks.
BLOCK = 5


class FollowEnd(ui.element, component='follow_end.js'):
    """A scroll box that keeps its end in view while the reader is there."""


def _boundary() -> ui.element:
    """A Vue component with a plain div inside: changes to that div re-render from here down only."""
    return ui.element('q-list').classes('w-full').props('role=none')


class EntryList(ui.element):
    """Entries oldest first, newest in view, in the box `box_classes` styles (scrolling, gaps); from the
    first entry on the box also has `filled_classes`."""

    def __init__(
        self, *, cap: int, block: int = BLOCK, box_classes: str = '', box_style: str = '', filled_classes: str = ''
    ) -> None:
        super().__init__('q-list')  # the boundary for adding blocks: nothing above re-renders
        self.cap, self.block, self.filled_classes = cap, block, filled_classes
        self.classes('w-full').props('role=none')
        with self:
            self.box = FollowEnd().classes(box_classes).style(box_style)
        self._blocks: list[ui.column] = []  # oldest first; each inside its own boundary

    def add(self, build: Callable[[], E]) -> E:
        """Create an entry with `build` and put it at the end."""
        with self._open_block():
            entry = build()
        self._trim()
        return entry

    def __iter__(self) -> Iterator[ui.element]:
        """The entries, oldest first."""
        for holder in self._blocks:
            yield from holder

    def __len__(self) -> int:
        return sum(len(holder.default_slot.children) for holder in self._blocks)

    def _open_block(self) -> ui.column:
        if self._blocks and len(self._blocks[-1].default_slot.children) < self.block:
            return self._blocks[-1]
        if not self._blocks:
            self.box.classes(self.filled_classes)
        with self.box, _boundary():
            holder = ui.column().classes('w-full gap-1')
        self._blocks.append(holder)
        return holder

    def _trim(self) -> None:
        while len(self) > self.cap and len(self._blocks) > 1:
            oldest = self._blocks.pop(0)
            self.box.remove(oldest.parent_slot.parent)
