"""The activity feed's list of entries, oldest first, drawn in the browser by its own component (feed_log.js).

An entry is data, not a NiceGUI element: the server keeps the list (the element's `entries` prop, when it is
sent) and sends the entries added in one go as one small message (`runMethod`), which the component turns
into a DOM node each; an entry changed in place (a tool call's output) is sent again.
With an element per entry, every push carried element updates and re-rendered Vue components, and a build
page cost about twice the renderer CPU of a bare label update (20 pages watched, bench_build_push).
Whenever the element is drawn afresh (a reload, a move, a full update), the prop holds the whole list.

The box keeps its end in view by itself: it lays out from the bottom up (`column-reverse`), so its scroll
position counts from the end. While the reader is at the end a new entry lands in view with no script; once
they scroll back, the browser's scroll anchoring keeps what they read in place. Nothing already drawn moves:
newest on top moved every entry in view down at each push, and the browser repainted them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal, NotRequired, TypedDict

from nicegui import ui

Kind = Literal['sentence', 'verbose', 'call']
# Entries are drawn in blocks; blocks before the newest DRAWN are marked `data-skippable` for the stylesheet
# to skip while out of view. The newest 40 entries are never skipped: more than the box shows, since the
# browser spends a frame of its own each time a skipped block comes into view or leaves it.
BLOCK, DRAWN = 10, 4


class Entry(TypedDict):
    key: int  # increasing: how the browser tells a new entry from one it has drawn
    kind: Kind  # a sentence; a verbose entry (thinking), hidden unless verbose; a tool call, verbose too
    text: str
    icon: str  # a Material Icons name
    at: str  # the time shown beside it ('' for none)
    title: str  # its tooltip: the time to the second
    parts: NotRequired[list[tuple[str, str]]]  # a call's (heading, text): its input, then its output


class FeedLog(ui.element, component='feed_log.js'):
    """Entries oldest first, newest in view; past `cap` entries the oldest quarter of it goes at once (one
    restyle of what is left per 100 entries, not one per entry). `on_trim` is called after that. Entries
    added in one go (a replay, a burst of events) reach the browser in one message."""

    def __init__(self, *, cap: int, on_trim: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.cap, self.on_trim = cap, on_trim
        self._props.update(block=BLOCK, drawn=DRAWN)
        # Not in `_props`, whose every change re-sends the whole element: added to its props when it is sent.
        self.entries: list[Entry] = []
        self.verbose = False
        self._next_key = 1
        self._unsent: list[Entry] = []  # added since the last message (see `_send`)

    def _to_dict(self) -> dict[str, Any]:
        data = super()._to_dict()
        data['props'] = {**data.get('props', {}), 'entries': self.entries, 'verbose': self.verbose}
        return data

    def add(
        self, kind: Kind, text: str, *, icon: str, at: str, title: str, parts: list[tuple[str, str]] | None = None
    ) -> Entry:
        """Put a new entry at the end and send it to the browser."""
        entry = Entry(key=self._next_key, kind=kind, text=text, icon=icon, at=at, title=title)
        if parts is not None:
            entry['parts'] = parts
        self._next_key += 1
        self.entries.append(entry)
        if not self._unsent:
            asyncio.get_running_loop().call_soon(self._send)
        self._unsent.append(entry)
        self._trim()
        return entry

    def _send(self) -> None:
        # One message for all the entries added in one go: a replay of thousands of events is a few messages,
        # and the entries the cap has dropped meanwhile are not sent at all.
        first = self.entries[0]['key'] if self.entries else self._next_key
        fresh = [entry for entry in self._unsent if entry['key'] >= first]
        self._unsent.clear()
        if fresh and not self.is_deleted:
            self.run_method('add', fresh, first)  # the browser drops what is older than `first`, as here

    def change(self, entry: Entry) -> None:
        """Send an entry changed in place."""
        self.run_method('patch', entry)

    def set_verbose(self, on: bool) -> None:
        self.verbose = on
        self.run_method('setVerbose', on)

    def _trim(self) -> None:
        # The next message tells the browser which entries are left (feed_log.js `add`).
        if len(self.entries) <= self.cap:
            return
        del self.entries[: len(self.entries) - (self.cap - self.cap // 4)]
        if self.on_trim is not None:
            self.on_trim()

    def _displayed_contents(self, *, only_visible: bool) -> list:
        """What the feed shows as text, for NiceGUI's `user.should_see`: verbose entries only while shown."""
        shown = []
        for entry in self.entries:
            if only_visible and entry['kind'] != 'sentence' and not self.verbose:
                continue
            shown.append(entry['text'])
            shown.extend(text for _, text in entry.get('parts', ()))
        return shown
