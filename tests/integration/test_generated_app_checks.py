"""The offline model's app, built through the real agent loop for every test idea, passes every acceptance
check it wrote, run by the host's Chromium (verified progress, feature-shaped pages).

The agent's acceptance_check tool runs each check the way the pipeline does: the workspace's files are put
on disk, `python3 app.py` is (re)started when they changed, and the real runner drives the real browser.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from core.acceptance.runs import load_checks
from core.acceptance.spec import AcceptanceCheck, CheckRun, parse_check
from core.adapters.llm_offline import OfflineLLM, journey
from core.adapters.llm_offline.app_template import Page, render_app, render_css
from core.adapters.llm_offline.checks import check_for
from core.adapters.screenshot_playwright import PlaywrightScreenshotter
from core.agent.checkpoint import CheckpointState
from core.agent.loop import AgentRunContext, run_agent
from core.agent.prompt import build_system_prompt
from core.agent.tools import default_tools
from core.agent.tools.base import ToolContext
from core.events import BuildEvent, Narration
from tests.fakes.memory_sandbox import MemorySandbox
from tests.fixtures import ideas
from tests.services import require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope='module')]  # one warm browser

STEP_TIMEOUT_S = 3.0  # a missing field fails after this long (the painted door)
BALANCED = {'title': 'Balanced', 'summary': 'Every feature of the scope with a simple login, polished for phones.',
            'stack': 'Python web app + SQLite + login', 'phases': ['Add a simple login']}  # fmt: skip
CAMPING = {
    'idea': 'A marketplace where campers rent gear from neighbours.',
    'answers': {'target_user': 'Weekend campers', 'problem': 'Gear is expensive and used twice a year',
                'must_have': 'listings with photos, availability calendar, deposit, reviews, damage reports, '
                             'member directory',
                'constraints': 'Phones first', 'success': '50 rentals in a month'},
}  # fmt: skip
JAPANESE = {
    'title': 'キャンプ用品レンタル',
    'problem': '道具を買うと高くつき、使うのは年に数回だけ',
    'target_users': '週末にキャンプをする家族',
    'value_proposition': '近所の人からキャンプ用品を借りられる',
    'core_features': [
        {'name': '写真付きの出品', 'description': '貸したい道具を写真で紹介する'},
        {'name': '空き状況カレンダー', 'description': ''},
        {'name': 'デポジットの支払い', 'description': ''},
        {'name': 'レビュー', 'description': ''},
        {'name': '破損の報告', 'description': ''},
        {'name': '会員名簿', 'description': ''},
        {'name': 'ログイン', 'description': ''},
        {'name': 'お知らせ', 'description': ''},
    ],
}


def brief_of(idea: dict[str, Any]) -> dict[str, Any]:
    """The brief the journey's offline model writes for an idea and its answers."""
    return journey.write_brief({'idea': idea['idea'], 'answers': idea['answers']})['idea_brief']


BRIEFS = [(f'idea{n}', brief_of(idea), None) for n, idea in enumerate(ideas())]
BRIEFS += [('camping-balanced', brief_of(CAMPING), BALANCED), ('japanese', JAPANESE, None)]


class LocalApp:
    """The workspace's files on disk and `python3 app.py` serving them, restarted when they change."""

    def __init__(self, root: Path) -> None:
        self.root, self.source, self.proc, self.url = root, b'', None, ''

    async def sync(self, files: dict[str, bytes]) -> str:
        for name, data in files.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_bytes(data)
        if files.get('app.py') != self.source or self.proc is None:
            await self.close()
            self.source = files.get('app.py', b'')
            with socket.socket() as s:
                s.bind(('127.0.0.1', 0))
                port = s.getsockname()[1]
            env = {'PATH': os.environ.get('PATH', '/usr/bin'), 'PORT': str(port)}
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, 'app.py', cwd=self.root, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            self.url = f'http://127.0.0.1:{port}'
            await asyncio.to_thread(_wait_until_up, self.url)
        return self.url

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        self.proc = None


