"""A local server speaking what the e2b SDK (2.63) calls: the E2B control-plane API and envd inside a sandbox.

    with E2BFake(tmp_path) as e2b:
        settings = Settings(E2B_API_KEY=e2b.api_key, E2B_API_URL=e2b.url, E2B_SANDBOX_URL=e2b.url, ...)
        ...
        e2b.refuse_next_create(503)   # creation refused
        e2b.kill(sandbox_id)          # the sandbox is gone (killed, or its lifetime ran out)

One port serves it all, routed like E2B's edge: the control plane (`/v2/sandboxes`, `/sandboxes/{id}/…`,
authenticated by `X-API-KEY`), and, for requests naming a sandbox in `E2b-Sandbox-Id` + `E2b-Sandbox-Port`,
either envd (port 49983: `/health`, `/files`, and the Connect RPC services `filesystem.Filesystem` and
`process.Process`, served by connectrpc's ASGI applications over the SDK's JSON codec; `X-Access-Token`
required) or an app port (forwarded to the app; `e2b-traffic-access-token` required, as for a sandbox
created with public traffic off).

A sandbox here is a directory standing for its root filesystem (the user's home is `<dir>/home/user`) and the
host processes its commands start (`/bin/bash -l -c`, cwd mapped into it). What the fake cannot give each
sandbox is a network namespace: a command started with `PORT=<n>` gets a free host port instead, and the
edge maps the sandbox's port n to it. Pause stops every process (SIGSTOP) and resume continues them, as a
memory snapshot would; envd answers 502 "… was not found" while a sandbox is paused or gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
import uvicorn
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from e2b.envd.filesystem import filesystem_pb as fs_pb
from e2b.envd.filesystem.filesystem_connect import Filesystem, FilesystemASGIApplication
from e2b.envd.process import process_pb
from e2b.envd.process.process_connect import Process, ProcessASGIApplication
from protobuf import Oneof
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

ENVD_PORT = 49983
HOME = 'home/user'  # the sandbox user's home, relative to the sandbox's root (envd resolves relative paths there)
ENVD_VERSION = '0.6.4'  # octet-stream uploads, default user
Event = process_pb.ProcessEvent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


@dataclass
class FakeSandbox:
    id: str
    root: Path
    template: str
    envs: dict[str, str]
    envd_token: str = field(default_factory=lambda: secrets.token_hex(16))
    traffic_token: str = field(default_factory=lambda: secrets.token_hex(16))
    paused: bool = False
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[int, int] = field(default_factory=dict)  # sandbox port → host port

    def path(self, sandbox_path: str) -> Path:
        """Where a path of the sandbox's filesystem lives on the host."""
        relative = sandbox_path.lstrip('/') if sandbox_path.startswith('/') else f'{HOME}/{sandbox_path}'
        return self.root / os.path.normpath(relative)

    def signal_all(self, signum: int) -> None:
        for proc in list(self.procs.values()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signum)

    def body(self) -> dict[str, Any]:
        return {
            'templateID': self.template,
            'sandboxID': self.id,
            'clientID': 'fake',
            'envdVersion': ENVD_VERSION,
            'envdAccessToken': self.envd_token,
            'trafficAccessToken': self.traffic_token,
        }


