"""Issue 29, item 7: a socket cannot drive another page by naming that page's client id in its messages.

NiceGUI routes `event` (and `javascript_response`, `ack`, `log`) messages by the client id inside them; our
guard (ui/socket_guard.py) lets through only those whose client the sending socket completed the handshake
of (NiceGUI puts that socket in a room named after the client). The server here is a real python-socketio
server with NiceGUI's room bookkeeping, and recording handlers in NiceGUI's place.
"""

from __future__ import annotations

import uuid
from typing import Any

import socketio

from ui import socket_guard


async def test_a_socket_is_refused_for_another_pages_client_id() -> None:
    server = socketio.AsyncServer(async_mode='asgi')
    delivered: list[tuple[str, str, str]] = []
    for name in socket_guard.GUARDED:
        server.on(name, lambda sid, msg, name=name: delivered.append((name, sid, msg['client_id'])))
    socket_guard.install(server)
    socket_guard.install(server)  # idempotent: a second start does not wrap twice

    page_a, page_b = str(uuid.uuid4()), str(uuid.uuid4())
    sid_a = await server.manager.connect('eio-a', '/')
    sid_b = await server.manager.connect('eio-b', '/')
    await server.enter_room(sid_a, page_a)  # what NiceGUI's handshake does for each page's own socket
    await server.enter_room(sid_b, page_b)

    for name in socket_guard.GUARDED:
        handler = server.handlers['/'][name]
        handler(sid_b, {'client_id': page_a, 'id': 1, 'listener_id': 'x', 'args': ['typed by b']})  # refused
        handler(sid_a, {'client_id': page_a, 'id': 1, 'listener_id': 'x', 'args': ['typed by a']})  # its own page
        bad: Any = ['not', 'a', 'dict']
        handler(sid_a, bad)
    assert delivered == [(name, sid_a, page_a) for name in socket_guard.GUARDED]


def test_the_guard_wraps_nicegui_s_own_handlers() -> None:
    from nicegui import core

    socket_guard.install()  # what ui.register_pages does at start
    assert all(getattr(core.sio.handlers['/'][name], 'guarded', False) for name in socket_guard.GUARDED)
