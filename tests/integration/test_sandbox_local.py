"""Local sandbox: real processes (under bubblewrap when installed, and the plain fallback)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import pytest

from core.adapters.sandbox_local import LocalSandbox, LocalSandboxProvider
from core.config import Settings
from core.ports import Sandbox, SandboxError
from tests.services import require_bubblewrap

SAMPLE_APP = Path(__file__).resolve().parents[1] / 'fixtures' / 'sample_app'
MODES = [pytest.param(True, id='bwrap'), pytest.param(False, id='plain')]


@pytest.fixture(params=MODES)
def provider(request: pytest.FixtureRequest, settings: Settings) -> LocalSandboxProvider:
    if request.param:
        require_bubblewrap()
    return LocalSandboxProvider(settings, use_bwrap=request.param)


@pytest.fixture
async def sandbox(provider: LocalSandboxProvider):  # type: ignore[no-untyped-def]
    box = await provider.create(key=f'test-{uuid.uuid4().hex[:8]}')
    yield box
    await box.destroy()


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line mentions marker (to prove nothing survived)."""
    found = []
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                cmdline = Path(f'/proc/{pid}/cmdline').read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(pid))
    return found


async def copy_sample_app(box: Sandbox) -> None:
    for path in sorted(SAMPLE_APP.rglob('*')):
        if path.is_file() and '__pycache__' not in path.parts:
            await box.write_file(path.relative_to(SAMPLE_APP).as_posix(), path.read_bytes())


async def test_satisfies_the_port_and_describes_its_isolation(provider: LocalSandboxProvider) -> None:
    box = await provider.create(key='port-check')
    assert isinstance(box, Sandbox)
    assert provider.name == 'local'
    if provider.uses_bubblewrap:
        assert provider.isolation().startswith('bubblewrap (')
        assert 'own network namespace' in provider.isolation()  # SANDBOX_NETWORK=isolated is the default
    else:
        assert provider.isolation().startswith('subprocess only, shared host network (install bubblewrap')
    assert f'limits: {provider.limits_mode}: ' in provider.isolation()
    await box.destroy()


async def test_output_streams_while_the_command_runs(sandbox: LocalSandbox) -> None:
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
    assert result.ok and not result.timed_out
    assert result.stdout == 'ready\ndone\n'
    assert result.stderr == 'oops\n'
    assert 'ERR:oops\n' in seen
    assert ''.join(c for c in seen if not c.startswith('ERR:')) == 'ready\ndone\n'


async def test_exit_codes_and_cwd(sandbox: LocalSandbox) -> None:
    assert (await sandbox.run('exit 7')).exit_code == 7
    assert not (await sandbox.run('false')).ok
    await sandbox.write_file('sub/dir/file.txt', 'x')
    result = await sandbox.run('ls', cwd='sub/dir')
    assert result.stdout.split() == ['file.txt']
    with pytest.raises(SandboxError):
        await sandbox.run('ls', cwd='../..')


async def test_timeout_kills_the_whole_process_group(sandbox: LocalSandbox) -> None:
    marker = f'sleep {3000 + uuid.uuid4().int % 1000}'
    result = await sandbox.run(f'({marker}; echo survived > survived.txt) & echo started; {marker}', timeout=1)
    assert result.timed_out and not result.ok
    assert result.exit_code == 124
    assert result.stdout == 'started\n'
    assert 'timed out' in result.stderr
    assert processes_with(marker) == []


async def test_background_children_do_not_outlive_their_command(sandbox: LocalSandbox) -> None:
    marker = f'sleep {4000 + uuid.uuid4().int % 1000}'
    result = await sandbox.run(f'{marker} & echo left-running', timeout=10)
    assert result.ok and result.stdout == 'left-running\n'
    assert processes_with(marker) == []


async def test_files_roundtrip_between_host_and_sandbox(sandbox: LocalSandbox) -> None:
    await sandbox.write_file('src/app.py', 'print("hi")\n')
    await sandbox.write_file('README.md', b'# readme\n')
    result = await sandbox.run('python3 src/app.py && echo more >> README.md && mkdir -p out && echo 42 > out/n.txt')
    assert result.ok, result.stderr
    assert result.stdout == 'hi\n'
    assert await sandbox.read_file('README.md') == b'# readme\nmore\n'
    assert await sandbox.read_file('out/n.txt') == b'42\n'
    assert await sandbox.list_files() == ['README.md', 'out/n.txt', 'src/app.py']
    assert await sandbox.list_files('.', recursive=False) == ['README.md', 'out/', 'src/']
    assert await sandbox.list_files('src') == ['src/app.py']
    await sandbox.delete_file('out')
    await sandbox.delete_file('README.md')
    assert await sandbox.list_files() == ['src/app.py']
    with pytest.raises(SandboxError, match='no such file'):
        await sandbox.read_file('README.md')


