"""The Notifier port: both adapters wake listeners the same way (in-process and through Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.notify_redis import RESYNC_SEQ, RedisNotifier
from core.ports import Notifier
from tests.services import require_redis

WAIT = 10.0  # generous upper bound for a wake-up to arrive; never a speed assertion


@pytest.fixture(params=['memory', pytest.param('redis', marks=pytest.mark.redis)])
async def notifier(request: pytest.FixtureRequest) -> AsyncIterator[Notifier]:
    if request.param == 'memory':
        notifier: Notifier = MemoryNotifier()
    else:
        notifier = RedisNotifier(require_redis(), client_name=f'cf-test-{uuid.uuid4().hex[:10]}')
    yield notifier
    await notifier.close()


def topic() -> str:
    return f'build:{uuid.uuid4()}'


async def wait_for_seq(listener, seq: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Collect announced seqs until `seq` is seen; they only ever grow."""
    seen: list[int] = []
    while not seen or seen[-1] < seq:
        got = await listener.wait(WAIT)
        assert got is not None, f'no wake-up for seq {seq}; saw {seen}'
        seen.append(got)
    return seen


async def test_publish_after_listen_returned_is_delivered(notifier: Notifier) -> None:
    name = topic()
    listener = await notifier.listen(name)
    await notifier.publish(name, 7)
    assert await listener.wait(WAIT) == 7
    await listener.close()


async def test_wait_returns_the_latest_seq_and_seqs_only_grow(notifier: Notifier) -> None:
    name = topic()
    listener = await notifier.listen(name)
    for seq in (1, 2, 3):
        await notifier.publish(name, seq)
    seen = await wait_for_seq(listener, 3)
    assert seen == sorted(seen) and seen[-1] == 3
    await listener.close()


async def test_a_publish_before_wait_is_kept_until_wait(notifier: Notifier) -> None:
    name = topic()
    listener = await notifier.listen(name)
    await notifier.publish(name, 4)
    await asyncio.sleep(0.05)  # let it arrive while nobody waits
    assert await listener.wait(WAIT) == 4


async def test_wait_times_out_with_none_when_nothing_happens(notifier: Notifier) -> None:
    listener = await notifier.listen(topic())
    assert await listener.wait(0.05) is None
    await listener.close()


async def test_topics_are_isolated(notifier: Notifier) -> None:
    mine, other = topic(), topic()
    listener = await notifier.listen(mine)
    await notifier.publish(other, 99)
    await notifier.publish(mine, 1)
    assert await listener.wait(WAIT) == 1  # 99 was never announced here
    assert await listener.wait(0.05) is None
    await listener.close()


async def test_every_listener_of_a_topic_is_woken(notifier: Notifier) -> None:
    name = topic()
    listeners = [await notifier.listen(name) for _ in range(5)]
    await notifier.publish(name, 12)
    assert [await listener.wait(WAIT) for listener in listeners] == [12] * 5


async def test_closing_one_listener_keeps_the_others_listening(notifier: Notifier) -> None:
    name = topic()
    first, second = await notifier.listen(name), await notifier.listen(name)
    await first.close()
    await notifier.publish(name, 3)
    assert await second.wait(WAIT) == 3
    assert await first.wait(0.05) is None


async def test_a_topic_can_be_listened_to_again_after_all_listeners_closed(notifier: Notifier) -> None:
    name = topic()
    await (await notifier.listen(name)).close()
    again = await notifier.listen(name)
    await notifier.publish(name, 5)
    assert await again.wait(WAIT) == 5


async def test_a_waiting_listener_wakes_on_close(notifier: Notifier) -> None:
    listener = await notifier.listen(topic())
    waiting = asyncio.create_task(listener.wait(WAIT))
    await asyncio.sleep(0.01)
    await listener.close()
    assert await asyncio.wait_for(waiting, WAIT) is None


async def test_many_concurrent_listens_on_fresh_topics_all_receive(notifier: Notifier) -> None:
    names = [topic() for _ in range(20)]
    listeners = await asyncio.gather(*(notifier.listen(name) for name in names))
    for i, name in enumerate(names, start=1):
        await notifier.publish(name, i)
    assert [await listener.wait(WAIT) for listener in listeners] == list(range(1, 21))


async def test_notes_reach_every_listener_once_in_order(notifier: Notifier) -> None:
    name = topic()
    listeners = [await notifier.listen(name) for _ in range(2)]
    notes = ['[{"seq":1,"text":"a note: with spaces"}]', '', 'écrit 2']  # the second publish carries none
    for seq, note in enumerate(notes, start=1):
        await notifier.publish(name, seq, note)
    for listener in listeners:
        await wait_for_seq(listener, 3)
        assert listener.notes() == [notes[0], notes[2]]
        assert listener.notes() == []  # taken
        await listener.close()


# ── Redis only ──


@pytest.mark.redis
async def test_redis_shares_one_pubsub_connection_across_topics() -> None:
    name = f'cf-test-{uuid.uuid4().hex[:10]}'
    notifier = RedisNotifier(require_redis(), client_name=name)
    listeners = [await notifier.listen(topic()) for _ in range(10)]
    subscribers = [c for c in await _clients(name) if int(c.get('sub', 0)) > 0]
    assert len(subscribers) == 1 and int(subscribers[0]['sub']) == 11  # 10 topics + its control channel
    for listener in listeners:
        await listener.close()
    await notifier.close()


@pytest.mark.redis
async def test_redis_listener_recovers_after_the_connection_is_killed() -> None:
    name = f'cf-test-{uuid.uuid4().hex[:10]}'
    notifier = RedisNotifier(require_redis(), client_name=name)
    mine = topic()
    listener = await notifier.listen(mine)
    await _kill_subscriber(name)
    # After the reconnect the topic is re-subscribed and the listener told to re-read.
    assert await listener.wait(WAIT) == RESYNC_SEQ
    await notifier.publish(mine, 8)
    assert await listener.wait(WAIT) == 8
    assert notifier.reconnects >= 1
    await notifier.close()


async def _clients(name: str) -> list[dict]:
    admin = redis.Redis.from_url(require_redis())
    try:
        return [c for c in await admin.client_list() if c.get('name') == name]
    finally:
        await admin.aclose()


async def _kill_subscriber(name: str) -> None:
    admin = redis.Redis.from_url(require_redis())
    try:
        for client in await admin.client_list():
            if client.get('name') == name and int(client.get('sub', 0)) > 0:
                await admin.client_kill_filter(_id=client['id'])
    finally:
        await admin.aclose()
