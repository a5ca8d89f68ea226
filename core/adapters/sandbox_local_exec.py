"""The command line that runs one shell command inside the local sandbox.

With bubblewrap (see STACK-NOTES "Local sandbox"): as root, drop to the sandbox uid with setpriv
first (bwrap's --uid alone still maps to host root), then prlimit, then bwrap with fresh
pid/ipc/uts/user namespaces, read-only system dirs, a size-capped private /tmp and only the
workspace bound read-write. bwrap itself is launched with a minimal environment because the
sandbox can read it through /proc/1/environ. With an isolated network (SANDBOX_NETWORK=isolated,
the default) every command also gets `--unshare-net`: only a private loopback, so sandboxed code
cannot reach services on the host's 127.0.0.1 (Postgres, Redis, the app itself), and downloads
fail fast. Without bubblewrap: a plain subprocess with rlimits, a clean environment and the
workspace as cwd (host network).
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings

SANDBOX_ROOT = '/workspace'
SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin'
HOST_PATH = '/usr/bin:/bin'  # for setpriv/prlimit/bwrap themselves
# Read-only /etc files python, node and npm need: dynamic linker cache, alternatives symlinks,
# CA certificates (npm install over https), name resolution (npm registry, "localhost").
ETC_FILES = (
    '/etc/ld.so.cache',
    '/etc/alternatives',
    '/etc/ssl',
    '/etc/ca-certificates',
    '/etc/resolv.conf',
    '/etc/hosts',
    '/etc/nsswitch.conf',
    '/etc/localtime',
)
SYSTEM_LINKS = ('bin', 'lib', 'lib64', 'sbin', 'lib32', 'libx32')
# Without a network, package managers would retry with backoff for a minute (npm) before failing:
# fail on the first error instead, with their usual message and a non-zero exit.
NO_NETWORK_ENV = {'npm_config_fetch_retries': '0', 'PIP_RETRIES': '0'}
FSIZE_BYTES = 1 << 30  # largest file a command may write
NOFILE = 4096


def find_bwrap() -> str | None:
    """Path of the bubblewrap binary, or None."""
    return shutil.which('bwrap', path=HOST_PATH + ':/usr/local/bin')


@dataclass
class Limits:
    nproc: int
    memory_bytes: int
    tmpfs_bytes: int
    fsize: int = FSIZE_BYTES
    nofile: int = NOFILE

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            nproc=settings.SANDBOX_MAX_PROCS,
            memory_bytes=settings.SANDBOX_MEMORY_MB << 20,
            tmpfs_bytes=settings.SANDBOX_TMPFS_MB << 20,
        )


@dataclass
class Launch:
    """Arguments for asyncio.create_subprocess_exec."""

    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None
    pass_fds: tuple[int, ...] = ()
    preexec_fn: Callable[[], None] | None = None
    notes: list[str] = field(default_factory=list)


def sandbox_env(extra: dict[str, str] | None = None, *, home: str = SANDBOX_ROOT) -> dict[str, str]:
    """The whole environment a sandboxed command sees: nothing from the app."""
    env = {'PATH': SANDBOX_PATH, 'HOME': home, 'LANG': 'C.UTF-8', 'TMPDIR': '/tmp', 'TERM': 'dumb'}
    env.update(extra or {})
    return env


def bwrap_launch(
    bwrap: str,
    command: str,
    *,
    workspace: Path,
    cwd_parts: list[str],
    limits: Limits,
    uid: int | None,
    extra_env: dict[str, str] | None = None,
    isolated_network: bool = False,
    files: dict[str, int] | None = None,
) -> Launch:
    """setpriv (when root) → prlimit → bwrap → /bin/sh -c command.

    `isolated_network` adds --unshare-net. `files` maps a path inside the sandbox to a readable fd
    whose content bwrap copies there read-only (--ro-bind-data), e.g. the dev-server bridge script;
    the fds are passed to the child and the caller closes its copies once the process started.
    """
    argv: list[str] = []
    if uid is not None:
        argv += ['setpriv', f'--reuid={uid}', f'--regid={uid}', '--clear-groups', '--no-new-privs']
    argv += _prlimit_args(limits)
    argv += [bwrap, *_system_binds()]
    if isolated_network:
        argv.append('--unshare-net')
    argv += ['--proc', '/proc', '--dev', '/dev', '--size', str(limits.tmpfs_bytes), '--tmpfs', '/tmp',
             '--bind', str(workspace), SANDBOX_ROOT,
             '--chdir', '/'.join([SANDBOX_ROOT, *cwd_parts]), '--clearenv']  # fmt: skip
    for dest, fd in (files or {}).items():
        argv += ['--ro-bind-data', str(fd), dest]
    env = {**NO_NETWORK_ENV, **(extra_env or {})} if isolated_network else extra_env
    for key, value in sandbox_env(env).items():
        argv += ['--setenv', key, value]
    argv += ['--', '/bin/sh', '-c', command]
    return Launch(argv=argv, env={'PATH': HOST_PATH}, pass_fds=tuple((files or {}).values()))


def plain_launch(
    command: str, *, workspace: Path, cwd_parts: list[str], limits: Limits, extra_env: dict[str, str] | None = None
) -> Launch:
    """Fallback without bubblewrap: rlimits, clean env, cwd in the workspace (no filesystem isolation)."""
    cwd = str(workspace.joinpath(*cwd_parts))
    env = sandbox_env(extra_env, home=str(workspace))
    argv = ['/bin/sh', '-c', command]
    if shutil.which('prlimit', path=HOST_PATH):
        # prlimit rather than preexec_fn: a preexec hook forces fork() over the much cheaper vfork()
        return Launch(argv=_prlimit_args(limits) + argv, env=env, cwd=cwd)
    return Launch(argv=argv, env=env, cwd=cwd, preexec_fn=_rlimit_setter(limits))


@functools.cache
def _system_binds() -> tuple[str, ...]:
    """Namespaces and read-only system dirs: the same for every command, computed once."""
    args = ['--unshare-user', '--disable-userns', '--unshare-pid', '--unshare-ipc', '--unshare-uts',
            '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'sandbox',
            '--ro-bind', '/usr', '/usr']  # fmt: skip
    for name in SYSTEM_LINKS:
        target = Path('/') / name
        if target.is_symlink():
            args += ['--symlink', os.readlink(target), f'/{name}']
        elif target.is_dir():
            args += ['--ro-bind', str(target), f'/{name}']
    for path in ETC_FILES:
        if os.path.exists(path):
            args += ['--ro-bind', path, path]
    return tuple(args)


def _prlimit_args(limits: Limits) -> list[str]:
    # Memory is capped with RLIMIT_DATA (private writable memory), not RLIMIT_AS: V8 reserves
    # gigabytes of address space it never touches, and node aborted under an address cap with
    # little heap in use. Reservations (PROT_NONE) do not count against RLIMIT_DATA.
    return ['prlimit', f'--nproc={limits.nproc}', f'--data={limits.memory_bytes}', f'--fsize={limits.fsize}',
            f'--nofile={limits.nofile}', '--core=0', '--']  # fmt: skip


def _rlimit_setter(limits: Limits) -> Callable[[], None]:
    pairs = [
        (resource.RLIMIT_NPROC, limits.nproc),
        (resource.RLIMIT_DATA, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.fsize),
        (resource.RLIMIT_NOFILE, limits.nofile),
        (resource.RLIMIT_CORE, 0),
    ]

    def apply() -> None:  # runs in the child between fork and exec: keep it to plain syscalls
        for which, value in pairs:
            resource.setrlimit(which, (value, value))

    return apply
