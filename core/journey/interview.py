"""The understanding interview (J-3) and the answer storage shared with onboarding.

Onboarding and the interview are one conversation: an onboarding question that asks one of the interview's
fixed questions says so (`covers`), and once answered the interview does not ask it again; `answers` reads
each fixed key from the interview, else from the onboarding answer that covered it. Answers to the brief's
open questions (`clarify`) are kept the same way and reach the agent with the rest.

Answers are saved exactly as typed, on every (debounced) keystroke, so nothing is lost when the
tab closes; `current_index` lets the founder resume on the screen they left.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import InvalidInput, NotFound
from core.founder_text import founder_text
from core.journey import timeline
from core.journey.projects import advance_stage, load_project
from core.language import JAPANESE, detect
from core.models import InterviewSession, Project, User, utcnow
from core.row_locks import lock_for_update

ANSWER_MAX = 2000
KINDS = ('onboarding', 'understanding', 'clarify')  # the founder's answers, in the agent's context
EDITABLE = (*KINDS, 'change')  # the change request's clarifying answers are saved the same way
KEYS = ('target_user', 'problem', 'must_have', 'constraints', 'success')
KEY_LABELS = {
    'target_user': 'who it is for',
    'problem': 'the problem',
    'must_have': 'the must-have features',
    'constraints': 'the constraints',
    'success': 'how you will measure success',
}

_EN = {
    'target_user': ('Who will use “{title}” first? Be as specific as you can.', 'e.g. solo dog groomers with a van'),
    'problem': ('What problem does it solve for them today?', 'e.g. they lose hours a week on phone tag'),
    'must_have': ('Which features must the first version have? Separate them with commas.', 'e.g. booking, reminders'),
    'constraints': ('Any constraints? Devices, budget, languages, deadlines…', 'e.g. must work on a phone'),
    'success': ('How will you know it works? One measurable sign of success.', 'e.g. fewer than 5% no-shows'),
}
_FR = {
    'target_user': ('Qui utilisera « {title} » en premier ? Soyez précis.', 'ex. : entraîneurs bénévoles'),
    'problem': ('Quel problème cela leur résout-il aujourd’hui ?', 'ex. : trop de messages sans réponse'),
    'must_have': ('Quelles fonctions sont indispensables ? Séparez-les par des virgules.', 'ex. : convocations'),
    'constraints': ('Des contraintes ? Appareils, budget, langue, délais…', 'ex. : sur mobile'),
    'success': ('Comment saurez-vous que ça marche ? Un signe mesurable.', 'ex. : 90 % de réponses'),
}
_JA = {
    'target_user': ('「{title}」を最初に使うのは誰ですか?できるだけ具体的に。', '例:車で出張するトリマー'),
    'problem': ('その人たちは今どんなことに困っていますか?', '例:電話のやりとりに毎週何時間も取られる'),
    'must_have': ('最初の版に必ず必要な機能は?「、」で区切って書いてください。', '例:予約カレンダー、リマインダー'),
    'constraints': ('制約はありますか?端末、予算、言語、期限など。', '例:スマホで使えること'),
    'success': ('うまくいったとどう分かりますか?測れる目安を 1 つ。', '例:無断キャンセルが 5% 未満'),
}
_FRENCH_HINTS = re.compile(r'[àâçéèêëîïôûùœ]|\b(?:le|la|les|des|une|pour|et|avec|sur|du|qui)\b', re.I)


def looks_french(text: str) -> bool:
    """A cheap guess at the idea's language, so questions come back in the founder's language."""
    return len(_FRENCH_HINTS.findall(text)) >= 2


def understanding_questions(project: Project, skip: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The fixed-key interview questions, phrased for this idea, without those already asked (`skip`)."""
    texts = _JA if detect(project.idea) == JAPANESE else _FR if looks_french(project.idea) else _EN
    return [{'key': k, 'text': texts[k][0].format(title=project.title), 'hint': texts[k][1]}
            for k in KEYS if k not in skip]  # fmt: skip


def covered(onboarding: InterviewSession | None, *, answered: bool = True) -> set[str]:
    """The interview keys the onboarding already asked (with `answered`, only those the founder answered)."""
    if onboarding is None:
        return set()
    return {q['covers'] for q in onboarding.questions if q.get('covers') in KEYS
            and (not answered or (onboarding.answers.get(q['key']) or '').strip())}  # fmt: skip


async def find_session(session: AsyncSession, *, project_id: uuid.UUID, kind: str) -> InterviewSession | None:
    rows = await session.exec(
        select(InterviewSession).where(InterviewSession.project_id == project_id, InterviewSession.kind == kind)
    )
    return rows.first()


async def insert_session(
    session: AsyncSession, *, project_id: uuid.UUID, kind: str, questions: list[dict[str, Any]]
) -> InterviewSession:
    """Insert once: a concurrent creator wins and its row is returned (unique project+kind)."""
    row = InterviewSession(project_id=project_id, kind=kind, questions=questions)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = await find_session(session, project_id=project_id, kind=kind)
        if existing is None:
            raise
        return existing
    return row