class E2BFake:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.api_key = 'e2b_' + secrets.token_hex(20)
        self.sandboxes: dict[str, FakeSandbox] = {}
        self.gone: set[str] = set()
        self.calls: list[tuple[str, str]] = []  # (method, path) of control-plane calls
        self._refuse: list[int] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = _free_port()
        self._process_app = ProcessASGIApplication(_Process(self))
        self._fs_app = FilesystemASGIApplication(_Filesystem(self))
        self._forward = httpx.AsyncClient(timeout=30.0)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self._port}'

    # ── what tests do ──

    def refuse_next_create(self, status: int, message: str = 'Cannot create a sandbox right now') -> None:
        self._refuse.append(status)
        self._refuse_message = message

    def kill(self, sandbox_id: str) -> None:
        """The sandbox is gone for good: its processes die, its files go, every call about it gets 404/502."""
        with self._lock:
            sandbox = self.sandboxes.pop(sandbox_id, None)
            self.gone.add(sandbox_id)
        if sandbox is not None:
            sandbox.signal_all(signal.SIGCONT)
            sandbox.signal_all(signal.SIGKILL)
            shutil.rmtree(sandbox.root, ignore_errors=True)

    def running(self, sandbox_id: str) -> list[int]:
        """Pids of the sandbox's processes still alive."""
        sandbox = self.sandboxes.get(sandbox_id)
        return [pid for pid, proc in (sandbox.procs.items() if sandbox else []) if proc.poll() is None]

    # ── lifecycle ──

    def __enter__(self) -> Self:
        config = uvicorn.Config(
            self._asgi,
            host='127.0.0.1',
            port=self._port,
            log_level='warning',
            lifespan='off',
            interface='asgi3',
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name='fake-e2b', daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        for sandbox_id in list(self.sandboxes):
            self.kill(sandbox_id)
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(10)

    # ── routing ──

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope['type'] != 'http':
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope['headers']}
        sandbox_id, port = headers.get('e2b-sandbox-id'), headers.get('e2b-sandbox-port')
        if sandbox_id is None:
            response = await self._control(Request(scope, receive))
        else:
            sandbox = self._live(sandbox_id)
            if sandbox is None:
                response = JSONResponse({'code': 502, 'message': f'The sandbox {sandbox_id} was not found'}, 502)
            elif int(port or ENVD_PORT) != ENVD_PORT:
                response = await self._app_port(sandbox, int(port or 0), Request(scope, receive), headers)
            elif headers.get('x-access-token') != sandbox.envd_token:
                response = JSONResponse({'code': 401, 'message': 'invalid access token'}, 401)
            elif scope['path'].startswith('/process.Process/'):
                return await self._process_app(scope, receive, send)  # type: ignore[arg-type]
            elif scope['path'].startswith('/filesystem.Filesystem/'):
                return await self._fs_app(scope, receive, send)  # type: ignore[arg-type]
            else:
                response = await self._envd_http(sandbox, Request(scope, receive))
        await response(scope, receive, send)

    def _live(self, sandbox_id: str) -> FakeSandbox | None:
        sandbox = self.sandboxes.get(sandbox_id)
        return None if sandbox is None or sandbox.paused else sandbox

    # ── the control plane ──

    async def _control(self, request: Request) -> Response:
        self.calls.append((request.method, request.url.path))
        if request.headers.get('x-api-key') != self.api_key:
            return JSONResponse({'code': 401, 'message': 'Invalid API key'}, 401)
        parts = request.url.path.strip('/').split('/')
        if request.method == 'POST' and parts == ['v2', 'sandboxes']:
            return self._create(await request.json())
        if request.method == 'GET' and parts == ['v2', 'sandboxes']:
            return JSONResponse([_listed(sandbox) for sandbox in self.sandboxes.values()])
        if len(parts) >= 2 and parts[-2:] != ['v2', 'sandboxes']:
            sandbox_id = parts[2] if parts[0] == 'v2' else parts[1]
            action = parts[-1] if len(parts) > (3 if parts[0] == 'v2' else 2) else ''
            sandbox = self.sandboxes.get(sandbox_id)
            if sandbox is None:
                return JSONResponse({'code': 404, 'message': f'sandbox {sandbox_id} not found'}, 404)
            return self._act(sandbox, request.method, action)
        return JSONResponse({'code': 404, 'message': 'no such route'}, 404)

    def _create(self, body: dict[str, Any]) -> Response:
        if self._refuse:
            status = self._refuse.pop(0)
            return JSONResponse({'code': status, 'message': self._refuse_message}, status)
        sandbox_id = 'i' + secrets.token_hex(9)
        root = self.workdir / sandbox_id
        (root / HOME).mkdir(parents=True)
        sandbox = FakeSandbox(sandbox_id, root, body.get('templateID', 'base'), body.get('envVars') or {})
        self.sandboxes[sandbox_id] = sandbox
        return JSONResponse(sandbox.body(), 201)

    def _act(self, sandbox: FakeSandbox, method: str, action: str) -> Response:
        if method == 'POST' and action == 'connect':
            status = 201 if sandbox.paused else 200
            if sandbox.paused:
                sandbox.signal_all(signal.SIGCONT)
                sandbox.paused = False
            return JSONResponse(sandbox.body(), status)
        if method == 'POST' and action == 'pause':
            if sandbox.paused:
                return JSONResponse({'code': 409, 'message': 'sandbox is already paused'}, 409)
            sandbox.signal_all(signal.SIGSTOP)
            sandbox.paused = True
            return Response(status_code=204)
        if method == 'POST' and action == 'timeout':
            return Response(status_code=204)
        if method == 'DELETE' and action == '':
            self.kill(sandbox.id)
            return Response(status_code=204)
        return JSONResponse({'code': 404, 'message': f'no action {action}'}, 404)

    # ── envd's HTTP API ──

    async def _envd_http(self, sandbox: FakeSandbox, request: Request) -> Response:
        if request.url.path == '/health':
            return Response(status_code=204)
        if request.url.path != '/files':
            return JSONResponse({'code': 404, 'message': 'not found'}, 404)
        target = sandbox.path(request.query_params.get('path', ''))
        if request.method == 'GET':
            if not target.is_file():
                return JSONResponse({'code': 404, 'message': f'path {target.name} not found'}, 404)
            return Response(target.read_bytes(), media_type='application/octet-stream')
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(await request.body())
        name = request.query_params.get('path', '')
        return JSONResponse([{'name': target.name, 'type': 'file', 'path': name}])

    # ── an app's port, through the edge ──

    async def _app_port(self, sandbox: FakeSandbox, port: int, request: Request, headers: dict[str, str]) -> Response:
        if headers.get('e2b-traffic-access-token') != sandbox.traffic_token:
            return JSONResponse({'code': 403, 'message': 'missing or invalid traffic access token'}, 403)
        host_port = sandbox.ports.get(port)
        if host_port is None:
            return JSONResponse({'code': 502, 'message': f'The sandbox is running but port {port} is not open'}, 502)
        forwarded = {
            k: v for k, v in headers.items() if not k.startswith('e2b-') and k not in {'host', 'content-length'}
        }
        try:
            upstream = await self._forward.request(
                request.method,
                f'http://127.0.0.1:{host_port}{request.url.path}',
                params=request.query_params,
                headers=forwarded,
                content=await request.body(),
            )
        except httpx.HTTPError:
            return JSONResponse({'code': 502, 'message': f'The sandbox is running but port {port} is not open'}, 502)
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in {'content-length', 'transfer-encoding'}}
        return Response(upstream.content, upstream.status_code, headers=out)


