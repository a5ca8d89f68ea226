"""Sign up, log in, log out, and the rules around them, as a founder sees them."""

from __future__ import annotations

import uuid

from nicegui.testing import User
from sqlmodel import select

from core.admin_settings import builds_enabled
from core.models import Project
from core.models import User as Account
from tests.ui.conftest import PASSWORD, log_in, log_out, sign_up


async def test_new_founder_signs_up_and_sees_empty_dashboard(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await user.should_see(marker='empty-state')
    await user.should_see('No projects yet')


async def test_pages_redirect_to_login_when_signed_out(user: User) -> None:
    await user.open('/')
    await user.should_see('Log in')
    await user.should_not_see('Your projects')


async def test_wrong_password_shows_clear_message(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await log_out(user)
    await log_in(user, 'ada@example.com', 'not the password at all')
    await user.should_see('Wrong email or password.')


async def test_log_out_then_log_in_again(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await log_out(user)
    await log_in(user, 'ada@example.com')
    await user.should_see('Your projects')


async def test_taken_email_and_weak_password_are_explained(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await log_out(user)
    await user.open('/signup')
    user.find('Email').type('ada@example.com')
    user.find('Password').type(PASSWORD)
    user.find(marker='signup-button').click()
    await user.should_see('An account with this email already exists')
    user.find('Email').clear().type('bob@example.com')
    user.find('Password').clear().type('short')
    user.find(marker='signup-button').click()
    await user.should_see('at least 10 characters')


async def test_suspended_founder_is_refused(user: User, db) -> None:  # type: ignore[no-untyped-def]
    await sign_up(user, 'admin@example.com')
    await log_out(user)
    await sign_up(user, 'eve@example.com')
    async with db() as session:
        eve = (await session.exec(select(Account).where(Account.email == 'eve@example.com'))).one()
        eve.suspended = True
        await session.commit()
    await user.open('/')  # the live session ends at the next page
    await user.should_see('Log in')
    await log_in(user, 'eve@example.com')
    await user.should_see('This account is suspended')


async def test_founder_cannot_open_another_founders_project(user: User, db) -> None:  # type: ignore[no-untyped-def]
    await sign_up(user, 'owner@example.com')
    async with db() as session:
        owner = (await session.exec(select(Account).where(Account.email == 'owner@example.com'))).one()
        project = Project(owner_id=owner.id, title='Secret groomer plan', idea='A booking tool for dog groomers')
        session.add(project)
        await session.commit()
    await user.open(f'/projects/{project.id}')
    await user.should_see('Secret groomer plan')
    await log_out(user)
    await sign_up(user, 'intruder@example.com')
    await user.open(f'/projects/{project.id}')
    await user.should_see('Project not found')
    await user.should_not_see('Secret groomer plan')
    await user.open(f'/projects/{uuid.uuid4()}')
    await user.should_see('Project not found')


async def test_admin_page_refused_to_founders(user: User) -> None:
    await sign_up(user, 'admin@example.com')  # first account is admin
    await log_out(user)
    await sign_up(user, 'founder@example.com')
    await user.should_not_see(marker='nav-admin')
    refused = await user.http_client.get('/admin')  # a 403 page (tests/ui/test_admin_ui.py covers every admin page)
    assert refused.status_code == 403 and 'This page is for administrators.' in refused.text
    assert 'admin@example.com' not in refused.text


async def test_admin_suspends_and_changes_tier(user: User, db) -> None:  # type: ignore[no-untyped-def]
    await sign_up(user, 'founder1@example.com')  # first: admin
    await log_out(user)
    await sign_up(user, 'founder2@example.com')
    await log_out(user)
    await log_in(user, 'founder1@example.com')
    await user.should_see('Your projects')
    await user.open('/admin')
    await user.should_see('founder2@example.com')
    user.find(marker='suspend-founder2@example.com').click()
    await user.should_see('Founder · Suspended')
    async with db() as session:
        row = (await session.exec(select(Account).where(Account.email == 'founder2@example.com'))).one()
        assert row.suspended


async def test_admin_turns_autonomous_builds_off(user: User, db) -> None:  # type: ignore[no-untyped-def]
    await sign_up(user, 'admin@example.com')
    await user.open('/admin/system')  # the kill switch lives on the admin's System page
    await user.should_see(marker='builds-switch', retries=50)
    user.find(marker='builds-switch').click()
    await user.should_see('new builds are refused')
    async with db() as session:
        assert not await builds_enabled(session)
