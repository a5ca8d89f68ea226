"""One contract for every SandboxProvider (B-5): the local sandbox and E2B (the SDK against tests/fakes/e2b_api.py).

Files, commands with streaming output and timeouts, process kill, the dev server started, detected and
answering, pause and resume, snapshots that restore in a fresh sandbox — of either adapter.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from core.adapters.sandbox_e2b import E2BSandboxProvider
from core.adapters.sandbox_local import LocalSandboxProvider
from core.config import Settings
from core.ports import Sandbox, SandboxError, SandboxProvider
from tests.fakes.e2b_api import E2BFake
from tests.integration.test_sandbox_local import SAMPLE_APP, copy_sample_app, processes_with


@pytest.fixture(scope='module')
def e2b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2BFake]:
    with E2BFake(tmp_path_factory.mktemp('e2b')) as fake:
        yield fake


def e2b_provider(fake: E2BFake, template: str = 'base') -> E2BSandboxProvider:
    return E2BSandboxProvider(api_key=fake.api_key, template=template, api_url=fake.url, sandbox_url=fake.url)


@pytest.fixture(params=['local', 'e2b'])
async def provider(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[SandboxProvider]:
    if request.param == 'local':
        made: SandboxProvider = LocalSandboxProvider(settings)
    else:
        made = e2b_provider(request.getfixturevalue('e2b'))
    yield made
    await made.close()


@pytest.fixture
async def sandbox(provider: SandboxProvider) -> AsyncIterator[Sandbox]:
    box = await provider.create(key=f'contract-{uuid.uuid4().hex[:8]}')
    yield box
    await box.destroy()


async def test_output_streams_while_the_command_runs(sandbox: Sandbox) -> None:
    seen: list[str] = []

    async def on_stdout(chunk: str) -> None:
        seen.append(chunk)
        if 'ready' in chunk:  # the command only finishes once we react to its first line
            await sandbox.write_file('go', '')

    result = await sandbox.run(
        'echo ready; while [ ! -f go ]; do sleep 0.02; done; echo done; echo oops >&2',
        on_stdout=on_stdout,
        on_stderr=lambda chunk: seen.append('ERR:' + chunk),
        timeout=30,
    )
    assert result.ok and (result.stdout, result.stderr) == ('ready\ndone\n', 'oops\n')
    assert ''.join(c for c in seen if not c.startswith('ERR:')) == 'ready\ndone\n' and 'ERR:oops\n' in seen


async def test_exit_codes_cwd_and_paths_outside_refused(sandbox: Sandbox) -> None:
    assert (await sandbox.run('exit 7')).exit_code == 7
    await sandbox.write_file('sub/dir/file.txt', 'x')
    assert (await sandbox.run('ls', cwd='sub/dir')).stdout.split() == ['file.txt']
    for escape in ('../..', '/etc'):
        with pytest.raises(SandboxError):
            await sandbox.run('ls', cwd=escape)
    with pytest.raises(SandboxError):
        await sandbox.read_file('../outside.txt')


async def test_a_command_past_its_timeout_is_killed_with_its_children(sandbox: Sandbox) -> None:
    marker = f'sleep {3000 + uuid.uuid4().int % 1000}'
    result = await sandbox.run(f'({marker}; echo survived > survived.txt) & echo started; {marker}', timeout=1)
    assert result.timed_out and result.exit_code == 124 and not result.ok
    assert result.stdout == 'started\n' and 'timed out' in result.stderr
    for _ in range(100):  # E2B's kill lands in its own process a moment later (a wait for it, not a timing claim)
        if not processes_with(marker):
            break
        await asyncio.sleep(0.05)
    assert processes_with(marker) == []


async def test_kill_processes_stops_what_runs(sandbox: Sandbox) -> None:
    await copy_sample_app(sandbox)
    await sandbox.start_app()
    await sandbox.kill_processes()
    assert await sandbox.app_url() is None


async def test_files_roundtrip(sandbox: Sandbox) -> None:
    await sandbox.write_file('src/app.py', 'print("hi")\n')
    await sandbox.write_file('README.md', b'# readme\n')
    result = await sandbox.run('python3 src/app.py && echo more >> README.md && mkdir -p out node_modules/x'
                               ' && echo 42 > out/n.txt && echo junk > node_modules/x/i.js')  # fmt: skip
    assert result.ok and result.stdout == 'hi\n', result.stderr
    assert await sandbox.read_file('README.md') == b'# readme\nmore\n'
    assert await sandbox.list_files() == ['README.md', 'out/n.txt', 'src/app.py']  # dependencies left out
    assert await sandbox.list_files('.', recursive=False) == ['README.md', 'node_modules/', 'out/', 'src/']
    assert await sandbox.list_files('src') == ['src/app.py']
    await sandbox.delete_file('out')
    await sandbox.delete_file('README.md')
    assert await sandbox.list_files() == ['src/app.py']
    with pytest.raises(SandboxError, match='no such file'):
        await sandbox.read_file('README.md')


async def test_the_dev_server_is_detected_started_paused_and_resumed(sandbox: Sandbox) -> None:
    await copy_sample_app(sandbox)
    output: list[str] = []
    url = await sandbox.start_app(on_output=output.append)
    assert url.startswith('http://127.0.0.1:')  # this process's door, whatever the sandbox
    assert await sandbox.app_url() == url
    async with httpx.AsyncClient() as client:
        page, css = await client.get(url + '/'), await client.get(url + '/static/style.css')
    assert page.status_code == 200 and '<section id="features">' in page.text
    assert css.status_code == 200 and 'font-family' in css.text
    assert any('Listening on' in chunk for chunk in output)

    await sandbox.pause()
    assert await sandbox.app_url() is None
    await sandbox.resume()
    resumed = await sandbox.app_url() or await sandbox.start_app()  # what resume_preview does
    async with httpx.AsyncClient() as client:
        assert (await client.get(resumed + '/static/style.css')).status_code == 200


async def test_an_app_that_crashes_reports_its_output(sandbox: Sandbox) -> None:
    await sandbox.write_file('app.py', 'import os\nprint("booting on", os.environ["PORT"])\nraise SystemExit("boom")\n')
    with pytest.raises(SandboxError, match='(?s)exited with code 1.*booting on.*boom'):
        await sandbox.start_app()
    assert await sandbox.app_url() is None


async def test_a_snapshot_restores_in_a_fresh_sandbox(provider: SandboxProvider) -> None:
    source = await provider.create(key=f'snap-{uuid.uuid4().hex[:8]}')
    await copy_sample_app(source)
    made = await source.run('mkdir -p node_modules/x && echo junk > node_modules/x/i.js'
                            ' && printf "#!/bin/sh\\necho ran\\n" > run.sh && chmod +x run.sh')  # fmt: skip
    assert made.ok, made.stderr
    data = await source.archive()
    target = await provider.create(key=f'snap-{uuid.uuid4().hex[:8]}')
    await target.write_file('stale.txt', 'old')
    await target.restore(data)
    assert await target.list_files() == ['app.py', 'index.html', 'run.sh', 'static/style.css']
    assert await target.read_file('index.html') == (SAMPLE_APP / 'index.html').read_bytes()
    assert (await target.run('./run.sh')).stdout == 'ran\n'
    for box in (source, target):
        await box.destroy()


async def test_snapshots_move_between_adapters(settings: Settings, e2b: E2BFake, tmp_path: Path) -> None:
    local, remote = LocalSandboxProvider(settings), e2b_provider(e2b)
    origin = await local.create(key='from-local')
    await copy_sample_app(origin)
    moved = await remote.create(key='to-e2b')
    await moved.restore(await origin.archive())
    back = await local.create(key='back-local')
    await back.restore(await moved.archive())
    assert await back.list_files() == await origin.list_files()
    for box in (origin, moved, back):
        await box.destroy()