def _listed(sandbox: FakeSandbox) -> dict[str, Any]:
    """A sandbox as GET /v2/sandboxes lists it."""
    times = {'startedAt': '2026-01-01T00:00:00Z', 'endAt': '2026-01-01T01:00:00Z'}
    size = {'cpuCount': 2, 'memoryMB': 512, 'diskSizeMB': 1024}
    return {**sandbox.body(), **times, **size, 'state': 'paused' if sandbox.paused else 'running'}


def _sandbox_of(fake: E2BFake, ctx: Any) -> FakeSandbox:
    sandbox = fake._live(ctx.request_headers.get('e2b-sandbox-id', ''))  # noqa: SLF001
    if sandbox is None:
        raise ConnectError(Code.UNAVAILABLE, 'The sandbox was not found')
    return sandbox


class _Filesystem(Filesystem):  # what is not overridden answers UNIMPLEMENTED
    def __init__(self, fake: E2BFake) -> None:
        self.fake = fake

    async def list_dir(self, request: fs_pb.ListDirRequest, ctx: Any) -> fs_pb.ListDirResponse:
        sandbox = _sandbox_of(self.fake, ctx)
        base = sandbox.path(request.path)
        if not base.is_dir():
            raise ConnectError(Code.NOT_FOUND, f'directory {request.path} not found')
        entries = []
        depth = request.depth or 1
        for path in sorted(base.rglob('*')):
            rel = path.relative_to(base)
            if len(rel.parts) > depth:
                continue
            kind = fs_pb.FileType.SYMLINK if path.is_symlink() else (
                fs_pb.FileType.DIRECTORY if path.is_dir() else fs_pb.FileType.FILE)  # fmt: skip
            sandbox_path = f'{request.path.rstrip("/")}/{rel.as_posix()}'
            entries.append(fs_pb.EntryInfo(name=path.name, type=kind, path=sandbox_path, size=0))
        return fs_pb.ListDirResponse(entries=entries)

    async def remove(self, request: fs_pb.RemoveRequest, ctx: Any) -> fs_pb.RemoveResponse:
        target = _sandbox_of(self.fake, ctx).path(request.path)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            raise ConnectError(Code.NOT_FOUND, f'path {request.path} not found')
        return fs_pb.RemoveResponse()

    async def make_dir(self, request: fs_pb.MakeDirRequest, ctx: Any) -> fs_pb.MakeDirResponse:
        target = _sandbox_of(self.fake, ctx).path(request.path)
        if target.exists():
            raise ConnectError(Code.ALREADY_EXISTS, f'path {request.path} already exists')
        target.mkdir(parents=True)
        return fs_pb.MakeDirResponse(entry=fs_pb.EntryInfo(name=target.name, type=fs_pb.FileType.DIRECTORY))


