"""What a sandboxed command (or an agent steering host-side file operations) must not reach."""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from pathlib import Path

import pytest

from core.adapters.sandbox_local import LocalSandbox, LocalSandboxProvider
from core.config import Settings
from core.ports import SandboxError
from tests.integration.test_sandbox_local import processes_with
from tests.services import require_bubblewrap

MARKER_ENV = 'COFOUNDER_ISOLATION_MARKER'


def host_has(path: str) -> bool:
    """Whether the host filesystem has path (checked from the test process, outside any sandbox)."""
    return os.path.lexists(path)


@pytest.fixture
def tight_settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', SANDBOX_MAX_PROCS=64,
                    SANDBOX_MEMORY_MB=512, SANDBOX_TMPFS_MB=16)  # fmt: skip


@pytest.fixture
def provider(tight_settings: Settings) -> LocalSandboxProvider:
    return LocalSandboxProvider(tight_settings)


@pytest.fixture
async def box(provider: LocalSandboxProvider):  # type: ignore[no-untyped-def]
    sandbox = await provider.create(key='alice-project')
    yield sandbox
    await sandbox.destroy()


@pytest.fixture
def bubblewrap() -> None:
    require_bubblewrap()


# ── what commands can see (bubblewrap) ───────────────────────────────────────────────────────


