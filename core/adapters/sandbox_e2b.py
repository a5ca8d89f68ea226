"""E2B sandboxes (E2B_API_KEY): each build's workspace lives in a cloud microVM, driven by the `e2b` SDK.

The same `SandboxProvider` contract as the local sandbox. The workspace is WORKSPACE in the sandbox user's
home; paths stay relative to it, and commands name only relative paths (snapshots go one level up), so a snapshot of
either adapter restores in the other. Commands run in the background with our own deadline: on a timeout
the process is killed (SIGKILL through envd), as locally.

Previews: sandboxes are created with public traffic off, so E2B's edge serves an app's port only to
requests with the sandbox's traffic access token. The founder's browser never sees the sandbox's host or
token: the owner-only preview proxy asks `preview_upstream` where to send a preview and with which headers;
this process's own browser (screenshots, checks) gets `http://127.0.0.1:<port>` from a forwarder that adds
them (`sandbox_e2b_forward.py`).

Lifecycle: `pause()` pauses the whole VM (memory included) after READY; `connect` resumes it, and the app
answers again or is started anew. A sandbox E2B no longer knows (killed, expired) connects as None, which
the product shows as "Preview expired — Resume" and a build recovers from its newest snapshot. Sandboxes
that outlive their timeout are paused by E2B rather than killed (`lifecycle`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import posixpath
import time
from typing import Any

from e2b import AsyncSandbox
from e2b.exceptions import NotFoundException, SandboxException
from e2b.sandbox.commands.command_handle import CommandExitException

from core.adapters.sandbox_e2b_forward import Forwarder
from core.builds.devserver import CANDIDATE_FILES, detect_start
from core.ports import CommandResult, OutputCallback, PackagesWarmed, SandboxError

log = logging.getLogger(__name__)

WORKSPACE = 'app'  # relative: envd resolves it against the sandbox user's home, where commands start too
SNAPSHOT_OUT = '../.cofounder-snapshot.tgz'  # relative to WORKSPACE (commands name no absolute path)
SNAPSHOT_IN = '../.cofounder-restore.tgz'
APP_PORT = 3000
SANDBOX_TIMEOUT_S = 3600  # each connect extends it; past it E2B pauses the sandbox
APP_START_DEADLINE_S = 30.0
INSTALL_TIMEOUT_S = 600.0
TIMEOUT_EXIT_CODE = 124
SKIP_DIRS = ('node_modules', '.venv', '__pycache__', '.npm', '.cache', '.git', '.cofounder')
ARCHIVE_SKIP = ('node_modules', '.venv', '__pycache__', '.npm', '.cache', '.cofounder')
OUTPUT_KEEP_CHARS = 1_000_000


class E2BSandboxProvider:
    name = 'e2b'
    apps_survive_restart = True  # the apps run in E2B, not in our process
    limits_mode = 'microvm'  # each sandbox is a VM of its own: one cannot starve another

    def __init__(self, *, api_key: str, template: str, api_url: str | None = None, sandbox_url: str | None = None):
        self.template = template
        self._opts: dict[str, Any] = {'api_key': api_key}
        if api_url:
            self._opts['api_url'] = api_url
        if sandbox_url:
            self._opts['sandbox_url'] = sandbox_url
        self._live: dict[str, E2BSandbox] = {}

    def isolation(self) -> str:
        return f'E2B cloud sandbox (microVM per build, template {self.template}, previews need its access token)'

    async def create(self, *, key: str) -> E2BSandbox:
        try:
            sdk = await AsyncSandbox.create(
                self.template,
                timeout=SANDBOX_TIMEOUT_S,
                metadata={'cofounder_key': key},
                network={'allow_public_traffic': False},
                lifecycle={'on_timeout': 'pause'},
                **self._opts,
            )
        except Exception as error:  # noqa: BLE001 - the SDK raises its own and httpx's (offline) errors
            raise SandboxError(f'E2B could not create a sandbox: {_why(error)}') from error
        sandbox = self._attach(sdk)
        await sandbox._call(sdk.files.make_dir(WORKSPACE), WORKSPACE)
        return sandbox

    async def connect(self, sandbox_id: str) -> E2BSandbox | None:
        """Reattach (resuming it when paused); None when E2B no longer has it."""
        try:
            sdk = await AsyncSandbox.connect(sandbox_id, timeout=SANDBOX_TIMEOUT_S, **self._opts)
        except NotFoundException:
            self._forget(sandbox_id)
            return None
        except Exception as error:  # noqa: BLE001
            raise SandboxError(f'E2B could not reach sandbox {sandbox_id}: {_why(error)}') from error
        known = self._live.get(sandbox_id)
        if known is not None:
            known.sdk = sdk  # fresh tokens; the handles of what runs stay valid after a resume
            return known
        return self._attach(sdk)

    async def preview_upstream(self, sandbox_id: str) -> tuple[str, dict[str, str]]:
        """Where the preview proxy sends a preview's requests, and the headers that let them through."""
        sandbox = self._live.get(sandbox_id) or await self.connect(sandbox_id)
        if sandbox is None:
            raise SandboxError(f'sandbox {sandbox_id} has expired')
        return sandbox.upstream()

    async def probe(self) -> None:
        """An authenticated call that starts nothing: /readyz runs this every few seconds, and a throwaway
        sandbox per probe would be billed (the contract suite runs `true` in real sandboxes instead)."""
        try:
            await AsyncSandbox.list(limit=1, **self._opts).next_items()
        except Exception as error:  # noqa: BLE001
            raise SandboxError(f'E2B does not answer: {_why(error)}') from error

    async def close(self) -> None:
        """Close this process's forwarders; the sandboxes run on (they are E2B's, and builds resume in them)."""
        for sandbox in list(self._live.values()):
            await sandbox.close_forwarder()

    def _attach(self, sdk: AsyncSandbox) -> E2BSandbox:
        sandbox = E2BSandbox(self, sdk)
        self._live[sandbox.id] = sandbox
        return sandbox

    def _forget(self, sandbox_id: str) -> None:
        self._live.pop(sandbox_id, None)


