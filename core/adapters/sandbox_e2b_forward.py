"""A local door to an app running in an E2B sandbox: 127.0.0.1:<port> → the sandbox's port, plus its token.

E2B serves a sandbox's port on its edge only to requests carrying the sandbox's traffic access token. This
process's own browser (screenshots, acceptance checks) and health polls cannot add a header, so the adapter
gives them `http://127.0.0.1:<port>`, and this forwarder passes each request on with the token and the
routing headers. The founder's browser never comes here: it goes through the owner-only preview proxy,
which adds the same headers itself (`E2BSandboxProvider.preview_upstream`).

One request per connection: the request head is rewritten (Host, the added headers, `Connection: close`),
then bytes are piped both ways until either side closes. Standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from urllib.parse import urlsplit

from core.stream_pipe import pipe

log = logging.getLogger(__name__)
MAX_HEAD = 64 * 1024
DROP = {'host', 'connection', 'keep-alive', 'proxy-connection'}


class Forwarder:
    def __init__(self, upstream: str, headers: dict[str, str]) -> None:
        parts = urlsplit(upstream)
        self.tls = parts.scheme == 'https'
        self.host = parts.hostname or '127.0.0.1'
        self.port = parts.port or (443 if self.tls else 80)
        self.headers = headers
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on a free port of 127.0.0.1; returns it."""
        self._server = await asyncio.start_server(self._serve, '127.0.0.1', 0)
        return int(self._server.sockets[0].getsockname()[1])

    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        upstream_writer = None
        try:
            head = await reader.readuntil(b'\r\n\r\n')
            if len(head) > MAX_HEAD:
                return
            context = ssl.create_default_context() if self.tls else None
            up_reader, upstream_writer = await asyncio.open_connection(self.host, self.port, ssl=context)
            upstream_writer.write(self._rewrite(head))
            await asyncio.gather(pipe(reader, upstream_writer), pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as error:
            log.debug('preview forward ended: %s', error)
        finally:
            self._connections.discard(task)
            for w in (writer, upstream_writer):
                if w is not None:
                    w.close()

    def _rewrite(self, head: bytes) -> bytes:
        lines = head.decode('latin-1').split('\r\n')
        kept = [line for line in lines[1:] if line and line.split(':', 1)[0].strip().lower() not in DROP]
        default_port = 443 if self.tls else 80
        host = self.host if self.port == default_port else f'{self.host}:{self.port}'
        added = [f'{name}: {value}' for name, value in self.headers.items()]
        return '\r\n'.join([lines[0], f'Host: {host}', *kept, *added, 'Connection: close', '', '']).encode('latin-1')
