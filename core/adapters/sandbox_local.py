"""Local sandbox: one workspace directory per build, commands under bubblewrap when present.

Isolation with bubblewrap: the command runs as its workspace's own unprivileged uid (when the app
runs as root), sees only its workspace (read-write), read-only system dirs and a size-capped private
/tmp and /dev/shm, with a clean environment, rlimits (processes, data size, file size, open files)
and fresh pid/ipc/uts namespaces. One sandbox cannot starve another (`sandbox_local_limits.py`):
a cgroup per sandbox where the host allows it, else a uid per sandbox, and a cap on the workspace's
size checked after every command and before every write. Network (SANDBOX_NETWORK):
- `isolated` (default): each command has its own network namespace with only a loopback, so
  sandboxed code cannot reach services on the host's 127.0.0.1 (Postgres, Redis, this app); without
  an egress proxy package downloads fail (fast, with a note saying why). The dev server listens on 127.0.0.1
  inside; `sandbox_bridge_inside.py` exposes it on a Unix socket in the workspace
  (`.cofounder/app.sock`) and `HostBridge` serves that on a free port of the host's 127.0.0.1,
  so `start_app()` still returns `http://127.0.0.1:<port>`.
  With an egress proxy (`egress_proxy.py`, wired by core/services.py) the namespace has one way out:
  `sandbox_egress_inside.py` listens on 127.0.0.1:EGRESS_PORT in there (HTTP_PROXY, npm's and pip's proxy
  settings point at it) and relays to the host proxy's Unix socket for this sandbox, bind-mounted read-only;
  the proxy lets only the allowlisted registries through and its refusals are written to the output of
  the commands (and app) running at the time, so they reach the build log and the feed.
- `shared`: the host's network: npm/pip downloads work, but sandboxed code can connect to
  anything the host can (give Postgres and Redis passwords). The app's port is reached directly.
Without bubblewrap commands still run (rlimits, clean env, own session, host network) and
`isolation()` says so. Every command gets its own process group, killed on timeout or cancel.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import inspect
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from core.adapters.sandbox_local_bridge import HostBridge
from core.adapters.sandbox_local_exec import SANDBOX_ROOT, Launch, Limits, bwrap_launch, find_bwrap, plain_launch
from core.adapters.sandbox_local_fs import WorkspaceFS, split_relative
from core.adapters.sandbox_local_limits import (
    PER_UID,
    SHARED,
    Cgroups,
    UidAllocator,
    WorkspaceUsage,
    cgroup_tag,
    detect_cgroups,
    workspace_full_message,
)
from core.adapters.sandbox_local_packages import PackageCache
from core.builds.devserver import CANDIDATE_FILES, detect_start
from core.config import Settings
from core.ports import CommandResult, OutputCallback, PackagesWarmed, SandboxError

log = logging.getLogger(__name__)

_KEY_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')
OUTPUT_KEEP_CHARS = 1_000_000  # per stream, in a CommandResult (the tail is kept)
APP_TAIL_CHARS = 4_000
APP_START_DEADLINE_S = 20.0
INSTALL_TIMEOUT_S = 600.0
TIMEOUT_EXIT_CODE = 124  # like coreutils `timeout`
WORKSPACE_FULL_EXIT_CODE = 122  # a command that succeeded but left the workspace over its cap (EDQUOT's number)

# Isolated network: the dev server's door to the host (see the module docstring).
APP_SOCKET = '.cofounder/app.sock'  # workspace-relative; .cofounder is never listed or archived
BRIDGE_INSIDE = '/run/cofounder/bridge.py'  # where the bridge script appears (read-only) in the app's sandbox
BRIDGE_SOURCE = Path(__file__).with_name('sandbox_bridge_inside.py')
INSIDE_APP_PORT = 3000  # the app's own network namespace: any port is free there
_NETWORK_ERROR = re.compile(
    r'EAI_AGAIN|ENOTFOUND|ENETUNREACH|Temporary failure in name resolution|Network is unreachable'
    r'|Could not resolve host|Name or service not known|getaddrinfo|Failed to establish a new connection'
    r'|egress allowlist|CONNECT tunnel failed|Tunnel connection failed'  # refused by the egress proxy
)
EGRESS_INSIDE = '/run/cofounder/egress.py'  # the relay script, read-only (--ro-bind-data)
EGRESS_SOCKET = '/run/cofounder/egress.sock'  # the host proxy's socket for this sandbox, bound read-only
EGRESS_SOURCE = Path(__file__).with_name('sandbox_egress_inside.py')
EGRESS_PORT = 3128
_PROXY_URL = f'http://127.0.0.1:{EGRESS_PORT}'
PROXY_ENV = {
    **{name: _PROXY_URL for name in ('HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy')},
    'npm_config_proxy': _PROXY_URL,
    'npm_config_https_proxy': _PROXY_URL,
    'PIP_PROXY': _PROXY_URL,
    'NO_PROXY': 'localhost,127.0.0.1,::1',  # the app and its tests talk to themselves directly
    'no_proxy': 'localhost,127.0.0.1,::1',
}
EGRESS_NOTE = (
    '\n[this sandbox reaches only the allowed package registries (through a proxy): other outside '
    'connections fail. The proxy says above which host it refused, if any.]\n'
)
NO_NETWORK_NOTE = (
    '\n[this sandbox has no network access (SANDBOX_NETWORK=isolated): package downloads and other outside '
    'connections fail. Use the Python standard library, Node built-ins and what is already installed.]\n'
)


class EgressDoor(Protocol):
    async def close(self) -> None: ...


class EgressGate(Protocol):
    """The host's egress proxy (core/adapters/egress_proxy.py): one socket per sandbox."""

    async def listen(
        self, directory: Path, name: str, *, on_refusal: Callable[[str], Awaitable[None]], owner: int | None
    ) -> EgressDoor: ...


