"""IT-1, IT-2, IT-5 and B-8 as a founder sees them in NiceGUI's simulated browser: Gate 2 under a ready version, the
change request page (a vague request gets a question; past the limit the founder is told why), the versions on
the project page, a version's files and changelog, restore, the downloads, and another founder's 404s.

The versions are READY build rows with their snapshots and screenshots in the app's own stores (no worker runs:
whole builds are in tests/builds and tests/e2e)."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core.journey import projects
from core.models import BuildJob, InterviewSession, Project, Tier
from core.models import User as Account
from core.services import Services
from jobs.demo import founder_flow
from tests.integration.test_versions import V1, V2, add_version
from tests.ui.conftest import log_out
from tests.ui.test_journey_ui import WAIT, sign_up
from ui.components.code_view import language_for

IDEA = 'A booking tool for independent dog groomers so clients can pick a slot and pay a deposit.'
MUST_HAVE = 'online booking calendar, deposit payment, SMS reminders, client pet profiles'
CHANGELOG = {
    'from_version': 'v0.1', 'to_version': 'v0.2', 'summary': 'v0.2: 0 file(s) added, 1 changed, 0 removed.',
    'added': [], 'changed': ['app.py'], 'removed': [],
    'diffs': {'app.py': '--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-print("v1")\n+print("v2 with a waiting list")'},
}  # fmt: skip


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')  # builds queued here stay queued


def services() -> Services:
    return app.state.services


async def founder_with_versions(email: str, *, count: int = 2) -> tuple[Account, Project, list[BuildJob]]:
    """The signed-up founder's idea past Gate 1 with a plan, and `count` ready versions (v0.2 with a changelog)."""
    svc = services()
    async with svc.sessions() as session:
        account = (await session.exec(select(Account).where(Account.email == email))).one()
    account, project_id = await founder_flow(svc, IDEA, MUST_HAVE, user=account)
    async with svc.sessions() as session:
        project = await session.get(Project, project_id)
        assert project is not None
        built = [await add_version(session, svc.blobs, account, project, 1, V1)]
        if count > 1:
            v2 = await add_version(session, svc.blobs, account, project, 2, V2, kind='iteration')
            v2.summary = {**v2.summary, 'changelog': {**CHANGELOG, 'previous_job_id': str(built[0].id)}}
            session.add(v2)
            built.append(v2)
        project.stage = 'mvp_built'
        await session.commit()
        await session.refresh(project)
    return account, project, built


