"""UI-9: each action asked for in the chat is proposed, runs only when confirmed, does what its button does, and
is refused with the button's own message (suspended founder, kill switch, over budget, another founder's
project, the plan's iteration limit)."""

from __future__ import annotations

import uuid

from sqlmodel import select

from core.accounts import create_admin
from core.admin_settings import set_setting
from core.builds import jobs
from core.builds.escalations import SIMPLIFY
from core.chat import intents as i
from core.chat.actions import Proposal, execute
from core.chat.assistant import Reply, ask, deps_of
from core.errors import CofounderError
from core.journey.change_requests import limit_reached
from core.journey.interview import find_session
from core.journey.projects import SUSPENDED
from core.metering import record_usage
from core.models import BuildJob, Escalation, Tier, User
from core.pacing import allowance_for
from core.ports import Usage
from core.services import Services
from tests.integration import chat_support
from tests.integration.chat_support import (
    CHANGE,
    V1,
    escalated,
    founder,
    ready_version,
    running,
    start,
)

services = chat_support.services  # the fixture: a migrated database and the app's Services


async def _ask(svc: Services, user: User, project_id: uuid.UUID | None, question: str) -> Reply:
    return await ask(deps_of(svc), user=user, project_id=project_id, question=question, stream_pause=0)


async def _confirm(svc: Services, user: User, proposal: Proposal | None, lang: str = 'en'):  # type: ignore[no-untyped-def]
    assert proposal is not None
    return await execute(deps_of(svc), user=user, proposal=proposal, lang=lang)


async def _latest(svc: Services, project_id: uuid.UUID) -> BuildJob | None:
    async with svc.sessions() as session:
        query = select(BuildJob).where(BuildJob.project_id == project_id).order_by(BuildJob.queued_at.desc())  # type: ignore[attr-defined]
        return (await session.exec(query)).first()


async def _button_start(svc: Services, user: User, project_id: uuid.UUID) -> str:
    """What the build page's Start build button does: start_build, or the message it shows."""
    try:
        async with svc.sessions() as session:
            await jobs.start_build(session, user=user, project_id=project_id, queue=svc.queue, events=svc.events)
    except CofounderError as problem:
        return str(problem)
    return 'started'


async def test_start_a_build_is_proposed_and_runs_only_once_confirmed(services: Services) -> None:
    user, project_id = await founder(services)
    reply = await _ask(services, user, project_id, 'Please start the build')
    assert reply.proposal is not None and reply.proposal.kind == i.START and 'Start a build of' in reply.text
    assert await _latest(services, project_id) is None  # proposed, not run

    outcome = await _confirm(services, user, reply.proposal)
    job = await _latest(services, project_id)
    assert outcome.ok and job is not None and job.state == 'QUEUED' and outcome.url == f'/builds/{job.id}'
    again = await _ask(services, user, project_id, 'start the build')
    assert again.proposal is None and 'already under way' in again.text


async def test_refusals_are_the_buttons_own_messages(services: Services) -> None:
    user, project_id = await founder(services)
    proposal = (await _ask(services, user, project_id, 'start a build')).proposal
    async with services.sessions() as session:
        admin = await create_admin(session, email='root@example.com', password='a long admin password 42')
        await set_setting(session, actor=admin, key='autonomous_builds', value={'enabled': False})
    switched_off = await _confirm(services, user, proposal)
    assert not switched_off.ok and switched_off.message == await _button_start(services, user, project_id)
    assert switched_off.message == jobs.KILL_SWITCH_MESSAGE
    async with services.sessions() as session:
        await set_setting(session, actor=admin, key='autonomous_builds', value={'enabled': True})
        row = await session.get(User, user.id)
        assert row is not None
        row.suspended = True
        await session.commit()
    suspended = await _confirm(services, user, proposal)  # the page's user is stale: the chat reads the account
    assert not suspended.ok and suspended.message == SUSPENDED
    assert await _button_start(services, row, project_id) == SUSPENDED and await _latest(services, project_id) is None


async def test_over_budget_the_chat_does_what_the_start_button_does(services: Services) -> None:
    chat_user, chat_project = await founder(services)
    button_user, button_project = await founder(services)
    async with services.sessions() as session:
        session.add(Tier(name='tiny', label='Tiny', token_allowance=30_000, daily_token_cap=1_000))
        await session.commit()
        for user in (chat_user, button_user):
            row = await session.get(User, user.id)
            assert row is not None
            row.tier = 'tiny'
            await session.commit()
            await record_usage(session, user_id=user.id, project_id=None, job_id=None, role='coder',
                               model='offline-1', provider='offline', usage=Usage(5_000, 5_000))  # fmt: skip
            await session.commit()
            allowance = await allowance_for(session, row)
            assert allowance.used_ratio() > 1.1  # past the breaker
            await session.refresh(row)
    proposal = (await _ask(services, chat_user, chat_project, 'start a build')).proposal
    outcome = await _confirm(services, chat_user, proposal)
    button = await _button_start(services, button_user, button_project)
    assert (outcome.message if not outcome.ok else 'started') == button
    chat_job, button_job = await _latest(services, chat_project), await _latest(services, button_project)
    assert (chat_job is None) == (button_job is None)