class E2BSandbox:
    """One E2B sandbox; implements core.ports.Sandbox."""

    def __init__(self, provider: E2BSandboxProvider, sdk: AsyncSandbox) -> None:
        self.provider = provider
        self.sdk = sdk
        self.id: str = sdk.sandbox_id
        self._handles: dict[int, Any] = {}  # pid → command handle, for kill_processes
        self._app: Any = None
        self._app_base: str | None = None  # the path the app serves from; None until this process knows it
        self._forwarder: Forwarder | None = None
        self._forward_port: int | None = None
        self._app_lock = asyncio.Lock()

    # ── files ────────────────────────────────────────────────────────────────────────────────

    async def write_file(self, path: str, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        await self._call(self.sdk.files.write(_inside(path, file=True), raw, use_octet_stream=True), path)

    async def read_file(self, path: str) -> bytes:
        data = await self._call(self.sdk.files.read(_inside(path, file=True), format='bytes'), path)
        return bytes(data)

    async def list_files(self, path: str = '.', *, recursive: bool = True) -> list[str]:
        """Like the local sandbox: recursive listings name files only and skip dependency dirs; a flat
        listing names subdirectories with a trailing '/'."""
        base = _inside(path)
        prefix = posixpath.relpath(base, WORKSPACE)  # both relative to the same home
        prefix = '' if prefix == '.' else prefix
        if not recursive:
            entries = await self._call(self.sdk.files.list(base, depth=1), path)
            names = [posixpath.join(prefix, e.name) + ('/' if e.type.value == 'dir' else '') for e in entries]
            return sorted(n for n in names if n.rstrip('/').rsplit('/', 1)[-1] != '.cofounder')
        prune = ' -o '.join(f'-name {d}' for d in SKIP_DIRS)
        found = await self.run(f'find . \\( {prune} \\) -prune -o ! -type d -print0', cwd=prefix or '.', timeout=60)
        if not found.ok:
            raise SandboxError(f'cannot list {path}: {found.stderr.strip()[:200]}')
        return sorted(posixpath.join(prefix, n[2:]) for n in found.stdout.split('\0') if n.startswith('./'))

    async def delete_file(self, path: str) -> None:
        await self._call(self.sdk.files.remove(_inside(path, file=True)), path)

    async def warm_packages(self, files: dict[str, str]) -> PackagesWarmed:
        return PackagesWarmed()  # an E2B sandbox installs from the registries itself

    async def archive(self) -> bytes:
        excludes = ' '.join(f'--exclude=./{d}' for d in ARCHIVE_SKIP)
        result = await self.run(f'tar -czf {SNAPSHOT_OUT} {excludes} .', timeout=300)
        if not result.ok:
            raise SandboxError(f'could not archive the workspace: {result.stderr.strip()[:300]}')
        snapshot = posixpath.normpath(posixpath.join(WORKSPACE, SNAPSHOT_OUT))
        data = bytes(await self._call(self.sdk.files.read(snapshot, format='bytes'), snapshot))
        await self._call(self.sdk.files.remove(snapshot), snapshot)
        return data

    async def restore(self, archive: bytes) -> None:
        """Replace the workspace with a snapshot (extracted inside the sandbox); processes are stopped first."""
        await self.kill_processes()
        upload = posixpath.normpath(posixpath.join(WORKSPACE, SNAPSHOT_IN))
        await self._call(self.sdk.files.write(upload, archive, use_octet_stream=True), upload)
        result = await self.run(f'find . -mindepth 1 -delete && tar -xzf {SNAPSHOT_IN} && rm -f {SNAPSHOT_IN}')
        if not result.ok:
            raise SandboxError(f'not a valid workspace archive: {result.stderr.strip()[:300]}')

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
        """Run `bash -l -c command` in the workspace; killed when it outlives `timeout`."""
        limit = 120.0 if timeout is None else timeout
        started = time.monotonic()
        handle = await self._call(
            self.sdk.commands.run(
                command,
                background=True,
                cwd=_inside(cwd),
                timeout=0,
                on_stdout=_safe(on_stdout),
                on_stderr=_safe(on_stderr),
            ),  # fmt: skip
            command,
        )
        self._handles[handle.pid] = handle
        timed_out = False
        try:
            code, stdout, stderr = await asyncio.wait_for(_finished(handle), limit)
        except TimeoutError:
            timed_out = True
            await self._kill(handle)
            code, stdout, stderr = TIMEOUT_EXIT_CODE, handle.stdout or '', handle.stderr or ''
            note = f'\n[command timed out after {limit:g}s and was killed]\n'
            stderr += note
        except SandboxException as error:
            raise SandboxError(f'the sandbox stopped while running `{command[:80]}`: {_why(error)}') from error
        finally:
            self._handles.pop(handle.pid, None)
        return CommandResult(code, stdout[-OUTPUT_KEEP_CHARS:], stderr[-OUTPUT_KEEP_CHARS:], timed_out,
                             time.monotonic() - started)  # fmt: skip

    async def kill_processes(self) -> None:
        """Kill every process the sandbox runs (those a previous worker started included)."""
        try:
            running = await self.sdk.commands.list()
        except Exception as error:  # noqa: BLE001 - a gone sandbox runs nothing
            log.info('sandbox %s: could not list processes (%s)', self.id, _why(error))
            running = []
        for pid in {p.pid for p in running} | set(self._handles):
            try:
                await self.sdk.commands.kill(pid)
            except Exception:  # noqa: BLE001 - gone meanwhile
                pass
        self._handles.clear()
        self._app = None
        await self.close_forwarder()

    async def _kill(self, handle: Any) -> None:
        try:
            await handle.kill()
        except Exception:  # noqa: BLE001 - it ended meanwhile
            pass

    # ── the app's dev server ─────────────────────────────────────────────────────────────────

    async def start_app(self, *, on_output: OutputCallback | None = None) -> str:
        """Detect the start command, run it with PORT=APP_PORT, wait until E2B's edge reaches it."""
        async with self._app_lock:
            await self._stop_app()
            plan = detect_start(await self._start_files())
            if plan.install:
                result = await self.run(plan.install, timeout=INSTALL_TIMEOUT_S, on_stdout=on_output,
                                        on_stderr=on_output)  # fmt: skip
                if not result.ok:
                    tail = (result.stdout + result.stderr)[-4000:]
                    raise SandboxError(f'`{plan.install}` failed (exit {result.exit_code}):\n{tail}')
            self._app = await self._call(
                self.sdk.commands.run(
                    plan.command,
                    background=True,
                    cwd=WORKSPACE,
                    timeout=0,
                    envs={'PORT': str(APP_PORT)},
                    on_stdout=_safe(on_output),
                    on_stderr=_safe(on_output),
                ),  # fmt: skip
                plan.command,
            )
            port = await self._open_forwarder()
            if not await self._wait_until_answering(port):
                output = (self._app.stdout or '') + (self._app.stderr or '')
                ended = self._app.exit_code
                await self._stop_app()
                why = (
                    f'exited with code {ended}'
                    if ended is not None
                    else f'did not answer within {APP_START_DEADLINE_S:g}s'
                )
                raise SandboxError(f'the app ({plan.command}) {why}. Last output:\n{output[-4000:]}')
            self._app_base = plan.base_path
            return _local_url(port, plan.base_path)

    async def app_url(self) -> str | None:
        """This process's door to the app while the app answers (also one a previous worker started)."""
        port = self._forward_port
        if port is None or self._forwarder is None or not self._forwarder.serving():
            port = await self._open_forwarder()
        if not await _answers(port):
            return None
        return _local_url(port, await self._base_path())

    async def _base_path(self) -> str:
        """The app's base path; an app another worker started is asked of its files again."""
        if self._app_base is None:
            try:
                self._app_base = detect_start(await self._start_files()).base_path
            except SandboxError:
                return '/'
        return self._app_base

    async def stop_app(self) -> None:
        async with self._app_lock:
            await self._stop_app()

    async def _stop_app(self) -> None:
        if self._app is not None:
            await self._kill(self._app)
            self._app, self._app_base = None, None
        await self.close_forwarder()

    def upstream(self) -> tuple[str, dict[str, str]]:
        """The app's address on E2B's edge and the headers it requires (never sent to a browser)."""
        config = self.sdk.connection_config
        url = config.get_sandbox_direct_url(self.id, self.sdk.sandbox_domain, APP_PORT)
        headers = {'E2b-Sandbox-Id': self.id, 'E2b-Sandbox-Port': str(APP_PORT)}
        if self.sdk.traffic_access_token:
            headers['e2b-traffic-access-token'] = self.sdk.traffic_access_token
        return url, headers

    async def _open_forwarder(self) -> int:
        await self.close_forwarder()
        url, headers = self.upstream()
        self._forwarder = Forwarder(url, headers)
        self._forward_port = await self._forwarder.start()
        return self._forward_port

    async def close_forwarder(self) -> None:
        forwarder, self._forwarder, self._forward_port = self._forwarder, None, None
        if forwarder is not None:
            await forwarder.close()

    async def _wait_until_answering(self, port: int) -> bool:
        deadline = time.monotonic() + APP_START_DEADLINE_S
        while time.monotonic() < deadline:
            if self._app is None or self._app.exit_code is not None:
                return False
            if await _answers(port):
                return True
            await asyncio.sleep(0.2)
        return False

    async def _start_files(self) -> dict[str, str | None]:
        files: dict[str, str | None] = {}
        for entry in await self.list_files('.', recursive=False):
            name = entry.rstrip('/')
            files[name] = None
            if name in CANDIDATE_FILES and not entry.endswith('/'):
                try:
                    files[name] = (await self.read_file(name))[:200_000].decode('utf-8', 'replace')
                except SandboxError:
                    pass
        return files

    # ── lifecycle ────────────────────────────────────────────────────────────────────────────

    async def pause(self) -> None:
        """Pause the whole VM (E2B stops billing it); its processes resume with it."""
        await self.close_forwarder()
        try:
            await self.sdk.pause()
        except NotFoundException as error:
            raise SandboxError(f'sandbox {self.id} has expired') from error
        except Exception as error:  # noqa: BLE001
            raise SandboxError(f'E2B could not pause sandbox {self.id}: {_why(error)}') from error

    async def resume(self) -> None:
        """Resume through `connect`; the caller restarts the app if it does not answer."""
        if await self.provider.connect(self.id) is None:
            raise SandboxError(f'sandbox {self.id} has expired')

    async def destroy(self) -> None:
        await self.close_forwarder()
        self.provider._forget(self.id)
        try:
            await self.sdk.kill()
        except Exception as error:  # noqa: BLE001 - already gone is fine
            log.info('sandbox %s: kill failed (%s)', self.id, _why(error))

    async def _call(self, awaitable: Any, what: str) -> Any:
        """Await an SDK call; its failures become SandboxError (a missing file says so)."""
        try:
            return await awaitable
        except NotFoundException as error:
            raise SandboxError(f'no such file: {what}') from error
        except Exception as error:  # noqa: BLE001 - SDK, transport and envd errors alike
            raise SandboxError(f'{what[:80]}: {_why(error)}') from error


async def _finished(handle: Any) -> tuple[int, str, str]:
    """Exit code and output of a command handle; a non-zero exit is a result, not an error."""
    try:
        result = await handle.wait()
    except CommandExitException as exited:
        return exited.exit_code, exited.stdout or '', exited.stderr or ''
    return result.exit_code, result.stdout or '', result.stderr or ''


def _safe(callback: OutputCallback | None) -> Any:
    """The SDK stops reading a command's output when its callback raises: a failing listener must not."""
    if callback is None:
        return None

    async def deliver(text: str) -> None:
        try:
            result: Any = callback(text)
            if inspect.isawaitable(result):
                await result
        except Exception:  # noqa: BLE001
            log.exception('sandbox output callback failed')

    return deliver


async def _answers(port: int) -> bool:
    """Whether the app answers through the forwarder: any HTTP status but the edge's 502 (port not open)."""
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), 2.0)
        writer.write(b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10.0)
        return line.startswith(b'HTTP/') and line.split()[1:2] != [b'502']
    except (OSError, TimeoutError, IndexError):
        return False
    finally:
        if writer:
            writer.close()


def _inside(path: str, *, file: bool = False) -> str:
    """The absolute sandbox path of a workspace-relative one, refusing anything that leaves the workspace."""
    if not isinstance(path, str) or '\x00' in path or path.startswith(('/', '\\')):
        raise SandboxError(f'path must be relative to the workspace, got {path!r}')
    parts = [p for p in path.replace('\\', '/').split('/') if p not in ('', '.')]
    if '..' in parts:
        raise SandboxError(f'path escapes the workspace: {path!r}')
    if file and not parts:
        raise SandboxError('the workspace root is not a file')
    return posixpath.join(WORKSPACE, *parts)


def _why(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:300]


def _local_url(port: int, base: str) -> str:
    return f'http://127.0.0.1:{port}' + ('' if base == '/' else base)
