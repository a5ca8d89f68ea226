"""The founder journey end to end: idea → onboarding → interview → brief → Gate 1 → plans.

Runs on SQLite and Postgres. The model is the real OfflineLLM (no network), behind the LLM port.
Helpers here are shared by the other journey test files.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import SQLModel, select

from core.adapters.llm_offline import OfflineLLM
from core.adapters.notify_memory import MemoryNotifier
from core.adapters.queue_inprocess import InProcessQueue
from core.builds.context import system_prompt_for
from core.builds.jobs import start_build
from core.db import make_engine, make_session_factory
from core.errors import Conflict, Forbidden, InvalidInput, ModelUnavailable, NotFound
from core.event_log import EventLog
from core.journey import brief, dashboard, flow, gates, interview, onboarding, plans, projects
from core.models import Artifact, PlanOption, Tier, User
from core.ports import LLMError, LLMReply, ToolCall
from tests.fixtures import ideas as fixture_ideas

IDEAS = fixture_ideas()
GROOMER = IDEAS[0]
FOOT = next(i for i in IDEAS if i['idea'].startswith('Équipe'))


# ── the model at the network edge ────────────────────────────────────────────────────────────


def journey_llm() -> OfflineLLM:
    """The real offline model (it answers forced journey tools with core/adapters/llm_offline/journey.py)."""
    return OfflineLLM(pace_seconds=0)


class FailingLLM:
    """The LLM port of a provider that is down (a fake at the network edge)."""

    name, offline, default_model = 'down', False, 'down-1'

    async def complete(self, **kwargs: Any) -> LLMReply:
        raise LLMError('upstream 529 overloaded', retryable=True, status=529)

    async def healthy(self) -> bool:
        return False


class IncompleteLLM:
    """A model that forgets required fields: the offline model's answer with parts cut off."""

    name, offline, default_model = 'sloppy', True, 'sloppy-1'

    async def complete(self, **kwargs: Any) -> LLMReply:
        reply = await journey_llm().complete(**kwargs)
        data = dict(reply.tool_calls[0].input)
        if 'idea_brief' in data:
            data['idea_brief'] = {k: v for k, v in data['idea_brief'].items() if k != 'problem'}
        if 'plans' in data:
            data['plans'] = data['plans'][:1]
        reply.tool_calls = [ToolCall(id='x', name=reply.tool_calls[0].name, input=data)]
        return reply

    async def healthy(self) -> bool:
        return True


# ── helpers ──────────────────────────────────────────────────────────────────────────────────


async def make_founder(session, email: str | None = None, **fields: Any) -> User:  # type: ignore[no-untyped-def]
    if await session.get(Tier, 'bootstrapper') is None:
        session.add(Tier(name='bootstrapper', label='Bootstrapper', token_allowance=1_000_000))
        await session.flush()
    user = User(email=email or f'{uuid.uuid4().hex[:8]}@example.com', password_hash='x', **fields)
    session.add(user)
    await session.commit()
    return user


async def answer_all(session, user: User, project_id: uuid.UUID, idea: dict[str, Any], llm: Any) -> None:  # type: ignore[no-untyped-def]
    ob = await onboarding.start_onboarding(session, user=user, project_id=project_id, llm=llm)
    for i, q in enumerate(ob.questions):
        await interview.save_answer(
            session,
            user=user,
            project_id=project_id,
            kind='onboarding',
            key=q['key'],
            text=f'Answer {i + 1} about {idea["answers"]["target_user"]}',
        )
    await onboarding.complete_onboarding(session, user=user, project_id=project_id)
    for key, text in idea['answers'].items():
        await interview.save_answer(session, user=user, project_id=project_id, kind='understanding', key=key, text=text)
    await interview.complete_interview(session, user=user, project_id=project_id)


