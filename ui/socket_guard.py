"""Websocket events reach only the page whose socket sent them (issue 29, item 7).

NiceGUI (3.18, the installed release; no option or fix upstream as of this writing) looks up the page
of an `event`, `javascript_response`, `ack` or `log` message by the `client_id` *inside the message*, not
by the socket it arrived on. A socket that learned another page's client id (and a listener id) could
therefore drive that page — one founder's socket typing into another founder's idea field. The handshake
already binds a socket to its client: it joins a Socket.IO room named after the client id. This guard
wraps those four handlers and drops a message whose `client_id` is not a room of the sending socket.

What remains (docs/ARCHITECTURE.md): a socket that knows a page's client id *and* its tab id could still
complete a handshake for it (NiceGUI pins the first tab id it sees and accepts a socket presenting it);
both are random UUIDs that only that page's browser holds.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from nicegui import core

log = logging.getLogger(__name__)
GUARDED = ('event', 'javascript_response', 'ack', 'log')
NAMESPACE = '/'
Server = Any  # python-socketio's AsyncServer (NiceGUI's `core.sio`), named without importing it here


def owns(server: Server, sid: str, msg: Any) -> bool:
    """Whether the socket `sid` completed the handshake of the client the message names."""
    if not isinstance(msg, dict) or not isinstance(msg.get('client_id'), str):
        return False
    return msg['client_id'] in server.rooms(sid, namespace=NAMESPACE)


def install(server: Server | None = None) -> None:
    """Wrap NiceGUI's handlers of client messages (once; safe to call again, e.g. per test app start)."""
    server = server or core.sio
    handlers = server.handlers.setdefault(NAMESPACE, {})
    for name in GUARDED:
        original = handlers.get(name)
        if original is None or getattr(original, 'guarded', False):
            continue
        server.on(name, _guard(server, name, original), namespace=NAMESPACE)


def _guard(server: Server, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def refused(sid: str, msg: Any) -> bool:
        if owns(server, sid, msg):
            return False
        log.warning('dropped a websocket %s for a page this socket did not open', name)
        return True

    if inspect.iscoroutinefunction(original):  # python-socketio awaits only coroutine functions

        async def guarded_async(sid: str, msg: Any) -> Any:
            return None if refused(sid, msg) else await original(sid, msg)

        guarded_async.guarded = True  # type: ignore[attr-defined]
        return guarded_async

    def guarded(sid: str, msg: Any) -> Any:
        return None if refused(sid, msg) else original(sid, msg)

    guarded.guarded = True  # type: ignore[attr-defined]
    return guarded
