"""The full garbage collection is done once, just after pages stop opening or closing (ui/quiet_gc.py)."""

from __future__ import annotations

import asyncio
import gc
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
