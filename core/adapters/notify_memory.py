"""In-process notifier: wakes followers in the same event loop (no Redis, no polling)."""

from __future__ import annotations

import asyncio

from core.ports import Listener


class MemoryListener:
    """One subscription; remembers the highest seq announced since the last `wait`."""

    def __init__(self, notifier: MemoryNotifier, topic: str) -> None:
        self._notifier = notifier
        self.topic = topic
        self._latest: int | None = None
        self._event = asyncio.Event()
        self.closed = False

    def _announce(self, seq: int) -> None:
        if self._latest is None or seq > self._latest:
            self._latest = seq
        self._event.set()

    async def wait(self, timeout: float | None = None) -> int | None:  # noqa: ASYNC109 (the port's signature)
        """Latest seq announced since the last call, waiting if none yet; None on timeout."""
        if self._latest is None and not self.closed:
            try:
                await asyncio.wait_for(self._event.wait(), timeout)
            except TimeoutError:
                return None
        seq, self._latest = self._latest, None
        self._event.clear()
        return seq

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._notifier._remove(self)
            self._event.set()  # a wait in progress returns instead of hanging


class MemoryNotifier:
    """Topic → listeners, fanned out synchronously inside one process's event loop."""

    def __init__(self) -> None:
        self._topics: dict[str, set[MemoryListener]] = {}

    async def publish(self, topic: str, seq: int) -> None:
        for listener in self._topics.get(topic, ()):
            listener._announce(seq)

    async def listen(self, topic: str) -> Listener:
        listener = MemoryListener(self, topic)
        self._topics.setdefault(topic, set()).add(listener)
        return listener

    def _remove(self, listener: MemoryListener) -> None:
        listeners = self._topics.get(listener.topic)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._topics[listener.topic]

    def listener_count(self, topic: str) -> int:
        """How many open listeners a topic has (health and tests)."""
        return len(self._topics.get(topic, ()))

    async def close(self) -> None:
        for listeners in list(self._topics.values()):
            for listener in list(listeners):
                await listener.close()
