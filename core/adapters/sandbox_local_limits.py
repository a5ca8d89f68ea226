"""What keeps one local sandbox from starving the others (issue 29): its own cgroup, its own uid, a size cap.

Without this every sandbox ran as one uid, so RLIMIT_NPROC (counted per uid) was shared: a fork bomb in
one sandbox made `fork` (and bubblewrap's namespaces) fail in all the others, and memory was capped only
per process. Each sandbox now gets, where the host allows it:

- a cgroup of its own (`cgroup v2` when a writable v2 subtree has the memory and pids controllers — root,
  or a delegated subtree named by SANDBOX_CGROUP_PARENT; else `cgroup v1` when root can write the v1
  memory and pids hierarchies): pids.max, a memory cap for all its processes and tmpfs pages together,
  an equal cpu weight. Commands join it before they drop privileges (`sandbox_local_exec.join_argv`).
- a uid of its own from SANDBOX_UID_BASE … +SANDBOX_UID_COUNT when the app runs as root (`UidAllocator`),
  so RLIMIT_NPROC counts each sandbox apart even without cgroups (mode `uid`).
- otherwise (not root, no writable cgroups) mode `shared`: rlimits per process only, and /readyz says so.

The workspace's size and file count are measured after every command and checked before every write
(`WorkspaceUsage`), so the agent reads why its command failed and the founder sees it in the build log.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import stat
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from core.ports import SandboxError

log = logging.getLogger(__name__)

CGROUP_V2, CGROUP_V1, PER_UID, SHARED = 'cgroup v2', 'cgroup v1', 'uid', 'shared'
REQUIRED_CONTROLLERS = ('memory', 'pids')
CPU_WEIGHT_V2 = '100'  # every sandbox the same share; the point is one group each, not one share per process
CPU_SHARES_V1 = '1024'


# ── cgroups ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Cgroups:
    """Where this provider's sandbox groups live: one parent dir (v2) or one per v1 hierarchy."""

    version: int
    parents: dict[str, Path]  # controller ('' for v2) → the directory holding one group per sandbox
    enable: str = ''  # v2: what the parent's cgroup.subtree_control needs ('+memory +pids +cpu')

    @property
    def mode(self) -> str:
        return CGROUP_V2 if self.version == 2 else CGROUP_V1

    def prepare(self, key: str, *, memory_bytes: int, pids: int) -> list[str]:
        """Create (or refresh) the sandbox's groups with their limits; returns the cgroup.procs files to join."""
        procs: list[str] = []
        for controller, parent in self.parents.items():
            group = parent / _group_name(key)
            try:
                if not parent.is_dir():  # removed with this data dir's last sandbox (`remove`)
                    parent.mkdir(exist_ok=True)
                    if self.enable:
                        (parent / 'cgroup.subtree_control').write_text(self.enable)
                group.mkdir(exist_ok=True)
                for name, value in self._limits(controller, memory_bytes, pids):
                    (group / name).write_text(value)
            except OSError as exc:
                raise SandboxError(f'could not set up the sandbox cgroup {group}: {exc}') from exc
            procs.append(str(group / 'cgroup.procs'))
        return procs

    def _limits(self, controller: str, memory_bytes: int, pids: int) -> list[tuple[str, str]]:
        if self.version == 2:
            return [('memory.max', str(memory_bytes)), ('pids.max', str(pids)), ('cpu.weight', CPU_WEIGHT_V2)]
        return {
            'memory': [('memory.limit_in_bytes', str(memory_bytes))],
            'pids': [('pids.max', str(pids))],
            'cpu': [('cpu.shares', CPU_SHARES_V1)],
        }[controller]

    def remove(self, key: str) -> None:
        """Kill what is left in the sandbox's groups, then remove them (and this data dir's parent once empty).

        Blocking (waits up to a second or two for the kernel to let the processes go); run in a thread.
        """
        for parent in self.parents.values():
            group = parent / _group_name(key)
            if not group.is_dir():
                continue
            for _ in range(40):
                if not _kill_members(group):
                    break
                time.sleep(0.05)
            for target in (group, parent):
                try:
                    target.rmdir()
                except OSError as exc:  # a parent with other sandboxes' groups stays
                    log.debug('sandbox cgroup %s not removed: %s', target, exc.strerror)

    def describe(self) -> str:
        return f'a group per sandbox under {", ".join(sorted({str(p) for p in self.parents.values()}))}'


