"""Managing one's things, in NiceGUI's simulated browser against main.py (issue 25, items 7 and 8): rename, archive
and delete a project; change the password; "Forgot password?" with and without a mail server (a real SMTP server at
the network edge, tests/fakes/smtp_sink.py); a fresh install's first visit lands on sign-up; a paused preview comes
back by itself when its owner opens the build page (a real local sandbox and app)."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator

import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core.models import BuildJob, Project
from core.models import User as Account
from core.services import Services
from tests.fakes.smtp_sink import SmtpSink
from tests.ui.conftest import PASSWORD, log_in, log_out, sign_up

WAIT = 100
NEW_PASSWORD = 'a brand new passphrase 42'


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')  # the build rows written here are nobody's work


@pytest.fixture
async def smtp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SmtpSink]:
    """A mail server, configured for the app (requested before `user`, so the app starts with it)."""
    sink = await SmtpSink().start()
    monkeypatch.setenv('SMTP_HOST', sink.host)
    monkeypatch.setenv('SMTP_PORT', str(sink.port))
    monkeypatch.setenv('PUBLIC_URL', 'https://cf.example.com')
    yield sink
    await sink.close()


def services() -> Services:
    return app.state.services


async def founder_with_project(user: User, db, title: str = 'Dog walking app') -> tuple[Account, Project]:  # type: ignore[no-untyped-def]
    await sign_up(user, 'ada@example.com')
    async with db() as session:
        ada = (await session.exec(select(Account).where(Account.email == 'ada@example.com'))).one()
        project = Project(owner_id=ada.id, title=title, idea='Dog owners book a walker for the afternoon.')
        session.add(project)
        await session.commit()
        await session.refresh(project)
    return ada, project


# ── item 8: the first visit, and the preview after a restart ─────────────────────────────────────


async def test_a_first_visit_to_a_fresh_install_lands_on_sign_up_then_on_log_in(user: User) -> None:
    await user.open('/')
    await user.should_see('Create your account')
    await user.should_not_see(marker='login-button')
    await sign_up(user, 'ada@example.com')
    await log_out(user)
    await user.open('/')
    await user.should_see(marker='login-button')
    await user.should_see(marker='forgot-link')


async def test_a_paused_preview_resumes_when_its_owner_opens_the_build(user: User, db) -> None:  # type: ignore[no-untyped-def]
    ada, project = await founder_with_project(user, db)
    sandbox = await services().sandboxes.create(key=f'resume-{project.id.hex[:12]}')
    await sandbox.write_file('index.html', '<h1>Dog walking</h1>')
    async with db() as session:  # as a restart leaves it (jobs/recovery.py): READY, its app not running
        job = BuildJob(project_id=project.id, user_id=ada.id, state='READY', version_number=1, version_label='v0.1',
                       sandbox_id=sandbox.id, preview_state='paused')  # fmt: skip
        session.add(job)
        await session.commit()
    assert await sandbox.app_url() is None
    await user.open(f'/builds/{job.id}')
    await user.should_see(marker='preview-frame', retries=WAIT)  # nobody pressed Resume
    await user.should_not_see(marker='preview-paused')
    async with db() as session:
        row = await session.get(BuildJob, job.id)
    assert row is not None and row.preview_state == 'running' and row.preview_url
    assert b'Dog walking' in await asyncio.to_thread(lambda: urllib.request.urlopen(row.preview_url, timeout=5).read())
    await sandbox.destroy()


# ── item 7: rename, archive, delete ──────────────────────────────────────────────────────────────


async def test_rename_archive_and_restore_a_project(user: User, db) -> None:  # type: ignore[no-untyped-def]
    _, project = await founder_with_project(user, db)
    await user.open(f'/projects/{project.id}')
    user.find(marker='rename-project').click()
    user.find(marker='rename-input').clear().type('<i>Paws</i> & Walks')
    user.find(marker='rename-save').click()
    # the reloaded page's title, as text (the dialog's own input holds the name before the reload lands)
    await user.should_see(marker='project-title', content='<i>Paws</i> & Walks', retries=WAIT)
    user.find(marker='archive-project').click()
    await user.should_see(marker='archived-banner', retries=WAIT)
    await user.open('/')
    await user.should_see(marker='archived-projects')
    await user.should_see('Archived (1)')
    await user.should_not_see(marker='empty-state')
    await user.open(f'/projects/{project.id}')
    user.find(marker='restore-project').click()
    await user.should_not_see(marker='archived-banner', retries=WAIT)
    await user.open('/')
    await user.should_see('<i>Paws</i> & Walks')
    await user.should_not_see(marker='archived-projects')


async def test_delete_names_the_project_waits_for_its_name_and_refuses_while_building(user: User, db) -> None:  # type: ignore[no-untyped-def]
    ada, project = await founder_with_project(user, db)
    async with db() as session:
        job = BuildJob(project_id=project.id, user_id=ada.id, state='CODE')
        session.add(job)
        await session.commit()
    await user.open(f'/projects/{project.id}')
    user.find(marker='delete-project').click()
    with user.scope(marker='delete-dialog'):
        await user.should_see('“Dog walking app”')
    confirm = next(iter(user.find(marker='delete-confirm').elements))
    assert not confirm.enabled  # nothing typed yet
    user.find(marker='delete-confirm-input').type('Dog walking')
    assert not confirm.enabled
    user.find(marker='delete-confirm-input').clear().type('Dog walking app')
    assert confirm.enabled
    user.find(marker='delete-confirm').click()
    await user.should_see('A build of this project is running. Cancel it on the build page first', retries=WAIT)
    async with db() as session:
        row = await session.get(BuildJob, job.id)
        assert row is not None
        row.state = 'CANCELLED'
        await session.commit()
    user.find(marker='delete-confirm').click()
    await user.should_see('Your projects', retries=WAIT)
    await user.should_see(marker='empty-state')
    async with db() as session:
        assert await session.get(Project, project.id) is None


# ── item 7: the password ─────────────────────────────────────────────────────────────────────────


async def test_change_the_password_on_the_account_page(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    user.find(marker='menu-account').click()
    await user.should_see('Signed in as ada@example.com', retries=WAIT)
    await user.should_see(marker='api-tokens')  # the tokens live here too
    user.find(marker='current-password').type('not my password')
    user.find(marker='new-password').type(NEW_PASSWORD)
    user.find(marker='new-password-again').type(NEW_PASSWORD + '!')
    user.find(marker='change-password-button').click()
    await user.should_see('The two new passwords differ')
    user.find(marker='new-password-again').clear().type(NEW_PASSWORD)
    user.find(marker='change-password-button').click()
    await user.should_see('Your current password is not right.', retries=WAIT)
    user.find(marker='current-password').clear().type(PASSWORD)
    user.find(marker='change-password-button').click()
    await user.should_see('Your password is changed.', retries=WAIT)
    await log_out(user)
    await log_in(user, 'ada@example.com', PASSWORD)
    await user.should_see('Wrong email or password.', retries=WAIT)
    await log_in(user, 'ada@example.com', NEW_PASSWORD)
    await user.should_see('Your projects', retries=WAIT)


async def test_forgot_password_without_mail_says_who_can_help(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await log_out(user)
    user.find(marker='forgot-link').click()
    await user.should_see(marker='forgot-no-mail', retries=WAIT)
    await user.should_see('Ask your administrator for a password reset link')
    await user.should_not_see(marker='forgot-email')


async def test_forgot_password_mails_a_link_and_answers_the_same_for_any_address(smtp: SmtpSink, user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await log_out(user)
    answers = []
    for email in ('nobody@example.com', 'ada@example.com'):
        await user.open('/forgot')
        user.find(marker='forgot-email').type(email)
        user.find(marker='forgot-submit').click()
        await user.should_see(marker='forgot-sent', retries=WAIT)
        answers.append(next(iter(user.find(marker='forgot-sent').elements)).text)  # type: ignore[attr-defined]
    assert answers[0] == answers[1]
    [mail] = await smtp.wait_for(1)
    assert mail.recipients == ['ada@example.com']
    link = next(line for line in mail.body().splitlines() if line.startswith('https://cf.example.com/reset/'))
    await user.open(link.removeprefix('https://cf.example.com'))
    user.find(marker='reset-password').type(NEW_PASSWORD)
    user.find(marker='reset-password-again').type(NEW_PASSWORD)
    user.find(marker='reset-submit').click()
    await user.should_see(marker='reset-done', retries=WAIT)
    await log_in(user, 'ada@example.com', NEW_PASSWORD)
    await user.should_see('Your projects', retries=WAIT)
    assert len(smtp.received) == 1  # the unknown address got nothing
