"""The listener side every Notifier adapter shares: a one-slot mailbox of the newest seq, and the notes."""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Callable

MAX_NOTES = 64  # kept per listener between two reads; older ones are dropped (notes are hints)


class TopicListener:
    """One subscription; remembers the highest seq announced since the last `wait`, and the notes.

    Announcements coalesce: a follower only needs to know "re-read from where you are", so a burst
    of publishes costs it one wake-up. `on_close` lets the notifier drop the subscription.
    """

    def __init__(self, topic: str, on_close: Callable[[TopicListener], Awaitable[None] | None]) -> None:
        self.topic = topic
        self._on_close = on_close
        self._latest: int | None = None
        self._notes: deque[str] = deque(maxlen=MAX_NOTES)
        self._event = asyncio.Event()
        self.closed = False

    def announce(self, seq: int, note: str = '') -> None:
        if self._latest is None or seq > self._latest:
            self._latest = seq
        if note:
            self._notes.append(note)
        self._event.set()

    async def wait(self, timeout: float | None = None) -> int | None:
        """Latest seq announced since the last call, waiting if none yet; None on timeout."""
        if self._latest is None and not self.closed:
            try:
                # not asyncio.wait_for: on 3.11 it drops a cancel that lands as the event fires, and a page's
                # follower then outlived its page (bench_soak: tasks failing on every event of deleted pages)
                async with asyncio.timeout(timeout):
                    await self._event.wait()
            except TimeoutError:
                return None
        seq, self._latest = self._latest, None
        self._event.clear()
        return seq

    def notes(self) -> list[str]:
        """The notes announced since the previous call, oldest first."""
        notes = list(self._notes)
        self._notes.clear()
        return notes

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._event.set()  # a wait in progress returns instead of hanging
            result = self._on_close(self)
            if inspect.isawaitable(result):
                await result
