"""AG-7, AG-8 and provider faults with a scripted model on the local Messages-API server: a failure met
again is recognised and healed with another approach, the same failure three times asks the founder,
the founder's answer resumes the build, and a provider that stays down puts the build to sleep."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from core.builds import jobs as builds
from core.builds.escalations import SKIP, answer_escalation, record_failure
from core.db import make_engine, make_session_factory
from core.events import Escalated, Healing, Resumed, Sleeping, StageChanged, Waking
from core.models import BuildJob, Project, Tier, User
from core.services import build_services
from jobs import worker
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, events_until_done, make_settings
from tests.builds.test_anthropic_build import KEY, PAGE, booking_check, journey_replies
from tests.fakes.messages_api import MessagesAPI, status, text, tool_use
from tests.services import require_bubblewrap, require_chromium

# A download from a host that cannot exist: the same network failure each time, whatever the path.
INSTALL = 'python3 -c "import urllib.request as u; u.urlopen(\'http://packages.invalid/{}\', timeout=5)"'


@pytest.fixture
async def claude(tmp_path: Path):  # type: ignore[no-untyped-def]
    require_chromium()
    require_bubblewrap()  # the isolated network makes the install fail the same way every time
    with MessagesAPI() as api:
        settings = make_settings(tmp_path / 'data', ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=api.url,
                                 MODEL_RETRY_SECONDS=1)  # fmt: skip
        await asyncio.to_thread(upgrade, settings.sync_database_url)
        svc = build_services(settings)
        await svc.start()
        yield svc, api
        await worker.stop(svc)
        await svc.close()


async def start(svc) -> tuple[User, BuildJob]:  # type: ignore[no-untyped-def]
    user, project_id = await founder_flow(svc, IDEA, MUST_HAVE)
    await worker.start(svc)
    async with svc.sessions() as session:
        job = await builds.start_build(session, user=user, project_id=project_id, queue=svc.queue, events=svc.events)
    return user, job


def finish() -> list:  # type: ignore[type-arg]
    return [tool_use('write_file', {'path': 'index.html', 'content': PAGE}), booking_check(),
            text('Your booking page is ready.')]  # fmt: skip


async def events_until_asked(svc, job_id, timeout: float = 60) -> list:  # type: ignore[no-untyped-def,type-arg]
    seen = []
    async with asyncio.timeout(timeout), aclosing(svc.events.follow(job_id)) as stream:
        async for event in stream:
            seen.append(event)
            if isinstance(event, Escalated):
                return seen
    raise AssertionError('the build never asked the founder')


async def test_a_different_approach_on_attempt_two_heals(claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = claude
    api.script(*journey_replies(), tool_use('bash', {'command': INSTALL.format('qrcode')}), *finish())
    _, job = await start(svc)
    events = await events_until_done(svc, job.id)
    assert events[-1].state == 'READY'  # type: ignore[attr-defined]
    healing = [e for e in events if isinstance(e, Healing)]
    assert [(h.attempt, h.max_attempts) for h in healing] == [(2, 3)]
    assert 'no internet access' in healing[0].problem and healing[0].signature.startswith('network:')
    # the result the model read (then come the page, its check and the last words)
    told = api.message_requests[-3].body['messages'][-1]['content'][0]['content']
    assert 'has now happened 1 time' in told and 'different approach' in told
    assert not [e for e in events if isinstance(e, Escalated)]


async def test_the_same_failure_three_times_asks_the_founder_whose_answer_finishes_the_build(claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = claude
    tries = [tool_use('bash', {'command': INSTALL.format(name)}) for name in ('qrcode', 'qrcode==7', 'pyqrcode')]
    api.script(*journey_replies(), *tries, *finish())
    user, job = await start(svc)
    events = await events_until_asked(svc, job.id)
    assert [h.attempt for h in events if isinstance(h, Healing)] == [2, 3]
    assert [e.to_state for e in events if isinstance(e, StageChanged)][-1] == 'NEEDS_INPUT'
    asked = [e for e in events if isinstance(e, Escalated)]
    assert len(asked) == 1 and 'no internet access' in asked[0].problem
    assert [line.split(':')[0] for line in asked[0].tried] == ['Attempt 1', 'Attempt 2', 'Attempt 3']
    assert asked[0].recommendation == SKIP and SKIP in asked[0].options and 'Stop here' in asked[0].options
    assert svc.queue.running == 0 or await _slot_freed(svc)  # waiting for the founder holds no worker slot

    async with svc.sessions() as session:
        await answer_escalation(session, user=user, job_id=job.id, choice=SKIP, queue=svc.queue, events=svc.events,
                                sessions=svc.sessions)  # fmt: skip
    events = await events_until_done(svc, job.id)
    assert events[-1].state == 'READY'  # type: ignore[attr-defined]
    assert any(isinstance(e, Resumed) and e.decision == SKIP for e in await svc.events.read(job.id))
    resumed_with = str(api.message_requests[-3].body['messages'][-1]['content'])
    assert f'[Decision from the founder: {SKIP}]' in resumed_with


async def test_another_founder_cannot_answer_and_a_build_not_waiting_refuses(claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = claude
    api.script(*journey_replies(), *finish())
    user, job = await start(svc)
    await events_until_done(svc, job.id)
    async with svc.sessions() as session:
        other = User(email='mallory@example.com', password_hash='x')
        session.add(other)
        await session.commit()
        for who, error in ((other, 'not found'), (user, 'not waiting for a decision')):
            with pytest.raises(Exception, match=error):
                await answer_escalation(session, user=who, job_id=job.id, choice=SKIP, queue=svc.queue,
                                        events=svc.events, sessions=svc.sessions)  # fmt: skip


async def test_a_rate_limit_then_success_carries_on(claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = claude
    api.script(*journey_replies(), status(429), *finish())  # the SDK retries the 429 itself
    _, job = await start(svc)
    events = await events_until_done(svc, job.id)
    assert events[-1].state == 'READY' and not [e for e in events if isinstance(e, Sleeping)]  # type: ignore[attr-defined]


async def test_a_provider_down_past_its_retries_sleeps_and_the_scheduled_retry_finishes(claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = claude
    api.script(*journey_replies(), status(529), status(529), status(529), *finish())  # 1 try + 2 SDK retries
    _, job = await start(svc)
    events = await events_until_done(svc, job.id)
    assert events[-1].state == 'READY'  # type: ignore[attr-defined]
    slept = [e for e in events if isinstance(e, Sleeping)]
    assert len(slept) == 1 and 'not answering' in slept[0].reason and [e for e in events if isinstance(e, Waking)]


async def test_signature_counts_survive_a_restart(db_url: str) -> None:
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        user = User(email='a@example.com', password_hash='x', tier='t')
        session.add_all([Tier(name='t', label='T', token_allowance=1), user])
        await session.flush()
        project = Project(owner_id=user.id, title='P', idea='An idea long enough')
        session.add(project)
        await session.commit()
    job_id = project.id  # any id: the count is per project and signature
    for n in (1, 2):
        seen = await record_failure(sessions, project_id=project.id, job_id=job_id, sig='command:abc', error='x',
                                    approach=f'way {n}')  # fmt: skip
        assert seen.attempts == n
    await engine.dispose()  # the process goes away; the counts stay in the database
    again = make_session_factory(make_engine(db_url))
    third = await record_failure(again, project_id=project.id, job_id=job_id, sig='command:abc', error='x',
                                 approach='way 3')  # fmt: skip
    assert third.attempts == 3 and third.tried == ['way 1', 'way 2', 'way 3']


async def _slot_freed(svc) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if svc.queue.running == 0:
            return True
        await asyncio.sleep(0.05)
    return False
