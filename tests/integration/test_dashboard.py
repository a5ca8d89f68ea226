"""The dashboard (J-7): one summary per project, empty lists never null, no query per project."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from core.journey import dashboard, flow, gates, plans, projects
from core.journey.dashboard import ProjectSummary, completion_percent
from core.models import BuildJob, utcnow
from tests.integration.test_journey import IDEAS, journey_llm, make_founder, project_at_gate


def _lists_are_lists(summary: ProjectSummary) -> None:
    data = summary.model_dump()
    for key in ('artifacts', 'pending_decisions', 'risk_flags'):
        assert isinstance(data[key], list), key


async def test_new_founder_sees_an_empty_list(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        assert await dashboard.dashboard(session, user=user) == []


async def test_summaries_follow_the_journey(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        fresh = await projects.create_project(session, user=user, idea=IDEAS[1]['idea'])
        at_gate = await project_at_gate(session, user, llm)
        cards = {c.id: c for c in await dashboard.dashboard(session, user=user)}
        assert list(cards)[0] == at_gate.id  # most recently changed first

        new = cards[fresh.id]
        assert (new.stage, new.stage_label, new.mvp_completion_percent) == (
            'onboarding',
            'Getting to know your idea',
            0,  # nothing verified yet
        )
        assert (new.artifacts, new.pending_decisions, new.risk_flags) == ([], [], [])
        assert (new.product_version, new.latest_build_state, new.agent_state) == (None, None, 'Idle')
        _lists_are_lists(new)

        card = cards[at_gate.id]
        assert card.stage == 'gate1' and card.mvp_completion_percent == 0
        assert card.features_scoped >= 3 and card.features_verified == 0
        assert [(a.kind, a.version) for a in card.artifacts] == [('idea_brief', 1), ('mvp_scope', 1)]
        assert card.pending_decisions == ['direction']
        assert any('payment' in flag.lower() for flag in card.risk_flags)
        _lists_are_lists(card)


async def test_builds_set_version_state_and_flags(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', llm=llm)
        options = await plans.list_plans(session, user=user, project_id=project.id)
        await plans.select_plan(session, user=user, project_id=project.id, plan_id=options[0].id)
        (card,) = await dashboard.dashboard(session, user=user)
        assert (card.stage, card.plan_chosen, card.pending_decisions) == ('plan', True, [])

        t0 = utcnow() - timedelta(hours=3)
        session.add(
            BuildJob(
                project_id=project.id,
                user_id=user.id,
                state='READY',
                version_number=1,
                version_label='v0.1',
                queued_at=t0,
            )
        )
        session.add(
            BuildJob(
                project_id=project.id,
                user_id=user.id,
                state='FAILED',
                queued_at=t0 + timedelta(hours=1),
                error_summary='Tests failed',
            )
        )
        await session.commit()
        (card,) = await dashboard.dashboard(session, user=user)
        assert (card.product_version, card.latest_build_state, card.agent_state) == ('v0.1', 'FAILED', 'Error')
        assert 'Build failed' in card.risk_flags
        assert card.mvp_completion_percent == 0  # a READY build counts only through its passing checks

        session.add(
            BuildJob(project_id=project.id, user_id=user.id, state='SLEEPING', queued_at=t0 + timedelta(hours=2))
        )
        await session.commit()
        (card,) = await dashboard.dashboard(session, user=user)
        assert (card.latest_build_state, card.agent_state, card.product_version) == ('SLEEPING', 'Resting', 'v0.1')
        assert 'Build failed' not in card.risk_flags


async def test_dashboard_queries_do_not_grow_with_projects(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        await project_at_gate(session, user, llm)
        statements: list[str] = []
        engine = session.bind.sync_engine

        def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, 'before_cursor_execute', count)
        try:
            await dashboard.dashboard(session, user=user)
            with_one = len(statements)
            for idea in IDEAS[1:5]:
                await project_at_gate(session, user, llm, idea)
            statements.clear()
            cards = await dashboard.dashboard(session, user=user)
            assert len(cards) == 5 and len(statements) == with_one
        finally:
            event.remove(engine, 'before_cursor_execute', count)


def test_completion_is_verified_out_of_scoped() -> None:
    assert completion_percent(0, 0) == 0
    assert completion_percent(0, 5) == 0
    assert completion_percent(4, 5) == 80
    assert completion_percent(2, 3) == 66  # rounded down: 100 only when every feature is verified
    assert completion_percent(5, 5) == 100
    assert dashboard.agent_state('NEEDS_INPUT') == 'Needs your input'
    assert dashboard.agent_state('BUDGET_EXCEEDED') == 'Budget exceeded'
    assert dashboard.agent_state('CODE') == 'Building'
