"""BU-6: spend past 110 % of the day's allowance stops the build at once with BUDGET_EXCEEDED, whether a
reply streams past the limit (cut mid-stream) or the provider reports more than the day allows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.builds import jobs as builds
from core.events import StageChanged
from core.models import BuildJob, Tier, UsageRecord, User, utcnow
from core.services import build_services
from jobs import worker
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, events_until_done, make_settings
from tests.builds.test_anthropic_build import KEY, journey_replies
from tests.fakes.messages_api import MessagesAPI, text, tool_use
from tests.services import require_chromium

DAILY_TOKENS = 20_000


@pytest.fixture
async def paced_claude(tmp_path: Path):  # type: ignore[no-untyped-def]
    require_chromium()
    with MessagesAPI() as api:
        settings = make_settings(tmp_path / 'data', ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=api.url)
        await asyncio.to_thread(upgrade, settings.sync_database_url)
        svc = build_services(settings)
        await svc.start()
        yield svc, api
        await worker.stop(svc)
        await svc.close()


async def build_on_a_small_allowance(svc) -> tuple[BuildJob, list]:  # type: ignore[no-untyped-def,type-arg]
    async with svc.sessions() as session:
        session.add(Tier(name='small', label='Small', token_allowance=DAILY_TOKENS * 30, daily_token_cap=DAILY_TOKENS))
        await session.commit()
    user, project_id = await founder_flow(svc, IDEA, MUST_HAVE)
    async with svc.sessions() as session:
        row = await session.get(User, user.id)
        row.tier, row.period_started_at = 'small', utcnow()
        await session.commit()
        await session.refresh(row)
    await worker.start(svc)
    async with svc.sessions() as session:
        job = await builds.start_build(session, user=row, project_id=project_id, queue=svc.queue, events=svc.events)
    events = await events_until_done(svc, job.id)
    async with svc.sessions() as session:
        return await session.get(BuildJob, job.id), events  # type: ignore[return-value]


async def test_a_reply_streaming_past_the_limit_is_cut_and_the_build_stops(paced_claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = paced_claude
    runaway = 'All work and no play makes a very long reply. ' * 4000  # ~180k characters, max_tokens ignored
    api.script(*journey_replies(), tool_use('narrate', {'text': 'Starting.'}), text(runaway, chunks=400))
    job, events = await build_on_a_small_allowance(svc)

    assert job.state == 'BUDGET_EXCEEDED'
    assert 'safety limit' in job.error_summary and 'top up' in job.error_summary
    assert [e.to_state for e in events if isinstance(e, StageChanged)][-1] == 'BUDGET_EXCEEDED'
    assert events[-1].type == 'build.done' and events[-1].state == 'BUDGET_EXCEEDED'
    runaway_request = api.message_requests[-1]
    assert runaway_request.body['max_tokens'] <= 4096  # the call itself was capped under the breaker
    async with svc.sessions() as session:
        recorded = (await session.exec(UsageRecord.__table__.select())).all()  # type: ignore[attr-defined]
    assert sum(r.input_tokens + r.output_tokens for r in recorded) < DAILY_TOKENS * 1.1  # nothing went past


async def test_a_reply_reported_over_the_limit_stops_the_build_before_its_tools_run(paced_claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = paced_claude
    api.script(
        *journey_replies(),
        tool_use('write_file', {'path': 'index.html', 'content': '<h1>Hi</h1>'}, output_tokens=DAILY_TOKENS * 2),
        text('done'),
    )
    job, events = await build_on_a_small_allowance(svc)
    assert job.state == 'BUDGET_EXCEEDED' and 'Today: ' in job.error_summary
    assert not [e for e in events if e.type == 'agent.tool.called']  # stopped at once: the write never ran