def bubblewrap_available() -> bool:
    """Whether the local sandbox isolates commands with bubblewrap on this machine (for /healthz)."""
    return find_bwrap() is not None


class LocalSandboxProvider:
    """Creates and reattaches workspaces under DATA_DIR/workspaces/<key>."""

    name = 'local'
    apps_survive_restart = False  # the apps are our child processes

    def __init__(self, settings: Settings, *, use_bwrap: bool | None = None, egress: EgressGate | None = None) -> None:
        self.settings = settings
        bwrap = find_bwrap()
        if use_bwrap and not bwrap:
            raise SandboxError('bubblewrap was requested but the bwrap binary is not installed')
        self.bwrap: str | None = bwrap if use_bwrap in (None, True) else None
        self.as_root = os.geteuid() == 0
        # only bubblewrap can give a command its own network namespace; the fallback shares the host's
        self.isolated_network = self.bwrap is not None and settings.SANDBOX_NETWORK == 'isolated'
        self.egress = egress if self.isolated_network else None  # the shared network needs no proxy
        self.egress_dir = settings.data_dir / 'egress'
        # the shared caches are bound read-only by bubblewrap; without it a sandbox is the host's user anyway
        self.package_cache = (
            PackageCache(settings.data_dir / 'package-cache') if (self.bwrap and settings.PACKAGE_CACHE) else None
        )
        self.root = settings.data_dir / 'workspaces'
        self._live: dict[str, LocalSandbox] = {}
        self._prepared = False
        self.cgroups, self.uids, self.limits_mode = self._choose_limits(settings)
        # one shared uid only in the `shared` mode (as root): SANDBOX_UID_BASE itself
        self.sandbox_uid: int | None = settings.SANDBOX_UID_BASE if (self.bwrap and self.as_root) else None

    def _choose_limits(self, settings: Settings) -> tuple[Cgroups | None, UidAllocator | None, str]:
        """SANDBOX_LIMITS: cgroup (required), uid (required), shared, or auto (the best this host allows)."""
        wanted = settings.SANDBOX_LIMITS
        uids = None
        if self.bwrap and self.as_root and wanted != 'shared':
            uids = UidAllocator(self.root, settings.SANDBOX_UID_BASE, settings.SANDBOX_UID_COUNT)
        elif wanted == 'uid':
            raise SandboxError('SANDBOX_LIMITS=uid needs bubblewrap and the app running as root')
        cgroups = None
        if wanted in ('auto', 'cgroup'):
            cgroups = detect_cgroups(cgroup_tag(settings.data_dir), settings.SANDBOX_CGROUP_PARENT)
            if cgroups is None and wanted == 'cgroup':
                raise SandboxError(
                    'SANDBOX_LIMITS=cgroup, but no writable cgroup with the memory and pids '
                    'controllers was found (run as root, or delegate one: SANDBOX_CGROUP_PARENT)'
                )
        mode = cgroups.mode if cgroups else (PER_UID if uids else SHARED)
        return cgroups, uids, mode

    @property
    def uses_bubblewrap(self) -> bool:
        return self.bwrap is not None

    def isolation(self) -> str:
        limits = self.limits_description()
        if not self.bwrap:
            return f'subprocess only, shared host network (install bubblewrap for isolation); limits: {limits}'
        network = 'own network namespace' if self.isolated_network else 'shared host network'
        if self.egress:
            network += ', package registries through the egress proxy'
        return f'bubblewrap (pid/ipc/uts namespaces, {network}, clean env, rlimits); limits: {limits}'

    def limits_description(self) -> str:
        """How one sandbox is kept from starving the others, in words (for /readyz and the admin page)."""
        parts = [self.cgroups.describe()] if self.cgroups else []
        if self.uids:
            parts.append(f'a uid per sandbox from {self.uids.base} ({self.uids.count} uids)')
        elif self.sandbox_uid is not None:
            parts.append(f'every sandbox shares uid {self.sandbox_uid}')
        if not parts:
            parts.append(f'every sandbox shares uid {os.geteuid()}: per-process rlimits only')
        return f'{self.limits_mode}: ' + ', '.join(parts)

    async def probe(self) -> None:
        sandbox = await self.create(key=f'health-{uuid.uuid4().hex[:12]}')
        try:
            result = await sandbox.run('true', timeout=10)
        finally:
            await sandbox.destroy()
        if not result.ok:
            raise SandboxError(f'`true` exited {result.exit_code}: {result.stderr.strip()[:200]}')

    async def create(self, *, key: str) -> LocalSandbox:
        """A sandbox for key; reuses the workspace (and the live object) when it exists."""
        _check_key(key)
        if key in self._live:
            return self._live[key]
        await asyncio.to_thread(self._make_workspace, key)
        return self._attach(key, *await asyncio.to_thread(self._own_limits, key))

    async def connect(self, sandbox_id: str) -> LocalSandbox | None:
        try:
            _check_key(sandbox_id)
        except SandboxError:
            return None
        if not await asyncio.to_thread(_is_real_dir, self.root / sandbox_id):
            stale = self._live.pop(sandbox_id, None)  # removed behind our back (retention, another worker)
            if stale:
                await stale.kill_processes()
            if self.cgroups:  # its groups go with it
                await asyncio.to_thread(self.cgroups.remove, sandbox_id)
            return None
        return self._live.get(sandbox_id) or self._attach(sandbox_id, *await asyncio.to_thread(self._own_limits,
                                                                                               sandbox_id))  # fmt: skip

    async def close(self) -> None:
        """Stop every process and preview bridge this provider started (the process is shutting down);
        workspaces stay, so builds resume and previews restart after the restart."""
        for sandbox in list(self._live.values()):
            await sandbox.kill_processes()

    def _attach(self, key: str, uid: int | None, cgroup_procs: list[str]) -> LocalSandbox:
        sandbox = LocalSandbox(self, key, self.root / key, uid=uid, cgroup_procs=cgroup_procs)
        self._live[key] = sandbox
        return sandbox

    def _own_limits(self, key: str) -> tuple[int | None, list[str]]:
        """The workspace's own uid and cgroups (blocking: file system and cgroupfs writes)."""
        uid = self.uids.assign(key) if self.uids else self.sandbox_uid
        procs: list[str] = []
        if self.cgroups:
            limits = Limits.from_settings(self.settings)
            procs = self.cgroups.prepare(key, memory_bytes=limits.group_memory_bytes, pids=limits.nproc)
        return uid, procs

    def _forget(self, key: str) -> None:
        self._live.pop(key, None)

    def _make_workspace(self, key: str) -> None:
        if not self._prepared:
            self.root.mkdir(parents=True, exist_ok=True)
            self.root.chmod(0o711)  # sandbox uid may pass through to its own workspace, not list others
            if self.sandbox_uid is not None:
                _grant_traversal(self.root, self.sandbox_uid)
            self._prepared = True
        path = self.root / key
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            if not _is_real_dir(path):
                raise SandboxError(f'workspace {key} is not a directory') from None
        if self.sandbox_uid is not None and self.uids is None:
            os.chown(path, self.sandbox_uid, self.sandbox_uid, follow_symlinks=False)