async def test_sample_app_starts_answers_stops_and_resumes(sandbox: LocalSandbox) -> None:
    await copy_sample_app(sandbox)
    output: list[str] = []
    url = await sandbox.start_app(on_output=output.append)
    assert url.startswith('http://127.0.0.1:')
    assert await sandbox.app_url() == url
    async with httpx.AsyncClient(base_url=url) as client:
        page = await client.get('/')
        css = await client.get('/static/style.css')
    assert page.status_code == 200
    assert '<section id="features">' in page.text and '<section id="pricing">' in page.text
    assert css.status_code == 200 and 'font-family' in css.text
    assert any('Listening on' in chunk for chunk in output)

    await sandbox.pause()
    assert await sandbox.app_url() is None
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(url)

    await sandbox.resume()
    resumed = await sandbox.app_url()
    assert resumed is not None
    async with httpx.AsyncClient() as client:
        assert (await client.get(resumed + '/static/style.css')).status_code == 200
    await sandbox.kill_processes()
    assert await sandbox.app_url() is None


async def test_static_site_is_served(sandbox: LocalSandbox) -> None:
    await sandbox.write_file('index.html', '<h1>Just static</h1>')
    url = await sandbox.start_app()
    async with httpx.AsyncClient() as client:
        assert 'Just static' in (await client.get(url)).text
    await sandbox.stop_app()


async def test_app_that_crashes_reports_its_output(sandbox: LocalSandbox) -> None:
    await sandbox.write_file('app.py', 'import os\nprint("booting on", os.environ["PORT"])\nraise SystemExit("boom")\n')
    with pytest.raises(SandboxError, match='(?s)exited with code 1.*booting on.*boom'):
        await sandbox.start_app()
    assert await sandbox.app_url() is None


async def test_nothing_to_start_is_a_clear_error(sandbox: LocalSandbox) -> None:
    await sandbox.write_file('notes.txt', 'hello')
    with pytest.raises(SandboxError, match='No way to start the app'):
        await sandbox.start_app()


async def test_archive_restore_roundtrip_into_a_fresh_sandbox(provider: LocalSandboxProvider) -> None:
    source = await provider.create(key='snap-source')
    await copy_sample_app(source)
    made = await source.run(
        'mkdir -p node_modules/x __pycache__ && echo junk > node_modules/x/i.js && echo c > __pycache__/a.pyc'
        ' && printf "#!/bin/sh\\necho ran\\n" > run.sh && chmod +x run.sh && ln -s index.html home.html'
        ' && ln -s /etc/hostname outside'
    )
    assert made.ok, made.stderr
    data = await source.archive()

    target = await provider.create(key='snap-target')
    await target.write_file('stale.txt', 'old')
    await target.restore(data)
    files = await target.list_files()
    assert files == ['app.py', 'home.html', 'index.html', 'run.sh', 'static/style.css']
    assert await target.read_file('index.html') == (SAMPLE_APP / 'index.html').read_bytes()
    assert (await target.run('./run.sh && cat home.html | head -1')).stdout == 'ran\n<!doctype html>\n'
    url = await target.start_app()
    async with httpx.AsyncClient() as client:
        assert (await client.get(url + '/static/style.css')).status_code == 200
    await target.destroy()
    await source.destroy()


async def test_connect_after_restart_has_files_but_no_app(settings: Settings, provider: LocalSandboxProvider) -> None:
    box = await provider.create(key='reattach')
    await copy_sample_app(box)
    await box.start_app()
    assert await provider.connect('reattach') is box  # same process: the live sandbox

    restarted = LocalSandboxProvider(settings, use_bwrap=provider.uses_bubblewrap)
    again = await restarted.connect('reattach')
    assert again is not None
    assert await again.app_url() is None
    assert 'app.py' in await again.list_files()
    assert await restarted.connect('never-created') is None
    assert await restarted.connect('../etc') is None

    await box.destroy()
    assert await restarted.connect('reattach') is None


async def test_invalid_keys_are_refused(provider: LocalSandboxProvider) -> None:
    for key in ('../x', '', 'a/b', '.hidden'):
        with pytest.raises(SandboxError, match='invalid sandbox key'):
            await provider.create(key=key)