async def start_interview(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> InterviewSession:
    """The understanding interview of the project, created on first use (idempotent)."""
    await load_project(session, user=user, project_id=project_id)
    existing = await find_session(session, project_id=project_id, kind='understanding')
    if existing is not None:
        return existing
    project = await load_project(session, user=user, project_id=project_id, active=True)
    asked = covered(await find_session(session, project_id=project.id, kind='onboarding'))
    row = await insert_session(
        session, project_id=project.id, kind='understanding', questions=understanding_questions(project, asked)
    )
    await session.commit()
    return row


async def skip_asked(session: AsyncSession, *, project_id: uuid.UUID) -> InterviewSession | None:
    """After onboarding: drop the interview's unanswered questions the onboarding answered (not committed); an
    interview left with nothing to ask is complete."""
    row = await find_session(session, project_id=project_id, kind='understanding')
    if row is None or row.completed:
        return row
    asked = covered(await find_session(session, project_id=project_id, kind='onboarding'))
    keep = [q for q in row.questions if q['key'] not in asked or (row.answers.get(q['key']) or '').strip()]
    if len(keep) != len(row.questions):
        row.questions = keep
        row.current_index = max(0, min(row.current_index, len(keep) - 1))
    return row


async def get_interview(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, kind: str = 'understanding'
) -> InterviewSession:
    """The project's interview of `kind` (NotFound when it has not started)."""
    await load_project(session, user=user, project_id=project_id)
    row = await find_session(session, project_id=project_id, kind=kind)
    if row is None:
        raise NotFound('That interview')
    return row


async def _editable(session: AsyncSession, *, user: User, project_id: uuid.UUID, kind: str) -> InterviewSession:
    if kind not in EDITABLE:
        raise InvalidInput('Unknown interview.')
    await load_project(session, user=user, project_id=project_id, active=True)
    if kind == 'understanding':
        return await start_interview(session, user=user, project_id=project_id)
    return await get_interview(session, user=user, project_id=project_id, kind=kind)


async def save_answer(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, kind: str, key: str, text: str
) -> InterviewSession:
    """Save one answer exactly as typed (called on every debounced keystroke)."""
    text = founder_text(text, what='This answer')
    if len(text) > ANSWER_MAX:
        raise InvalidInput(f'Keep each answer under {ANSWER_MAX} characters (this one has {len(text)}).')
    row = await _editable(session, user=user, project_id=project_id, kind=kind)
    allowed = {q['key'] for q in row.questions} | (set(KEYS) if kind == 'understanding' else set())
    if key not in allowed:  # a fixed key asked during onboarding may still be refined here
        raise InvalidInput('That question is not part of this interview.')
    await lock_for_update(session, row)  # two tabs saving at once: each adds its key to the other's answers
    row.answers = {**row.answers, key: text}  # a new dict: JSON columns only see reassignment
    row.updated_at = utcnow()
    project = await session.get(Project, project_id)
    if project is not None:
        project.updated_at = row.updated_at
    await session.commit()
    return row


async def set_position(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, kind: str, index: int
) -> InterviewSession:
    """Remember which question the founder is on ("one screen at a time", resume later)."""
    row = await _editable(session, user=user, project_id=project_id, kind=kind)
    row.current_index = max(0, min(index, len(row.questions) - 1))
    row.updated_at = utcnow()
    await session.commit()
    return row


def missing_answers(row: InterviewSession) -> list[dict[str, Any]]:
    return [q for q in row.questions if not (row.answers.get(q['key']) or '').strip()]


async def complete_interview(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, kind: str = 'understanding'
) -> InterviewSession:
    """Finish an interview once every question has an answer; moves the journey on."""
    row = await _editable(session, user=user, project_id=project_id, kind=kind)
    missing = missing_answers(row)
    if missing:
        if kind == 'understanding':
            names = ', '.join(KEY_LABELS.get(q['key'], q['key']) for q in missing)
        else:
            names = ', '.join(f'question {row.questions.index(q) + 1}' for q in missing)
        raise InvalidInput(f'Please answer {names} before continuing.')
    if not row.completed:
        project = await load_project(session, user=user, project_id=project_id)
        row.completed = True
        row.updated_at = utcnow()
        if kind == 'onboarding':
            advance_stage(project, 'interview')
            timeline.record(session, project_id=project.id, kind='onboarding.completed', title='Onboarding done')
        else:
            advance_stage(project, 'brief')
            timeline.record(session, project_id=project.id, kind='interview.completed', title='Interview done')
        await session.commit()
    return row


async def answers(session: AsyncSession, *, project_id: uuid.UUID) -> dict[str, str]:
    """The answers by fixed key: the interview's, else the onboarding answer that covered the key ('' when none)."""
    row = await find_session(session, project_id=project_id, kind='understanding')
    given = row.answers if row else {}
    onboarding = await find_session(session, project_id=project_id, kind='onboarding')
    early: dict[str, str] = {}
    if onboarding is not None:
        for q in onboarding.questions:
            text = onboarding.answers.get(q['key']) or ''
            if q.get('covers') in KEYS and text.strip():
                early.setdefault(q['covers'], text)
    out = {}
    for k in KEYS:
        mine = given.get(k) or ''
        out[k] = mine if mine.strip() else early.get(k, mine)
    return out


async def qa_pairs(session: AsyncSession, *, project_id: uuid.UUID) -> list[tuple[str, str]]:
    """Onboarding then interview questions with their answers, verbatim and in order.

    Used to build prompts (no ownership check: callers are the agent and the journey itself).
    Unanswered questions are left out.
    """
    pairs: list[tuple[str, str]] = []
    for kind in KINDS:
        row = await find_session(session, project_id=project_id, kind=kind)
        if row is None:
            continue
        for q in row.questions:
            answer = row.answers.get(q['key']) or ''
            if answer.strip():
                pairs.append((q['text'], answer))
    return pairs
