"""One process, one scheduler: the single container's process is always the leader."""

from __future__ import annotations


class SoleLeader:
    name = 'sole process'
    ttl_s = float('inf')

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None