class _Proc:
    """One running process group and its output readers.

    Started in a worker thread: `Popen` waits for the child to exec, and on a busy machine that wait
    would otherwise stall the event loop (bench/README.md). The pipes are then
    attached to the loop, and the exit is watched through a pidfd (no thread per child).
    """

    def __init__(self, popen: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.popen = popen
        self.pgid = popen.pid  # start_new_session: the child leads its own process group
        self.exited: asyncio.Future[None] = loop.create_future()
        self.returncode: int | None = None
        self.readers: list[asyncio.Task[None]] = []
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None
        self._pipes: list[asyncio.BaseTransport] = []

    @classmethod
    async def start(cls, launch: Launch) -> _Proc:
        popen = await asyncio.to_thread(
            subprocess.Popen,
            launch.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=launch.env,
            cwd=launch.cwd,
            preexec_fn=launch.preexec_fn,
            pass_fds=launch.pass_fds,
            start_new_session=True,  # own process group: killpg reaches every child
        )
        proc = cls(popen, asyncio.get_running_loop())
        assert popen.stdout is not None and popen.stderr is not None
        proc.stdout, proc.stderr = await proc._attach(popen.stdout), await proc._attach(popen.stderr)
        proc._watch_exit()
        return proc

    async def _attach(self, pipe: Any) -> asyncio.StreamReader:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
        self._pipes.append(transport)
        return reader

    def _watch_exit(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self.popen.pid)
        except (AttributeError, OSError):  # no pidfd (old kernel): a thread waits instead
            waiting = asyncio.ensure_future(asyncio.to_thread(self.popen.wait))
            waiting.add_done_callback(lambda _: self._exit())
            return

        def readable() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            self.popen.poll()  # reaps the exited child without blocking
            self._exit()

        loop.add_reader(pidfd, readable)

    def _exit(self) -> None:
        self.returncode = self.popen.returncode
        if not self.exited.done():
            self.exited.set_result(None)

    def alive(self) -> bool:
        return self.returncode is None

    def kill(self) -> None:
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    async def finish(self, grace: float = 5.0) -> None:
        """Kill the group, wait for the exit and let the readers drain what was written."""
        self.kill()
        try:
            await asyncio.wait_for(asyncio.shield(self.exited), grace)
        except TimeoutError:
            log.warning('sandbox process %s did not exit after SIGKILL', self.pgid)
        if self.readers:
            # a child that left the group (setsid, plain mode only) may still hold the pipes
            _, pending = await asyncio.wait(self.readers, timeout=grace)
            for task in pending:
                task.cancel()
        for pipe in self._pipes:
            pipe.close()


class LocalSandbox:
    """One workspace; implements core.ports.Sandbox."""

    def __init__(
        self, provider: LocalSandboxProvider, key: str, path: Path, *, uid: int | None, cgroup_procs: list[str]
    ) -> None:
        self.id = key
        self.provider = provider
        self.path = path
        self.uid = uid
        self.cgroup_procs = cgroup_procs
        self.fs = WorkspaceFS(path, (uid, uid) if uid is not None else None)
        self.limits = Limits.from_settings(provider.settings)
        self._usage: WorkspaceUsage | None = None  # measured after each command, estimated between
        self._procs: set[_Proc] = set()
        self._app: _Proc | None = None
        self._app_port: int | None = None  # the port on the host's 127.0.0.1 (the bridge's, when isolated)
        self._app_base = '/'  # the path the app serves from (a Vite dev server's preview base)
        self._bridge: HostBridge | None = None
        self._app_tail: deque[str] = deque()
        self._app_lock = asyncio.Lock()
        self._egress: EgressDoor | None = None
        self._egress_lock = asyncio.Lock()
        self._sinks: set[_Collector] = set()  # the output of what runs now: where egress refusals are said

    # ── files ────────────────────────────────────────────────────────────────────────────────

    async def write_file(self, path: str, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        usage = self._usage or await self._measure()
        if usage.bytes + len(raw) > self.limits.workspace_bytes or usage.files >= self.limits.workspace_files:
            usage = await self._measure()  # the estimate may be stale (files deleted since): check for real
            if usage.bytes + len(raw) > self.limits.workspace_bytes or usage.files >= self.limits.workspace_files:
                raise SandboxError(f'cannot write {path}: {self._full_message(usage)}')
        await asyncio.to_thread(self.fs.write, path, raw)
        usage.bytes += len(raw)  # an estimate until the next measurement (an overwrite counts twice)
        usage.files += 1

    async def _measure(self) -> WorkspaceUsage:
        self._usage = await asyncio.to_thread(WorkspaceUsage.measure, self.path)
        return self._usage

    def _full_message(self, usage: WorkspaceUsage) -> str:
        return workspace_full_message(usage, self.limits.workspace_bytes, self.limits.workspace_files)

    async def workspace_full(self) -> str | None:
        """The message to show when the workspace is over its size cap (measured now), else None."""
        usage = await self._measure()
        if usage.over(self.limits.workspace_bytes, self.limits.workspace_files):
            return self._full_message(usage)
        return None

    async def read_file(self, path: str) -> bytes:
        return await asyncio.to_thread(self.fs.read, path)

    async def list_files(self, path: str = '.', *, recursive: bool = True) -> list[str]:
        return await asyncio.to_thread(self.fs.list, path, recursive=recursive)

    async def delete_file(self, path: str) -> None:
        await asyncio.to_thread(self.fs.delete, path)

    async def warm_packages(self, files: dict[str, str]) -> PackagesWarmed:
        cache = self.provider.package_cache
        if cache is None:
            return PackagesWarmed()
        owner = (self.uid, self.uid) if self.uid is not None else None
        warmed = await cache.warm(files, home=self.path, owner=owner)
        if not warmed.offline:
            return PackagesWarmed(warmed.note)
        if 'package.json' in files:
            return PackagesWarmed(warmed.note, {'npm_config_prefer_offline': 'true'})
        return PackagesWarmed(warmed.note, {'PIP_NO_INDEX': '1'})  # every wheel is in the cache

    async def archive(self) -> bytes:
        return await asyncio.to_thread(self.fs.archive)

    async def restore(self, archive: bytes) -> None:
        """Replace the workspace with a snapshot; running processes are stopped first."""
        await self.kill_processes()
        await asyncio.to_thread(self.fs.restore, archive)

    # ── commands ─────────────────────────────────────────────────────────────────────────────

    async def run(
        self,
        command: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109  (the port's signature)
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
        cwd: str = '.',
    ) -> CommandResult:
        """Run `/bin/sh -c command` in the sandbox; nothing it started outlives it."""
        limit = self.provider.settings.SANDBOX_COMMAND_TIMEOUT if timeout is None else timeout
        started = time.monotonic()
        out, err = _Collector(on_stdout), _Collector(on_stderr)
        self._sinks.add(err)
        try:
            proc = await self._spawn(command, cwd=cwd, stdout=out, stderr=err)
        except BaseException:
            self._sinks.discard(err)
            raise
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(proc.exited), limit)
        except TimeoutError:
            timed_out = True
        finally:
            # background children (e.g. `server &`) die with the command, and release the pipes
            await proc.finish()
            self._procs.discard(proc)
            self._sinks.discard(err)
        code = TIMEOUT_EXIT_CODE if timed_out else (proc.returncode or 0)
        full = await self.workspace_full()
        if full:  # the agent reads it in the tool's result, the founder in the build log
            await err.emit(f'\n[{full}]\n')
            code = code or WORKSPACE_FULL_EXIT_CODE
        if timed_out:
            err.note(f'\n[command timed out after {limit:g}s and was killed]\n')
        elif (
            code != 0
            and self.provider.isolated_network
            and _NETWORK_ERROR.search(out.text()[-8000:] + err.text()[-8000:])
        ):
            # the agent (and the build log) learn why, not just that it failed
            await err.emit(EGRESS_NOTE if self.provider.egress else NO_NETWORK_NOTE)
        return CommandResult(code, out.text(), err.text(), timed_out, time.monotonic() - started)

    async def _spawn(
        self,
        command: str,
        *,
        cwd: str,
        stdout: _Collector,
        stderr: _Collector,
        env: dict[str, str] | None = None,
        with_bridge: bool = False,
    ) -> _Proc:
        egress = await self._egress_socket()
        launch = await asyncio.to_thread(self._launch, command, cwd, env, with_bridge, egress)
        try:
            proc = await _Proc.start(launch)
        except OSError as exc:
            raise SandboxError(f'could not start the command: {exc}') from exc
        finally:
            for fd in launch.pass_fds:  # the child has its copy (bwrap reads it at startup)
                os.close(fd)
        assert proc.stdout is not None and proc.stderr is not None
        proc.readers = [
            asyncio.create_task(stdout.pump(proc.stdout)),
            asyncio.create_task(stderr.pump(proc.stderr)),
        ]
        self._procs.add(proc)
        return proc

    def _launch(
        self, command: str, cwd: str, env: dict[str, str] | None, with_bridge: bool = False, egress: str | None = None
    ) -> Launch:
        parts = split_relative(cwd)
        self.fs.require_dir(parts)  # the cwd must be a real directory inside the workspace
        if self.provider.bwrap:
            if self.uid is not None:
                # something else (a tmp cleaner, pytest's own tmp-dir hardening) may have reset it
                _grant_traversal(self.provider.root, self.uid)
            # the script goes in as data (memfd → --ro-bind-data): no host path the sandbox uid must reach
            files = {BRIDGE_INSIDE: _script_fd(_bridge_source())} if with_bridge else {}
            binds, wrapper = {}, None
            if cache := self.provider.package_cache:  # the shared wheels, read-only (sandbox_local_packages.py)
                binds.update(cache.sandbox_binds())
                env = {**cache.sandbox_env(), **(env or {})}
            if egress:  # the relay listens in the command's namespace before the command starts
                files[EGRESS_INSIDE] = _script_fd(_egress_source())
                binds[EGRESS_SOCKET] = egress
                wrapper = ['/usr/bin/python3', '-I', '-S', EGRESS_INSIDE, EGRESS_SOCKET, str(EGRESS_PORT)]
                env = {**PROXY_ENV, **(env or {})}
            return bwrap_launch(self.provider.bwrap, command, workspace=self.path, cwd_parts=parts,
                                limits=self.limits, uid=self.uid, extra_env=env,
                                isolated_network=self.provider.isolated_network, files=files or None,
                                cgroup_procs=self.cgroup_procs, ro_binds=binds or None, wrapper=wrapper,
                                egress=bool(egress))  # fmt: skip
        return plain_launch(command, workspace=self.path, cwd_parts=parts, limits=self.limits, extra_env=env,
                            cgroup_procs=self.cgroup_procs)  # fmt: skip

    async def _egress_socket(self) -> str | None:
        """The host path of this sandbox's egress socket (opened on first use), or None without a proxy."""
        gate = self.provider.egress
        if gate is None:
            return None
        async with self._egress_lock:
            if self._egress is None:
                try:
                    self._egress = await gate.listen(self.provider.egress_dir, f'{self.id}.sock',
                                                     on_refusal=self._say_refusal, owner=self.uid)  # fmt: skip
                except OSError as exc:
                    raise SandboxError(f'could not open the egress proxy for this sandbox: {exc}') from exc
        return str(self.provider.egress_dir / f'{self.id}.sock')

    async def _say_refusal(self, words: str) -> None:
        """An egress refusal, as a line of what runs now (command or app): build log, feed and the agent."""
        for sink in list(self._sinks):
            tail = sink.parts[-1] if sink.parts else '\n'
            await sink.emit(('' if tail.endswith('\n') else '\n') + words + '\n')

    async def _close_egress(self) -> None:
        async with self._egress_lock:
            door, self._egress = self._egress, None
        if door is not None:
            await door.close()

    async def kill_processes(self) -> None:
        """Kill every process group this sandbox started (commands and the app)."""
        procs = list(self._procs)
        for proc in procs:
            proc.kill()
        await asyncio.gather(*(p.finish() for p in procs))
        self._procs.clear()
        await self._close_bridge()
        self._sinks.clear()
        await self._close_egress()
        self._app, self._app_port = None, None

    # ── the app's dev server ─────────────────────────────────────────────────────────────────

    async def start_app(self, *, on_output: OutputCallback | None = None) -> str:
        """Detect the start command, run it in the background, wait until it answers; returns its host URL.

        Shared network: the app listens on a free port of the host's 127.0.0.1. Isolated network: it
        listens on 127.0.0.1:INSIDE_APP_PORT in its own namespace, behind the in-sandbox bridge and a
        HostBridge on a free host port; the URL has the same shape either way.
        """
        async with self._app_lock:
            await self._stop_app()
            plan = detect_start(await asyncio.to_thread(self._start_files))
            if plan.install:
                result = await self.run(plan.install, timeout=INSTALL_TIMEOUT_S, on_stdout=on_output,
                                        on_stderr=on_output)  # fmt: skip
                if not result.ok:
                    tail = (result.stdout + result.stderr)[-APP_TAIL_CHARS:]
                    raise SandboxError(f'`{plan.install}` failed (exit {result.exit_code}):\n{tail}')
            self._app_tail = deque()
            sink = _Collector(on_output, tail=self._app_tail)
            proc, port = await self._launch_app(plan.command, sink)
            self._sinks.add(sink)
            proc.exited.add_done_callback(lambda _: self._sinks.discard(sink))
            if not await _wait_until_answering(proc, port, APP_START_DEADLINE_S):
                alive = proc.alive()
                await proc.finish()
                self._procs.discard(proc)
                await self._close_bridge()
                if alive:
                    why = f'did not answer within {APP_START_DEADLINE_S:g}s'
                else:
                    why = f'exited with code {proc.returncode}'
                raise SandboxError(f'the app ({plan.command}) {why}. Last output:\n{"".join(self._app_tail)}')
            self._app, self._app_port, self._app_base = proc, port, plan.base_path
            return _url(port, plan.base_path)

    async def _launch_app(self, command: str, sink: _Collector) -> tuple[_Proc, int]:
        """Start the dev server; returns it and the port on the host's 127.0.0.1 that reaches it."""
        if not self.provider.isolated_network:
            port = _free_port()
            return await self._spawn(command, cwd='.', stdout=sink, stderr=sink, env={'PORT': str(port)}), port
        wrapped = (
            f'exec /usr/bin/python3 -I -S {BRIDGE_INSIDE} {SANDBOX_ROOT}/{APP_SOCKET} {INSIDE_APP_PORT}'
            f' /bin/sh -c {shlex.quote(command)}'
        )
        env = {'PORT': str(INSIDE_APP_PORT)}
        proc = await self._spawn(wrapped, cwd='.', stdout=sink, stderr=sink, env=env, with_bridge=True)
        bridge = HostBridge(lambda: self.fs.open_socket(APP_SOCKET))
        try:
            port = await bridge.start()
        except OSError as exc:
            await proc.finish()
            self._procs.discard(proc)
            raise SandboxError(f'could not listen for the app on the host: {exc}') from exc
        self._bridge = bridge
        # the app died on its own: stop accepting at once (stop_app/kill_processes finish closing)
        proc.exited.add_done_callback(lambda _: bridge.stop_listening())
        return proc, port

    async def _close_bridge(self) -> None:
        bridge, self._bridge = self._bridge, None
        if bridge is not None:
            await bridge.close()

    async def app_url(self) -> str | None:
        """The app's host URL while both the app and (when isolated) its host listener are up."""
        if not (self._app and self._app.alive() and self._app_port):
            return None
        if self.provider.isolated_network and not (self._bridge and self._bridge.serving()):
            return None
        return _url(self._app_port, self._app_base)

    async def stop_app(self) -> None:
        async with self._app_lock:
            await self._stop_app()

    async def _stop_app(self) -> None:
        if self._app:
            await self._app.finish()
            self._procs.discard(self._app)
        await self._close_bridge()
        self._app, self._app_port = None, None

    def app_output_tail(self) -> str:
        """The last few KB the app printed (for error reports)."""
        return ''.join(self._app_tail)

    def _start_files(self) -> dict[str, str | None]:
        files: dict[str, str | None] = {}
        for entry in self.fs.list('.', recursive=False):
            name = entry.rstrip('/')
            files[name] = None
            if name in CANDIDATE_FILES and not entry.endswith('/'):
                try:
                    files[name] = self.fs.read(name)[:200_000].decode('utf-8', 'replace')
                except SandboxError:
                    pass
        return files

    # ── lifecycle ────────────────────────────────────────────────────────────────────────────

    async def pause(self) -> None:
        """A local sandbox costs nothing when idle: pausing just stops the app."""
        await self.stop_app()

    async def resume(self) -> None:
        await self.start_app()

    async def destroy(self) -> None:
        await self.kill_processes()
        self.provider._forget(self.id)
        await asyncio.to_thread(shutil.rmtree, self.path, ignore_errors=True)
        if self.provider.cgroups:
            await asyncio.to_thread(self.provider.cgroups.remove, self.id)


class _Collector:
    """Decodes a stream chunk by chunk, forwards it to a callback, keeps a bounded copy."""

    def __init__(self, callback: OutputCallback | None, *, tail: deque[str] | None = None) -> None:
        self.callback = callback
        self.parts: deque[str] = tail if tail is not None else deque()
        self.size = 0
        self.limit = APP_TAIL_CHARS if tail is not None else OUTPUT_KEEP_CHARS

    async def pump(self, stream: asyncio.StreamReader) -> None:
        decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')
        while True:
            chunk = await stream.read(65536)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                await self.emit(text)
            if not chunk:
                return

    async def emit(self, text: str) -> None:
        self.note(text)
        if self.callback:
            try:
                result: Any = self.callback(text)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a failing listener must not kill the command's output pump
                log.exception('sandbox output callback failed')

    def note(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        while self.size > self.limit and len(self.parts) > 1:
            self.size -= len(self.parts.popleft())

    def text(self) -> str:
        return ''.join(self.parts)


async def _wait_until_answering(proc: _Proc, port: int, deadline_s: float) -> bool:
    """Poll http://127.0.0.1:port/ with a raw GET until any HTTP response, exit, or deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if not proc.alive():
            return False
        if await _answers(port):
            return True
        await asyncio.sleep(0.1)
    return False


async def _answers(port: int) -> bool:
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), 1.0)
        writer.write(b'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 5.0)
        return line.startswith(b'HTTP/')
    except (OSError, TimeoutError):
        return False
    finally:
        if writer:
            writer.close()


def _script_fd(data: bytes) -> int:
    """A memfd holding an in-sandbox script, read from the start by bwrap --ro-bind-data."""
    fd = os.memfd_create('cofounder-script', os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@functools.cache
def _bridge_source() -> bytes:
    return BRIDGE_SOURCE.read_bytes()


@functools.cache
def _egress_source() -> bytes:
    return EGRESS_SOURCE.read_bytes()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def _url(port: int, base: str = '/') -> str:
    return f'http://127.0.0.1:{port}' + ('' if base == '/' else base)


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not _KEY_RE.match(key) or '..' in key:
        raise SandboxError(f'invalid sandbox key {key!r}: use letters, digits, "-", "_" and "."')


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _grant_traversal(path: Path, uid: int) -> None:
    """bwrap resolves the workspace path as the sandbox uid, so every ancestor must be searchable
    by it. Add search-only permission (o+x, no listing) where it is missing, and say so."""
    for directory in [path, *path.parents]:
        st = directory.stat()
        if st.st_uid == uid or st.st_mode & stat.S_IXOTH:
            continue
        directory.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
        log.warning('sandbox: made %s searchable (o+x) so the sandbox uid can reach its workspace', directory)
