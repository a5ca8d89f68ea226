"""Where a build stops for the budget (BU-4, BU-6): asleep until the next daily refresh, or stopped by the
breaker. Sleeping keeps everything (checkpoint, a snapshot of the files) and holds no worker slot; the
scheduler wakes it (jobs/sleep_wake.py) by putting it back in the queue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core.builds.snapshots import save_snapshot
from core.builds.states import BuildState, IllegalTransition, transition
from core.db import SessionFactory, transaction
from core.event_log import EventLog
from core.events import Sleeping, Waking
from core.journey import timeline
from core.models import BuildJob
from core.pacing import Allowance
from core.ports import BlobStore, Notifier, Sandbox

WAKES_TOPIC = 'scheduler:wakes'  # a build went to sleep: the scheduler plans its wake-up


@dataclass
class HoldContext:
    sessions: SessionFactory
    events: EventLog
    notifier: Notifier
    blobs: BlobStore
    job: BuildJob
    sandbox: Sandbox | None


async def put_to_sleep(ctx: HoldContext, *, wake_at: datetime, reason: str, done_today: str) -> BuildJob:
    """Snapshot the files, stop the sandbox's processes, enter SLEEPING with `wake_at`, tell the scheduler."""
    if ctx.sandbox is not None:
        await save_snapshot(sandbox=ctx.sandbox, blobs=ctx.blobs, sessions=ctx.sessions,
                            project_id=ctx.job.project_id, owner_id=ctx.job.user_id, job_id=ctx.job.id,
                            reason='sleep')  # fmt: skip
        await ctx.sandbox.kill_processes()
    job = await transition(ctx.events, ctx.job.id, BuildState.SLEEPING, reason=reason, wake_at=wake_at)
    await ctx.events.append(Sleeping(job_id=job.id, wake_at=wake_at, reason=reason, done_today=done_today))
    await ctx.notifier.publish(WAKES_TOPIC, 1, str(job.id))
    return job


async def stop_for_budget(ctx: HoldContext, *, spent: str) -> BuildJob:
    """The breaker (BU-6): stop at once, say what happened, what it cost and what the founder can do."""
    if ctx.sandbox is not None:
        await ctx.sandbox.kill_processes()
    summary = (
        "Today's spending went past the safety limit (110 % of today's allowance), so I stopped at once. "
        f'{spent} Your work so far is saved: start the build again tomorrow, when the allowance refreshes, '
        'or ask an administrator to top up your allowance.'
    )
    job = await transition(ctx.events, ctx.job.id, BuildState.BUDGET_EXCEEDED, reason=summary,
                           error_summary=summary)  # fmt: skip
    async with transaction(ctx.sessions) as session:
        timeline.record(session, project_id=job.project_id, kind='build.budget_exceeded',
                        title='Build stopped: budget exceeded', detail=summary, job_id=job.id)  # fmt: skip
    return job


def spend_sentence(allowance: Allowance | None, job: BuildJob) -> str:
    """'This build used 41,200 tokens ($0.12). Today: 41,200 of 40,000 tokens.'"""
    used = f'This build used {job.input_tokens + job.output_tokens:,} tokens ({dollars(job.cost_microdollars)}).'
    if allowance is None:
        return used
    return f'{used} Today: {allowance.spent_today.tokens:,} of {allowance.daily_tokens:,} tokens.'


def done_today_sentence(phases: list[dict[str, str]], allowance: Allowance | None) -> str:
    """What the founder reads on the Resting card about today."""
    done = [p['name'] for p in phases if p.get('status') == 'done']
    parts = [f'Done so far: {", ".join(done)}.' if done else 'I set up the plan and started on the first phase.']
    if allowance is not None:
        parts.append(f"Today's share of your budget: {allowance.spent_today.tokens:,} of "
                     f'{allowance.daily_tokens:,} tokens.')  # fmt: skip
    return ' '.join(parts)


def dollars(microdollars: int) -> str:
    return f'${microdollars / 1_000_000:,.2f}'


async def wake(events: EventLog, job_id: uuid.UUID) -> BuildJob | None:
    """SLEEPING → QUEUED, then a Waking event; None when the build is no longer asleep (woken twice, cancelled).

    The transition locks the row, so of two wake-ups racing only one moves the build."""
    try:
        job = await transition(events, job_id, BuildState.QUEUED, reason='Back to work where I left off.',
                               wake_at=None)  # fmt: skip
    except (IllegalTransition, LookupError):
        return None
    await events.append(Waking(job_id=job_id))
    return job
