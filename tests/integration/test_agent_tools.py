"""AG-3: the agent's tools against the in-memory sandbox and the real local sandbox, and a whole
offline build through the loop on the local sandbox whose app then answers over HTTP."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.adapters.sandbox_local import LocalSandboxProvider
from core.agent.checkpoint import CheckpointState
from core.agent.loop import AgentRunContext, run_agent
from core.agent.prompt import build_system_prompt
from core.agent.tools import default_tools
from core.agent.tools.base import ToolContext, ToolInputError, ToolOutcome
from core.config import Settings
from core.events import BuildEvent, DocumentationUpdated, Narration, PhaseStarted
from core.ports import Sandbox
from tests.fakes.memory_sandbox import MemorySandbox

TOOLS = default_tools()


class Recorder:
    def __init__(self) -> None:
        self.events: list[BuildEvent] = []
        self.output: list[tuple[str, str]] = []
        self.shots: list[str] = []

    async def emit(self, event: BuildEvent) -> BuildEvent:
        self.events.append(event)
        return event

    async def on_output(self, chunk: str, stream: str) -> None:
        self.output.append((stream, chunk))

    async def screenshot(self, phase: str) -> str | None:
        self.shots.append(phase)
        return 'http://blobs/shot.png'


async def local_sandbox(settings: Settings, key: str) -> Sandbox:
    return await LocalSandboxProvider(settings).create(key=key)


@pytest.fixture(params=['memory', 'local'])
async def sandbox(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Sandbox]:
    box: Sandbox = MemorySandbox() if request.param == 'memory' else await local_sandbox(settings, 'tools-test')
    yield box
    await box.kill_processes()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def ctx(sandbox: Sandbox, rec: Recorder) -> ToolContext:
    return ToolContext(job_id=uuid.uuid4(), sandbox=sandbox, emit=rec.emit, screenshot=rec.screenshot,
                       on_output=rec.on_output, command_timeout=10)  # fmt: skip


async def use(ctx: ToolContext, tool: str, /, **data: Any) -> ToolOutcome:
    return await TOOLS[tool].run(ctx, data)


async def test_write_then_read_round_trips_text(ctx: ToolContext) -> None:
    text = 'print("héllo")\n' * 3
    wrote = await use(ctx, 'write_file', path='app/main.py', content=text)
    assert wrote.ok and wrote.label == 'Wrote 3 lines to app/main.py'
    read = await use(ctx, 'read_file', path='app/main.py')
    assert read.ok and read.output == text and read.label == 'Read app/main.py'


@pytest.mark.parametrize('path', ['../outside.txt', '/etc/passwd', 'a/../../b.txt'])
async def test_paths_outside_the_workspace_fail_clearly(ctx: ToolContext, path: str) -> None:
    for outcome in (await use(ctx, 'write_file', path=path, content='x'), await use(ctx, 'read_file', path=path)):
        assert not outcome.ok and path in outcome.output


async def test_reading_a_missing_file_fails_with_its_name(ctx: ToolContext) -> None:
    outcome = await use(ctx, 'read_file', path='nope.py')
    assert not outcome.ok and outcome.output.startswith('Could not read nope.py')


async def test_edit_replaces_exactly_one_match(ctx: ToolContext, sandbox: Sandbox) -> None:
    await use(ctx, 'write_file', path='a.py', content='x = 1\ny = 2\nx = 1\n')
    twice = await use(ctx, 'edit_file', path='a.py', old_text='x = 1', new_text='x = 3')
    assert not twice.ok and 'appears 2 times' in twice.output
    missing = await use(ctx, 'edit_file', path='a.py', old_text='z = 9', new_text='')
    assert not missing.ok and 'was not found' in missing.output
    done = await use(ctx, 'edit_file', path='a.py', old_text='y = 2\nx = 1', new_text='y = 5')
    assert done.ok and (await sandbox.read_file('a.py')).decode() == 'x = 1\ny = 5\n'


@pytest.mark.parametrize('sandbox', ['local'], indirect=True)  # the memory sandbox runs no shell
async def test_bash_streams_output_and_reports_the_exit_code(ctx: ToolContext, rec: Recorder) -> None:
    outcome = await use(ctx, 'bash', command='echo hello; echo oops >&2; exit 3')
    assert not outcome.ok and outcome.output.startswith('Exit code 3.')
    assert 'hello' in outcome.output and 'oops' in outcome.output
    assert ('stdout', 'hello\n') in rec.output and any(s == 'stderr' and 'oops' in c for s, c in rec.output)
    slow = await use(ctx, 'bash', command='sleep 5', timeout=0.5)
    assert not slow.ok and slow.output.startswith('Timed out after 0.5 seconds')


async def test_bash_checks_python_code(ctx: ToolContext) -> None:
    await use(ctx, 'write_file', path='ok.py', content='print(1)\n')
    await use(ctx, 'write_file', path='bad.py', content='def broken(:\n')
    good = await use(ctx, 'bash', command='python3 -m py_compile ok.py')
    bad = await use(ctx, 'bash', command='python3 -m py_compile bad.py')
    assert good.ok and good.label == 'Checked the code for mistakes'
    assert not bad.ok and 'SyntaxError' in bad.output


async def test_grep_finds_lines_with_paths_and_numbers(ctx: ToolContext) -> None:
    await use(ctx, 'write_file', path='app.py', content='import os\nPORT = os.environ["PORT"]\n')
    await use(ctx, 'write_file', path='static/style.css', content='body { color: red }\n')
    found = await use(ctx, 'grep', pattern=r'PORT\b')
    assert found.ok and found.output == 'app.py:2: PORT = os.environ["PORT"]'
    only_css = await use(ctx, 'grep', pattern='color|PORT', include='**/*.css')
    assert only_css.output == 'static/style.css:1: body { color: red }'
    assert (await use(ctx, 'grep', pattern='nothing-here')).output == 'No matches for nothing-here.'
    bad = await use(ctx, 'grep', pattern='(unclosed')
    assert not bad.ok and 'not a valid regular expression' in bad.output
    outside = await use(ctx, 'grep', pattern='root', path='../')
    assert not outside.ok


async def test_glob_matches_within_and_across_folders(ctx: ToolContext) -> None:
    for path in ('app.py', 'pages/home.py', 'pages/deep/more.py', 'static/style.css'):
        await use(ctx, 'write_file', path=path, content='x\n')
    assert (await use(ctx, 'glob', pattern='*.py')).output == 'app.py'
    assert (await use(ctx, 'glob', pattern='**/*.py')).output.splitlines() == [
        'app.py', 'pages/deep/more.py', 'pages/home.py']  # fmt: skip
    assert (await use(ctx, 'glob', pattern='pages/*.py')).output == 'pages/home.py'
    assert (await use(ctx, 'glob', pattern='*.rb')).output == 'No files match *.rb.'


async def test_narrate_and_document_are_founder_safe(ctx: ToolContext, rec: Recorder) -> None:
    await use(ctx, 'narrate', text='I fixed /workspace/app.py after a KeyError with sk-ant-abcdefghijklmnop')
    await use(ctx, 'document', section='getting_started', content='1. Open the preview.\n```\npython3 app.py\n```')
    narration, docs = rec.events
    assert isinstance(narration, Narration) and narration.text == 'I fixed a file after a problem'
    assert isinstance(docs, DocumentationUpdated) and docs.content == '1. Open the preview.'
    assert docs.title == 'Getting started'
    with pytest.raises(ToolInputError):
        await use(ctx, 'document', section='internals', content='x')


async def test_phases_drive_the_kanban(ctx: ToolContext, rec: Recorder) -> None:
    await use(ctx, 'phase', action='start', name='Plan', plan=['Plan', 'Pages', 'Check'])
    await use(ctx, 'phase', action='complete', name='Plan')
    done = await use(ctx, 'phase', action='start', name='Pages')
    assert done.ok
    started = [e for e in rec.events if isinstance(e, PhaseStarted)]
    assert [e.planned for e in started] == [['Plan', 'Pages', 'Check']] * 2
    assert ctx.phases == [{'name': 'Plan', 'status': 'done'}, {'name': 'Pages', 'status': 'in_progress'},
                          {'name': 'Check', 'status': 'planned'}]  # fmt: skip
    assert ctx.phase == 'Pages'


async def test_screenshot_uses_the_current_phase_and_reports_failure(ctx: ToolContext, rec: Recorder) -> None:
    ctx.phase = 'Styling'
    assert (await use(ctx, 'take_screenshot')).ok and rec.shots == ['Styling']

    async def blank(phase: str) -> str | None:
        return None

    ctx.screenshot = blank
    failed = await use(ctx, 'take_screenshot')
    assert not failed.ok and 'could not be captured' in failed.output


# ── the whole offline build on the real local sandbox ──


async def test_offline_build_on_the_local_sandbox_starts_and_serves_its_pages(settings: Settings) -> None:
    from core.adapters.llm_offline import OfflineLLM
    from tests.unit.test_offline_model import french_brief

    sandbox = await local_sandbox(settings, 'offline-build')
    rec = Recorder()
    urls: list[str] = []

    async def screenshot(phase: str) -> str | None:  # what the pipeline does: start the app, then capture
        urls.append(await sandbox.start_app())
        return 'http://blobs/shot.png'

    brief = french_brief()
    tool_ctx = ToolContext(job_id=uuid.uuid4(), sandbox=sandbox, emit=rec.emit, screenshot=screenshot,
                           on_output=rec.on_output)  # fmt: skip
    ctx = AgentRunContext(llm=OfflineLLM(pace_seconds=0), model='offline-1', tools=TOOLS, tool_ctx=tool_ctx)
    system = build_system_prompt(brief=brief, qa=[], plan=None, change_request=None, project_title=brief['title'])
    try:
        outcome = await run_agent(ctx, system=system, state=CheckpointState())
        assert outcome.status == 'done', outcome
        assert len(urls) == 1
        home = await asyncio.to_thread(_get, urls[0] + '/')
        for feature in brief['core_features']:
            assert f'>{feature["name"]}</a>' in home
        page = await asyncio.to_thread(_get, urls[0] + '/suivi-des-cotisations')
        assert '<h1>Suivi des cotisations</h1>' in page
    finally:
        await sandbox.kill_processes()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode('utf-8')
