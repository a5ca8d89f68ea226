"""The command line that runs one shell command inside the local sandbox.

With bubblewrap (see STACK-NOTES "Local sandbox"): as root, drop to the sandbox uid with setpriv
first (bwrap's --uid alone still maps to host root), then prlimit, then bwrap with fresh
pid/ipc/uts/user namespaces, read-only system dirs, a read-only /dev, size-capped private /tmp and
/dev/shm (an uncapped /dev/shm was a tmpfs of half the host's RAM) and only the workspace bound
read-write. In the cgroup modes a first step (still as root) moves the command into its sandbox's
cgroups (`join_argv`). bwrap itself is launched with a minimal environment because the
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


# Joins the cgroups named by the first arguments, then execs the rest (runs as root, before setpriv).
_JOIN_SCRIPT = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"'


def join_argv(procs_files: list[str]) -> list[str]:
    """A prefix that moves the command into its sandbox's cgroups (sandbox_local_limits), then execs the rest."""
    if not procs_files:
        return []
    return ['/bin/sh', '-c', _JOIN_SCRIPT, 'cofounder-join', str(len(procs_files)), *procs_files]


def find_bwrap() -> str | None:
    """Path of the bubblewrap binary, or None."""
    return shutil.which('bwrap', path=HOST_PATH + ':/usr/local/bin')


@dataclass
class Limits:
    nproc: int
    memory_bytes: int  # per process
    tmpfs_bytes: int  # each of /tmp and /dev/shm
    group_memory_bytes: int = 0  # the whole sandbox, in the cgroup modes
    workspace_bytes: int = 0
    workspace_files: int = 0
    fsize: int = FSIZE_BYTES
    nofile: int = NOFILE

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            nproc=settings.SANDBOX_MAX_PROCS,
            memory_bytes=settings.SANDBOX_MEMORY_MB << 20,
            tmpfs_bytes=settings.SANDBOX_TMPFS_MB << 20,
            group_memory_bytes=settings.SANDBOX_GROUP_MEMORY_MB << 20,
            workspace_bytes=settings.SANDBOX_WORKSPACE_MB << 20,
            workspace_files=settings.SANDBOX_WORKSPACE_FILES,
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
    cgroup_procs: list[str] | None = None,
    ro_binds: dict[str, str] | None = None,
    wrapper: list[str] | None = None,
    egress: bool = False,
) -> Launch:
    """[join cgroups →] setpriv (when root) → prlimit → bwrap → [wrapper] /bin/sh -c command.

    `isolated_network` adds --unshare-net. `files` maps a path inside the sandbox to a readable fd
    whose content bwrap copies there read-only (--ro-bind-data), e.g. the dev-server bridge script;
    the fds are passed to the child and the caller closes its copies once the process started.
    `ro_binds` maps a path inside to a host path bound read-only (the egress proxy's socket, the shared
    wheel cache); with `egress`, an isolated network has a way out, so package managers keep their retries.
    """
    argv: list[str] = join_argv(cgroup_procs or [])
    if uid is not None:
        argv += ['setpriv', f'--reuid={uid}', f'--regid={uid}', '--clear-groups', '--no-new-privs']
    argv += _prlimit_args(limits)
    argv += [bwrap, *_system_binds()]
    if isolated_network:
        argv.append('--unshare-net')
    size = str(limits.tmpfs_bytes)
    argv += ['--proc', '/proc', '--dev', '/dev', '--size', size, '--perms', '1777', '--tmpfs', '/dev/shm',
             '--remount-ro', '/dev', '--size', size, '--tmpfs', '/tmp',
             '--bind', str(workspace), SANDBOX_ROOT,
             '--chdir', '/'.join([SANDBOX_ROOT, *cwd_parts]), '--clearenv']  # fmt: skip
    for dest, fd in (files or {}).items():
        argv += ['--ro-bind-data', str(fd), dest]
    for dest, src in (ro_binds or {}).items():
        argv += ['--ro-bind', src, dest]
    env = {**NO_NETWORK_ENV, **(extra_env or {})} if isolated_network and not egress else extra_env
    for key, value in sandbox_env(env).items():
        argv += ['--setenv', key, value]
    argv += ['--', *(wrapper or []), '/bin/sh', '-c', command]
    return Launch(argv=argv, env={'PATH': HOST_PATH}, pass_fds=tuple((files or {}).values()))


def plain_launch(
    command: str,
    *,
    workspace: Path,
    cwd_parts: list[str],
    limits: Limits,
    extra_env: dict[str, str] | None = None,
    cgroup_procs: list[str] | None = None,
) -> Launch:
    """Fallback without bubblewrap: rlimits, clean env, cwd in the workspace (no filesystem isolation)."""
    cwd = str(workspace.joinpath(*cwd_parts))
    env = sandbox_env(extra_env, home=str(workspace))
    argv = join_argv(cgroup_procs or []) + ['/bin/sh', '-c', command]
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
