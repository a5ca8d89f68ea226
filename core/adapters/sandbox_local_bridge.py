"""Host side of the dev server in an isolated sandbox: 127.0.0.1:<port> on the host → the app's Unix socket.

With SANDBOX_NETWORK=isolated the app listens on 127.0.0.1 inside its own network namespace, which
the host cannot reach. `sandbox_bridge_inside.py` (run in the same sandbox) exposes it on a Unix
socket in the workspace; `HostBridge` listens on a free port of the host's 127.0.0.1 and pipes each
connection to that socket, so the preview proxy and Chromium use a plain http://127.0.0.1:<port> URL.

Connecting safely: the socket file lives in the workspace, which sandboxed code controls, and
connect() on a path follows symlinks. Connecting to `<workspace>/.cofounder/app.sock` by name would
let the agent plant `app.sock -> /run/postgresql/.s.PGSQL.5432` (or docker.sock, or another
project's app socket) and have the host, running as root or as the app's own uid, connect there;
a check before connect() is racy. So for every connection `open_socket` (WorkspaceFS.open_socket)
opens the path beneath the workspace one component at a time with O_NOFOLLOW, the last one with
O_PATH, and checks with fstat that the inode is a socket. That fd pins the inode: renaming or
replacing the name afterwards changes nothing. We then connect() to /proc/self/fd/<fd>, which the
kernel resolves to exactly that inode (a symlink's O_PATH fd would never be followed either).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from core.ports import SandboxError
from core.stream_pipe import pipe

CONNECT_TIMEOUT_S = 5.0

OpenSocket = Callable[[], int]  # returns an O_PATH fd of the app's socket; raises SandboxError/OSError


class HostBridge:
    """A TCP listener on the host's 127.0.0.1 whose connections are piped to the sandboxed app's socket."""

    def __init__(self, open_socket: OpenSocket) -> None:
        self._open_socket = open_socket
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int | None = None

    async def start(self) -> int:
        """Listen on a free port (bound to port 0: no race with another process); returns the port."""
        self._server = await asyncio.start_server(self._handle, '127.0.0.1', 0, backlog=256)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    def stop_listening(self) -> None:
        """Stop accepting at once (sync, for a done-callback when the app exits); `close` finishes the job."""
        if self._server is not None:
            self._server.close()

    async def close(self) -> None:
        """Stop listening and drop the connections still open."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            upstream = await self._connect()
            if upstream is None:  # app not up yet, or gone: the client sees a closed connection
                return
            up_reader, up_writer = upstream
            try:
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            finally:
                up_writer.close()
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            # a handful of syscalls on a local directory: cheaper inline than a thread hop per request
            fd = self._open_socket()
        except (SandboxError, OSError):
            return None
        try:
            return await asyncio.wait_for(asyncio.open_unix_connection(f'/proc/self/fd/{fd}'), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError):
            return None
        finally:
            os.close(fd)
