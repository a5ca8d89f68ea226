"""A listener's wait honours a cancel that lands as its event fires (bench_soak found build-page followers
outliving their pages: on Python 3.11 `asyncio.wait_for` returns the result and drops such a cancel)."""

from __future__ import annotations

import asyncio

import pytest

from core.notify import TopicListener


@pytest.mark.parametrize('timeout', [None, 30.0])
async def test_a_cancel_that_lands_with_the_announcement_still_cancels(timeout: float | None) -> None:
    listener = TopicListener('build:1', lambda _: None)
    waiting = asyncio.create_task(listener.wait(timeout))
    await asyncio.sleep(0)  # the task now waits on the event
    listener.announce(7)  # the event fires…
    waiting.cancel()  # …and the page is deleted in the same turn of the loop
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_wait_with_nothing_announced_times_out_with_none() -> None:
    listener = TopicListener('build:1', lambda _: None)
    assert await listener.wait(0.01) is None
    listener.announce(3)
    assert await listener.wait(0.01) == 3
