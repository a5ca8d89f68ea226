"""A list of entries, oldest first, that stays cheap to update however long it grows (the activity feed).

When an element's children change, NiceGUI's client re-renders the nearest Vue component that encloses
the element, and every component below it. In a flat list of N entries each new entry therefore costs
N entries of rendering in the browser (and with 20 builds watched, the CPU it starves pushes back
every page's updates). Here the entries live in blocks of `block`, each behind its own component
(EntryBlock): a new entry re-renders its block only, and a new block (one per `block` entries) renders
itself and the list of blocks, not the blocks already there. Once the list holds more than `cap` entries,
the oldest blocks go, a quarter of `cap` at once (see `_trim`).

The newest entry goes at the end, and the box keeps its end in view by itself: it lays out from the
bottom up (`column-reverse`), so its scroll position counts from the end. While the reader is at the end a
new entry lands in view with no script; once they scroll back, the browser's scroll anchoring keeps what
they read in place. Nothing already drawn moves: newest on top moved every entry in view down at each
push, and the browser repainted them all. (A script that scrolled to the end after each entry cost a
forced layout and a second frame per push: 45 frames for 20 entries in a trace.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from nicegui import ui

E = TypeVar('E', bound=ui.element)  # the element an entry is (ActivityFeed types its entries with it too)
# A new entry re-renders its block: with blocks of 20 a push cost the page ~4.8 ms of script, with 5 ~3.5 ms
# (Chromium trace, one page, 20 pushes); a new block, once per 5 entries, renders only itself and the list.
BLOCK = 5
# The rows are their own layer (`will-change`): as the box grows from the bottom, a new entry moves the rows
# up within the box; as a layer they are moved, not drawn again (raster per push 14-18 → 8.5 ms in 20).
ROWS_STYLE = 'display: flex; flex-direction: column; margin-bottom: auto; will-change: transform'
# The newest blocks are always drawn; older ones are marked `data-skippable`, which a stylesheet can use to
# have the browser skip them while out of view (the activity feed's does, with content-visibility). Marked
# here as each new block comes, not found in CSS by position (`:nth-last-child`): a positional selector has
# the browser track its subjects' siblings, and a bare one, tried on every element, restyled all of a
# block's entries whenever one was added to it (3 elements styled per push now, up to 15 before).
DRAWN = 8
HOLDER_STYLE = 'display: flex; flex-direction: column; gap: 0.25rem'  # a style, not classes: see EntryBlock


class EntryBlock(ui.element, component='entry_block.js'):
    """A block of entries behind its own Vue component: a change inside re-renders from here down only, and
    a block added beside it does not re-render it (see entry_block.js). Neither it nor its holder has a
    class, so adding one costs no walk of the page by Tailwind (see tailwind_quiet.js)."""


class EntryList(ui.element):
    """Entries oldest first, newest in view, in the box `box_classes` styles (its size, scrolling); the
    entries' rows are styled by `rows_classes` (gaps); from the first entry on the box also has
    `filled_classes`. `on_trim` is called whenever the cap made the oldest entries go."""

    def __init__(
        self,
        *,
        cap: int,
        block: int = BLOCK,
        box_classes: str = '',
        rows_classes: str = '',
        filled_classes: str = '',
        on_trim: Callable[[], None] | None = None,
    ) -> None:
        super().__init__('q-list')  # the boundary for adding blocks: nothing above re-renders
        self.cap, self.block, self.filled_classes = cap, block, filled_classes
        self.on_trim = on_trim  # called once the oldest entries went
        self.classes('w-full').props('role=none')
        with self:
            # The box scrolls; its one child holds the blocks top down and sits at the top while they are
            # fewer than fill the box (in a column-reverse box free space would otherwise go above them).
            self.box = ui.element().classes(box_classes).style('display: flex; flex-direction: column-reverse')
            with self.box:
                self.rows = ui.element().classes(rows_classes).style(ROWS_STYLE)
        self._blocks: list[ui.element] = []  # oldest first; each inside its own EntryBlock

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

    @property
    def oldest(self) -> ui.element | None:
        """The first entry (None while there is none)."""
        return next(iter(self._blocks[0]), None) if self._blocks else None

    def __len__(self) -> int:
        return sum(len(holder.default_slot.children) for holder in self._blocks)

    def _open_block(self) -> ui.element:
        if self._blocks and len(self._blocks[-1].default_slot.children) < self.block:
            return self._blocks[-1]
        if not self._blocks:
            self.box.classes(self.filled_classes)
        with self.rows, EntryBlock():
            holder = ui.element().style(HOLDER_STYLE)
        self._blocks.append(holder)
        if len(self._blocks) > DRAWN:
            _block_of(self._blocks[-DRAWN - 1]).props['data-skippable'] = ''
        return holder

    def _trim(self) -> None:
        # Past the cap, a quarter of it goes at once: dropping the first block made the browser restyle every
        # block left (325 elements, 10 ms, at a cap of 400), so one block at a time cost that every 5th push.
        count = len(self)
        if count <= self.cap:
            return
        while count > self.cap - self.cap // 4 and len(self._blocks) > 1:
            oldest = self._blocks.pop(0)
            count -= len(oldest.default_slot.children)
            self.rows.remove(_block_of(oldest))
        if self.on_trim is not None:
            self.on_trim()


def _block_of(holder: ui.element) -> ui.element:
    """The EntryBlock a holder of entries sits in."""
    return holder.parent_slot.parent