class _Process(Process):
    def __init__(self, fake: E2BFake) -> None:
        self.fake = fake

    async def start(self, request: process_pb.StartRequest, ctx: Any) -> AsyncIterator[process_pb.StartResponse]:
        sandbox = _sandbox_of(self.fake, ctx)
        config = request.process
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': str(sandbox.path('')),
               'LANG': 'C.UTF-8', **sandbox.envs, **dict(config.envs)}  # fmt: skip
        if 'PORT' in env:  # no network namespace here: the sandbox's port becomes a free host port
            host_port = _free_port()
            sandbox.ports[int(env['PORT'])] = host_port
            env['PORT'] = str(host_port)
        cwd = sandbox.path(config.cwd or '')  # relative paths and no cwd: the user's home
        if not cwd.is_dir():
            raise ConnectError(Code.INVALID_ARGUMENT, f'cwd {config.cwd} does not exist')
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()
        proc = await asyncio.to_thread(
            subprocess.Popen, [config.cmd, *config.args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        sandbox.procs[proc.pid] = proc
        readers = [_pump(proc.stdout, 'stdout', out, loop), _pump(proc.stderr, 'stderr', out, loop)]
        yield process_pb.StartResponse(event=Event(event=Oneof('start', Event.StartEvent(pid=proc.pid))))
        open_streams = 2
        while open_streams:
            item = await out.get()
            if item is None:
                open_streams -= 1
                continue
            name, chunk = item
            yield process_pb.StartResponse(event=Event(event=Oneof('data', Event.DataEvent(output=Oneof(name, chunk)))))
        code = await asyncio.to_thread(proc.wait)
        for reader in readers:
            reader.join(1)
        sandbox.procs.pop(proc.pid, None)
        if self.fake._live(sandbox.id) is None:  # noqa: SLF001 - killed mid-command: the stream breaks
            raise ConnectError(Code.UNAVAILABLE, f'The sandbox {sandbox.id} was not found')
        status = f'exit status {code}' if code >= 0 else f'signal: {signal.Signals(-code).name.lower()[3:]}'
        end = Event.EndEvent(exit_code=code if code >= 0 else -1, exited=code >= 0, status=status)
        yield process_pb.StartResponse(event=Event(event=Oneof('end', end)))

    async def list(self, request: process_pb.ListRequest, ctx: Any) -> process_pb.ListResponse:
        sandbox = _sandbox_of(self.fake, ctx)
        alive = [(pid, proc) for pid, proc in sandbox.procs.items() if proc.poll() is None]
        infos = [process_pb.ProcessInfo(pid=pid, config=process_pb.ProcessConfig(cmd=str(proc.args[0])))
                 for pid, proc in alive]  # fmt: skip
        return process_pb.ListResponse(processes=infos)

    async def send_signal(self, request: process_pb.SendSignalRequest, ctx: Any) -> process_pb.SendSignalResponse:
        sandbox = _sandbox_of(self.fake, ctx)
        pid = request.process.selector.value if request.process.selector else None
        proc = sandbox.procs.get(int(pid or 0))
        if proc is None or proc.poll() is not None:
            raise ConnectError(Code.NOT_FOUND, f'process {pid} not found')
        signum = signal.SIGKILL if request.signal == process_pb.Signal.SIGKILL else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)
        return process_pb.SendSignalResponse()


def _pump(pipe: Any, name: str, out: asyncio.Queue[Any], loop: asyncio.AbstractEventLoop) -> threading.Thread:
    """Read a child's pipe in a thread (no child watcher on this loop) and hand chunks to the stream."""

    def read() -> None:
        while chunk := os.read(pipe.fileno(), 65536):
            loop.call_soon_threadsafe(out.put_nowait, (name, chunk))
        pipe.close()
        loop.call_soon_threadsafe(out.put_nowait, None)

    thread = threading.Thread(target=read, name=f'fake-e2b-{name}', daemon=True)
    thread.start()
    return thread
