"""Issue 29 (2): no lost answers. Every read-modify-write of a founder's data holds its row while it writes, so
concurrent writers, each with its own session as two tabs or two admins have, all land (SQLite and Postgres)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, select

from core import admin_settings, admin_users
from core.errors import Conflict
from core.journey import brief, flow, gates, interview, projects
from core.models import AuditEntry, InterviewSession, User
from tests.integration.test_journey import journey_llm, make_founder, project_at_gate

ROUNDS = 5
IDEA = 'A booking tool for dog groomers who work from a van'


async def test_tabs_saving_different_answers_at_once_keep_every_answer(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
    for round_no in range(ROUNDS):
        async with session_factory() as session:
            project = await projects.create_project(session, user=user, idea=IDEA)
            await interview.start_interview(session, user=user, project_id=project.id)

        async def save(key: str, project_id=project.id, n=round_no) -> None:  # type: ignore[no-untyped-def]
            async with session_factory() as tab:  # each tab has its own session, as pages do
                await interview.save_answer(tab, user=user, project_id=project_id, kind='understanding', key=key,
                                            text=f'{key} answer {n}')  # fmt: skip

        await asyncio.gather(*(save(key) for key in interview.KEYS))
        async with session_factory() as session:
            saved = await interview.answers(session, project_id=project.id)
        assert saved == {key: f'{key} answer {round_no}' for key in interview.KEYS}, f'round {round_no}'


async def test_one_answer_typed_in_two_tabs_keeps_the_last_write_and_the_other_keys(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea=IDEA)
        await interview.start_interview(session, user=user, project_id=project.id)
        await interview.save_answer(session, user=user, project_id=project.id, kind='understanding',
                                    key='problem', text='kept')  # fmt: skip

    async def save(text: str) -> None:
        async with session_factory() as tab:
            await interview.save_answer(tab, user=user, project_id=project.id, kind='understanding',
                                        key='success', text=text)  # fmt: skip

    await asyncio.gather(*(save(f'version {i}') for i in range(6)))
    async with session_factory() as session:
        row = (await session.exec(select(InterviewSession).where(InterviewSession.project_id == project.id))).one()
    assert row.answers['problem'] == 'kept' and row.answers['success'].startswith('version ')


async def test_concurrent_brief_edits_each_become_a_version(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        current = await brief.latest(session, project_id=project.id, kind='idea_brief')
    assert current is not None

    async def edit(n: int) -> int:
        async with session_factory() as tab:
            content = dict(current.content, title=f'Edit {n}')
            row = await brief.edit_artifact(tab, user=user, project_id=project.id, kind='idea_brief', content=content)
            return row.version

    versions = await asyncio.gather(*(edit(n) for n in range(4)))
    assert sorted(versions) == [current.version + i for i in range(1, 5)]  # none refused, none overwritten
    async with session_factory() as session:
        history = await brief.history(session, user=user, project_id=project.id, kind='idea_brief')
    assert sorted(a.content['title'] for a in history[:4]) == [f'Edit {n}' for n in range(4)]


async def test_concurrent_gate_decisions_one_wins_and_the_project_follows_it(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
    assert gate is not None

    async def decide(decision: str) -> str:
        async with session_factory() as tab:
            try:
                await flow.decide_gate(tab, user=user, gate_id=gate.id, decision=decision, reason='because')
            except Conflict:
                return 'refused'
            return decision

    outcomes = await asyncio.gather(decide('park'), decide('proceed'), decide('park'), decide('proceed'))
    won = [o for o in outcomes if o != 'refused']
    assert len(won) == 1
    async with session_factory() as session:
        again = await projects.get_project(session, user=user, project_id=project.id)
    assert again.parked is (won[0] == 'park')


async def test_admins_editing_different_settings_at_once_keep_every_change(session_factory) -> None:
    async with session_factory() as session:
        admin = await make_founder(session, role='admin')
    values = {'event_hours': 48, 'workspace_days': 9, 'snapshots_kept': 7, 'screenshot_days': 40,
              'preview_idle_minutes': 45}  # fmt: skip

    async def edit(name: str, value: int) -> None:
        async with session_factory() as page:
            await admin_settings.set_retention(page, actor=admin, values={name: value})

    await asyncio.gather(*(edit(name, value) for name, value in values.items()))
    async with session_factory() as session:
        kept = await admin_settings.retention_settings(session)
        audited = (await session.exec(select(AuditEntry).where(AuditEntry.action == 'setting.retention'))).all()
    assert {name: getattr(kept, name) for name in values} == values
    assert len(audited) == len(values)


@pytest.mark.parametrize('writers', [6])
async def test_concurrent_top_ups_add_up(session_factory, writers: int) -> None:
    async with session_factory() as session:
        admin = await make_founder(session, role='admin')
        founder = await make_founder(session)

    async def top_up() -> None:
        async with session_factory() as page:
            await admin_users.top_up(page, actor=admin, user_id=founder.id, tokens=1000)

    await asyncio.gather(*(top_up() for _ in range(writers)))
    async with session_factory() as session:
        stored = (await session.exec(select(User.topup_tokens).where(col(User.id) == founder.id))).one()
    assert stored == writers * 1000
