"""BU-1…BU-3, BU-6, BU-7 on SQLite and Postgres: the period, today's allowance, the decision before a call,
what a founder's journey calls cost, and the spend report the pages show."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.adapters.llm_offline import OfflineLLM
from core.journey import projects
from core.metering import MeteredLLM, record_usage
from core.models import Tier, UsageRecord, User
from core.pacing import allowance_for, decide
from core.ports import Usage
from core.spending import spend_report

SIGN_UP = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def founder(session, *, tokens: int = 3_000_000, cost: int | None = None, cap: int | None = None) -> User:  # type: ignore[no-untyped-def]
    tier = Tier(name=f't{uuid.uuid4().hex[:6]}', label='T', token_allowance=tokens, cost_allowance_microdollars=cost,
                daily_token_cap=cap, period_days=30)  # fmt: skip
    user = User(email=f'{uuid.uuid4().hex[:8]}@example.com', password_hash='x', tier=tier.name,
                period_started_at=SIGN_UP)  # fmt: skip
    session.add_all([tier, user])
    await session.commit()
    return user


async def spend(session, user: User, at: datetime, tokens: int, project: uuid.UUID | None = None) -> None:  # type: ignore[no-untyped-def]
    """A call of `tokens` input tokens on Sonnet ($3 per million: 3 µ$ a token), through the recording path."""
    await record_usage(session, user_id=user.id, project_id=project, job_id=None, role='builder',
                       model='claude-sonnet-4-5', provider='anthropic', usage=Usage(tokens, 0), at=at)  # fmt: skip


async def test_daily_allowance_is_what_is_left_shared_over_the_days_left(session_factory) -> None:
    async with session_factory() as session:
        user = await founder(session)
        await spend(session, user, SIGN_UP + DAY * 2, 900_000)
        await spend(session, user, SIGN_UP + DAY * 10 + timedelta(hours=1), 7)
        await session.commit()
        now = SIGN_UP + DAY * 10 + timedelta(hours=5)  # day 11 of 30: 20 days left, today included
        allowance = await allowance_for(session, user, now=now)
    assert allowance.period.start == SIGN_UP and allowance.period.end == SIGN_UP + DAY * 30
    assert allowance.day.start == SIGN_UP + DAY * 10 and allowance.days_left == 20
    assert allowance.daily_tokens == (3_000_000 - 900_000) // 20  # today's own spend does not shrink today
    assert allowance.spent_today.tokens == 7 and allowance.spent_period.tokens == 900_007


async def test_the_period_renews_and_the_spend_before_it_no_longer_counts(session_factory) -> None:
    async with session_factory() as session:
        user = await founder(session)
        await spend(session, user, SIGN_UP + DAY * 29, 2_999_000)
        await session.commit()
        renewed = await allowance_for(session, user, now=SIGN_UP + DAY * 30 + timedelta(hours=1))
    assert renewed.period.start == SIGN_UP + DAY * 30 and renewed.spent_period.tokens == 0
    assert renewed.daily_tokens == 3_000_000 // 30


async def test_a_dollar_allowance_and_a_daily_cap_pace_too(session_factory) -> None:
    async with session_factory() as session:
        user = await founder(session, tokens=300_000_000, cost=30_000_000)  # $30 a period: $1 a day
        await spend(session, user, SIGN_UP + DAY / 2, 300_000)  # $0.90 on Sonnet, 3 % of the day's tokens
        await session.commit()
        allowance = await allowance_for(session, user, now=SIGN_UP + DAY * 0.75)
        capped = await allowance_for(session, await founder(session, cap=50_000), now=SIGN_UP)
    assert allowance.daily_tokens == 10_000_000 and allowance.daily_cost == 1_000_000
    assert allowance.used_ratio() == 0.9  # dollars are further along than tokens
    assert capped.daily_tokens == 50_000  # 100k a day would be left, the tier caps it


async def test_before_a_call_go_capped_then_sleep_then_stop(session_factory) -> None:
    async with session_factory() as session:
        user = await founder(session, cap=10_000)
        now = SIGN_UP + DAY * 3 + timedelta(hours=2)
        fresh = await allowance_for(session, user, now=now)
        await spend(session, user, now - timedelta(minutes=5), 9_000)
        await session.commit()
        late = await allowance_for(session, user, now=now)
        await spend(session, user, now - timedelta(minutes=4), 1_500)
        await session.commit()
        over = await allowance_for(session, user, now=now)
        await spend(session, user, now - timedelta(minutes=3), 1_000)
        await session.commit()
        broken = await allowance_for(session, user, now=now)
    prices = {'price_in': 3.0, 'price_out': 15.0}
    assert decide(fresh, input_tokens=1_000, max_tokens=4_096, **prices).max_tokens == 4_096
    capped = decide(late, input_tokens=1_000, max_tokens=4_096, **prices)
    assert capped.action == 'go' and capped.max_tokens == 11_000 - 9_000 - 1_000  # the worst case fits under 110 %
    asleep = decide(over, input_tokens=1_000, max_tokens=4_096, **prices)
    assert asleep.action == 'sleep' and asleep.wake_at == SIGN_UP + DAY * 4  # the next daily refresh
    assert decide(broken, input_tokens=1, max_tokens=4_096, **prices).action == 'stop'  # 11,500 > 110 %


async def test_journey_calls_are_accounted_with_the_resolved_model(session_factory) -> None:
    async with session_factory() as session:
        user = await founder(session)
        user.model_override = 'offline-special'
        await session.commit()
        project = await projects.create_project(
            session, user=user, idea='A booking tool for dog groomers with deposits'
        )
    llm = MeteredLLM(OfflineLLM(pace_seconds=0), session_factory, user_id=user.id, project_id=project.id,
                     role='journey', global_default='offline-1')  # fmt: skip
    await llm.complete(system='You are the project assistant.', messages=[{'role': 'user', 'content': 'Hello'}])
    async with session_factory() as session:
        rows = (await session.exec(UsageRecord.__table__.select())).all()  # type: ignore[attr-defined]
    assert len(rows) == 1 and rows[0].role == 'journey' and rows[0].model == 'offline-special'
    assert rows[0].input_tokens > 0 and rows[0].cost_microdollars == 0 and rows[0].project_id == project.id


async def test_the_spend_report_lists_each_day_of_the_period_so_far(session_factory) -> None:
    async with session_factory() as session:
        user = await founder(session)
        mine, other = uuid.uuid4(), uuid.uuid4()
        await spend(session, user, SIGN_UP + DAY * 0.5, 100, mine)
        await spend(session, user, SIGN_UP + DAY * 2.5, 40, other)
        await spend(session, user, SIGN_UP + DAY * 2.6, 60, mine)
        await session.commit()
        everything = await spend_report(session, user, now=SIGN_UP + DAY * 2.9)
        one = await spend_report(session, user, project_id=mine, now=SIGN_UP + DAY * 2.9)
    assert [d.tokens for d in everything.days] == [100, 0, 100] and everything.days[-1].today
    assert [d.tokens for d in one.days] == [100, 0, 60] and one.spent.cost_microdollars == 3 * 160