def _wait_until_up(url: str) -> None:
    """Poll the new process's health page (in a thread) until it answers."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f'{url}/healthz', timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError('the generated app did not start')


@pytest_asyncio.fixture(scope='module', loop_scope='module')
async def checker() -> AsyncIterator[PlaywrightScreenshotter]:
    shooter = PlaywrightScreenshotter(require_chromium())
    yield shooter
    await shooter.close()


async def offline_build(
    brief: dict[str, Any], plan: dict[str, Any] | None, checker: PlaywrightScreenshotter, app: LocalApp,
    scenario: str = '',
) -> tuple[MemorySandbox, list[CheckRun], list[BuildEvent]]:  # fmt: skip
    sandbox, runs, events = MemorySandbox(), [], []

    async def emit(event: BuildEvent) -> BuildEvent:
        events.append(event)
        return event

    async def screenshot(phase: str) -> str | None:
        return 'http://blobs/shot.png'

    async def run_check(check: AcceptanceCheck) -> CheckRun:
        run = await checker.run_check(await app.sync(sandbox.files), check, step_timeout_s=STEP_TIMEOUT_S)
        runs.append(run)
        return run

    tool_ctx = ToolContext(job_id=uuid.uuid4(), sandbox=sandbox, emit=emit, screenshot=screenshot, run_check=run_check)
    llm = OfflineLLM(pace_seconds=0, scenario=scenario)
    ctx = AgentRunContext(llm=llm, model='offline-1', tools=default_tools(), tool_ctx=tool_ctx)
    system = build_system_prompt(brief=brief, qa=[], plan=plan, change_request=None, project_title=brief['title'])
    outcome = await run_agent(ctx, system=system, state=CheckpointState())
    assert outcome.status == 'done', outcome.reason
    return sandbox, runs, events


@pytest.mark.parametrize(('brief', 'plan'), [b[1:] for b in BRIEFS], ids=[b[0] for b in BRIEFS])
async def test_every_feature_passes_the_check_the_offline_model_wrote_for_it(
    brief: dict[str, Any], plan: dict[str, Any] | None, checker: PlaywrightScreenshotter, tmp_path: Path
) -> None:
    app = LocalApp(tmp_path)
    try:
        sandbox, runs, _ = await offline_build(brief, plan, checker, app)
        features = [f['name'] for f in brief['core_features']]
        assert [r.feature for r in runs][: len(features)] == features
        assert [r.sentence() for r in runs if not r.passed] == []
        assert all(r.ran for r in runs)
        if plan is BALANCED:
            assert runs[-1].feature == 'Account' and len(runs) == len(features) + 1  # the plan's promised login
        stored, problems = await load_checks(sandbox)
        assert problems == [] and len(stored) == len(runs)
        if plan is BALANCED:  # every shape's check passes again on the data of its first run (iterations)
            again = [await checker.run_check(app.url, check) for check in stored]
            assert [r.sentence() for r in again if not r.passed] == []
    finally:
        await app.close()


async def test_a_painted_door_fails_its_check_and_the_rewrite_makes_it_pass(
    checker: PlaywrightScreenshotter, tmp_path: Path
) -> None:
    app = LocalApp(tmp_path)
    try:
        brief = brief_of({**CAMPING, 'answers': {**CAMPING['answers'], 'must_have': 'listings with photos, deposit'}})
        _, runs, events = await offline_build(brief, None, checker, app, scenario='painted-door')
    finally:
        await app.close()
    first, retry = runs[0], runs[1]
    assert first.feature == retry.feature == 'Listings with Photos'
    assert not first.passed and first.failed_step == 2
    assert first.problem == 'there is no field labelled “Title” on the page /listings-with-photos'
    assert retry.passed and all(r.passed for r in runs[1:])
    said = [e.text for e in events if isinstance(e, Narration)]
    assert any("didn't pass its check, so I'm rewriting that page" in text for text in said)


async def test_the_photo_check_fails_on_the_old_generic_form_and_passes_on_the_gallery(
    checker: PlaywrightScreenshotter, tmp_path: Path
) -> None:
    page = Page('listings', 'Listings with photos', '', 'photos')
    check = parse_check(check_for(page, 'en'))
    results = {}
    for shape in ('generic', 'photos'):
        root = tmp_path / shape
        source = render_app(title='Camp', tagline='Rent gear', problem='', audience='',
                            pages=[Page(page.slug, page.name, '', shape)])  # fmt: skip
        app = LocalApp(root)
        try:
            url = await app.sync({'app.py': source.encode(), 'static/style.css': render_css('Camp').encode()})
            results[shape] = await checker.run_check(url, check, step_timeout_s=2)
        finally:
            await app.close()
    generic, photos = results['generic'], results['photos']
    assert not generic.passed and generic.step == 'attach photo.png to “Photo”'
    assert photos.passed, photos.sentence()
