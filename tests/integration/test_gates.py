"""Decision gates (J-5): idempotent opening, decisions with reasons, narrow / pivot / park."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from core.errors import Conflict, InvalidInput, ModelUnavailable
from core.journey import brief, flow, gates, interview, plans, projects
from core.models import DecisionGate
from tests.integration.test_journey import FailingLLM, journey_llm, make_founder, project_at_gate


async def _gates(session, project_id) -> list[DecisionGate]:  # type: ignore[no-untyped-def]
    return list((await session.exec(select(DecisionGate).where(DecisionGate.project_id == project_id))).all())


async def test_opening_a_gate_twice_returns_the_pending_one(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm())
        pending = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        again = await gates.open_gate(session, project_id=project.id, gate_type='direction')
        assert again.id == pending.id and again.options == ['proceed', 'narrow', 'pivot', 'park']
        assert len(await _gates(session, project.id)) == 1


async def test_concurrent_openers_create_one_gate(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea='A tool that opens gates at the same time')

    async def open_one():  # type: ignore[no-untyped-def]
        async with session_factory() as s:
            gate = await gates.open_gate(s, project_id=project.id, gate_type='solidification')
            return gate.id

    ids = await asyncio.gather(*(open_one() for _ in range(6)))
    assert len(set(ids)) == 1
    async with session_factory() as session:
        assert len(await _gates(session, project.id)) == 1
        events = await projects.list_timeline(session, user=user, project_id=project.id)
        assert [e.kind for e in events].count('gate.opened') == 1


async def test_decisions_need_a_reason_except_proceed_and_happen_once(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm())
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        with pytest.raises(InvalidInput, match='Tell us why you chose to narrow'):
            await flow.decide_gate(session, user=user, gate_id=gate.id, decision='narrow', reason='  ')
        with pytest.raises(InvalidInput, match='Choose one of: proceed, narrow, pivot, park'):
            await flow.decide_gate(session, user=user, gate_id=gate.id, decision='ship', reason='why not')
        decided = await flow.decide_gate(session, user=user, gate_id=gate.id, decision='Proceed')
        assert decided.decision == 'proceed' and decided.pending_key is None and decided.decided_at is not None
        with pytest.raises(Conflict, match='already been made'):
            await flow.decide_gate(session, user=user, gate_id=gate.id, decision='park', reason='changed my mind')
        assert (await projects.get_project(session, user=user, project_id=project.id)).stage == 'plan'


async def test_two_concurrent_decisions_one_wins(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea='A tool decided twice at the same time')
        gate = await gates.open_gate(session, project_id=project.id, gate_type='solidification')

    async def decide(decision: str):  # type: ignore[no-untyped-def]
        async with session_factory() as s:
            try:
                await flow.decide_gate(s, user=user, gate_id=gate.id, decision=decision, reason=f'{decision} now')
                return decision
            except Conflict:
                return 'conflict'

    outcomes = await asyncio.gather(decide('ship'), decide('iterate'))
    assert sorted(outcomes).count('conflict') == 1
    async with session_factory() as session:
        row = await session.get(DecisionGate, gate.id)
        assert row.status == 'decided' and row.decision in outcomes and row.reason == f'{row.decision} now'


async def test_narrow_and_pivot_write_new_brief_versions_and_reopen_gate_1(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        reason = 'Focus on booking and deposits, drop SMS reminders for now'
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='narrow', reason=reason, llm=llm)
        versions = await brief.history(session, user=user, project_id=project.id, kind='idea_brief')
        assert [v.version for v in versions] == [2, 1] and versions[0].note == f'narrowed: {reason}'
        assert len(versions[0].content['core_features']) < len(versions[1].content['core_features'])
        assert 'SMS Reminders' not in [f['name'] for f in versions[0].content['core_features']]
        scopes = await brief.history(session, user=user, project_id=project.id, kind='mvp_scope')
        assert [v.version for v in scopes] == [2, 1]

        reopened = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        assert reopened is not None and reopened.id != gate.id
        pivot = 'Pivot to a marketplace where groomers find freelance assistants'
        await flow.decide_gate(session, user=user, gate_id=reopened.id, decision='pivot', reason=pivot, llm=llm)
        latest = await brief.latest(session, project_id=project.id, kind='idea_brief')
        assert latest.version == 3 and latest.note.startswith('pivoted: ')
        assert 'marketplace' in latest.content['value_proposition'].lower()
        decided = [g for g in await gates.list_gates(session, user=user, project_id=project.id) if g.decision]
        assert [(g.decision, g.reason) for g in decided] == [('narrow', reason), ('pivot', pivot)]
        events = await projects.list_timeline(session, user=user, project_id=project.id)
        assert [e.detail for e in events if e.kind == 'gate.decided'] == [reason, pivot]


async def test_failed_regeneration_keeps_the_gate_pending_and_the_reason(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm())
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        with pytest.raises(ModelUnavailable):
            await flow.decide_gate(
                session, user=user, gate_id=gate.id, decision='pivot', reason='B2B', llm=FailingLLM()
            )
        row = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        assert row.id == gate.id and row.status == 'pending' and row.reason == 'B2B'
        assert len(await brief.history(session, user=user, project_id=project.id, kind='idea_brief')) == 1


async def test_park_freezes_the_project_until_unparked(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='park', reason='Busy season')
        assert (await projects.get_project(session, user=user, project_id=project.id)).parked
        pid = project.id
        frozen = [
            lambda: interview.save_answer(session, user=user, project_id=pid, kind='understanding', key='problem',
                                          text='new'),
            lambda: flow.generate_brief(session, user=user, project_id=pid, llm=llm),
            lambda: brief.edit_artifact(session, user=user, project_id=pid, kind='idea_brief', content={}),
            lambda: plans.generate_plans(session, user=user, project_id=pid, llm=llm),
        ]  # fmt: skip
        for action in frozen:
            with pytest.raises(Conflict, match='This project is parked — unpark it to continue'):
                await action()
        assert await brief.export_markdown(session, user=user, project_id=pid)  # reading still works

        await flow.unpark(session, user=user, project_id=pid)
        reopened = await gates.get_pending(session, user=user, project_id=pid, gate_type='direction')
        assert reopened is not None and reopened.id != gate.id
        await flow.decide_gate(session, user=user, gate_id=reopened.id, decision='proceed', llm=llm)
        assert len(await plans.list_plans(session, user=user, project_id=pid)) == 3
        kinds = [e.kind for e in await projects.list_timeline(session, user=user, project_id=pid)]
        assert kinds[-5:] == ['project.parked', 'gate.decided', 'project.unparked', 'gate.opened', 'gate.decided']


async def test_parked_project_refuses_gate_decisions(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm())
        await projects.park(session, user=user, project_id=project.id, reason='Holiday')
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        with pytest.raises(Conflict, match='parked'):
            await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed')
        await flow.unpark(session, user=user, project_id=project.id)
        again = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        assert again.id == gate.id  # still the same pending gate: unpark does not open a second one


async def test_gate_2_decisions_are_recorded(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm())
        gate = await gates.open_gate(session, project_id=project.id, gate_type='solidification')
        assert gate.options == ['iterate', 'ship', 'park']
        decided = await flow.decide_gate(session, user=user, gate_id=gate.id, decision='ship', reason='Users love it')
        assert (decided.gate_type, decided.decision, decided.reason) == ('solidification', 'ship', 'Users love it')
        assert await gates.get_pending(session, user=user, project_id=project.id, gate_type='solidification') is None
