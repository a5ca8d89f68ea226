"""Issue 29 (2): no lost answers. Every read-modify-write of a founder's data holds its row while it writes, so
concurrent writers, each with its own session as two tabs or two admins have, all land (SQLite and Postgres)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlmodel import col, select

from core import admin_settings, admin_users
from core.adapters.notify_memory import MemoryNotifier
from core.adapters.queue_inprocess import InProcessQueue
from core.builds import jobs as builds
from core.errors import Conflict
from core.event_log import EventLog
from core.journey import brief, change_requests, flow, gates, interview, plans, projects
from core.models import AuditEntry, BuildJob, InterviewSession, User
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


# ── the project row as the guard: plan choice, next build, change drafts, brief rewrites ────────────────────


async def _plans_offered(session_factory) -> tuple[User, Any, list[Any]]:  # type: ignore[no-untyped-def]
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', reason='', llm=llm)  # type: ignore[union-attr]
        options = await plans.list_plans(session, user=user, project_id=project.id)
    return user, project, options


async def test_tabs_choosing_different_plans_at_once_leave_one_plan_chosen(session_factory) -> None:
    user, project, options = await _plans_offered(session_factory)

    async def choose(plan_id: uuid.UUID) -> None:
        async with session_factory() as tab:
            await plans.select_plan(tab, user=user, project_id=project.id, plan_id=plan_id)

    await asyncio.gather(*(choose(option.id) for option in options))
    async with session_factory() as session:
        chosen = [o.id for o in await plans.list_plans(session, user=user, project_id=project.id) if o.selected]
        again = await projects.get_project(session, user=user, project_id=project.id)
    assert len(chosen) == 1 and again.selected_plan_id == chosen[0]


async def test_build_clicked_in_two_tabs_at_once_starts_one_build(session_factory) -> None:
    user, project, options = await _plans_offered(session_factory)
    async with session_factory() as session:
        await plans.select_plan(session, user=user, project_id=project.id, plan_id=options[0].id)
    queue, events = InProcessQueue(dispatch=False), EventLog(session_factory, MemoryNotifier())

    async def start() -> str:
        async with session_factory() as tab:
            try:
                await builds.start_build(tab, user=user, project_id=project.id, queue=queue, events=events)
            except Conflict as refused:
                return str(refused)
            return 'started'

    outcomes = await asyncio.gather(*(start() for _ in range(4)))
    assert sorted(outcomes) == ['A build of this project is already under way.'] * 3 + ['started']
    async with session_factory() as session:
        jobs = (await session.exec(select(BuildJob).where(BuildJob.project_id == project.id))).all()
    assert len(jobs) == 1


async def test_change_drafted_in_two_tabs_at_once_gets_two_numbered_drafts(session_factory) -> None:
    user, project, options = await _plans_offered(session_factory)
    async with session_factory() as session:  # a version to change (a READY build, as the runner leaves it)
        session.add(BuildJob(project_id=project.id, user_id=user.id, state='READY', version_label='v0.1',
                             version_number=1, plan_id=options[0].id))  # fmt: skip
        await session.commit()
        await change_requests.start_change(session, user=user, project_id=project.id,
                                           request='Add a waiting list page for fully booked days')  # fmt: skip

    async def draft() -> int:
        async with session_factory() as tab:
            return (await change_requests.draft_change(tab, user=user, project_id=project.id)).version

    assert sorted(await asyncio.gather(*(draft() for _ in range(3)))) == [1, 2, 3]


VAGUE = {'idea': 'xxxxxxxxxxxxxxxxxxxx', 'answers': {key: 'x' for key in interview.KEYS}}


class HeldModel:
    """The model at the network edge, held mid-answer until the test lets it reply."""

    def __init__(self) -> None:
        self.inner, self.thinking, self.reply = journey_llm(), asyncio.Event(), asyncio.Event()
        self.name, self.offline, self.default_model = self.inner.name, True, self.inner.default_model

    async def complete(self, **kwargs: Any) -> Any:
        self.thinking.set()
        await self.reply.wait()
        return await self.inner.complete(**kwargs)

    async def healthy(self) -> bool:
        return True


async def test_others_write_while_the_brief_is_rewritten_and_a_second_tab_is_told_it_moved(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm(), VAGUE)
        current = await brief.latest(session, project_id=project.id, kind='idea_brief')
    questions = current.content['open_questions']  # type: ignore[union-attr]
    assert questions, 'a vague idea gets open questions'
    held = HeldModel()

    async def answer(llm: Any, text: str) -> Any:
        async with session_factory() as tab:
            return await brief.answer_open_questions(tab, user=user, project_id=project.id, llm=llm,
                                                     answers=[text] * len(questions))  # fmt: skip

    first = asyncio.create_task(answer(held, 'Dog groomers who work from a van'))
    await asyncio.wait_for(held.thinking.wait(), 10)
    async with session_factory() as other:  # another founder's write is not held behind the model call
        await asyncio.wait_for(projects.create_project(other, user=user, idea=IDEA), 10)
    second = await answer(journey_llm(), 'Cat sitters in one town')  # a second tab, answered at once
    held.reply.set()
    with pytest.raises(Conflict, match='changed while'):
        await first
    async with session_factory() as session:
        clarify = await interview.find_session(session, project_id=project.id, kind='clarify')
    assert second[0].version == current.version + 1  # type: ignore[union-attr]
    assert list(clarify.answers.values()) == ['Cat sitters in one town'] * len(questions)  # type: ignore[union-attr]
