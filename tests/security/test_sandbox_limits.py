"""Issue 29, item 1: one sandbox cannot starve the others (processes, /dev/shm, the workspace's size).

Before: every sandbox ran as one uid, so RLIMIT_NPROC was shared and a fork bomb in one made `echo`
fail in another ("Cannot fork", then "bwrap: Creating new namespace failed"); /dev/shm was an
uncapped tmpfs of half the host's RAM; nothing bounded a workspace's size.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from core.adapters.sandbox_local import WORKSPACE_FULL_EXIT_CODE, LocalSandbox, LocalSandboxProvider
from core.adapters.sandbox_local_limits import SHARED
from core.config import Settings
from core.ports import SandboxError
from tests.integration.test_sandbox_local import processes_with
from tests.services import missing, require_bubblewrap


def settings_for(tmp_path: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', SANDBOX_MAX_PROCS=64,
                    SANDBOX_TMPFS_MB=16, **extra)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize('mode', ['auto', 'uid'])
async def test_a_fork_bomb_in_one_sandbox_does_not_stop_another(tmp_path: Path, mode: str) -> None:
    require_bubblewrap()
    try:
        provider = LocalSandboxProvider(settings_for(tmp_path, SANDBOX_LIMITS=mode))
    except SandboxError as exc:  # SANDBOX_LIMITS=uid off root
        missing(f'per-sandbox limits ({exc})')
    if provider.limits_mode == SHARED:
        missing('per-sandbox limits (root, or a writable cgroup with the memory and pids controllers)')
    bomber, neighbour = await provider.create(key='bomber'), await provider.create(key='neighbour')
    marker = f'bomb{uuid.uuid4().hex[:8]}'
    try:
        bomb = asyncio.create_task(bomber.run(f'{marker}() {{ {marker} | {marker} & }}; {marker}; sleep 20', timeout=6))
        await _until_saturated(bomber, bomb)
        for _ in range(3):  # while the bomb holds every process it may have
            result = await neighbour.run('echo still here', timeout=10)
            assert result.ok, result.stderr
            assert result.stdout == 'still here\n'
        bombed = await bomb
        assert bombed.timed_out and 'Cannot fork' in bombed.stderr
    finally:
        await bomber.destroy()
        await neighbour.destroy()
    assert processes_with(marker) == []


async def _until_saturated(bomber: LocalSandbox, bomb: asyncio.Task[object]) -> None:
    """Wait (on the bomb's own output, not a clock) until it has hit its process limit."""
    for _ in range(200):
        if bomb.done():
            return
        if bomber.uid is not None and len(_processes_of(bomber.uid)) >= 50:
            return
        await asyncio.sleep(0.05)


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path('/proc').iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_dev_shm_is_size_capped(tmp_path: Path) -> None:
    require_bubblewrap()
    provider = LocalSandboxProvider(settings_for(tmp_path))
    box = await provider.create(key='shm')
    try:
        result = await box.run('head -c 33554432 /dev/zero > /dev/shm/big; echo "exit=$?"; touch /dev/planted')
        assert 'No space left' in result.stderr
        assert 'exit=0' not in result.stdout
        assert 'Read-only file system' in result.stderr  # nothing else under /dev to fill either
    finally:
        await box.destroy()


async def test_the_workspace_cap_is_explained_to_the_agent_and_the_founder(tmp_path: Path) -> None:
    provider = LocalSandboxProvider(settings_for(tmp_path, SANDBOX_WORKSPACE_MB=4, SANDBOX_WORKSPACE_FILES=50))
    box = await provider.create(key='cap')
    founder_log: list[str] = []
    try:
        result = await box.run('head -c 6000000 /dev/zero > big.bin', on_stderr=founder_log.append)
        assert result.exit_code == WORKSPACE_FULL_EXIT_CODE  # the command itself succeeded
        assert 'over its size limit' in result.stderr and 'the limit is 4 MB' in result.stderr
        assert any('over its size limit' in chunk for chunk in founder_log)  # the build log shows it too
        with pytest.raises(SandboxError, match='over its size limit'):
            await box.write_file('more.txt', 'x')

        freed = await box.run('rm big.bin')
        assert freed.ok and 'size limit' not in freed.stderr
        await box.write_file('small.txt', 'fits again')

        many = await box.run('mkdir -p d && for i in $(seq 60); do : > d/f$i; done')
        assert many.exit_code == WORKSPACE_FULL_EXIT_CODE and '50 files' in many.stderr
    finally:
        await box.destroy()
