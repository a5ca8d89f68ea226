"""A founder's build with the offline model, all the way to a running preview (B-1…B-10, AG-9)."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from sqlmodel import select

from core.admin_settings import set_setting
from core.builds import jobs as builds
from core.builds.context import built_features
from core.errors import Conflict
from core.events import DocumentationUpdated, LogLines, Narration, PhaseCompleted, SnapshotUpdated, StageChanged
from core.journey.brief import latest
from core.models import BuildJob, Project, TimelineEvent
from jobs import worker
from jobs.demo import founder_flow
from tests.builds.conftest import IDEA, MUST_HAVE, SQLITE_ONLY, events_until_done


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def test_offline_build_reaches_ready_with_preview_screenshot_and_docs(services) -> None:  # type: ignore[no-untyped-def]
    user, project_id = await founder_flow(services, IDEA, MUST_HAVE)
    await worker.start(services)
    async with services.sessions() as session:
        job = await builds.start_build(
            session, user=user, project_id=project_id, queue=services.queue, events=services.events
        )
    events = await events_until_done(services, job.id)

    stages = [e.to_state for e in events if isinstance(e, StageChanged)]
    assert stages == ['STARTING', 'SCAFFOLD', 'CODE', 'DEPS', 'CHECKS', 'READY']
    async with services.sessions() as session:
        job = await session.get(BuildJob, job.id)
        brief = await latest(session, project_id=project_id, kind='idea_brief')
        project = await session.get(Project, project_id)
        built = await built_features(session, job)
        timeline = [
            t.kind
            for t in (await session.exec(select(TimelineEvent).where(TimelineEvent.project_id == project_id))).all()
        ]
    assert (job.state, job.version_label, job.preview_state) == ('READY', 'v0.1', 'running')
    assert project.stage == 'mvp_built' and 'mvp.built' in timeline and 'build.ready' in timeline

    home = await asyncio.to_thread(fetch, job.preview_url)
    every = [f['name'] for f in brief.content['core_features']]
    assert built and set(built) < set(every)  # the chosen Fast MVP builds the must-haves only
    for name in every:
        assert (name in home) == (name in built)  # pages named after the features the plan builds
    shots = [e for e in events if isinstance(e, SnapshotUpdated)]
    assert shots and await services.blobs.exists(shots[-1].key)
    assert {e.section for e in events if isinstance(e, DocumentationUpdated)} == {
        'overview',
        'features',
        'getting_started',
        'faq',
    }
    assert any(isinstance(e, Narration) for e in events)
    assert any(isinstance(e, PhaseCompleted) for e in events)
    assert any(isinstance(e, LogLines) for e in events)
    assert job.input_tokens > 0 and job.output_tokens > 0 and set(job.stage_timings) >= {'CODE', 'CHECKS'}


async def test_kill_switch_refuses_new_builds_with_a_clear_message(services) -> None:  # type: ignore[no-untyped-def]
    user, project_id = await founder_flow(services, IDEA, MUST_HAVE)
    async with services.sessions() as session:
        await set_setting(session, actor=user, key='autonomous_builds', value={'enabled': False})  # demo user is admin
        with pytest.raises(Conflict, match='switched off'):
            await builds.start_build(
                session, user=user, project_id=project_id, queue=services.queue, events=services.events
            )


@SQLITE_ONLY
async def test_cancel_stops_the_agent_and_its_processes(services) -> None:  # type: ignore[no-untyped-def]
    services.llm.pace_seconds = 0.3  # type: ignore[attr-defined]  # slow enough to cancel mid-build
    user, project_id = await founder_flow(services, IDEA, MUST_HAVE)
    await worker.start(services)
    async with services.sessions() as session:
        job = await builds.start_build(
            session, user=user, project_id=project_id, queue=services.queue, events=services.events
        )
    async with asyncio.timeout(60):
        async for event in services.events.follow(job.id):
            if isinstance(event, SnapshotUpdated) and event.phase != 'Ready':  # the agent's own shot, mid-build
                break
            assert not isinstance(event, StageChanged) or event.to_state != 'CHECKS', 'no screenshot while coding'
    async with services.sessions() as session:
        running = await session.get(BuildJob, job.id)
    app_url = await (await services.sandboxes.connect(running.sandbox_id)).app_url()
    assert app_url and await asyncio.to_thread(fetch, app_url)
    async with services.sessions() as session:
        await builds.request_cancel(session, user=user, job_id=job.id, events=services.events)
    events = await events_until_done(services, job.id, timeout=30)
    assert events[-1].state == 'CANCELLED'  # type: ignore[attr-defined]
    async with services.sessions() as session:
        job = await session.get(BuildJob, job.id)
        assert job.state == 'CANCELLED'
    with pytest.raises(OSError):  # the app's processes were killed with the agent
        await asyncio.to_thread(fetch, app_url)
    async with services.sessions() as session:
        retry = await builds.retry_build(
            session, user=user, job_id=job.id, queue=services.queue, events=services.events
        )
    services.llm.pace_seconds = 0  # type: ignore[attr-defined]
    events = await events_until_done(services, retry.id)
    assert events[-1].state == 'READY'  # type: ignore[attr-defined]
