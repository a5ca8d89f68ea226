"""The full garbage collection is done once, just after pages stop opening or closing (ui/quiet_gc.py)."""

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
        gc.unfreeze()
        gc.callbacks.remove(note)
        if was_enabled:
            gc.enable()


async def test_a_burst_of_pages_opening_gets_one_full_pass_once_it_is_over(full_passes: list[int]) -> None:
    collector = QuietCollector(after=0.1)
    for _ in range(5):  # pages opening one after another
        collector.soon()
        await asyncio.sleep(0.02)
    assert full_passes == []  # not while they are still opening

    await asyncio.sleep(0.3)
    assert full_passes == [2]


async def test_pages_opening_again_later_get_another_pass(full_passes: list[int]) -> None:
    collector = QuietCollector(after=0.05)
    collector.soon()
    await asyncio.sleep(0.2)
    collector.soon()
    await asyncio.sleep(0.2)
    assert full_passes == [2, 2]


class Page:
    """Something with a reference cycle, as a page's element tree has: only a full pass frees it."""

    def __init__(self) -> None:
        self.me = self


async def test_what_survives_the_pass_is_frozen_and_a_closed_page_is_reclaimed(full_passes: list[int]) -> None:
    collector = QuietCollector(after=0.05)
    page = Page()
    alive = weakref.ref(page)
    collector.soon()  # the page opened
    await asyncio.sleep(0.2)
    assert gc.get_freeze_count() > 0  # later passes will not scan it

    del page  # the page closed: its cycle is garbage, but frozen
    gc.collect()
    assert alive() is not None
    collector.soon(closed=True)
    await asyncio.sleep(0.2)
    assert alive() is None
