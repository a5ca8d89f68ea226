"""Acceptance results: stored per build with evidence, counted against the scope, and a feature that worked in
an earlier version and fails now is named as broken by this change (real Chromium, real local app)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import pytest_asyncio

from core.acceptance.runs import record, results_of, run_all
from core.acceptance.spec import parse_check
from core.adapters.blobs_fs import FileBlobStore
from core.adapters.screenshot_playwright import PlaywrightScreenshotter
from core.journey import dashboard
from core.models import Artifact, BlobRecord, BuildJob, Project
from tests.integration.test_journey import make_founder
from tests.services import require_chromium

pytestmark = pytest.mark.browser
BROKEN = {'reviews': False}
SCOPE = ['Reviews', 'Gallery']


class App(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path == '/reviews':
            body = '<h1>Reviews</h1>' + ('' if BROKEN['reviews'] else '<p>Average: 4.5 stars</p>')
        else:
            body = '<h1>Gallery</h1><img alt="Tent" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        data = body.encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope='module')
def app() -> Iterator[str]:
    server = ThreadingHTTPServer(('127.0.0.1', 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


@pytest_asyncio.fixture
async def checker() -> AsyncIterator[PlaywrightScreenshotter]:
    shooter = PlaywrightScreenshotter(require_chromium())
    yield shooter
    await shooter.close()


CHECKS = [
    parse_check({'feature': 'Reviews', 'steps': [{'open': '/reviews'}, {'expect_text': 'Average: 4.5'}]}),
    parse_check({'feature': 'Gallery', 'steps': [{'open': '/gallery'}, {'expect_element': {'role': 'img',
                                                                                           'name': 'Tent'}}]}),
    parse_check({'feature': 'Share links', 'steps': [{'open': '/gallery'}, {'expect_status': 200}]}),
]  # fmt: skip


async def test_results_evidence_progress_and_a_regression(
    session_factory, app: str, checker: PlaywrightScreenshotter, tmp_path: Path
) -> None:
    blobs = FileBlobStore(tmp_path / 'blobs')
    async with session_factory() as session:
        user = await make_founder(session)
        project = Project(owner_id=user.id, title='Gear', idea='Rent camping gear to neighbours', stage='building')
        session.add(project)
        await session.flush()
        brief = {'title': 'Gear', 'core_features': [{'name': n} for n in SCOPE]}
        session.add(Artifact(project_id=project.id, kind='idea_brief', content=brief))
        first = BuildJob(project_id=project.id, user_id=user.id, state='READY', version_number=1, version_label='v0.1')
        second = BuildJob(project_id=project.id, user_id=user.id, state='CHECKS')
        session.add_all([first, second])
        await session.commit()

    BROKEN['reviews'] = False
    runs = await run_all(checker, app, CHECKS, SCOPE)
    outcome = await record(sessions=session_factory, blobs=blobs, job=first, runs=runs, scope=SCOPE, problems=[])
    assert (outcome.event.verified, outcome.event.scoped, outcome.failures) == (2, 2, None)
    assert [r.in_scope for r in outcome.event.results] == [True, True, False]  # a change's page is not in scope
    async with session_factory() as session:
        (card,) = await dashboard.dashboard(session, user=user)
        assert (card.features_verified, card.features_scoped, card.mvp_completion_percent) == (2, 2, 100)

    BROKEN['reviews'] = True  # the next version breaks a feature that worked
    runs = await run_all(checker, app, CHECKS, SCOPE)
    outcome = await record(sessions=session_factory, blobs=blobs, job=second, runs=runs, scope=SCOPE, problems=[])
    reviews = outcome.event.results[0]
    assert (reviews.passed, reviews.regressed_from, reviews.step) == (False, 'v0.1', 'see “Average: 4.5”')
    assert outcome.failures is not None
    assert '- Reviews: failed at step 2 (see “Average: 4.5”): “Average: 4.5” is not on the page /reviews' in (
        outcome.failures
    )
    assert 'it passed in v0.1; this change broke it' in outcome.failures
    async with session_factory() as session:
        (card,) = await dashboard.dashboard(session, user=user)
        assert (card.features_verified, card.features_scoped, card.mvp_completion_percent) == (1, 2, 50)

    # A re-run replaces the build's results and their evidence; each result's screenshot is stored and owned.
    runs = await run_all(checker, app, CHECKS, SCOPE)
    await record(sessions=session_factory, blobs=blobs, job=second, runs=runs, scope=SCOPE, problems=[])
    async with session_factory() as session:
        rows = await results_of(session, second.id)
        assert [r.feature for r in rows] == ['Reviews', 'Gallery', 'Share links']
        for row in rows:
            assert row.screenshot_key and (await blobs.get(row.screenshot_key))[:4] == b'\x89PNG'
            owner = await session.get(BlobRecord, row.screenshot_key)
            assert owner is not None and owner.owner_id == user.id and owner.kind == 'check'
        evidence = await blobs.list(f'projects/{project.id}/checks/{second.id}/')
        assert len(evidence) == 3  # the first run's evidence of this build was deleted


async def test_a_feature_without_a_check_and_an_invalid_check_are_failures_for_the_agent(
    session_factory, app: str, checker: PlaywrightScreenshotter, tmp_path: Path
) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = Project(owner_id=user.id, title='Gear', idea='Rent camping gear to neighbours', stage='building')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=user.id, state='CHECKS')
        session.add(job)
        await session.commit()
    runs = await run_all(checker, app, CHECKS[1:2], SCOPE)
    outcome = await record(sessions=session_factory, blobs=FileBlobStore(tmp_path), job=job, runs=runs, scope=SCOPE,
                           problems=['checks/x.json: The acceptance check is not valid: …'])  # fmt: skip
    assert (outcome.event.verified, outcome.event.scoped) == (1, 2)
    assert outcome.failures is not None
    assert '- Reviews: no acceptance check was written for it' in outcome.failures
    assert '- checks/x.json: The acceptance check is not valid: …' in outcome.failures
