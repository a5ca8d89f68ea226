"""In-process notifier: wakes followers in the same event loop (no Redis, no polling)."""

from __future__ import annotations

from core.notify import TopicListener
from core.ports import Listener


class MemoryNotifier:
    """Topic → listeners, fanned out synchronously inside one process's event loop."""

    def __init__(self) -> None:
        self._topics: dict[str, set[TopicListener]] = {}

    async def publish(self, topic: str, seq: int, note: str = '') -> None:
        for listener in self._topics.get(topic, ()):
            listener.announce(seq, note)

    async def listen(self, topic: str) -> Listener:
        listener = TopicListener(topic, self._remove)
        self._topics.setdefault(topic, set()).add(listener)
        return listener

    def _remove(self, listener: TopicListener) -> None:
        listeners = self._topics.get(listener.topic)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._topics[listener.topic]

    def listener_count(self, topic: str) -> int:
        """How many open listeners a topic has (health and tests)."""
        return len(self._topics.get(topic, ()))

    async def ping(self) -> str:
        return 'in-process'

    async def close(self) -> None:
        for listeners in list(self._topics.values()):
            for listener in list(listeners):
                await listener.close()