async def test_gate_2_under_a_ready_version_then_iterate_opens_the_change_page(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    account, project, (v1,) = await founder_with_versions('ada@example.com', count=1)
    await user.open(f'/builds/{v1.id}')
    await user.should_see(marker='gate2-card', retries=WAIT)
    await user.should_see('You have seen v0.1 running. What next?')
    await user.open(f'/projects/{project.id}')  # still waiting: the project page shows it too
    await user.should_see(marker='gate2-card', retries=WAIT)
    with user.scope(marker='project-decisions'):
        await user.should_see('Gate 2 — solidification')
    user.find(marker='gate2-ship').click()
    await user.should_see('Tell us why you chose to ship', retries=WAIT)  # a reason is needed to ship
    user.find(marker='gate2-iterate').click()  # none to iterate
    await user.should_see(marker='change-request', retries=WAIT)
    async with services().sessions() as session:
        assert (await projects.get_project(session, user=account, project_id=project.id)).stage == 'iterating'
    await user.open(f'/builds/{v1.id}')  # decided: the version offers "Ask for a change" now, not the gate again
    await user.should_see(marker='ask-change', retries=WAIT)
    await user.should_not_see(marker='gate2-card')


async def test_a_vague_change_gets_a_question_then_a_change_request_and_confirm_starts_the_build(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    account, project, _ = await founder_with_versions('ada@example.com', count=1)
    await user.open(f'/projects/{project.id}/change')
    await user.should_see('You are changing v0.1, your current version.', retries=WAIT)
    await user.should_see('Iteration 1 of 3')
    user.find(marker='change-request').type('make it <b>nicer</b>')
    user.find(marker='change-start').click()
    await user.should_see('What exactly should change? Name the page or the feature.', retries=WAIT)
    answer = 'The <i>pet profiles</i> page: show the breed under each name'
    user.find(marker='change-answer-q1').type(answer)
    user.find(marker='change-draft').click()
    await user.should_see(marker='change-artifact', retries=WAIT)
    await user.should_see('Change request for v0.1')
    await user.should_see('Iteration 1 of 3')
    await user.should_see('make it <b>nicer</b>')  # founder text as text, never HTML
    await user.should_see(answer)
    badge = user.find(marker='change-alignment').elements.pop()
    assert '/100' in badge.text and any(words in badge.text for words in ('Fits', 'Adds', 'Scope creep'))
    async with services().sessions() as session:
        talk = (await session.exec(select(InterviewSession).where(InterviewSession.kind == 'change'))).one()
        assert talk.answers == {'request': 'make it <b>nicer</b>', 'q1': answer}  # saved as typed
    user.find(marker='change-confirm').click()
    await user.should_see(marker='build-title', retries=WAIT)  # the new build's page
    async with services().sessions() as session:
        job = (await session.exec(select(BuildJob).where(BuildJob.kind == 'iteration'))).one()
        events = await projects.list_timeline(session, user=account, project_id=project.id)
    assert job.state == 'QUEUED' and job.change_request_id is not None
    assert [e.kind for e in events][-2:] == ['change.requested', 'build.started']


async def test_past_the_iteration_limit_the_founder_is_told_why_and_what_to_do(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    account, project, _ = await founder_with_versions('ada@example.com')  # v0.2 was the one iteration allowed
    async with services().sessions() as session:
        session.add(Tier(name='one-change', label='One change', token_allowance=60_000_000, max_iterations=1))
        row = await session.get(Account, account.id)
        row.tier = 'one-change'
        await session.commit()
    await user.open(f'/projects/{project.id}/change')
    await user.should_see('Iteration 2 of 1', retries=WAIT)
    await user.should_see('You have used all 1 iterations your plan allows for this project. Ship this version')
    await user.should_not_see(marker='change-request')


async def test_versions_files_changelog_restore_and_downloads(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    account, project, (v1, v2) = await founder_with_versions('ada@example.com')
    await user.open(f'/projects/{project.id}')
    await user.should_see(marker='project-versions', retries=WAIT)
    for label in ('v0.2', 'v0.1'):
        with user.scope(marker=f'version-{label}'):
            await user.should_see(label)
            await user.should_see(marker='version-screenshot')
    await user.should_see(CHANGELOG['summary'])
    await user.should_see('First version: 3 files with Online Booking.')
    await user.should_see('Download everything (Markdown)')
    await user.should_see('1 of 3 iterations used')

    with user.scope(marker='version-v0.1'):
        user.find(marker='version-files').click()
    await user.should_see(marker='file-list', retries=WAIT)
    await user.should_see('Files of v0.1')
    code = user.find(marker='file-code').elements.pop()
    assert code.content == V1['README.md'].decode().strip() and code._language == 'markdown'
    user.find(marker='file-app.py').click()
    await user.should_see('print("v1")')
    assert language_for('app.py') == 'python' and language_for('Dockerfile') == 'docker'
    user.find(marker='file-static/logo.png').click()
    await user.should_see('A binary file: download the zip to get it.')

    await user.open(f'/builds/{v2.id}/changelog')
    await user.should_see('What changed in v0.2', retries=WAIT)
    await user.should_see(CHANGELOG['summary'])
    await user.should_see(marker='screenshot-before')
    await user.should_see(marker='screenshot-after')
    diff = user.find(marker='diff-code').elements.pop()
    assert diff.content == CHANGELOG['diffs']['app.py'] and diff._language == 'diff'

    zipped = await user.http_client.get(f'/builds/{v2.id}/zip')
    assert zipped.status_code == 200 and zipped.headers['content-type'] == 'application/zip'
    assert 'attachment' in zipped.headers['content-disposition']
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    assert {name: archive.read(name) for name in archive.namelist()} == V2
    bundle = await user.http_client.get(f'/projects/{project.id}/export.md')
    assert bundle.status_code == 200 and bundle.text.startswith(f'# {project.title}') and '## Idea Brief' in bundle.text

    await user.open(f'/projects/{project.id}')
    with user.scope(marker='version-v0.1'):
        user.find(marker='version-restore').click()
    await user.should_see('Restore v0.1 as the next version?', retries=WAIT)
    user.find(marker='confirm-restore').click()
    await user.should_see(marker='build-title', retries=WAIT)
    async with services().sessions() as session:
        restore = (await session.exec(select(BuildJob).where(BuildJob.kind == 'restore'))).one()
    assert restore.restore_of == v1.id and restore.state == 'QUEUED'


async def test_another_founder_gets_not_found_on_every_new_page_and_download(user: User) -> None:
    await sign_up(user, 'owner@example.com')
    _, project, (v1, v2) = await founder_with_versions('owner@example.com')
    await log_out(user)
    await sign_up(user, 'intruder@example.com')
    for path in (f'/projects/{project.id}/change', f'/builds/{v1.id}/files', f'/builds/{v2.id}/changelog',
                 f'/builds/{v1.id}/files?path=app.py'):  # fmt: skip
        await user.open(path)
        await user.should_see('not found', retries=WAIT)
        for marker in ('change-request', 'file-list', 'file-code', 'changelog-summary', 'files-zip', 'change-count'):
            await user.should_not_see(marker=marker)
        await user.should_not_see(project.title)
    for path in (f'/builds/{v1.id}/zip', f'/projects/{project.id}/export.md', f'/builds/{uuid.uuid4()}/zip',
                 '/projects/not-a-uuid/export.md', '/builds/not-a-uuid/zip'):  # fmt: skip
        answer = await user.http_client.get(path)
        assert answer.status_code == 404 and b'print' not in answer.content, path
    await user.open(f'/projects/{project.id}')
    await user.should_see('Project not found', retries=WAIT)
    await user.should_not_see(marker='project-versions')