async def test_another_founders_project_named_in_the_question_is_not_found(services: Services) -> None:
    owner, theirs = await founder(services)
    intruder, mine = await founder(services)
    reply = await _ask(services, intruder, mine, f'Start a build of project {theirs}')
    assert reply.proposal is None and reply.text == 'That project was not found.'
    forged = Proposal(i.START, project_id=str(theirs), project_title='x')  # a proposal crafted by hand
    outcome = await _confirm(services, intruder, forged)
    assert not outcome.ok and outcome.message == await _button_start(services, intruder, theirs)
    for kind in (i.DOCS, i.OPEN):
        refused = await _confirm(
            services, intruder, Proposal(kind, project_id=str(theirs), project_title='x', text='brief')
        )
        assert not refused.ok and refused.message == 'That project was not found.'
    assert await _latest(services, theirs) is None
    status = await _ask(services, intruder, None, "What's the status?")  # the dashboard: the intruder's own only
    assert status.text.count('is at the stage') == 1 and str(theirs) not in status.text


async def test_cancel_from_the_chat_cancels_like_the_cancel_button(services: Services) -> None:
    user, project_id = await founder(services)
    job = await start(services, user, project_id)
    reply = await _ask(services, user, project_id, 'Cancel the build')
    assert reply.proposal is not None and reply.proposal.kind == i.CANCEL and reply.proposal.job_id == str(job.id)
    outcome = await _confirm(services, user, reply.proposal)
    assert outcome.ok and outcome.message == 'Build cancelled.'
    assert (await _latest(services, project_id)).state == 'CANCELLED'  # type: ignore[union-attr]
    stale = await _confirm(services, user, reply.proposal)  # confirmed twice: the button's message
    assert not stale.ok and stale.message == 'This build has already finished.'
    retry = await _ask(services, user, project_id, 'retry the build')
    assert retry.proposal is not None and retry.proposal.kind == i.RETRY
    assert (await _confirm(services, user, retry.proposal)).ok
    assert (await _latest(services, project_id)).kind == 'retry'  # type: ignore[union-attr]


async def test_answering_the_agents_question_from_the_chat(services: Services) -> None:
    user, project_id = await founder(services)
    job = await escalated(services, user, project_id)
    reply = await _ask(services, user, project_id, "Let's go with option 2")
    assert reply.proposal is not None and reply.proposal.kind == i.ANSWER and reply.proposal.text == SIMPLIFY
    outcome = await _confirm(services, user, reply.proposal)
    assert outcome.ok
    async with services.sessions() as session:
        row = await session.get(BuildJob, job.id)
        question = (await session.exec(select(Escalation).where(Escalation.job_id == job.id))).one()
    assert row is not None and row.state == 'QUEUED' and question.decision == SIMPLIFY
    japanese = await _ask(services, user, project_id, 'オプション1でお願いします')
    assert japanese.proposal is None and '判断を待っていません' in japanese.text


async def test_a_change_request_opens_the_change_flow_prefilled(services: Services) -> None:
    user, project_id = await founder(services)
    too_early = await _confirm(services, user, (await _ask(services, user, project_id, CHANGE)).proposal)
    assert not too_early.ok and too_early.message == 'Ask for a change once a version of your app is ready.'
    await ready_version(services, await running(services, await start(services, user, project_id)), V1)
    reply = await _ask(services, user, project_id, CHANGE)
    assert reply.proposal is not None and reply.proposal.kind == i.CHANGE and reply.proposal.text == CHANGE
    outcome = await _confirm(services, user, reply.proposal)
    assert outcome.ok and outcome.url == f'/projects/{project_id}/change'
    async with services.sessions() as session:
        talk = await find_session(session, project_id=project_id, kind='change')
        assert talk is not None and talk.answers['request'] == CHANGE and not talk.completed
        row = await session.get(User, user.id)
        tier = await session.get(Tier, row.tier)  # type: ignore[union-attr]
        assert tier is not None
        tier.max_iterations = 0
        await session.commit()
    limited = await _confirm(services, user, reply.proposal)
    assert not limited.ok and limited.message == limit_reached(0)


async def test_open_pages_and_downloads_give_the_owners_urls(services: Services) -> None:
    user, project_id = await founder(services)
    job = await ready_version(services, await running(services, await start(services, user, project_id)), V1)
    expected = {
        'Open the brief': f'/projects/{project_id}/brief',
        'show me the plan': f'/projects/{project_id}/plan',
        'プロジェクトを開いて': f'/projects/{project_id}',
        'open the changelog': f'/builds/{job.id}/changelog',
        'Download the documentation': f'/projects/{project_id}/export.md',
        'download the code as a zip': f'/builds/{job.id}/zip',
    }
    for question, url in expected.items():
        reply = await _ask(services, user, project_id, question)
        outcome = await _confirm(services, user, reply.proposal, reply.lang)
        assert outcome.ok and outcome.url == url, question
    assert (
        await _confirm(services, user, (await _ask(services, user, project_id, 'download the docs')).proposal)
    ).download
