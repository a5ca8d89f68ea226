"""Redis pub/sub notifier: wakes followers in every process (web and worker processes).

One pub/sub connection per process carries every topic; a reader task fans each message out to
the local listeners of its topic. `listen()` returns only once Redis has confirmed the
subscription, so a publish made after it returned is delivered. A dropped connection is
re-established with backoff and every topic re-subscribed; because publishes made meanwhile are
lost, each listener of a re-subscribed topic is then woken with seq 0 ("re-read, you may have
missed something"). An idle connection is pinged, so a silently dead one is noticed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import redis.asyncio as redis
from redis.exceptions import RedisError

from core.notify import TopicListener
from core.ports import Listener

logger = logging.getLogger(__name__)

RESYNC_SEQ = 0  # what a listener receives after a reconnect: "something may have been missed"
NOTE_SEPARATOR = ' '  # a message is "<seq>" or "<seq> <note>"


class RedisNotifier:
    """`publish` goes through the client's pool; listening shares one pub/sub connection."""

    def __init__(
        self,
        url: str,
        *,
        client_name: str = 'cofounder-notifier',
        listen_timeout: float = 5.0,
        idle_ping: float = 30.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._client = redis.Redis.from_url(url, client_name=client_name)
        self._control = f'cofounder:notifier:{uuid.uuid4().hex}'  # keeps the connection subscribed
        self._listen_timeout = listen_timeout
        self._idle_ping = idle_ping
        self._max_backoff = max_backoff
        self._listeners: dict[str, set[TopicListener]] = {}
        self._ready: dict[str, asyncio.Future[None]] = {}  # topic → confirmation of its SUBSCRIBE
        self._pubsub: redis.client.PubSub | None = None  # set while the connection is live
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self.reconnects = 0  # how many times the pub/sub connection was re-established

    # ── the port ──

    async def publish(self, topic: str, seq: int, note: str = '') -> None:
        """Announce seq (and note) on topic. Retried once; a failure is logged, since followers resync anyway."""
        message = f'{seq}{NOTE_SEPARATOR}{note}' if note else str(seq)
        for attempt in (1, 2):
            try:
                await self._client.publish(topic, message)
                return
            except (RedisError, OSError):
                if attempt == 2:
                    logger.warning('redis publish to %s failed', topic, exc_info=True)

    async def listen(self, topic: str) -> Listener:
        """Subscribe (once per process per topic) and return when Redis has confirmed it."""
        if self._closed:
            raise RuntimeError('notifier is closed')
        self._ensure_reader()
        listener = TopicListener(topic, self._remove)
        listeners = self._listeners.setdefault(topic, set())
        listeners.add(listener)
        if len(listeners) == 1:
            self._ready[topic] = asyncio.get_running_loop().create_future()
            await self._send('subscribe', topic)
        ready = self._ready.get(topic)
        if ready is not None:
            try:
                await asyncio.wait_for(asyncio.shield(ready), self._listen_timeout)
            except TimeoutError:
                # Redis is unreachable: hand the listener out anyway; the follower's resync
                # timeout covers the gap and the reader subscribes as soon as Redis is back.
                logger.warning('redis subscription to %s not confirmed within %ss', topic, self._listen_timeout)
            except BaseException:
                await listener.close()
                raise
        return listener

    async def ping(self) -> str:
        await self._client.ping()
        return 'redis pub/sub'

    async def close(self) -> None:
        self._closed = True
        for listeners in list(self._listeners.values()):
            for listener in list(listeners):
                listener.closed = True
                listener._event.set()
        self._listeners.clear()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._client.aclose()

    def listener_count(self, topic: str) -> int:
        """How many open local listeners a topic has (health and tests)."""
        return len(self._listeners.get(topic, ()))

    # ── internals ──

    async def _remove(self, listener: TopicListener) -> None:
        listeners = self._listeners.get(listener.topic)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[listener.topic]
            ready = self._ready.pop(listener.topic, None)
            if ready is not None and not ready.done():
                ready.cancel()
            await self._send('unsubscribe', listener.topic)

    async def _send(self, command: str, topic: str) -> None:
        """(Un)subscribe on the live connection; while it is down the reader does it on reconnect."""
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            await getattr(pubsub, command)(topic)
        except (RedisError, OSError):
            logger.info('redis %s %s deferred: connection is down', command, topic)

    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._run(), name='redis-notifier-reader')

    async def _run(self) -> None:
        backoff = 0.1
        while not self._closed:
            pubsub = self._client.pubsub()
            try:
                await self._connect(pubsub)
                backoff = 0.1
                await self._read(pubsub)
            except (RedisError, OSError) as exc:
                logger.warning('redis notifier connection lost (%s); reconnecting in %.1fs', exc, backoff)
            except Exception:  # noqa: BLE001 — the reader must outlive any surprise, or followers go deaf
                logger.exception('redis notifier reader failed; restarting in %.1fs', backoff)
            finally:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)
            self.reconnects += 1

    async def _connect(self, pubsub: redis.client.PubSub) -> None:
        topics = set(self._listeners)
        await pubsub.subscribe(self._control, *topics)
        # No await between these lines: a listen() from now on subscribes on the live connection,
        # and topics added while the SUBSCRIBE above was in flight are caught up here.
        self._pubsub = pubsub
        missed = set(self._listeners) - topics
        if missed:
            await pubsub.subscribe(*missed)

    async def _read(self, pubsub: redis.client.PubSub) -> None:
        awaiting_pong = False
        while not self._closed:
            message = await pubsub.get_message(timeout=self._idle_ping)
            if message is None:
                if awaiting_pong:
                    raise ConnectionError('redis did not answer a ping on the pub/sub connection')
                await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        kind = message['type']
        channel = message['channel']
        topic = channel.decode() if isinstance(channel, bytes) else channel
        if kind == 'message':
            data = message['data']
            head, _, note = (data.decode() if isinstance(data, bytes) else str(data)).partition(NOTE_SEPARATOR)
            try:
                seq = int(head)
            except ValueError:
                return
            for listener in self._listeners.get(topic, ()):
                listener.announce(seq, note)
        elif kind == 'subscribe' and topic != self._control:
            ready = self._ready.pop(topic, None)
            if ready is not None:
                if not ready.done():
                    ready.set_result(None)
            else:  # a re-subscription after a reconnect: wake everyone to re-read
                for listener in self._listeners.get(topic, ()):
                    listener.announce(RESYNC_SEQ)
