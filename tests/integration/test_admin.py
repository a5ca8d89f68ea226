"""The admin's changes in core (AD-1, AD-2, AD-4, AD-5), against real Services on SQLite and Postgres with the
real migrations: each change is audited with who, before and after; refused changes save nothing; reset links
work once and expire; an admin cannot suspend themselves; a top-up raises the allowance the pacer reads; "wake
now" puts a resting build back in the queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core import accounts, admin_models, admin_system, admin_users, audit, password_reset, tiers_admin
from core.admin_settings import get_setting, global_default_model, set_retention, set_setting
from core.builds.holds import HoldContext, put_to_sleep
from core.builds.jobs import start_build
from core.builds.states import BuildState, transition
from core.config import Settings
from core.errors import Forbidden, InvalidInput
from core.events import Waking
from core.metering import model_for
from core.models import AuditEntry, BuildJob, PasswordReset, Tier, UsageRecord, User, utcnow
from core.pacing import allowance_for
from core.services import Services, build_services
from jobs.demo import founder_flow
from migrations import upgrade
from tests.services import drop_postgres_database, fresh_postgres_database

IDEA = 'A booking tool for dog groomers so owners can book a grooming slot online'
PASSWORD = 'correct horse battery'


@pytest.fixture(params=['sqlite', pytest.param('postgres', marks=pytest.mark.postgres)])
async def svc(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    url = None if request.param == 'sqlite' else fresh_postgres_database()
    settings = Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', OFFLINE_PACE_SECONDS=0,
                        STORAGE_SECRET='admin-test-secret-0123456789', WORKER_CONCURRENCY=0,
                        DATABASE_URL=url)  # fmt: skip
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    services = build_services(settings)
    await services.start()
    yield services
    await services.close()
    if url:
        drop_postgres_database(url)


async def people(svc: Services) -> tuple[User, User]:
    """The first account is the admin; the second a founder."""
    async with svc.sessions() as session:
        admin = await accounts.sign_up(session, email='admin@example.com', password=PASSWORD)
        founder = await accounts.sign_up(session, email='ada@example.com', password=PASSWORD)
    assert admin.is_admin and not founder.is_admin
    return admin, founder


async def entries(svc: Services, area: str, admin: User) -> list[AuditEntry]:
    async with svc.sessions() as session:
        return await audit.recent(session, actor=admin, area=area)


async def test_every_admin_operation_refuses_a_founder(svc: Services) -> None:
    admin, founder = await people(svc)
    async with svc.sessions() as session:
        for call in (
            admin_users.overview(session, actor=founder),
            admin_users.update_user(session, actor=founder, user_id=founder.id, tier='partner'),
            admin_users.set_model_override(session, actor=founder, user_id=founder.id, model='x'),
            admin_users.top_up(session, actor=founder, user_id=founder.id, tokens=1000),
            password_reset.issue(session, actor=founder, user_id=admin.id),
            tiers_admin.list_tiers(session, actor=founder),
            admin_models.set_global_default(session, actor=founder, model='claude-haiku-4-5'),
            admin_system.queue(session, actor=founder),
            set_retention(session, actor=founder, values={'snapshots_kept': 3}),
            audit.recent(session, actor=founder),
        ):
            with pytest.raises(Forbidden):
                await call
    async with svc.sessions() as session:
        assert (await session.get(User, founder.id)).tier == 'bootstrapper'  # type: ignore[union-attr]
        assert (await session.exec(select(AuditEntry))).all() == []


async def test_user_changes_are_audited_with_who_before_and_after(svc: Services) -> None:
    admin, founder = await people(svc)
    async with svc.sessions() as session:
        await admin_users.update_user(session, actor=admin, user_id=founder.id, tier='partner')
        await admin_users.update_user(session, actor=admin, user_id=founder.id, suspended=True)
        await admin_users.set_model_override(session, actor=admin, user_id=founder.id, model='claude-haiku-4-5')
    logged = await entries(svc, 'users', admin)
    assert [(e.action, e.target, e.before, e.after) for e in reversed(logged)] == [
        ('user.update', 'ada@example.com', {'tier': 'bootstrapper'}, {'tier': 'partner'}),
        ('user.update', 'ada@example.com', {'suspended': False}, {'suspended': True}),
        ('user.model_override', 'ada@example.com', {'model_override': None}, {'model_override': 'claude-haiku-4-5'}),
    ]
    assert {e.actor_email for e in logged} == {'admin@example.com'} and all(e.at for e in logged)
    async with svc.sessions() as session:
        again = await session.get(User, founder.id)
        assert again is not None
        assert await model_for(session, again, 'builder', 'offline-1') == 'claude-haiku-4-5'  # the override applies


async def test_an_admin_cannot_suspend_themselves_and_nothing_is_saved(svc: Services) -> None:
    admin, _ = await people(svc)
    async with svc.sessions() as session:
        with pytest.raises(InvalidInput, match='You cannot suspend your own account.'):
            await admin_users.update_user(session, actor=admin, user_id=admin.id, suspended=True)
        with pytest.raises(InvalidInput, match='Unknown tier'):
            await admin_users.update_user(session, actor=admin, user_id=admin.id, tier='platinum')
    async with svc.sessions() as session:
        me = await session.get(User, admin.id)
        assert me is not None and not me.suspended and me.tier == 'bootstrapper'
    assert await entries(svc, 'users', admin) == []


async def test_a_reset_link_works_once_and_expires(svc: Services) -> None:
    admin, founder = await people(svc)
    async with svc.sessions() as session:
        link = await password_reset.issue(session, actor=admin, user_id=founder.id)
        stored = (await session.exec(select(PasswordReset))).one()
    assert link.token not in stored.token_hash and len(stored.token_hash) == 64  # only the hash is kept
    async with svc.sessions() as session:
        assert (await password_reset.user_for(session, link.token)).email == 'ada@example.com'
        with pytest.raises(InvalidInput, match='at least 10 characters'):
            await password_reset.reset(session, token=link.token, password='short')  # refused: the link still works
        await password_reset.reset(session, token=link.token, password='a brand new secret 42')
        assert (
            await accounts.log_in(session, email='ada@example.com', password='a brand new secret 42')
        ).id == founder.id
        with pytest.raises(InvalidInput, match='not valid any more'):
            await password_reset.reset(session, token=link.token, password='another new secret 43')  # once only
    # A second link expires: past its lifetime it is refused, the password unchanged.
    async with svc.sessions() as session:
        later = await password_reset.issue(session, actor=admin, user_id=founder.id)
        expired = later.expires_at + timedelta(seconds=1)
        with pytest.raises(InvalidInput, match='not valid any more'):
            await password_reset.reset(session, token=later.token, password='too late a secret 44', now=expired)
        await accounts.log_in(session, email='ada@example.com', password='a brand new secret 42')
    actions = [e.action for e in await entries(svc, 'users', admin)]
    assert actions == ['user.reset_link', 'user.reset_link']
    assert all(later.token not in str(e.after) for e in await entries(svc, 'users', admin))


async def test_a_new_reset_link_retires_the_earlier_one(svc: Services) -> None:
    admin, founder = await people(svc)
    async with svc.sessions() as session:
        first = await password_reset.issue(session, actor=admin, user_id=founder.id)
        await password_reset.issue(session, actor=admin, user_id=founder.id)
        with pytest.raises(InvalidInput):
            await password_reset.user_for(session, first.token)


async def test_bad_tier_values_are_refused_with_each_problem_named_and_nothing_saved(svc: Services) -> None:
    admin, _ = await people(svc)
    bad = tiers_admin.TierForm('growth', '', token_allowance='lots', dollars='-5', period_days=0,
                               max_concurrent_user=2, max_concurrent_project=1, max_iterations=2.5, priority=5,
                               models={'builder': 'rm -rf /'})  # fmt: skip
    async with svc.sessions() as session:
        with pytest.raises(InvalidInput) as refused:
            await tiers_admin.create_tier(session, actor=admin, form=bad)
    message = str(refused.value)
    for words in ('Nothing was saved.', 'Name shown to founders', 'Token allowance: a whole number',
                  'Dollar allowance', 'Period (days): a whole number from 1 to 366', 'Iterations per project',
                  'Model for builder'):  # fmt: skip
        assert words in message
    partner = tiers_admin.form_of(await _tier(svc, 'partner'))
    partner.max_concurrent_project, partner.max_concurrent_user = 3, 2
    async with svc.sessions() as session:
        with pytest.raises(InvalidInput, match='per project cannot be more than builds at once per founder'):
            await tiers_admin.update_tier(session, actor=admin, form=partner)
    assert (await _tier(svc, 'partner')).max_concurrent_project == 1
    async with svc.sessions() as session:
        assert await session.get(Tier, 'growth') is None
    assert await entries(svc, 'tiers', admin) == []


async def test_tiers_are_created_and_edited_and_audited(svc: Services) -> None:
    admin, _ = await people(svc)
    form = tiers_admin.TierForm('growth', 'Growth', '120,000,000', '$60', 30, 2, 1, 4, 15,
                                models={'builder': 'claude-sonnet-4-5', 'journey': ''})  # fmt: skip
    async with svc.sessions() as session:
        await tiers_admin.create_tier(session, actor=admin, form=form)
        with pytest.raises(InvalidInput, match='exists already'):
            await tiers_admin.create_tier(session, actor=admin, form=form)
    growth = await _tier(svc, 'growth')
    assert (growth.token_allowance, growth.cost_allowance_microdollars, growth.models) == (
        120_000_000, 60_000_000, {'builder': 'claude-sonnet-4-5'})  # fmt: skip
    edit = tiers_admin.form_of(growth)
    edit.priority, edit.dollars = 25, ''
    async with svc.sessions() as session:
        await tiers_admin.update_tier(session, actor=admin, form=edit)
    growth = await _tier(svc, 'growth')
    assert (growth.priority, growth.cost_allowance_microdollars) == (25, None)
    logged = await entries(svc, 'tiers', admin)
    assert [e.action for e in logged] == ['tier.update', 'tier.create']
    assert (logged[0].before, logged[0].after) == ({'dollars': 60.0, 'priority': 15}, {'dollars': None, 'priority': 25})


async def _tier(svc: Services, name: str) -> Tier:
    async with svc.sessions() as session:
        tier = await session.get(Tier, name)
    assert tier is not None
    return tier


async def test_a_top_up_raises_this_periods_allowance_only(svc: Services) -> None:
    admin, founder = await people(svc)
    async with svc.sessions() as session:
        before = await allowance_for(session, founder)
        with pytest.raises(InvalidInput, match='Enter the tokens'):
            await admin_users.top_up(session, actor=admin, user_id=founder.id, tokens=0)
        with pytest.raises(InvalidInput, match='A top-up is 0 to'):
            await admin_users.top_up(session, actor=admin, user_id=founder.id, tokens=-5)
        await admin_users.top_up(session, actor=admin, user_id=founder.id, tokens=3_000_000, dollars=1.5)
        await admin_users.top_up(session, actor=admin, user_id=founder.id, tokens=1_000_000)
        user = await session.get(User, founder.id)
        assert user is not None
        after = await allowance_for(session, user)
        renewed = await allowance_for(session, user, now=before.period.end + timedelta(seconds=1))
    assert after.period_tokens == before.period_tokens + 4_000_000
    assert after.period_cost == (before.period_cost or 0) + 1_500_000
    assert after.daily_tokens > before.daily_tokens
    assert renewed.period_tokens == before.period_tokens  # the next period starts from the tier again
    rows = await admin_users_overview(svc, admin)
    assert rows['ada@example.com'].allowance.tokens == before.period_tokens + 4_000_000
    logged = await entries(svc, 'users', admin)
    assert (logged[0].before['topup_tokens'], logged[0].after['topup_tokens']) == (3_000_000, 4_000_000)


async def admin_users_overview(svc: Services, admin: User) -> dict[str, admin_users.UserRow]:
    async with svc.sessions() as session:
        return {row.user.email: row for row in await admin_users.overview(session, actor=admin)}


async def test_the_users_overview_shows_spend_this_period_and_builds(svc: Services) -> None:
    admin, founder = await people(svc)
    _, project_id = await founder_flow(svc, IDEA, user=founder)  # the journey's model calls are accounted
    async with svc.sessions() as session:
        used = (await session.exec(select(UsageRecord).where(UsageRecord.user_id == founder.id))).all()
        job = await start_build(session, user=founder, project_id=project_id, queue=svc.queue, events=svc.events)
    rows = await admin_users_overview(svc, admin)
    ada = rows['ada@example.com']
    assert ada.spent.tokens == sum(r.input_tokens + r.output_tokens for r in used) > 0
    assert (ada.tier_label, ada.running, ada.waiting, ada.sleeping) == ('Bootstrapper', 0, 1, [])
    assert rows['admin@example.com'].spent.tokens == 0
    async with svc.sessions() as session:
        assert [line.job_id for line in await admin_system.queue(session, actor=admin)] == [job.id]


async def test_wake_now_puts_a_resting_build_back_in_the_queue(svc: Services) -> None:
    admin, founder = await people(svc)
    _, project_id = await founder_flow(svc, IDEA, user=founder)
    async with svc.sessions() as session:
        job = await start_build(session, user=founder, project_id=project_id, queue=svc.queue, events=svc.events)
    await transition(svc.events, job.id, BuildState.STARTING)
    await transition(svc.events, job.id, BuildState.CODE)
    wake_at = utcnow() + timedelta(hours=20)
    resting = await put_to_sleep(HoldContext(svc.sessions, svc.events, svc.notifier, svc.blobs, job, None),
                                 wake_at=wake_at, reason="Today's budget is spent.", done_today='Set up.')  # fmt: skip
    assert resting.state == 'SLEEPING'
    rows = await admin_users_overview(svc, admin)
    assert [b.job_id for b in rows['ada@example.com'].sleeping] == [job.id]
    async with svc.sessions() as session:
        under_way = await admin_system.under_way(session, actor=admin)
        assert [(line.state_label, line.owner) for line in under_way] == [('Resting', 'ada@example.com')]
        woken = await admin_users.wake_now(session, actor=admin, job_id=job.id, events=svc.events, queue=svc.queue)
        assert woken.state == 'QUEUED'
        with pytest.raises(Exception, match='not resting any more'):
            await admin_users.wake_now(session, actor=admin, job_id=job.id, events=svc.events, queue=svc.queue)
    events = await svc.events.read(job.id)
    assert isinstance(events[-1], Waking)
    async with svc.sessions() as session:
        row = await session.get(BuildJob, job.id)
        assert row is not None and row.state == 'QUEUED' and row.wake_at is None
    logged = await entries(svc, 'users', admin)
    assert logged[0].action == 'build.wake_now' and logged[0].after == {'state': 'QUEUED'}


async def test_global_default_model_retention_and_kill_switch_are_audited(svc: Services) -> None:
    admin, founder = await people(svc)
    async with svc.sessions() as session:
        with pytest.raises(InvalidInput):
            await admin_models.set_global_default(session, actor=admin, model='no spaces please')
        await admin_models.set_global_default(session, actor=admin, model='claude-haiku-4-5')
        assert await global_default_model(session) == 'claude-haiku-4-5'
        assert await model_for(session, founder, 'journey', 'offline-1') == 'claude-haiku-4-5'
        with pytest.raises(InvalidInput, match='Nothing was saved. Snapshots kept per project: a whole number from 1'):
            await set_retention(session, actor=admin, values={'snapshots_kept': 0, 'workspace_days': 3})
        assert (await get_setting(session, 'retention'))['workspace_days'] == 7  # nothing saved
        retention = await set_retention(session, actor=admin, values={'snapshots_kept': '3', 'workspace_days': 7})
        await set_setting(session, actor=admin, key='autonomous_builds', value={'enabled': False})
    assert retention.snapshots_kept == 3
    models = await entries(svc, 'models', admin)
    assert [(e.action, e.before, e.after) for e in models] == [
        ('setting.models', {'default': ''}, {'default': 'claude-haiku-4-5'})]  # fmt: skip
    system = await entries(svc, 'system', admin)
    assert [(e.action, e.before, e.after) for e in system] == [
        ('setting.autonomous_builds', {'enabled': True}, {'enabled': False}),
        ('setting.retention', {'snapshots_kept': 5}, {'snapshots_kept': 3}),  # unchanged values are not listed
    ]


async def test_testing_the_provider_makes_a_real_accounted_call_and_shows_its_status(svc: Services) -> None:
    admin, _ = await people(svc)
    llm = svc.llm_for(admin.id, None, role='provider_test')
    result = await admin_models.check_provider(svc.sessions, actor=admin, llm=llm, provider=svc.llm.name,
                                               model=svc.model)  # fmt: skip
    assert result.ok and result.model == 'offline-1'
    async with svc.sessions() as session:
        usage = (await session.exec(select(UsageRecord).where(UsageRecord.user_id == admin.id))).all()
        statuses = await admin_models.provider_statuses(
            session, actor=admin, configured=admin_models.configured_providers(anthropic_key=False, openai_url=False),
            in_use=svc.llm.name)  # fmt: skip
    assert [(u.role, u.model) for u in usage] == [('provider_test', 'offline-1')]
    by_name = {s.name: s for s in statuses}
    assert by_name['offline'].in_use and by_name['offline'].reachable is True and by_name['offline'].last_error == ''
    assert not by_name['anthropic'].configured and by_name['anthropic'].reachable is None
    assert 'ANTHROPIC_API_KEY' in by_name['anthropic'].note


async def test_scheduler_jobs_are_read_from_the_job_store(svc: Services) -> None:
    admin, _ = await people(svc)
    from jobs.scheduler import Scheduler  # the real scheduler writes its table

    scheduler = Scheduler(svc)
    await scheduler.start()
    try:
        async with asyncio.timeout(30):
            while not scheduler.leading:  # noqa: ASYNC110 - the lead is taken by the scheduler's own task
                await asyncio.sleep(0.05)
        async with svc.sessions() as session:
            jobs = await admin_system.scheduled_jobs(session, actor=admin)
    finally:
        await scheduler.stop()
    assert {'plan-wakes', 'retention', 'requeue-stale-builds'} <= {job.id for job in jobs}
    assert all(job.next_run is not None and job.next_run > utcnow() - timedelta(minutes=1) for job in jobs)


async def test_recent_errors_are_the_failed_builds_summaries(svc: Services) -> None:
    admin, founder = await people(svc)
    _, project_id = await founder_flow(svc, IDEA, user=founder)
    async with svc.sessions() as session:
        job = await start_build(session, user=founder, project_id=project_id, queue=svc.queue, events=svc.events)
    await transition(svc.events, job.id, BuildState.STARTING)
    summary = 'The app did not start: port 8000 was taken.'
    await transition(svc.events, job.id, BuildState.FAILED, reason=summary, error_summary=summary)
    async with svc.sessions() as session:
        failures = await admin_system.recent_failures(session, actor=admin)
    assert [(f.job_id, f.owner, f.summary) for f in failures] == [(job.id, 'ada@example.com', summary)]
