"""/preview/{job_id}/t/{token}/… over WebSocket — a generated app's own sockets, relayed for the link's holder.

A Vite dev server pushes hot reloads over a WebSocket at its base path; under the preview proxy that is the
founder's capability prefix, so the page connects here. The same link check as the HTTP proxy admits it
(signed, unexpired, not revoked, the preview running); then frames are relayed both ways, text frames with
the app's base and the prefix swapped (ui/preview_rebase.py). Either side closing closes the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import WebSocket, WebSocketDisconnect
from nicegui import app
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from core.builds.preview import link_valid
from core.ports import SandboxError
from core.services import Services
from ui.preview_proxy import BAD_PATH, preview_job
from ui.preview_rebase import Rebase, base_path, upstream_url

POLICY_VIOLATION = 1008  # the link is not (or no longer) valid
UPSTREAM_GONE = 1011
OPEN_TIMEOUT_S = 10.0
logger = logging.getLogger(__name__)


def register(svc: Services) -> None:
    secret = svc.settings.storage_secret()
    cap = svc.settings.PREVIEW_MAX_BODY_MB << 20

    @app.websocket('/preview/{job_id}/t/{token}/{path:path}')
    async def preview_socket(websocket: WebSocket, job_id: str, token: str, path: str) -> None:
        job = await preview_job(svc, job_id)
        valid = job is not None and not BAD_PATH.search(path) and await link_valid(svc.sessions, secret, job, token)
        if not valid or job is None or not job.preview_url or job.preview_state != 'running':
            await websocket.close(code=POLICY_VIOLATION)
            return
        try:
            base, extra = await svc.preview_upstream(job.sandbox_id, job.preview_url)
        except SandboxError:
            await websocket.close(code=UPSTREAM_GONE)
            return
        query = websocket.url.query
        target = _ws_url(upstream_url(base, path)) + (f'?{query}' if query else '')
        rebase = Rebase(f'/preview/{job.id}/t/{token}/', base_path(base))
        offered = [Subprotocol(p) for p in websocket.scope.get('subprotocols', [])]
        try:
            async with connect(target, subprotocols=offered or None, additional_headers=extra,
                               open_timeout=OPEN_TIMEOUT_S, max_size=cap, proxy=None) as upstream:  # fmt: skip
                await websocket.accept(subprotocol=upstream.subprotocol)
                await _relay(websocket, upstream, rebase)
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:
            logger.info('the preview of build %s refused a socket: %r', job.id, error)
            with contextlib.suppress(RuntimeError):  # not accepted yet, or already closed
                await websocket.close(code=UPSTREAM_GONE)


async def _relay(browser: WebSocket, upstream: ClientConnection, rebase: Rebase) -> None:
    """Frames both ways until either side closes; then the other is closed too."""
    tasks = [asyncio.create_task(_to_app(browser, upstream, rebase)),
             asyncio.create_task(_to_browser(browser, upstream, rebase))]  # fmt: skip
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await upstream.close()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await browser.close()


async def _to_app(browser: WebSocket, upstream: ClientConnection, rebase: Rebase) -> None:
    with contextlib.suppress(WebSocketDisconnect, ConnectionClosed):
        while True:
            message = await browser.receive()
            if message['type'] == 'websocket.disconnect':
                return
            if message.get('text') is not None:
                await upstream.send(rebase.to_app(message['text']))
            elif message.get('bytes') is not None:
                await upstream.send(message['bytes'])


async def _to_browser(browser: WebSocket, upstream: ClientConnection, rebase: Rebase) -> None:
    with contextlib.suppress(WebSocketDisconnect, ConnectionClosed, RuntimeError):
        async for message in upstream:
            if isinstance(message, str):
                await browser.send_text(rebase.to_browser(message))
            else:
                await browser.send_bytes(message)


def _ws_url(http_url: str) -> str:
    return 'ws' + http_url.removeprefix('http') if http_url.startswith('http') else http_url
