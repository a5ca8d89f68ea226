"""The admin console (AD-1…AD-5) in NiceGUI's simulated browser: founders get a 403 page on every admin page;
each change made on a page is audited and shown there; bad values are refused with a message and nothing saved;
a reset link is shown once and works once; an admin cannot suspend themselves; a flag turned off refuses the
feature with the message core gives, and a per-founder override turns it on for that founder only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core import flags
from core.admin_settings import builds_enabled, retention_settings
from core.builds.holds import HoldContext, put_to_sleep
from core.builds.jobs import start_build
from core.builds.states import BuildState, transition
from core.models import AuditEntry, Tier, utcnow
from core.models import User as Account
from core.pacing import allowance_for
from core.services import Services
from jobs.demo import founder_flow
from tests.ui.conftest import log_in, log_out, sign_up
from tests.ui.test_versions_ui import founder_with_versions

PAGES = ('/admin', '/admin/models', '/admin/tiers', '/admin/flags', '/admin/system')
WAIT = 100
IDEA = 'A booking tool for independent dog groomers so clients can pick a slot and pay a deposit.'


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')  # builds queued here stay queued: this process runs none


def services() -> Services:
    return app.state.services


async def admin_and_founder(user: User) -> None:
    """admin@ signs up first (so is the administrator), then ada@; the admin is signed in at the end."""
    await sign_up(user, 'admin@example.com')
    await log_out(user)
    await sign_up(user, 'ada@example.com')
    await log_out(user)
    await log_in(user, 'admin@example.com')
    await user.should_see('Your projects', retries=WAIT)


async def account(email: str) -> Account:
    async with services().sessions() as session:
        return (await session.exec(select(Account).where(Account.email == email))).one()


async def audit_actions(area: str) -> list[str]:
    async with services().sessions() as session:
        rows = (await session.exec(select(AuditEntry).where(AuditEntry.area == area))).all()
    return [row.action for row in rows]


async def test_every_admin_page_refuses_founders_with_a_403_page(user: User) -> None:
    await sign_up(user, 'admin@example.com')
    await log_out(user)
    await sign_up(user, 'founder@example.com')
    await user.should_not_see(marker='nav-admin')
    for path in PAGES:
        response = await user.http_client.get(path)
        assert response.status_code == 403, path
        assert 'This page is for administrators.' in response.text
        assert 'admin@example.com' not in response.text
    await log_out(user)
    response = await user.http_client.get('/admin/tiers', follow_redirects=False)
    assert response.status_code in {302, 303, 307} and '/login' in response.headers['location']


async def test_the_users_page_names_tiers_refuses_self_suspension_and_audits_each_change(user: User) -> None:
    await admin_and_founder(user)
    await user.open('/admin')
    await user.should_see(marker='admin-heading')
    await user.should_see('Admin · Users')
    await user.should_see(marker='user-admin@example.com', retries=WAIT)
    with user.scope(marker='user-admin@example.com'):
        await user.should_see('Admin · Active · Bootstrapper', retries=WAIT)  # the tier by its name
        await user.should_see('You cannot suspend your own account.')
        await user.should_not_see(marker='suspend-admin@example.com')
        await user.should_see('Builds: 0 running · 0 resting · 0 waiting')
    user.find(marker='suspend-ada@example.com').click()
    await user.should_see('Founder · Suspended · Bootstrapper', retries=WAIT)
    with user.scope(marker='audit-log'):
        await user.should_see('user.update', retries=WAIT)
        await user.should_see('suspended: off → suspended: on')
    user.find(marker='model-ada@example.com').type('claude-haiku-4-5')
    user.find(marker='model-save-ada@example.com').click()
    await user.should_see('model_override: (none) → model_override: claude-haiku-4-5', retries=WAIT)
    assert (await account('ada@example.com')).suspended
    assert (await account('ada@example.com')).model_override == 'claude-haiku-4-5'
    assert sorted(await audit_actions('users')) == ['user.model_override', 'user.update']
    user.find(marker='user-search').type('nobody-like-this')
    await user.should_see('No users match.', retries=WAIT)


async def test_a_top_up_raises_the_founders_allowance_and_wake_now_queues_a_resting_build(user: User) -> None:
    await admin_and_founder(user)
    ada = await account('ada@example.com')
    svc = services()
    async with svc.sessions() as session:
        before = (await allowance_for(session, ada)).period_tokens
    _, project_id = await founder_flow(svc, IDEA, user=ada)
    async with svc.sessions() as session:
        job = await start_build(session, user=ada, project_id=project_id, queue=svc.queue, events=svc.events)
    await transition(svc.events, job.id, BuildState.STARTING)
    await transition(svc.events, job.id, BuildState.CODE)
    await put_to_sleep(HoldContext(svc.sessions, svc.events, svc.notifier, svc.blobs, job, None),
                       wake_at=utcnow() + timedelta(hours=20), reason="Today's budget is spent.",
                       done_today='Set up.')  # fmt: skip
    await user.open('/admin')
    await user.should_see(marker='user-ada@example.com', retries=WAIT)
    with user.scope(marker='user-ada@example.com'):
        await user.should_see('Builds: 0 running · 1 resting · 0 waiting', retries=WAIT)
    user.find(marker='topup-tokens-ada@example.com').type('5000000')
    user.find(marker='topup-ada@example.com').click()
    await user.should_see('topped up by 5,000,000 tokens', retries=WAIT)
    await user.should_see(f'of {before + 5_000_000:,} tokens')
    user.find(marker=f'wake-{job.id}').click()
    await user.should_see('Builds: 0 running · 0 resting · 1 waiting', retries=WAIT)
    await user.should_see(marker='no-builds-waiting')
    async with svc.sessions() as session:
        assert (await allowance_for(session, await account('ada@example.com'))).period_tokens == before + 5_000_000
    assert sorted(await audit_actions('users')) == ['build.wake_now', 'user.top_up']


async def test_a_reset_link_is_shown_once_and_sets_a_new_password_once(user: User) -> None:
    await admin_and_founder(user)
    await user.open('/admin')
    await user.should_see(marker='reset-ada@example.com', retries=WAIT)
    user.find(marker='reset-ada@example.com').click()
    await user.should_see(marker='reset-link', retries=WAIT)
    link = user.find(marker='reset-link').elements.pop().text
    path = '/reset/' + link.rsplit('/reset/', 1)[1]
    async with services().sessions() as session:
        entry = (await session.exec(select(AuditEntry))).one()
    assert entry.action == 'user.reset_link' and path.rsplit('/', 1)[1] not in str(entry.after)
    await user.open('/admin')
    await user.should_not_see(marker='reset-link')  # shown once
    await log_out(user)
    await user.open(path)
    await user.should_see('For ada@example.com')
    user.find(marker='reset-password').type('a brand new secret 42')
    user.find(marker='reset-password-again').type('a brand new secret 42')
    user.find(marker='reset-submit').click()
    await user.should_see(marker='reset-done', retries=WAIT)
    await user.open(path)
    await user.should_see('This reset link is not valid any more')
    await log_in(user, 'ada@example.com', 'a brand new secret 42')
    await user.should_see('Your projects', retries=WAIT)


async def test_bad_tier_values_are_refused_and_nothing_saved_a_good_edit_is_audited(user: User) -> None:
    await admin_and_founder(user)
    await user.open('/admin/tiers')
    await user.should_see('Admin · Tiers and budgets')
    await user.should_see(marker='tier-edit-partner', retries=WAIT)
    user.find(marker='tier-edit-partner').click()
    user.find(marker='tier-form-token_allowance').clear().type('a lot')
    user.find(marker='tier-form-period_days').clear().type('0')
    user.find(marker='tier-save').click()
    await user.should_see('Nothing was saved.', retries=WAIT)
    await user.should_see('Period (days): a whole number from 1 to 366.')
    async with services().sessions() as session:
        partner = await session.get(Tier, 'partner')
        assert partner is not None and partner.token_allowance == 300_000_000 and partner.period_days == 30
    user.find(marker='tier-form-token_allowance').clear().type('400000000')
    user.find(marker='tier-form-period_days').clear().type('30')
    user.find(marker='tier-save').click()
    await user.should_see('400,000,000 tokens · $150.00 per 30 days', retries=WAIT)
    with user.scope(marker='audit-log'):
        await user.should_see('token_allowance: 300000000 → token_allowance: 400000000', retries=WAIT)
    user.find(marker='tier-new').click()
    user.find(marker='tier-form-name').type('growth')
    user.find(marker='tier-form-label').type('Growth')
    user.find(marker='tier-save').click()
    await user.should_see('Growth (growth)', retries=WAIT)
    assert await audit_actions('tiers') == ['tier.update', 'tier.create']


async def test_a_flag_turned_off_refuses_the_founder_with_cores_message_and_an_override_lets_one_in(
    user: User,
) -> None:
    await sign_up(user, 'admin@example.com')
    await user.open('/admin/flags')
    await user.should_see('Iteration builds', retries=WAIT)
    user.find(marker='flag-switch-iterations').click()
    with user.scope(marker='audit-log'):
        await user.should_see('flag.global', retries=WAIT)
    await log_out(user)
    await sign_up(user, 'ada@example.com')
    _, project, _ = await founder_with_versions('ada@example.com', count=1)
    await user.open(f'/projects/{project.id}/change')
    await user.should_see('You are changing v0.1, your current version.', retries=WAIT)
    await user.should_see(marker='beta-iterations')  # labelled Beta where it is offered
    user.find(marker='change-request').type('Add a waiting list page for fully booked days')
    user.find(marker='change-start').click()
    await user.should_see(flags.refusal('iterations'), retries=WAIT)  # the very message core raises
    await log_out(user)

    await log_in(user, 'admin@example.com')
    await user.should_see('Your projects', retries=WAIT)
    await user.open('/admin/flags')
    await user.should_see(marker='override-email-iterations', retries=WAIT)
    user.find(marker='override-email-iterations').type('ada@example.com')
    user.find(marker='override-add-iterations').click()
    await user.should_see(marker='override-iterations-ada@example.com', retries=WAIT)
    async with services().sessions() as session:
        assert await flags.is_enabled(session, await account('ada@example.com'), 'iterations')
        assert not await flags.is_enabled(session, await account('admin@example.com'), 'iterations')
    await log_out(user)
    await log_in(user, 'ada@example.com')
    await user.should_see('Your projects', retries=WAIT)
    await user.open(f'/projects/{project.id}/change')
    await user.should_see(marker='change-request', retries=WAIT)
    user.find(marker='change-request').type('Add a waiting list page for fully booked days')
    user.find(marker='change-start').click()
    await user.should_see(marker='change-artifact', retries=WAIT)  # allowed for her: the change request is drafted
    await user.should_not_see(flags.refusal('iterations'))
    assert await audit_actions('flags') == ['flag.global', 'flag.override']


async def test_the_models_page_tests_the_provider_and_saves_defaults(user: User) -> None:
    await sign_up(user, 'admin@example.com')
    await user.open('/admin/models')
    await user.should_see('Admin · Models')
    await user.should_see(marker='provider-offline', retries=WAIT)
    with user.scope(marker='provider-offline'):
        await user.should_see('in use', retries=WAIT)
        await user.should_see('Reachable: not tested yet.')
    await user.should_see(marker='provider-anthropic', retries=WAIT)
    with user.scope(marker='provider-anthropic'):
        await user.should_see('Not configured: set ANTHROPIC_API_KEY.')
    await user.should_see(marker='price-table', retries=WAIT)
    with user.scope(marker='price-table'):
        await user.should_see('claude-sonnet-4-5: $3 in · $15 out')
    user.find(marker='provider-test').click()
    await user.should_see('Reachable: yes', retries=WAIT)  # the page is drawn again with the test's result
    user.find(marker='model-default').type('bad model id')
    user.find(marker='model-default-save').click()
    await user.should_see('A model id is letters, digits', retries=WAIT)
    user.find(marker='model-default').clear().type('offline-1')
    user.find(marker='model-default-save').click()
    with user.scope(marker='audit-log'):
        await user.should_see('default: offline-1', retries=WAIT)
    user.find(marker='tier-model-partner-builder').type('claude-opus-4-5')
    user.find(marker='tier-models-save-partner').click()
    with user.scope(marker='audit-log'):
        await user.should_see('models: {builder: claude-opus-4-5}', retries=WAIT)
    async with services().sessions() as session:
        partner = await session.get(Tier, 'partner')
        assert partner is not None and partner.models == {'builder': 'claude-opus-4-5'}
    assert sorted(await audit_actions('models')) == ['provider.test', 'setting.models', 'tier.update']


async def test_the_system_page_shows_health_and_edits_retention_and_the_kill_switch(user: User) -> None:
    await sign_up(user, 'admin@example.com')
    await user.open('/admin/system')
    await user.should_see('Admin · System')
    await user.should_see(marker='health-database', retries=WAIT)
    await user.should_see('Scheduler leader')
    await user.should_see('Queue: 0 waiting for a worker')
    await user.should_see('No build failed recently.')
    await user.should_see(marker='retention-snapshots_kept', retries=WAIT)
    user.find(marker='retention-snapshots_kept').clear().type('0')
    user.find(marker='retention-save').click()
    await user.should_see('Snapshots kept per project: a whole number from 1', retries=WAIT)
    user.find(marker='retention-snapshots_kept').clear().type('3')
    user.find(marker='retention-save').click()
    await user.should_see('The newest 3 snapshots of each project are kept.', retries=WAIT)
    user.find(marker='builds-switch').click()
    await user.should_see('new builds are refused', retries=WAIT)
    with user.scope(marker='audit-log'):
        await user.should_see('setting.autonomous_builds', retries=WAIT)
    async with services().sessions() as session:
        assert (await retention_settings(session)).snapshots_kept == 3
        assert not await builds_enabled(session)
    assert sorted(await audit_actions('system')) == ['setting.autonomous_builds', 'setting.retention']