async def project_at_gate(session, user: User, llm: Any, idea: dict[str, Any] = GROOMER):  # type: ignore[no-untyped-def]
    """A project whose brief is written and whose Gate 1 is pending."""
    project = await projects.create_project(session, user=user, idea=idea['idea'])
    await answer_all(session, user, project.id, idea, llm)
    await flow.generate_brief(session, user=user, project_id=project.id, llm=llm)
    return project


# ── the story ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize('idea', [GROOMER, FOOT], ids=['groomer', 'french'])
async def test_founder_goes_from_idea_to_a_selected_plan(session_factory, idea: dict[str, Any]) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea=f'  {idea["idea"]}  ')
        assert project.idea == idea['idea'] and project.stage == 'onboarding'
        assert 0 < len(project.title) <= 60

        ob = await onboarding.start_onboarding(session, user=user, project_id=project.id, llm=llm)
        assert 3 <= len(ob.questions) <= 6
        await answer_all(session, user, project.id, idea, llm)
        assert (await projects.get_project(session, user=user, project_id=project.id)).stage == 'brief'

        idea_brief, scope = await flow.generate_brief(session, user=user, project_id=project.id, llm=llm)
        names = [f['name'] for f in idea_brief.content['core_features']]
        assert len(names) == 4 and (idea_brief.version, scope.version) == (1, 1)
        assert idea_brief.content['target_users'].lower() == idea['answers']['target_user'].lower()
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        assert gate is not None and project.stage == 'gate1'

        decided = await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', reason='', llm=llm)
        assert decided.status == 'decided' and decided.decision == 'proceed'
        options = await plans.list_plans(session, user=user, project_id=project.id)
        assert [o.key for o in options] == ['fast', 'balanced', 'robust']
        assert any(names[0] in phase for phase in options[0].details['phases'])
        assert set(options[1].details) >= {'time', 'cost', 'risk', 'stack', 'tradeoffs', 'phases'}

        chosen = await plans.select_plan(session, user=user, project_id=project.id, plan_id=options[1].id)
        assert chosen.selected and project.selected_plan_id == options[1].id and project.stage == 'plan'
        kinds = [e.kind for e in await projects.list_timeline(session, user=user, project_id=project.id)]
        assert kinds == [
            'idea.created',
            'onboarding.completed',
            'interview.completed',
            'brief.generated',
            'gate.opened',
            'gate.decided',
            'plan.selected',
        ]


async def test_the_chosen_plan_reaches_the_agents_system_prompt(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', reason='', llm=llm)
        chosen = (await plans.list_plans(session, user=user, project_id=project.id))[1]
        await plans.select_plan(session, user=user, project_id=project.id, plan_id=chosen.id)
        notifier = MemoryNotifier()
        queue = InProcessQueue(dispatch=False)
        job = await start_build(session, user=user, project_id=project.id, queue=queue,
                                events=EventLog(session_factory, notifier))  # fmt: skip
        system = await system_prompt_for(session, job)
    details = chosen.details
    assert f'## Chosen plan: {chosen.title}' in system and chosen.summary in system
    for line in (f'Time: {details["time"]}', f'Cost: {details["cost"]}', f'Stack: {details["stack"]}'):
        assert line in system
    assert 'Tradeoffs: ' + '; '.join(details['tradeoffs']) in system
    assert 'Phases: ' + '; '.join(details['phases']) in system


async def test_typed_answers_survive_a_crash(db_url: str) -> None:
    llm = journey_llm()
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    async with make_session_factory(engine)() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea=GROOMER['idea'])
        await onboarding.start_onboarding(session, user=user, project_id=project.id, llm=llm)
        typed = 'Solo dog groomers, half-typed sentence with trailing space '
        await interview.save_answer(
            session, user=user, project_id=project.id, kind='understanding', key='target_user', text=typed
        )
        await interview.set_position(session, user=user, project_id=project.id, kind='understanding', index=1)
    await engine.dispose()  # the process dies here

    engine = make_engine(db_url)
    async with make_session_factory(engine)() as session:
        row = await interview.get_interview(session, user=await session.get(User, user.id), project_id=project.id)
        assert row.answers['target_user'] == typed and row.current_index == 1 and not row.completed
    await engine.dispose()


