"""IT-2, IT-3: after v0.1 the founder asks for a change; the iteration build starts from v0.1's files
(restored from its snapshot into a fresh workspace), changes only what was asked and becomes v0.2 with a
changelog against v0.1."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest

from core.builds import jobs as builds
from core.errors import Conflict
from core.journey import change_requests as changes
from core.models import BuildJob, Tier, TimelineEvent, User
from jobs import worker
from jobs.demo import founder_flow
from tests.builds.conftest import IDEA, MUST_HAVE, SQLITE_ONLY, events_until_done

CHANGE = 'Add a waiting list page so clients can join when every slot of a day is booked'


async def first_version(svc) -> tuple[User, BuildJob]:  # type: ignore[no-untyped-def]
    user, project_id = await founder_flow(svc, IDEA, MUST_HAVE)
    await worker.start(svc)
    async with svc.sessions() as session:
        job = await builds.start_build(session, user=user, project_id=project_id, queue=svc.queue, events=svc.events)
    await events_until_done(svc, job.id)
    async with svc.sessions() as session:
        return user, await session.get(BuildJob, job.id)  # type: ignore[return-value]


@SQLITE_ONLY
async def test_a_change_becomes_v0_2_with_only_what_was_asked(services) -> None:  # type: ignore[no-untyped-def]
    user, v1 = await first_version(services)
    assert v1.version_label == 'v0.1'
    async with services.sessions() as session:
        talk = await changes.start_change(session, user=user, project_id=v1.project_id, request=CHANGE)
        assert [q['key'] for q in talk.questions] == ['request']  # precise: no clarifying question
        draft = await changes.draft_change(session, user=user, project_id=v1.project_id)
        assert draft.build_version == 'v0.1' and draft.content['iteration'] == 1
        assert draft.content['alignment']['band'] in {'green', 'yellow'}
        job = await changes.confirm_change(session, user=user, project_id=v1.project_id, artifact_id=draft.id,
                                           queue=services.queue, events=services.events)  # fmt: skip
    events = await events_until_done(services, job.id)
    assert events[-1].state == 'READY'  # type: ignore[attr-defined]
    async with services.sessions() as session:
        v2 = await session.get(BuildJob, job.id)
        kinds = [t.kind for t in (await session.exec(TimelineEvent.__table__.select())).all()]  # type: ignore[attr-defined]
    assert v2.version_label == 'v0.2' and v2.kind == 'iteration' and 'change.requested' in kinds
    log = v2.summary['changelog']
    assert log['from_version'] == 'v0.1' and log['to_version'] == 'v0.2' and 'You asked' in log['summary']
    assert log['changed'] == ['app.py'] and log['removed'] == []  # only the asked change…
    assert len(log['added']) == 1 and log['added'][0].startswith('checks/')  # …and the acceptance check of it
    assert 'Waiting list' in log['diffs']['app.py'] or 'waiting list' in log['diffs']['app.py'].lower()
    home = await asyncio.to_thread(lambda: urllib.request.urlopen(v2.preview_url, timeout=5).read().decode())
    assert 'waiting list' in home.lower() and 'Online Booking Calendar' in home  # new page, old pages kept


@SQLITE_ONLY
async def test_a_vague_request_gets_a_question_and_the_iteration_limit_is_kept(services) -> None:  # type: ignore[no-untyped-def]
    user, v1 = await first_version(services)
    async with services.sessions() as session:
        session.add(Tier(name='one-change', label='One change', token_allowance=60_000_000, max_iterations=1))
        row = await session.get(User, user.id)
        row.tier = 'one-change'
        await session.commit()
        talk = await changes.start_change(session, user=row, project_id=v1.project_id, request='make it nicer')
        assert len(talk.questions) > 1  # vague: it asks what to change
        draft = await changes.draft_change(session, user=row, project_id=v1.project_id)
        assert draft.note == 'Iteration 1 of 1'
        await changes.confirm_change(session, user=row, project_id=v1.project_id, artifact_id=draft.id,
                                     queue=services.queue, events=services.events)  # fmt: skip
        await changes.start_change(session, user=row, project_id=v1.project_id, request='Rename the pet profiles page')
        with pytest.raises(Conflict, match='all 1 iterations'):
            await changes.draft_change(session, user=row, project_id=v1.project_id)
