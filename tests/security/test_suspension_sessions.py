"""Issue 29, item 3: suspension and sessions, in NiceGUI's simulated browser against main.py.

An open page acts for the account as it is now, not as it was when the page opened; suspending a founder sends
their open pages to the login page and ends their preview links and API tokens; logging in gives the browser a
new session id (a cookie planted before the login does not ride into the session); COOKIE_SECURE marks the
session cookie Secure.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core import accounts, admin_users, api_tokens
from core.builds import preview
from core.models import BuildJob, Project
from core.models import User as Account
from core.services import Services
from tests.ui.conftest import PASSWORD, log_in

WAIT = 100
SUSPENDED = 'This account is suspended. Contact your administrator.'
IDEA = 'A booking tool for independent dog groomers so clients can pick a slot and pay a deposit.'


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')  # the build rows written here are nobody's work


def services() -> Services:
    return app.state.services


async def admin_and_founder(db) -> tuple[Account, Account]:  # type: ignore[no-untyped-def]
    async with db() as session:
        admin = await accounts.sign_up(session, email='root@example.com', password=PASSWORD)  # the first: admin
        founder = await accounts.sign_up(session, email='ada@example.com', password=PASSWORD)
    assert admin.is_admin and not founder.is_admin
    return admin, founder


async def suspend(db, admin: Account, founder: Account, suspended: bool = True) -> None:  # type: ignore[no-untyped-def]
    async with db() as session:
        await admin_users.update_user(session, actor=admin, user_id=founder.id, suspended=suspended)


async def open_signed_in(user: User, path: str) -> None:
    await log_in(user, 'ada@example.com')
    await user.should_see('Your projects', retries=WAIT)
    await user.open(path)


async def test_an_open_page_of_a_suspended_founder_changes_nothing(user: User, db) -> None:  # type: ignore[no-untyped-def]
    admin, founder = await admin_and_founder(db)
    await open_signed_in(user, '/projects/new')
    await user.should_see(marker='idea-input')
    # suspended from a process whose news does not reach this page (no shared notifier): the page stays open
    accounts.set_announcer(None)
    await suspend(db, admin, founder)

    user.find(marker='idea-input').type(IDEA)
    user.find(marker='idea-continue').click()
    await user.should_see(SUSPENDED, retries=WAIT)
    async with db() as session:
        assert (await session.exec(select(Project))).all() == []


async def test_suspension_ends_the_open_pages_preview_links_and_api_tokens(user: User, db) -> None:  # type: ignore[no-untyped-def]
    admin, founder = await admin_and_founder(db)
    async with db() as session:
        project = Project(owner_id=founder.id, title='Groomers', idea=IDEA, stage='mvp_built')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=founder.id, state='READY')
        session.add(job)
        await session.commit()
        secret = (await api_tokens.create_token(session, user=founder, name='deploy bot')).secret
    link = preview.preview_token('preview secret', job.id, lifetime_s=600)
    bearer = {'Authorization': f'Bearer {secret}'}
    await open_signed_in(user, '/projects/new')
    assert (await user.http_client.get('/api/v1/projects', headers=bearer)).status_code == 200
    assert await preview.link_valid(services().sessions, 'preview secret', job, link)

    await suspend(db, admin, founder)
    await user.should_see(marker='login-button', retries=WAIT)  # the open page went to the login page
    assert not await preview.link_valid(services().sessions, 'preview secret', job, link)
    refused = await user.http_client.get('/api/v1/projects', headers=bearer)
    assert refused.status_code == 403 and 'suspended' in refused.text

    await suspend(db, admin, founder, suspended=False)  # unsuspended: the old token stays revoked
    assert (await user.http_client.get('/api/v1/projects', headers=bearer)).status_code == 401
    async with db() as session:
        assert await api_tokens.list_tokens(session, user=founder) == []


async def test_logging_in_gives_the_browser_a_new_session_id(user: User, db) -> None:  # type: ignore[no-untyped-def]
    await admin_and_founder(db)
    await user.open('/login')
    before = user.client.request.session['id']  # type: ignore[union-attr]
    planted = dict(user.http_client.cookies)  # what an attacker who fixed this browser's cookie also holds

    await log_in(user, 'ada@example.com')
    await user.should_see('Your projects', retries=WAIT)
    after = user.client.request.session['id']  # type: ignore[union-attr]
    assert before != after

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url='http://test', cookies=planted) as attacker:
        response = await attacker.get('/')
    assert response.status_code == 303 and response.headers['location'].startswith('/login')


async def test_a_stolen_sign_in_ticket_needs_the_browser_it_was_issued_to(user: User, db) -> None:  # type: ignore[no-untyped-def]
    """The completion link works once, for the browser whose login made it; a guessed ticket goes to log in."""
    await admin_and_founder(db)
    await user.open('/login')
    response = await user.http_client.get(f'/login/complete?ticket={uuid.uuid4().hex}&next=/')
    assert response.status_code == 303 and response.headers['location'].startswith('/login')


@pytest.fixture(params=[True, False], ids=['secure', 'plain'])
def cookie_secure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setenv('COOKIE_SECURE', 'true' if request.param else 'false')  # requested before `user`
    return bool(request.param)


async def test_cookie_secure_marks_the_session_cookie(cookie_secure: bool, user: User) -> None:
    response = await user.http_client.get('/login')
    cookie = response.headers['set-cookie'].lower()
    assert cookie.startswith('session=')
    assert ('; secure' in cookie) is cookie_secure
