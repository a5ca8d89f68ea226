"""One direction of a byte relay between two asyncio streams, shared by the host's relays (the preview bridge,
the E2B forwarder, the egress proxy). The copy inside the sandbox (sandbox_bridge_inside.py) runs with no
imports from here, so it keeps its own."""

from __future__ import annotations

import asyncio

CHUNK = 65536


async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy until EOF, then half-close dst (HTTP clients may shut their write side first); on a reset, close
    dst so the other direction ends too."""
    try:
        while data := await src.read(CHUNK):
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()
    except OSError:
        dst.close()
