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

from core.accounts import require_active
from core.errors import Conflict, InvalidInput, NotFound, Suspended
from core.founder_text import founder_text, measure
from core.journey import timeline
from core.models import Project, TimelineEvent, User, utcnow

IDEA_MIN, IDEA_MAX = 15, 2000
TOO_SHORT = f'Tell us a bit more: at least {IDEA_MIN} characters'
TOO_LONG = f"That's a lot — keep the idea under {IDEA_MAX} characters"
PARKED = 'This project is parked — unpark it to continue'
SUSPENDED = Suspended.MESSAGE

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
    text = founder_text(idea, what='Your idea').strip()
    if measure(text) < IDEA_MIN:
        raise InvalidInput(TOO_SHORT)
    if len(text) > IDEA_MAX:
        raise InvalidInput(TOO_LONG)
    return text


_CLAUSE_END = re.compile(r'[.:;!?,()\[\]—–\n。!?:;()「」]| - ')
_CONNECTOR = re.compile(r'\s+(?:so|that|which|where|who|whose|qui|que|où|pour que|afin de|afin que)\s+', re.I)
_ARTICLE = re.compile(r"^(?:(?:a|an|the|my|our|un|une|le|la|les|mon|ma|notre)\s+|l['’]\s*)(?=\w)", re.I)
# Tag-like markup is not words: a title never reads "<script>alert" (the idea itself is kept verbatim).
_MARKUP = re.compile(r'<(script|style)\b[^>]*>.*?</\1\s*>|<[^>]*>', re.I | re.S)
_WIDE_TITLE = 30  # characters of a title in a script without spaces (Japanese, Chinese)
_DANGLING = frozenset('a an the of for to and or with from in on at by de du des et à avec pour'.split())


def derive_title(idea: str, *, max_chars: int = 60) -> str:
    """A short deterministic title from the idea's words: its first clause, without markup or a leading article."""
    text = ' '.join(_MARKUP.sub(' ', idea).split()) or idea.strip()
    clause = _CLAUSE_END.split(text, maxsplit=1)[0].strip() or text
    head = _CONNECTOR.split(clause, maxsplit=1)[0].strip()
    if len(_ARTICLE.sub('', head).split()) >= 2:  # a bare noun ("Marketplace") says too little on its own
        clause = head
    words = [w for w in _ARTICLE.sub('', clause).split() if any(c.isalnum() for c in w)]
    words = words or [w for w in text.split() if any(c.isalnum() for c in w)] or text.split()
    title = ''
    for word in words:
        if len(title) + len(word) + 1 > max_chars:
            break
        title = f'{title} {word}'.strip()
    while ' ' in title and title.rsplit(' ', 1)[1].casefold() in _DANGLING:  # cut at "… neighbours for"
        title = title.rsplit(' ', 1)[0]
    title = title or ''.join(words)[: min(max_chars, _WIDE_TITLE)] or idea.strip()[:max_chars]
    if measure(title) > 2 * _WIDE_TITLE and measure(title) > len(title):  # one long run of wide characters
        title = title[:_WIDE_TITLE]
    return title[:1].upper() + title[1:]


def require_active_user(user: User) -> None:
    """The flag of the caller's copy; the account's row is read by `load_project` (`accounts.require_active`)."""
    if user.suspended:
        raise Suspended()


async def load_project(session: AsyncSession, *, user: User, project_id: uuid.UUID, active: bool = False) -> Project:
    """The user's project or NotFound; a suspended account is refused (its row is read: a page's `user` may be
    older than the suspension, and every journey action, page or API, comes through here); `active` also refuses
    parked projects."""
    project = await session.get(Project, project_id)
    if project is None or project.owner_id != user.id:
        raise NotFound('That project')
    await require_active(session, user)
    if active:
        require_active_user(user)  # and the caller's copy, as before (a caller may have just suspended it)
        if project.parked:
            raise Conflict(PARKED)
    return project


async def create_project(session: AsyncSession, *, user: User, idea: str) -> Project:
    """Capture an idea as a new project in the onboarding stage."""
    require_active_user(user)
    await require_active(session, user)
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


# ── managing one's projects: rename, archive, restore (deletion: core/project_removal.py) ────────────

TITLE_MAX = 120  # the column's size
TITLE_EMPTY = 'Give the project a name.'


def clean_title(title: str) -> str:
    """The founder's title as typed (trimmed, one line), or InvalidInput with what to do."""
    text = ' '.join(founder_text(title, what='The name', limit=10 * TITLE_MAX).split())
    if not text:
        raise InvalidInput(TITLE_EMPTY)
    if len(text) > TITLE_MAX:
        raise InvalidInput(f'Keep the name under {TITLE_MAX} characters.')
    return text


async def rename_project(session: AsyncSession, *, user: User, project_id: uuid.UUID, title: str) -> Project:
    """Give the project the founder's own name (kept verbatim); recorded on its timeline."""
    require_active_user(user)
    project = await load_project(session, user=user, project_id=project_id)
    new = clean_title(title)
    if new != project.title:
        old, project.title = project.title, new
        project.updated_at = utcnow()
        timeline.record(session, project_id=project.id, kind='project.renamed', title='Project renamed',
                        detail=f'{old} → {new}')  # fmt: skip
        await session.commit()
    return project


async def archive_project(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> Project:
    """Hide the project from the dashboard's main list; nothing is lost and `restore_project` brings it back."""
    require_active_user(user)
    project = await load_project(session, user=user, project_id=project_id)
    if project.archived_at is None:
        project.archived_at = utcnow()
        timeline.record(session, project_id=project.id, kind='project.archived', title='Project archived')
        await session.commit()
    return project


async def restore_project(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> Project:
    """Put an archived project back on the dashboard's main list."""
    require_active_user(user)
    project = await load_project(session, user=user, project_id=project_id)
    if project.archived_at is not None:
        project.archived_at = None
        project.updated_at = utcnow()
        timeline.record(session, project_id=project.id, kind='project.restored', title='Project restored')
        await session.commit()
    return project


async def archived_ids(session: AsyncSession, *, user: User) -> set[uuid.UUID]:
    """The user's archived projects (the dashboard shows them apart, behind a toggle)."""
    rows = await session.exec(
        select(Project.id).where(Project.owner_id == user.id, col(Project.archived_at).is_not(None))
    )
    return set(rows.all())
