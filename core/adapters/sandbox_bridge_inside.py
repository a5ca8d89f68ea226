"""Runs INSIDE the local sandbox (stdlib only, started with /usr/bin/python3 -I): the app's supervisor
and its only door to the host.

Usage: bridge.py SOCKET PORT COMMAND [ARG...]

With SANDBOX_NETWORK=isolated the sandbox has its own network namespace, so the host cannot reach
127.0.0.1:PORT in there. This script starts COMMAND (the dev server, which listens on 127.0.0.1:PORT
inside) and listens on the Unix socket SOCKET in the workspace; each connection to it is piped to
127.0.0.1:PORT. The host connects to SOCKET (a file in the bind-mounted workspace, so no network is
shared) and serves it on its own 127.0.0.1. The script exits with COMMAND's exit code, so the app and
its bridge live and die together (bubblewrap's pid namespace kills whatever is left).

Nothing here is trusted by the host: the host checks what it connects to on its own side.
"""

import asyncio
import os
import shutil
import signal
import sys

CHUNK = 65536


async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy until EOF, then half-close dst (HTTP clients may shut down their write side first)."""
    try:
        while True:
            data = await src.read(CHUNK)
            if not data:
                break
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()
    except OSError:
        dst.close()


async def handle(port: int, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    try:
        app_r, app_w = await asyncio.open_connection('127.0.0.1', port)
    except OSError:  # the app is not listening (yet): the host sees a closed connection and retries
        client_w.close()
        return
    try:
        await asyncio.gather(pipe(client_r, app_w), pipe(app_r, client_w))
    finally:
        app_w.close()
        client_w.close()


def prepare(sock_path: str) -> None:
    """A real directory for the socket and no stale socket (or anything else) at its path."""
    directory = os.path.dirname(sock_path)
    if os.path.islink(directory) or (os.path.lexists(directory) and not os.path.isdir(directory)):
        os.unlink(directory)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if os.path.lexists(sock_path):
        if os.path.isdir(sock_path) and not os.path.islink(sock_path):
            shutil.rmtree(sock_path)
        else:
            os.unlink(sock_path)


async def main(sock_path: str, port: int, argv: list[str]) -> int:
    prepare(sock_path)
    os.umask(0o077)  # the socket is for the host only
    server = await asyncio.start_unix_server(lambda r, w: handle(port, r, w), path=sock_path, backlog=256)
    app = await asyncio.create_subprocess_exec(*argv)  # inherits stdout/stderr: the app's log
    loop = asyncio.get_running_loop()

    def stop_app() -> None:
        if app.returncode is None:
            app.terminate()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_app)
    code = await app.wait()
    server.close()
    return code if code >= 0 else 128 - code  # killed by signal N → 128+N, like a shell


if __name__ == '__main__':
    if len(sys.argv) < 4:
        sys.exit('usage: bridge.py SOCKET PORT COMMAND [ARG...]')
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])))
