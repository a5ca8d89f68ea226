"""The full garbage collection is done once, just after pages stop opening or closing, and what survives it is
left out of Python's own full passes until pages open or close again (ui/quiet_gc.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from ui.quiet_gc import QuietCollector


@pytest.fixture
def full_passes() -> Iterator[list[int]]:
    """Each full (generation 2) collection that ends while the test runs; Python's own are held off."""
    passes: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == 'stop' and info['generation'] == 2:
            passes.append(2)

    was_enabled = gc.isenabled()
    gc.disable()
    gc.callbacks.append(note)
    try:
        yield passes
    finally:
        gc.callbacks.remove(note)
        gc.unfreeze()  # the rest of this worker's tests collect as usual
        if was_enabled:
            gc.enable()


async def test_a_burst_of_pages_opening_gets_one_full_pass_once_it_is_over(full_passes: list[int]) -> None:
    collector = QuietCollector(after=1.0)
    for _ in range(5):  # pages opening one after another, each a turn of the loop (no clock: a busy CI host
        collector.soon()  # once made a 20 ms sleep outlast a 100 ms quiet time)
        await asyncio.sleep(0)
    assert full_passes == []  # not while they are still opening

    await asyncio.sleep(1.3)  # past the one timer left: the pass is due by then whatever the load
    assert full_passes == [2]


async def test_pages_opening_again_later_get_another_pass(full_passes: list[int]) -> None:
    collector = QuietCollector(after=0.05)
    collector.soon()
    await asyncio.sleep(0.2)
    collector.soon()
    await asyncio.sleep(0.2)
    assert full_passes == [2, 2]


async def turns(n: int = 3) -> None:
    for _ in range(n):  # a timer of 0 s runs on the next turn of the loop
        await asyncio.sleep(0)


async def test_what_survives_a_pass_is_left_out_of_later_ones_until_pages_open_or_close_again(
    full_passes: list[int],
) -> None:
    collector = QuietCollector(after=0)

    class Page:  # an open page's element tree: parents and children point at each other
        me: object

    page = Page()
    page.me = page
    closed = weakref.ref(page)
    collector.soon()
    await turns()
    assert gc.get_freeze_count() > 0  # the pass ran and set the survivors aside
    del page  # the page closes: its tree is now garbage, in the set-aside part
    gc.collect()  # a full pass of Python's own, as mid-stream: it does not scan the set-aside objects
    assert closed() is not None
    collector.soon()  # the close is a reason for the quiet pass, which looks at everything again
    await turns()
    assert closed() is None
