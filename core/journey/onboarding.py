"""Onboarding (J-2): 3-6 short questions generated from the idea, answered as typed.

Answers go through `interview.save_answer(kind='onboarding', key='q1', …)`; finishing calls
`complete_onboarding`, which opens the understanding interview without the questions onboarding already
asked (a question's `covers` names the interview key it asks); with nothing left to ask, the interview is done
too. To the founder it is one conversation.
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
    questions = [
        {'key': f'q{i}', 'text': q.text, 'hint': q.hint, **({'covers': q.covers} if q.covers else {})}
        for i, q in enumerate(_once(out.questions), start=1)
    ]
    row = await interview.insert_session(session, project_id=project.id, kind='onboarding', questions=questions)
    await session.commit()
    return row


def _once(questions: list[structured.Question]) -> list[structured.Question]:
    """Each interview key covered by one question at most (a second one is asked, but skips nothing)."""
    seen: set[str] = set()
    out = []
    for q in questions:
        if q.covers in seen:
            q = q.model_copy(update={'covers': ''})
        seen.add(q.covers)
        out.append(q)
    return out


async def complete_onboarding(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> InterviewSession:
    """Finish onboarding (every question answered) and start the understanding interview with only what is left
    to ask; with nothing left, the interview is complete as well."""
    row = await interview.complete_interview(session, user=user, project_id=project_id, kind='onboarding')
    await interview.start_interview(session, user=user, project_id=project_id)
    left = await interview.skip_asked(session, project_id=project_id)
    await session.commit()
    if left is not None and not left.questions and not left.completed:
        await interview.complete_interview(session, user=user, project_id=project_id)
    return row