def _group_name(key: str) -> str:
    return f'sandbox-{key}'


def _kill_members(group: Path) -> bool:
    """SIGKILL every process still in the group; whether there were any."""
    try:
        pids = [int(pid) for pid in (group / 'cgroup.procs').read_text().split()]
    except OSError:
        return False
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return bool(pids)


def detect_cgroups(tag: str, parent_setting: str = '', *, proc: Path = Path('/proc/self')) -> Cgroups | None:
    """The cgroups this process may create sandbox groups in, or None (then the uid mode applies).

    `tag` names this data dir's parent group (processes sharing a data dir share the groups). v2 is tried
    first: under SANDBOX_CGROUP_PARENT when set, else under this process's own cgroup.
    """
    mounts = _cgroup_mounts(proc / 'mountinfo')
    own = _own_cgroups(proc / 'cgroup')
    name = f'cofounder-{tag}'
    v2_mount = mounts.get('cgroup2')
    if parent_setting or v2_mount:
        base = Path(parent_setting) if parent_setting else v2_mount / own.get('', '/').lstrip('/')  # type: ignore[operator]
        found = _setup_v2(base, name)
        if found or parent_setting:
            return found
    return _setup_v1(mounts, own, name)


def _setup_v2(base: Path, name: str) -> Cgroups | None:
    try:
        available = (base / 'cgroup.controllers').read_text().split()
        if not all(c in available for c in REQUIRED_CONTROLLERS):
            return None
        wanted = [c for c in (*REQUIRED_CONTROLLERS, 'cpu') if c in available]
        enabled = (base / 'cgroup.subtree_control').read_text().split()
        if not all(c in enabled for c in wanted):
            # fails with EBUSY when processes live in base itself (not the root): then base is not delegated to us
            (base / 'cgroup.subtree_control').write_text(' '.join(f'+{c}' for c in wanted))
        parent = base / name
        enable = ' '.join(f'+{c}' for c in wanted)
        created = _mkdir(parent)
        (parent / 'cgroup.subtree_control').write_text(enable)
        if created:
            parent.rmdir()  # made again by the first sandbox (`prepare`): an unused provider leaves nothing
    except OSError as exc:
        log.info('sandbox: cgroup v2 at %s is not usable (%s)', base, exc.strerror or exc)
        return None
    return Cgroups(2, {'': parent}, enable)


def _setup_v1(mounts: dict[str, Path], own: dict[str, str], name: str) -> Cgroups | None:
    parents: dict[str, Path] = {}
    for controller in (*REQUIRED_CONTROLLERS, 'cpu'):
        mount = mounts.get(controller)
        if mount is None:
            if controller == 'cpu':
                continue
            return None
        parent = mount / own.get(controller, '/').lstrip('/') / name
        try:
            created = _mkdir(parent)
            probe = parent / f'probe-{os.getpid()}'
            probe.mkdir(exist_ok=True)
            probe.rmdir()
            if created:
                parent.rmdir()  # made again by the first sandbox (`prepare`)
        except OSError as exc:
            if controller == 'cpu':
                continue
            log.info('sandbox: cgroup v1 %s at %s is not writable (%s)', controller, parent, exc.strerror or exc)
            return None
        parents[controller] = parent
    return Cgroups(1, parents)


def _mkdir(path: Path) -> bool:
    """Create path; whether it was new."""
    try:
        path.mkdir()
    except FileExistsError:
        return False
    return True


