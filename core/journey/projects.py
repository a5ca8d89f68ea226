"""Projects (J-2): capture an idea, ownership checks, stages, park, the timeline read back.

Unpark lives in `core.journey.flow`: at the direction stage it re-opens Gate 1, which sits above this module.

Every journey function takes an AsyncSession, the acting `user` and ids, checks ownership
(another founder's project is NotFound — admins are not exempt in the journey) and commits
before returning, so a page can call it directly.
"""

from __future__ import annotations

import re
import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.journey import timeline
from core.models import Project, TimelineEvent, User, utcnow

IDEA_MIN, IDEA_MAX = 15, 2000
TOO_SHORT = f'Tell us a bit more: at least {IDEA_MIN} characters'
TOO_LONG = f"That's a lot — keep the idea under {IDEA_MAX} characters"
PARKED = 'This project is parked — unpark it to continue'
SUSPENDED = 'Your account is suspended, so you cannot change projects. Please contact the administrator.'

# The journey in order; a stage only moves forward (re-running a step never moves it back).
STAGES = ('idea', 'onboarding', 'interview', 'brief', 'gate1', 'plan', 'building', 'mvp_built', 'iterating', 'shipped')
STAGE_LABELS = {
    'idea': 'Idea',
    'onboarding': 'Getting to know your idea',
    'interview': 'Interview',
    'brief': 'Idea Brief',
    'gate1': 'Decide the direction',
    'plan': 'Choose a plan',
    'building': 'Building',
    'mvp_built': 'MVP built',
    'iterating': 'Iterating',
    'shipped': 'Shipped',
}


def stage_index(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else 0


def advance_stage(project: Project, stage: str) -> None:
    """Move the project forward to `stage`; never backwards."""
    if stage_index(stage) > stage_index(project.stage):
        project.stage = stage
    project.updated_at = utcnow()


def clean_idea(idea: str) -> str:
    """Trim and check the idea's length; InvalidInput with a founder-readable message."""
    text = (idea or '').strip()
    if len(text) < IDEA_MIN:
        raise InvalidInput(TOO_SHORT)
    if len(text) > IDEA_MAX:
        raise InvalidInput(TOO_LONG)
    return text


_CLAUSE_END = re.compile(r'[.:;!?,()\[\]—–\n]| - ')
_CONNECTOR = re.compile(r'\s+(?:so|that|which|where|who|whose|qui|que|où|pour que|afin de|afin que)\s+', re.I)
_ARTICLE = re.compile(r"^(?:(?:a|an|the|my|our|un|une|le|la|les|mon|ma|notre)\s+|l['’]\s*)(?=\w)", re.I)


def derive_title(idea: str, *, max_chars: int = 60) -> str:
    """A short deterministic title: the idea's first clause, without a leading article."""
    clause = _CLAUSE_END.split(idea.strip(), maxsplit=1)[0].strip() or idea.strip()
    clause = _CONNECTOR.split(clause, maxsplit=1)[0].strip() or clause
    words = _ARTICLE.sub('', clause).split() or clause.split()
    title = ''
    for word in words:
        if len(title) + len(word) + 1 > max_chars:
            break
        title = f'{title} {word}'.strip()
    title = title or idea.strip()[:max_chars]
    return title[:1].upper() + title[1:]


def require_active_user(user: User) -> None:
    if user.suspended:
        raise Forbidden(SUSPENDED)


async def load_project(session: AsyncSession, *, user: User, project_id: uuid.UUID, active: bool = False) -> Project:
    """The user's project or NotFound; `active` also refuses parked projects and suspended users."""
    project = await session.get(Project, project_id)
    if project is None or project.owner_id != user.id:
        raise NotFound('That project')
    if active:
        require_active_user(user)
        if project.parked:
            raise Conflict(PARKED)
    return project


async def create_project(session: AsyncSession, *, user: User, idea: str) -> Project:
    """Capture an idea as a new project in the onboarding stage."""
    require_active_user(user)
    text = clean_idea(idea)
    project = Project(owner_id=user.id, title=derive_title(text), idea=text, stage='onboarding')
    session.add(project)
    await session.flush()
    timeline.record(session, project_id=project.id, kind='idea.created', title='Idea captured', detail=text)
    await session.commit()
    return project


async def get_project(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> Project:
    """One of the user's projects (NotFound when missing or not theirs)."""
    return await load_project(session, user=user, project_id=project_id)


async def list_timeline(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> list[TimelineEvent]:
    """The project's timeline events, oldest first (ties broken by insertion order)."""
    await load_project(session, user=user, project_id=project_id)
    rows = await session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.project_id == project_id)
        .order_by(col(TimelineEvent.at), col(TimelineEvent.id))
    )
    return list(rows.all())


async def list_projects(session: AsyncSession, *, user: User) -> list[Project]:
    """The user's projects, most recently changed first."""
    rows = await session.exec(
        select(Project).where(Project.owner_id == user.id).order_by(col(Project.updated_at).desc())
    )
    return list(rows.all())


async def park(session: AsyncSession, *, user: User, project_id: uuid.UUID, reason: str = '') -> Project:
    """Freeze a project: journey actions are refused until it is unparked."""
    project = await load_project(session, user=user, project_id=project_id)
    if not project.parked:
        project.parked = True
        project.updated_at = utcnow()
        timeline.record(session, project_id=project.id, kind='project.parked', title='Project parked', detail=reason)
        await session.commit()
    return project
