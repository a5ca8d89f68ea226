"""Host-side file access confined to one workspace (blocking; callers use asyncio.to_thread).

Sandboxed commands can create symlinks, so a check-then-open is racy. Every path is opened
beneath a directory fd one component at a time with O_NOFOLLOW: a symlink anywhere on the path
fails the operation instead of leading out of the workspace.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.ports import SandboxError

# Ours, not the app's: the dev server's bridge socket (sandbox_local_bridge). Never listed or archived.
HIDDEN_DIRS = frozenset({'.cofounder'})
# Rebuilt by installs (.local: where `pip install --user` puts packages, the workspace being HOME).
REBUILT_DIRS = frozenset({'node_modules', '.venv', '__pycache__', '.npm', '.cache', '.local'})
ARCHIVE_SKIP_DIRS = REBUILT_DIRS | HIDDEN_DIRS
SKIP_DIRS = ARCHIVE_SKIP_DIRS | {'.git'}  # also left out of recursive listings
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_ARCHIVE_MEMBERS = 50_000


def split_relative(path: str) -> list[str]:
    """Validated components of a workspace-relative path ('.' → [])."""
    if not isinstance(path, str) or '\x00' in path:
        raise SandboxError(f'invalid path: {path!r}')
    if path.startswith('/') or path.startswith('\\'):
        raise SandboxError(f'path must be relative to the workspace, got absolute path {path!r}')
    parts = [p for p in path.replace('\\', '/').split('/') if p not in ('', '.')]
    if '..' in parts:
        raise SandboxError(f'path escapes the workspace: {path!r}')
    return parts


class WorkspaceFS:
    """File operations on `root`; new files and dirs are chowned to `owner` (uid, gid) if set."""

    def __init__(self, root: Path, owner: tuple[int, int] | None = None) -> None:
        self.root = root
        self.owner = owner

    # ── opening beneath the root ─────────────────────────────────────────────────────────────

    @contextmanager
    def _dir(self, parts: list[str], *, create: bool = False) -> Iterator[int]:
        """A dir fd for root/parts, never following a symlink (O_NOFOLLOW on every component)."""
        try:
            fd = os.open(self.root, _DIR_FLAGS)
        except FileNotFoundError as exc:
            raise SandboxError('the workspace no longer exists') from exc
        try:
            for name in parts:
                parent, fd = fd, self._step(fd, name, create)
                os.close(parent)
            yield fd
        finally:
            os.close(fd)

    def _step(self, fd: int, name: str, create: bool) -> int:
        """Open the directory `name` beneath fd (does not close fd)."""
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise SandboxError(f'no such directory: {name}') from None
        except OSError as exc:
            # ELOOP / ENOTDIR: a symlink or a file where a directory was expected
            raise SandboxError(f'refusing to follow {name!r}: it is a symlink or not a directory') from exc
        try:
            os.mkdir(name, 0o755, dir_fd=fd)
            self._chown(name, fd)
        except FileExistsError:
            pass
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            raise SandboxError(f'cannot open directory {name!r}: {_why(exc)}') from None

    def require_dir(self, parts: list[str]) -> None:
        """Raise SandboxError unless root/parts is a plain directory inside the workspace."""
        with self._dir(parts):
            pass

    def _chown(self, name: str, dir_fd: int) -> None:
        if self.owner:
            os.chown(name, *self.owner, dir_fd=dir_fd, follow_symlinks=False)

    # ── operations ───────────────────────────────────────────────────────────────────────────

    def write(self, path: str, data: bytes, *, mode: int | None = None) -> None:
        parts = split_relative(path)
        if not parts:
            raise SandboxError('cannot write to the workspace root')
        with self._dir(parts[:-1], create=True) as dfd:
            try:
                fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
            except OSError as exc:
                raise SandboxError(f'cannot write {path}: {_why(exc)}') from None
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise SandboxError(f'cannot write {path}: not a regular file')
                os.ftruncate(fd, 0)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if mode is not None:
                    os.fchmod(fd, mode)
                if self.owner:
                    os.fchown(fd, *self.owner)
            finally:
                os.close(fd)

    def read(self, path: str) -> bytes:
        parts = split_relative(path)
        if not parts:
            raise SandboxError('cannot read the workspace root as a file')
        with self._dir(parts[:-1]) as dfd:
            fd = self._open_file(parts[-1], dfd, path)
            with os.fdopen(fd, 'rb') as f:
                return f.read()

    def _open_file(self, name: str, dfd: int, path: str) -> int:
        try:
            # O_NONBLOCK: a FIFO planted by the agent must not hang the host
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            raise SandboxError(f'no such file: {path}') from None
        except OSError as exc:
            raise SandboxError(f'cannot read {path}: {_why(exc)}') from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SandboxError(f'cannot read {path}: not a regular file')
        os.set_blocking(fd, True)
        return fd

    def open_socket(self, path: str) -> int:
        """An O_PATH fd of the Unix socket at path, for connect('/proc/self/fd/<fd>'); the caller closes it.

        No symlink is followed on the way (O_NOFOLLOW on every component, the socket itself
        included) and the fd pins the inode checked here, so swapping names afterwards is harmless.
        """
        parts = split_relative(path)
        if not parts:
            raise SandboxError('the workspace root is not a socket')
        with self._dir(parts[:-1]) as dfd:
            try:
                fd = os.open(parts[-1], os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            except FileNotFoundError:
                raise SandboxError(f'no such socket: {path}') from None
            except OSError as exc:
                raise SandboxError(f'cannot open {path}: {_why(exc)}') from None
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            os.close(fd)
            raise SandboxError(f'refusing to connect to {path}: not a socket (a symlink is never followed)')
        return fd

    def exists(self, path: str) -> bool:
        parts = split_relative(path)
        try:
            with self._dir(parts[:-1]) as dfd:
                return not parts or _lstat(parts[-1], dfd) is not None
        except SandboxError:
            return False

    def list(self, path: str = '.', *, recursive: bool = True) -> list[str]:
        """Files (and symlinks) under path, relative to the workspace root, sorted.

        Recursive listings skip dependency and cache directories (node_modules, .venv, ...).
        Non-recursive listings name subdirectories with a trailing '/'. HIDDEN_DIRS never appear.
        """
        parts = split_relative(path)
        prefix = '/'.join(parts)
        out: list[str] = []
        with self._dir(parts) as dfd:
            if not recursive:
                with os.scandir(dfd) as it:
                    for entry in it:
                        is_dir = entry.is_dir(follow_symlinks=False)
                        if is_dir and entry.name in HIDDEN_DIRS:
                            continue
                        out.append(posixpath.join(prefix, entry.name) + ('/' if is_dir else ''))
                return sorted(out)
            out.extend(self._walk(dfd, prefix))
        return sorted(out)

    def _walk(self, dfd: int, rel: str) -> Iterator[str]:
        """Non-directory entries (symlinks included, never followed) beneath dfd, pruning SKIP_DIRS."""
        with os.scandir(dfd) as it:
            entries = list(it)
        for entry in entries:
            name = posixpath.join(rel, entry.name) if rel else entry.name
            if not entry.is_dir(follow_symlinks=False):
                yield name
            elif entry.name not in SKIP_DIRS:
                sub = os.open(entry.name, _DIR_FLAGS, dir_fd=dfd)
                try:
                    yield from self._walk(sub, name)
                finally:
                    os.close(sub)

    def delete(self, path: str) -> None:
        parts = split_relative(path)
        if not parts:
            raise SandboxError('cannot delete the workspace root')
        with self._dir(parts[:-1]) as dfd:
            st = _lstat(parts[-1], dfd)
            if st is None:
                raise SandboxError(f'no such file: {path}')
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(parts[-1], dir_fd=dfd)  # fd-based, does not follow symlinks
            else:
                os.unlink(parts[-1], dir_fd=dfd)

    def clear(self) -> None:
        """Empty the workspace (keeps the root directory)."""
        for name in self.list('.', recursive=False):
            self.delete(name.rstrip('/'))

    # ── snapshots ────────────────────────────────────────────────────────────────────────────

    def archive(self) -> bytes:
        """tar.gz of the workspace; skips ARCHIVE_SKIP_DIRS and symlinks that point outside it."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w:gz', compresslevel=6) as tar, self._dir([]) as root_fd:
            self._archive_dir(tar, root_fd, '')
        return buf.getvalue()

    def _archive_dir(self, tar: tarfile.TarFile, dfd: int, rel: str) -> None:
        with os.scandir(dfd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            name = posixpath.join(rel, entry.name) if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = int(st.st_mtime), stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(entry.name, dir_fd=dfd)
                if link_stays_inside(name, target):
                    info.type, info.linkname = tarfile.SYMTYPE, target
                    tar.addfile(info)
            elif stat.S_ISDIR(st.st_mode) and entry.name not in ARCHIVE_SKIP_DIRS:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                sub = os.open(entry.name, _DIR_FLAGS, dir_fd=dfd)
                try:
                    self._archive_dir(tar, sub, name)
                finally:
                    os.close(sub)
            elif stat.S_ISREG(st.st_mode):
                fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
                with os.fdopen(fd, 'rb') as f:
                    info.size = os.fstat(f.fileno()).st_size
                    tar.addfile(info, f)

    def restore(self, archive: bytes) -> None:
        """Replace the workspace with the archive's content, refusing anything that could escape."""
        try:
            tar = tarfile.open(fileobj=io.BytesIO(archive), mode='r:*')
        except tarfile.TarError as exc:
            raise SandboxError(f'not a valid workspace archive: {exc}') from None
        with tar:
            members = tar.getmembers()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise SandboxError('archive has too many entries')
            for m in members:  # validate everything before touching the workspace
                parts = split_relative(m.name)
                if not parts:
                    continue
                if m.issym() and not link_stays_inside('/'.join(parts), m.linkname):
                    raise SandboxError(f'archive link escapes the workspace: {m.name} -> {m.linkname}')
                if not (m.isfile() or m.isdir() or m.issym()):
                    raise SandboxError(f'archive entry of unsupported type: {m.name}')
            self.clear()
            for m in members:
                self._extract(tar, m)

    def _extract(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        parts = split_relative(m.name)
        if not parts:
            return
        if m.isdir():
            with self._dir(parts, create=True):
                return
        with self._dir(parts[:-1], create=True) as dfd:
            if _lstat(parts[-1], dfd) is not None:
                os.unlink(parts[-1], dir_fd=dfd)
            if m.issym():
                os.symlink(m.linkname, parts[-1], dir_fd=dfd)
                self._chown(parts[-1], dfd)
                return
        src = tar.extractfile(m)
        # keep the exec bit; never setuid or world-writable
        self.write('/'.join(parts), src.read() if src else b'', mode=(m.mode & 0o755) | 0o600)


def link_stays_inside(link_path: str, target: str) -> bool:
    """Whether a symlink at link_path (workspace-relative) pointing at target stays inside."""
    if target.startswith('/'):
        return False
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(link_path), target))
    return not (joined == '..' or joined.startswith('../'))


def _lstat(name: str, dir_fd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _why(exc: OSError) -> str:
    if exc.errno in (40, 20):  # ELOOP, ENOTDIR
        return 'it is a symlink or not a plain file inside the workspace'
    return exc.strerror or str(exc)