def _cgroup_mounts(mountinfo: Path) -> dict[str, Path]:
    """'cgroup2' → its mount point; for v1, each controller → the mount of its hierarchy."""
    found: dict[str, Path] = {}
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(' - ')
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        if tail[0] == 'cgroup2':
            found.setdefault('cgroup2', Path(fields[4]))
        elif tail[0] == 'cgroup':
            for option in tail[2].split(','):
                if option in ('memory', 'pids', 'cpu'):
                    found.setdefault(option, Path(fields[4]))
    return found


def _own_cgroups(cgroup_file: Path) -> dict[str, str]:
    """This process's cgroup path per v1 controller, and '' → its v2 path."""
    own: dict[str, str] = {}
    try:
        lines = cgroup_file.read_text().splitlines()
    except OSError:
        return own
    for line in lines:
        parts = line.split(':', 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(',') if parts[1] else ['']:
            own[controller] = parts[2]
    return own


def cgroup_tag(data_dir: Path) -> str:
    return hashlib.sha256(str(data_dir).encode()).hexdigest()[:10]


# ── a uid per sandbox ────────────────────────────────────────────────────────────────────────


class UidAllocator:
    """A uid per workspace from [base, base+count), recorded as the owner of the workspace directory.

    The owner *is* the allocation, so it survives restarts and is shared by every process using the data
    dir; picking a free uid happens under a lock file so two processes never hand out the same one.
    """

    def __init__(self, root: Path, base: int, count: int) -> None:
        self.root, self.base, self.count = root, base, max(1, count)

    def owns(self, uid: int) -> bool:
        return self.base <= uid < self.base + self.count

    def assign(self, key: str) -> int:
        """The workspace's uid: kept when it is already one of ours, else a free one (files handed over)."""
        path = self.root / key
        current = os.lstat(path).st_uid
        if self.owns(current):
            return current
        with open(self.root / '.uids.lock', 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = os.lstat(path).st_uid
            if self.owns(current):
                return current
            uid = self._free_uid(key)
            _chown_tree(path, uid)
        return uid

    def _free_uid(self, key: str) -> int:
        used = set()
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    used.add(entry.stat(follow_symlinks=False).st_uid)
        start = zlib.crc32(key.encode()) % self.count
        for step in range(self.count):
            uid = self.base + (start + step) % self.count
            if uid not in used:
                return uid
        log.warning('sandbox: all %d sandbox uids are in use; %s shares one', self.count, key)
        return self.base + start


def _chown_tree(path: Path, uid: int) -> None:
    """Give a workspace (made before uids were per sandbox) to its new uid, never following a symlink."""
    os.chown(path, uid, uid, follow_symlinks=False)
    for directory, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)


# ── the workspace's size ─────────────────────────────────────────────────────────────────────


@dataclass
class WorkspaceUsage:
    """Bytes (apparent sizes: what a snapshot would read) and entries under a workspace."""

    bytes: int = 0
    files: int = 0

    @classmethod
    def measure(cls, root: Path) -> WorkspaceUsage:
        usage = cls()
        stack = [str(root)]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:  # removed while we walked, or not ours to read
                continue
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                usage.files += 1
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
                else:
                    usage.bytes += st.st_size
        return usage

    def over(self, max_bytes: int, max_files: int) -> bool:
        return self.bytes > max_bytes or self.files > max_files


def workspace_full_message(usage: WorkspaceUsage, max_bytes: int, max_files: int) -> str:
    """What the agent (as its tool's result) and the founder (in the build log) read when the cap is hit."""
    return (
        f'The workspace is over its size limit: it holds {_mb(usage.bytes)} in {usage.files:,} files and folders; '
        f'the limit is {_mb(max_bytes)} and {max_files:,} files. Delete what the app does not need (build output, '
        'caches, large or generated data) before going on: every command reports this until it is back under.'
    )


def _mb(size: int) -> str:
    return f'{size / (1 << 20):,.0f} MB'