@pytest.mark.usefixtures('bubblewrap')
async def test_commands_cannot_read_the_app_environment(box: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f'sk-live-{uuid.uuid4().hex}'
    monkeypatch.setenv(MARKER_ENV, secret)  # set in the app process before the command starts
    result = await box.run('env; tr "\\0" "\\n" < /proc/1/environ; tr "\\0" "\\n" < /proc/self/environ; ps -ef')
    assert result.ok, result.stderr
    assert 'HOME=/workspace' in result.stdout  # the commands did run and print
    assert secret not in result.stdout + result.stderr
    assert MARKER_ENV not in result.stdout


@pytest.mark.usefixtures('bubblewrap')
async def test_commands_cannot_read_the_database_or_host_secrets(box: LocalSandbox, tight_settings: Settings) -> None:
    db = tight_settings.data_dir / 'cofounder.db'
    db.write_text('users: founder@example.com password-hash')
    db.chmod(0o644)  # even world-readable, it is simply not there
    result = await box.run(f'cat {db}; cat /etc/shadow; ls {tight_settings.data_dir}; ls /')
    assert 'founder@example.com' not in result.stdout
    assert 'root:' not in result.stdout
    assert 'No such file' in result.stderr
    assert sorted(result.stdout.split()) == sorted(
        ['bin', 'dev', 'etc', 'lib', 'lib64', 'proc', 'sbin', 'tmp', 'usr', 'workspace', 'run']
    )  # fmt: skip  (run: the read-only wheels)


@pytest.mark.usefixtures('bubblewrap')
async def test_commands_cannot_read_another_workspace(provider: LocalSandboxProvider, box: LocalSandbox) -> None:
    other = await provider.create(key='bob-project')
    await other.write_file('secret.txt', 'bob-only')
    result = await box.run(f'cat {other.path}/secret.txt; cat ../bob-project/secret.txt; ls /workspace/..')
    assert 'bob-only' not in result.stdout
    assert 'bob-project' not in result.stdout
    await other.destroy()


@pytest.mark.usefixtures('bubblewrap')
async def test_commands_run_unprivileged_and_cannot_write_outside(
    box: LocalSandbox, provider: LocalSandboxProvider
) -> None:
    result = await box.run('id -u; touch /usr/evil; touch /etc/evil; echo ok > inside.txt')
    expected_uid = box.uid if box.uid is not None else os.geteuid()
    assert result.stdout.splitlines()[0] == str(expected_uid)
    assert 'Read-only file system' in result.stderr or 'Permission denied' in result.stderr
    assert not host_has('/usr/evil') and not host_has('/etc/evil')
    assert await box.read_file('inside.txt') == b'ok\n'


@pytest.mark.usefixtures('bubblewrap')
async def test_fork_bomb_is_contained(box: LocalSandbox) -> None:
    marker = f'bomb{uuid.uuid4().hex[:8]}'
    result = await box.run(f'{marker}() {{ {marker} | {marker} & }}; {marker}; sleep 2', timeout=3)
    assert 'Cannot fork' in result.stderr  # the nproc limit stopped it
    assert processes_with(marker) == []
    after = await box.run('echo still fine')  # the host (and the sandbox) keep working
    assert after.ok and after.stdout == 'still fine\n'


async def test_runaway_allocation_fails_inside_the_sandbox(box: LocalSandbox) -> None:
    result = await box.run('python3 -c "x = bytearray(10 * 1024**3); print(len(x))"', timeout=30)
    assert result.exit_code != 0
    assert 'MemoryError' in result.stderr


async def test_node_runs_under_the_memory_cap_though_it_reserves_more_address_space(box: LocalSandbox) -> None:
    # node reserves ~700 MB of address space at start; a cap on address space (not on memory
    # used) made it abort before running a line, and npm install crashed the same way.
    script = "console.log(require('fs').readFileSync('/proc/self/status', 'utf8').match(/VmSize:\\s+(\\d+)/)[1])"
    result = await box.run(f'node -e "{script}"', timeout=30)
    assert result.ok, result.stderr
    assert int(result.stdout) * 1024 > 512 << 20  # more reserved than the cap allows in use


@pytest.mark.usefixtures('bubblewrap')
async def test_private_tmp_is_size_capped(box: LocalSandbox) -> None:
    result = await box.run('head -c 33554432 /dev/zero > /tmp/big; echo $?')
    assert 'No space left' in result.stderr
    assert result.stdout.strip() != '0'


# ── host-side file operations an agent can steer ─────────────────────────────────────────────


@pytest.mark.parametrize('path', ['../x', '../../etc/passwd', 'a/../../x', '/etc/passwd', '/tmp/x', ''])
async def test_paths_outside_the_workspace_are_rejected(box: LocalSandbox, path: str) -> None:
    with pytest.raises(SandboxError):
        await box.write_file(path, 'x')
    with pytest.raises(SandboxError):
        await box.read_file(path)


async def test_rejections_say_why(box: LocalSandbox) -> None:
    with pytest.raises(SandboxError, match='escapes the workspace'):
        await box.write_file('../x', 'x')
    with pytest.raises(SandboxError, match='relative to the workspace'):
        await box.read_file('/etc/passwd')


async def test_symlinks_made_by_commands_are_never_followed(provider: LocalSandboxProvider, box: LocalSandbox) -> None:
    other = await provider.create(key='bob-project')
    await other.write_file('secret.txt', 'bob-only')
    made = await box.run(f'ln -s /etc etc_link && ln -s /etc/hostname host_file && ln -s {other.path} bob'
                         ' && ln -s /tmp/evil-target planted.txt')  # fmt: skip
    assert made.ok, made.stderr

    for path in ('etc_link/hostname', 'host_file', 'bob/secret.txt'):
        with pytest.raises(SandboxError, match='symlink'):
            await box.read_file(path)
    for path in ('etc_link/cofounder-evil', 'bob/secret.txt', 'planted.txt'):
        with pytest.raises(SandboxError):
            await box.write_file(path, 'pwned')
    assert not host_has('/etc/cofounder-evil')
    assert not host_has('/tmp/evil-target')
    assert await other.read_file('secret.txt') == b'bob-only'

    listed = await box.list_files()
    assert listed == ['bob', 'etc_link', 'host_file', 'planted.txt']  # the links, never what they point to
    with pytest.raises(SandboxError):
        await box.list_files('etc_link')
    await box.delete_file('etc_link')  # removes the link only
    assert host_has('/etc/hostname')
    await other.destroy()


async def test_archive_skips_links_that_point_outside(box: LocalSandbox) -> None:
    await box.write_file('index.html', 'hi')
    await box.run('ln -s /etc/shadow shadow && ln -s index.html home.html')
    names = tarfile.open(fileobj=io.BytesIO(await box.archive())).getnames()
    assert 'home.html' in names and 'index.html' in names
    assert 'shadow' not in names


def make_tar(entries: list[tarfile.TarInfo]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for info in entries:
            data = b'evil' if info.isfile() else None
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def entry(name: str, *, link: str | None = None, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    if link is not None:
        info.type, info.linkname = tarfile.SYMTYPE, link
    else:
        info.type = kind
    return info


@pytest.mark.parametrize(
    'bad',
    [
        entry('../escaped.txt'),
        entry('/tmp/absolute.txt'),
        entry('ok/../../escaped.txt'),
        entry('link', link='/etc'),
        entry('link', link='../../outside'),
        entry('hard', kind=tarfile.LNKTYPE),
        entry('dev', kind=tarfile.CHRTYPE),
    ],
    ids=['dotdot', 'absolute', 'nested-dotdot', 'abs-link', 'rel-link', 'hardlink', 'device'],
)
async def test_restore_refuses_archives_that_escape(box: LocalSandbox, bad: tarfile.TarInfo) -> None:
    await box.write_file('keep.txt', 'mine')
    with pytest.raises(SandboxError):
        await box.restore(make_tar([entry('fine.txt'), bad]))
    assert await box.list_files() == ['keep.txt']  # validated before anything was touched
    assert not host_has('/tmp/absolute.txt')


async def test_restore_refuses_garbage(box: LocalSandbox) -> None:
    with pytest.raises(SandboxError, match='not a valid workspace archive'):
        await box.restore(b'not a tarball')