async def test_idea_length_and_suspension_are_refused_with_clear_messages(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        with pytest.raises(InvalidInput, match='Tell us a bit more: at least 15 characters'):
            await projects.create_project(session, user=user, idea='   dog app     ')
        with pytest.raises(InvalidInput, match="That's a lot — keep the idea under 2000 characters"):
            await projects.create_project(session, user=user, idea='x' * 2001)
        suspended = await make_founder(session, suspended=True)
        with pytest.raises(Forbidden, match='suspended'):
            await projects.create_project(session, user=suspended, idea=GROOMER['idea'])
        assert await projects.list_projects(session, user=user) == []
        ok = await projects.create_project(session, user=user, idea='y' * 2000)
        assert len(ok.idea) == 2000


def test_titles_are_short_and_deterministic() -> None:
    assert projects.derive_title(GROOMER['idea']) == 'Booking tool for independent dog groomers'
    assert projects.derive_title(FOOT['idea']) == 'Équipe de foot amateur'
    assert projects.derive_title(IDEAS[3]['idea']).startswith('Internal tool for a bakery')
    assert all(len(projects.derive_title(i['idea'])) <= 60 for i in IDEAS)
    # a head of one bare noun keeps what follows it, cut at a word that is not left dangling
    camping = 'A marketplace where campers rent gear from their neighbours for a weekend.'
    assert projects.derive_title(camping) == 'Marketplace where campers rent gear from their neighbours'


async def test_interview_guides_the_founder(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea=GROOMER['idea'])
        ob = await onboarding.start_onboarding(session, user=user, project_id=project.id, llm=llm)
        again = await onboarding.start_onboarding(session, user=user, project_id=project.id, llm=llm)
        assert again.id == ob.id and again.questions == ob.questions
        row = await interview.start_interview(session, user=user, project_id=project.id)
        assert [q['key'] for q in row.questions] == list(interview.KEYS)
        await interview.save_answer(
            session, user=user, project_id=project.id, kind='understanding', key='problem', text='Phone tag'
        )
        with pytest.raises(InvalidInput, match='Please answer who it is for, the must-have features'):
            await interview.complete_interview(session, user=user, project_id=project.id)
        with pytest.raises(InvalidInput, match='under 2000 characters'):
            await interview.save_answer(
                session, user=user, project_id=project.id, kind='understanding', key='problem', text='z' * 2001
            )
        with pytest.raises(InvalidInput, match='not part of this interview'):
            await interview.save_answer(
                session, user=user, project_id=project.id, kind='understanding', key='favourite_colour', text='blue'
            )
        with pytest.raises(Conflict, match='Finish the interview first'):
            await flow.generate_brief(session, user=user, project_id=project.id, llm=llm)
        await interview.save_answer(
            session, user=user, project_id=project.id, kind='onboarding', key='q1', text='Groomers with vans'
        )
        pairs = await interview.qa_pairs(session, project_id=project.id)
        assert pairs == [(ob.questions[0]['text'], 'Groomers with vans'), (row.questions[1]['text'], 'Phone tag')]


async def test_model_failure_keeps_everything_typed(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea=GROOMER['idea'])
        with pytest.raises(ModelUnavailable, match='Everything you typed is saved'):
            await onboarding.start_onboarding(session, user=user, project_id=project.id, llm=FailingLLM())
        for key, text in GROOMER['answers'].items():
            await interview.save_answer(
                session, user=user, project_id=project.id, kind='understanding', key=key, text=text
            )
        await interview.complete_interview(session, user=user, project_id=project.id)
        with pytest.raises(ModelUnavailable):
            await flow.generate_brief(session, user=user, project_id=project.id, llm=FailingLLM())
        with pytest.raises(ModelUnavailable, match='nothing was changed'):
            await flow.generate_brief(session, user=user, project_id=project.id, llm=IncompleteLLM())
        assert await brief.history(session, user=user, project_id=project.id, kind='idea_brief') == []
        assert await interview.answers(session, project_id=project.id) == GROOMER['answers']
        assert (await session.exec(select(Artifact))).all() == []


async def test_plans_are_generated_once_unless_regenerated(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        with pytest.raises(Conflict, match='Decide the direction first'):
            await plans.generate_plans(session, user=user, project_id=project.id, llm=llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed')  # no llm: plans later
        assert await plans.list_plans(session, user=user, project_id=project.id) == []
        first = await plans.generate_plans(session, user=user, project_id=project.id, llm=llm)
        again = await plans.generate_plans(session, user=user, project_id=project.id, llm=llm)
        assert [p.id for p in first] == [p.id for p in again] and len(first) == 3
        with pytest.raises(ModelUnavailable):
            await plans.generate_plans(session, user=user, project_id=project.id, llm=IncompleteLLM(), regenerate=True)
        assert len((await session.exec(select(PlanOption))).all()) == 3
        fresh = await plans.generate_plans(session, user=user, project_id=project.id, llm=llm, regenerate=True)
        assert {p.id for p in fresh}.isdisjoint({p.id for p in first})
        with pytest.raises(NotFound):
            await plans.select_plan(session, user=user, project_id=project.id, plan_id=first[0].id)


async def test_another_founder_gets_not_found_everywhere(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        owner = await make_founder(session)
        project = await project_at_gate(session, owner, llm)
        gate = await gates.get_pending(session, user=owner, project_id=project.id, gate_type='direction')
        plan_id = uuid.uuid4()
        other = await make_founder(session, role='admin')  # admins are not exempt in the journey
        pid = project.id
        calls = [
            lambda: projects.get_project(session, user=other, project_id=pid),
            lambda: projects.park(session, user=other, project_id=pid),
            lambda: flow.unpark(session, user=other, project_id=pid),
            lambda: onboarding.start_onboarding(session, user=other, project_id=pid, llm=llm),
            lambda: onboarding.complete_onboarding(session, user=other, project_id=pid),
            lambda: interview.start_interview(session, user=other, project_id=pid),
            lambda: interview.get_interview(session, user=other, project_id=pid),
            lambda: interview.save_answer(
                session, user=other, project_id=pid, kind='understanding', key='problem', text='x'
            ),
            lambda: interview.set_position(session, user=other, project_id=pid, kind='understanding', index=0),
            lambda: interview.complete_interview(session, user=other, project_id=pid),
            lambda: flow.generate_brief(session, user=other, project_id=pid, llm=llm),
            lambda: brief.edit_artifact(session, user=other, project_id=pid, kind='idea_brief', content={}),
            lambda: brief.history(session, user=other, project_id=pid, kind='idea_brief'),
            lambda: brief.export_markdown(session, user=other, project_id=pid),
            lambda: gates.list_gates(session, user=other, project_id=pid),
            lambda: gates.get_pending(session, user=other, project_id=pid, gate_type='direction'),
            lambda: flow.decide_gate(session, user=other, gate_id=gate.id, decision='park', reason='mine now'),
            lambda: plans.generate_plans(session, user=other, project_id=pid, llm=llm),
            lambda: plans.list_plans(session, user=other, project_id=pid),
            lambda: plans.select_plan(session, user=other, project_id=pid, plan_id=plan_id),
            lambda: projects.list_timeline(session, user=other, project_id=pid),
        ]
        for call in calls:
            with pytest.raises(NotFound, match='was not found'):
                await call()
        assert await dashboard.dashboard(session, user=other) == []
        assert await projects.list_projects(session, user=other) == []
        assert (await projects.get_project(session, user=owner, project_id=pid)).parked is False
