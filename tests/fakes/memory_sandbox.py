"""An in-memory Sandbox (test double at the edge): files in a dict, paths confined like the real one.

`run` understands what the agent tests need: `python3 -m py_compile FILE` compiles the stored
file with the real compiler; other commands answer from `responses` (command → CommandResult) or
fail with exit 127. `start_app` is not supported: real app starts are tested on the local sandbox.
"""

from __future__ import annotations

import inspect
import io
import posixpath
import re
import tarfile

from core.ports import CommandResult, OutputCallback, PackagesWarmed, SandboxError


def normalise(path: str) -> str:
    """Workspace-relative path, or SandboxError when it leaves the workspace."""
    if not path or '\0' in path:
        raise SandboxError('empty path')
    if path.startswith('/') or re.match(r'^[A-Za-z]:[\\/]', path):
        raise SandboxError(f'{path} is outside the workspace')
    norm = posixpath.normpath(path.replace('\\', '/'))
    if norm == '..' or norm.startswith('../'):
        raise SandboxError(f'{path} is outside the workspace')
    return '' if norm == '.' else norm


class MemorySandbox:
    def __init__(self, sandbox_id: str = 'mem-1', files: dict[str, bytes] | None = None) -> None:
        self.id = sandbox_id
        self.files: dict[str, bytes] = dict(files or {})
        self.responses: dict[str, CommandResult] = {}
        self.commands: list[str] = []
        self.writes: list[str] = []
        self.fail_writes_to: set[str] = set()

    def text(self, path: str) -> str:
        return self.files[normalise(path)].decode('utf-8')

    async def write_file(self, path: str, data: str | bytes) -> None:
        key = normalise(path)
        if not key or key in self.fail_writes_to:
            raise SandboxError(f'cannot write {path}')
        self.files[key] = data.encode('utf-8') if isinstance(data, str) else bytes(data)
        self.writes.append(key)

    async def read_file(self, path: str) -> bytes:
        key = normalise(path)
        if key not in self.files:
            raise SandboxError(f'{path} does not exist')
        return self.files[key]

    async def list_files(self, path: str = '.', *, recursive: bool = True) -> list[str]:
        base = normalise(path)
        prefix = f'{base}/' if base else ''
        if base and not any(k.startswith(prefix) for k in self.files):
            raise SandboxError(f'{path} is not a folder')
        found = sorted(k for k in self.files if k.startswith(prefix))
        if recursive:
            return found
        return sorted(
            {prefix + k[len(prefix) :].split('/')[0] + ('/' if '/' in k[len(prefix) :] else '') for k in found}
        )

    async def delete_file(self, path: str) -> None:
        self.files.pop(normalise(path), None)

    async def run(
        self,
        command: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109  (the port's signature)
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
        cwd: str = '.',
    ) -> CommandResult:
        self.commands.append(command)
        result = self.responses.get(command) or self._builtin(command)
        for text, callback in ((result.stdout, on_stdout), (result.stderr, on_stderr)):
            if text and callback:
                outcome = callback(text)
                if inspect.isawaitable(outcome):
                    await outcome
        return result

    def _builtin(self, command: str) -> CommandResult:
        match = re.fullmatch(r'python3 -m py_compile (\S+)(?: && echo ok)?', command)
        if not match:
            return CommandResult(127, '', f'{command.split()[0]}: command not found in the memory sandbox\n')
        try:
            compile(self.files[normalise(match.group(1))], match.group(1), 'exec')
        except KeyError:
            return CommandResult(1, '', f'[Errno 2] No such file: {match.group(1)}\n')
        except SyntaxError as exc:
            return CommandResult(1, '', f'  File "{match.group(1)}", line {exc.lineno}\nSyntaxError: {exc.msg}\n')
        return CommandResult(0, 'ok\n' if command.endswith('echo ok') else '', '')

    async def start_app(self, *, on_output: OutputCallback | None = None) -> str:
        raise SandboxError('the memory sandbox cannot start apps')

    async def app_url(self) -> str | None:
        return None

    async def stop_app(self) -> None:
        return None

    async def kill_processes(self) -> None:
        return None

    async def warm_packages(self, files: dict[str, str]) -> PackagesWarmed:
        return PackagesWarmed()

    async def archive(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w:gz') as tar:
            for name, data in sorted(self.files.items()):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    async def restore(self, archive: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(archive), mode='r:gz') as tar:
            self.files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]

    async def pause(self) -> None:
        return None

    async def resume(self) -> None:
        return None

    async def destroy(self) -> None:
        self.files.clear()

    def __repr__(self) -> str:
        return f'MemorySandbox({self.id!r}, {len(self.files)} files)'
