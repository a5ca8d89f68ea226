"""Onboarding (J-2): 3-6 short questions generated from the idea, answered as typed.

Answers go through `interview.save_answer(kind='onboarding', key='q1', …)`; finishing calls
`complete_onboarding`, which opens the understanding interview.
"""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from core.journey import interview, structured
from core.journey.projects import load_project
from core.models import InterviewSession, User
from core.ports import LLM


async def start_onboarding(session: AsyncSession, *, user: User, project_id: uuid.UUID, llm: LLM) -> InterviewSession:
    """The project's onboarding questions, generated once by the model (idempotent).

    Raises ModelUnavailable when the model fails; the idea is already saved, so a retry is safe.
    """
    await load_project(session, user=user, project_id=project_id)
    existing = await interview.find_session(session, project_id=project_id, kind='onboarding')
    if existing is not None:
        return existing
    project = await load_project(session, user=user, project_id=project_id, active=True)
    out = await structured.ask_questions(llm, {'title': project.title, 'idea': project.idea})
    questions = [{'key': f'q{i}', 'text': q.text, 'hint': q.hint} for i, q in enumerate(out.questions, start=1)]
    row = await interview.insert_session(session, project_id=project.id, kind='onboarding', questions=questions)
    await session.commit()
    return row


async def complete_onboarding(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> InterviewSession:
    """Finish onboarding (every question answered) and start the understanding interview."""
    row = await interview.complete_interview(session, user=user, project_id=project_id, kind='onboarding')
    await interview.start_interview(session, user=user, project_id=project_id)
    return row
