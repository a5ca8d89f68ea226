"""The admin's Users page (AD-1, AD-4): each account with its tier by name, its spend this period and its
builds; changes to role, tier, suspension, model override and this period's allowance, each audited; and
"wake now" for a resting build.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import accounts, audit
from core.builds.holds import wake
from core.builds.states import RUNNING, BuildState
from core.errors import Conflict, InvalidInput, NotFound
from core.event_log import EventLog
from core.models import BuildJob, Project, Tier, UsageDay, User
from core.pacing import Spend, Window, as_utc, calendar_for
from core.ports import JobQueue
from core.row_locks import lock_for_update

MODEL_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}$')
MAX_TOPUP_TOKENS = 10_000_000_000
MAX_TOPUP_DOLLARS = 100_000
RUNNING_VALUES = [s.value for s in RUNNING]
WAITING_VALUES = [BuildState.QUEUED.value, BuildState.NEEDS_INPUT.value]


@dataclass(frozen=True)
class SleepingBuild:
    job_id: uuid.UUID
    project_title: str
    wake_at: datetime | None


@dataclass
class UserRow:
    """One account as the Users page shows it."""

    user: User
    tier_label: str
    period: Window
    allowance: Spend  # this period's, top-up included (cost 0 when the tier has no dollar allowance)
    has_cost_allowance: bool
    topup: Spend
    spent: Spend
    running: int = 0
    waiting: int = 0  # queued, or waiting for the founder's decision
    sleeping: list[SleepingBuild] = field(default_factory=list)


async def overview(session: AsyncSession, *, actor: User, search: str = '') -> list[UserRow]:
    """The accounts matching `search`, each with its tier label, period spend and builds (a few queries in all)."""
    users = await accounts.list_users(session, actor=actor, search=search)
    rows: dict[uuid.UUID, UserRow] = {}
    for user in users:
        cal = await calendar_for(session, user)  # the tier comes from the session's identity map after the first
        tier = cal.tier
        has_cost = tier.cost_allowance_microdollars is not None
        allowance = Spend(tier.token_allowance + cal.topup.tokens,
                          (tier.cost_allowance_microdollars or 0) + cal.topup.cost_microdollars)  # fmt: skip
        rows[user.id] = UserRow(user, tier.label, cal.period, allowance, has_cost, cal.topup, Spend())
    await _add_spend(session, rows)
    await _add_builds(session, rows)
    return list(rows.values())


async def _add_spend(session: AsyncSession, rows: dict[uuid.UUID, UserRow]) -> None:
    if not rows:
        return
    earliest = min(row.period.start for row in rows.values())
    query = select(UsageDay).where(col(UsageDay.user_id).in_(list(rows)), col(UsageDay.day_start) >= earliest)
    totals: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    for day in (await session.exec(query)).all():
        row = rows[day.user_id]
        if as_utc(day.day_start) >= row.period.start:
            totals[day.user_id][0] += day.tokens
            totals[day.user_id][1] += day.cost_microdollars
    for user_id, (tokens, cost) in totals.items():
        rows[user_id].spent = Spend(tokens, cost)


async def _add_builds(session: AsyncSession, rows: dict[uuid.UUID, UserRow]) -> None:
    states = [*RUNNING_VALUES, *WAITING_VALUES, BuildState.SLEEPING.value]
    query = (
        select(BuildJob, Project.title)
        .join(Project, col(Project.id) == col(BuildJob.project_id))
        .where(col(BuildJob.user_id).in_(list(rows)), col(BuildJob.state).in_(states))
        .order_by(col(BuildJob.queued_at))
    )
    for job, title in (await session.exec(query)).all():
        row = rows[job.user_id]
        if job.state in RUNNING_VALUES:
            row.running += 1
        elif job.state == BuildState.SLEEPING.value:
            row.sleeping.append(SleepingBuild(job.id, title, job.wake_at))
        else:
            row.waiting += 1


async def _target(session: AsyncSession, actor: User, user_id: uuid.UUID) -> User:
    audit.require_admin(actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound('That user')
    return user


async def update_user(
    session: AsyncSession,
    *,
    actor: User,
    user_id: uuid.UUID,
    role: str | None = None,
    tier: str | None = None,
    suspended: bool | None = None,
) -> User:
    """Role, tier or suspension (an admin cannot suspend or demote themselves); audited."""
    user = await _target(session, actor, user_id)
    if user.id == actor.id and suspended:
        raise InvalidInput('You cannot suspend your own account.')
    before = {'role': user.role, 'tier': user.tier, 'suspended': user.suspended}
    after = {'role': role or user.role, 'tier': tier or user.tier,
             'suspended': user.suspended if suspended is None else suspended}  # fmt: skip
    _record_change(session, actor, user, 'user.update', before, after)  # committed with the change itself
    try:
        return await accounts.update_user(session, actor=actor, user_id=user_id, role=role, tier=tier,
                                          suspended=suspended)  # fmt: skip
    except Exception:
        await session.rollback()  # refused: neither the change nor its audit entry is kept
        raise


async def set_model_override(session: AsyncSession, *, actor: User, user_id: uuid.UUID, model: str) -> User:
    """The model every role of this founder uses ('' removes the override: the tier's models apply); audited."""
    user = await _target(session, actor, user_id)
    model = model.strip()
    if model and not MODEL_ID.match(model):
        raise InvalidInput('A model id is letters, digits and . _ : / @ - (up to 100 characters), like '
                           'claude-sonnet-4-5.')  # fmt: skip
    before = {'model_override': user.model_override}
    user.model_override = model or None
    _record_change(session, actor, user, 'user.model_override', before, {'model_override': user.model_override})
    await session.commit()
    return user


async def top_up(
    session: AsyncSession, *, actor: User, user_id: uuid.UUID, tokens: int, dollars: float = 0.0,
    now: datetime | None = None,
) -> User:  # fmt: skip
    """Add to this period's allowance (it lapses when the period renews); audited. Takes effect at the next
    pacing check: a resting build woken now paces on the new allowance."""
    user = await _target(session, actor, user_id)
    if not 0 <= tokens <= MAX_TOPUP_TOKENS or not 0 <= dollars <= MAX_TOPUP_DOLLARS:
        raise InvalidInput(f'A top-up is 0 to {MAX_TOPUP_TOKENS:,} tokens and $0 to ${MAX_TOPUP_DOLLARS:,}.')
    if tokens == 0 and dollars == 0:
        raise InvalidInput('Enter the tokens (or dollars) to add to this period.')
    await lock_for_update(session, user)  # two top-ups at once: the second adds to the first's total
    cal = await calendar_for(session, user, now)
    before = {'topup_tokens': cal.topup.tokens, 'topup_dollars': cal.topup.cost_microdollars / 1_000_000}
    user.topup_tokens = cal.topup.tokens + tokens
    user.topup_microdollars = cal.topup.cost_microdollars + round(dollars * 1_000_000)
    user.topup_period_start = cal.period.start
    after = {'topup_tokens': user.topup_tokens, 'topup_dollars': user.topup_microdollars / 1_000_000,
             'period_ends': cal.period.end}  # fmt: skip
    _record_change(session, actor, user, 'user.top_up', before, after)
    await session.commit()
    return user


async def wake_now(
    session: AsyncSession, *, actor: User, job_id: uuid.UUID, events: EventLog, queue: JobQueue
) -> BuildJob:
    """Put a resting build back in the queue now (its planned wake-up then finds it awake and does nothing)."""
    audit.require_admin(actor)
    job = await session.get(BuildJob, job_id)
    if job is None:
        raise NotFound('That build')
    owner = await session.get(User, job.user_id)
    await session.commit()  # release our read before the transition locks the row
    woken = await wake(events, job_id)
    if woken is None:
        raise Conflict('This build is not resting any more.')
    audit.record(session, actor=actor, area='users', action='build.wake_now',
                 target=f'build {job_id} of {owner.email if owner else job.user_id}',
                 before={'state': BuildState.SLEEPING.value, 'wake_at': job.wake_at},
                 after={'state': woken.state})  # fmt: skip
    await session.commit()
    await queue.enqueue(woken.id)
    return woken


def _record_change(session: AsyncSession, actor: User, user: User, action: str, before: dict, after: dict) -> None:  # type: ignore[type-arg]
    changed = {key: value for key, value in after.items() if before.get(key) != value}
    if changed:
        audit.record(session, actor=actor, area='users', action=action, target=user.email,
                     before={key: before.get(key) for key in changed}, after=changed)  # fmt: skip


async def tier_labels(session: AsyncSession) -> dict[str, str]:
    """Tier id → human name, lowest priority first (the select's order)."""
    tiers = (await session.exec(select(Tier).order_by(col(Tier.priority), col(Tier.name)))).all()
    return {tier.name: tier.label for tier in tiers}
