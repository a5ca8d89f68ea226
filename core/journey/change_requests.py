"""Change requests (IT-2): the founder asks for a change to a built version; a short clarifying
conversation when the request is vague; a change request artifact naming the version it changes, what
will and will not change, how well it aligns with the brief's MVP scope, and the iteration count
against the tier's limit; confirming it starts the iteration build (IT-3)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.jobs import start_build
from core.errors import Conflict, InvalidInput, NotFound
from core.event_log import EventLog
from core.flags import require_enabled
from core.founder_text import founder_text, measure
from core.journey import timeline
from core.journey.brief import latest
from core.journey.projects import advance_stage, load_project
from core.models import Artifact, BuildJob, InterviewSession, Project, Tier, User, utcnow
from core.ports import JobQueue
from core.row_locks import lock_key

REQUEST_MIN, REQUEST_MAX = 8, 2000
GREEN, YELLOW = 80, 60
_WORD = re.compile(r'[^\W\d_]{3,}', re.UNICODE)
_STOP = set(
    'the and for with that this from into your our their you they them then than also just make add want would'
    ' should could can have has need needs page app please some more less new all'.split()
)
# Asks far beyond a small web app: the alignment falls to scope creep whatever the words.
_BEYOND = re.compile(r'operating system|blockchain|crypto|billion|every(one|thing)|whole new|rewrite everything', re.I)


@dataclass(frozen=True)
class Alignment:
    score: int
    band: str  # green | yellow | scope_creep
    reason: str
    suggestion: str


def _words(text: str) -> set[str]:
    return {w.casefold().rstrip('s') for w in _WORD.findall(text) if w.casefold() not in _STOP}


def alignment(request: str, brief: dict) -> Alignment:
    """How well a change fits the MVP: its words against the features' (most) and the brief's (some)."""
    asked = _words(request)
    features = [f for f in brief.get('core_features') or [] if isinstance(f, dict)]
    best, best_name = 0.0, ''
    for feature in features:
        shared = asked & _words(f'{feature.get("name", "")} {feature.get("description", "")}')
        score = len(shared) / max(1, min(len(asked), 4))
        if score > best:
            best, best_name = score, str(feature.get('name', ''))
    context = _words(' '.join(str(brief.get(k, '')) for k in ('problem', 'target_users', 'value_proposition')))
    related = len(asked & context) / max(1, min(len(asked), 4))
    score = round(40 + 60 * min(best * 1.5, 1.0) + 30 * min(related, 1.0))
    if _BEYOND.search(request):
        score = min(score, 35)
    return _banded(max(0, min(score, 100)), best_name)


def _banded(score: int, feature: str) -> Alignment:
    if score >= GREEN:
        return Alignment(score, 'green', f'It changes “{feature}”, a feature of your MVP.', '')
    if score >= YELLOW:
        return Alignment(score, 'yellow', 'It fits the problem your MVP solves, but adds something new.',
                         'Check that it helps your first users before the launch.')  # fmt: skip
    return Alignment(score, 'scope_creep', 'It asks for something your MVP does not include.',
                     'Narrow it to a change of one existing feature, or keep it for after the launch.')  # fmt: skip


def clarifying_questions(request: str, brief: dict) -> list[str]:
    """1–2 questions when a request is vague (a few words naming nothing of the app); none when precise."""
    words = _words(request)
    if len(words) >= 4 or alignment(request, brief).band == 'green':
        return []
    questions = ['What exactly should change? Name the page or the feature.']
    if len(words) < 3:
        questions.append('What should a visitor see or be able to do once it is done?')
    return questions


async def start_change(session: AsyncSession, *, user: User, project_id: uuid.UUID, request: str) -> InterviewSession:
    """Begin a change request: the request kept as typed, and the questions it needs (maybe none)."""
    project = await load_project(session, user=user, project_id=project_id, active=True)
    await require_enabled(session, user, 'iterations')  # AD-3: iteration builds are a beta feature
    text = founder_text(request, what='Your change request').strip()
    if not REQUEST_MIN <= measure(text) <= REQUEST_MAX:
        raise InvalidInput(f'Describe the change in {REQUEST_MIN} to {REQUEST_MAX} characters.')
    if await _built_version(session, project.id) is None:
        raise Conflict('Ask for a change once a version of your app is ready.')
    row = (await session.exec(select(InterviewSession).where(
        InterviewSession.project_id == project.id, InterviewSession.kind == 'change'))).first()  # fmt: skip
    if row is None:
        row = InterviewSession(project_id=project.id, kind='change')
        session.add(row)
    brief = await latest(session, project_id=project.id, kind='idea_brief')
    questions = clarifying_questions(text, brief.content if brief else {})
    asked = [{'key': f'q{n}', 'text': q, 'hint': ''} for n, q in enumerate(questions, 1)]
    row.questions = [{'key': 'request', 'text': 'What would you like to change?', 'hint': ''}, *asked]
    row.answers, row.completed, row.current_index, row.updated_at = {'request': request}, False, 0, utcnow()
    await session.commit()
    return row


async def draft_change(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> Artifact:
    """The change request artifact from the conversation; refuses past the tier's iteration limit."""
    project = await load_project(session, user=user, project_id=project_id, active=True)
    await require_enabled(session, user, 'iterations')
    await lock_key(session, Project, project.id)  # two tabs drafting at once: each draft gets the next version
    row = (await session.exec(select(InterviewSession).where(
        InterviewSession.project_id == project.id, InterviewSession.kind == 'change'))).first()  # fmt: skip
    if row is None or not (row.answers.get('request') or '').strip():
        raise NotFound('That change request')
    number, limit = await iteration_count(session, user=user, project_id=project.id)
    if number > limit:
        raise Conflict(limit_reached(limit))
    brief = await latest(session, project_id=project.id, kind='idea_brief')
    content = _content(row, brief.content if brief else {}, await _built_version(session, project.id), number, limit)
    artifact = Artifact(project_id=project.id, kind='change_request', content=content,
                        version=await _next_version(session, project.id), build_version=content['version'],
                        source='founder', note=f'Iteration {number} of {limit}')  # fmt: skip
    session.add(artifact)
    row.completed = True
    await session.commit()
    return artifact


def _content(row: InterviewSession, brief: dict, version: str | None, number: int, limit: int) -> dict:
    request = row.answers['request'].strip()
    details = [row.answers[q['key']].strip() for q in row.questions[1:] if (row.answers.get(q['key']) or '').strip()]
    fit = alignment(' '.join([request, *details]), brief)
    unchanged = [str(f.get('name')) for f in brief.get('core_features') or [] if isinstance(f, dict)]
    return {
        'summary': request[:200], 'changes': [request, *details], 'version': version,
        'unchanged': [name for name in unchanged if name.casefold() not in request.casefold()],
        'alignment': {'score': fit.score, 'band': fit.band, 'reason': fit.reason, 'suggestion': fit.suggestion},
        'iteration': number, 'iteration_limit': limit,
    }  # fmt: skip


async def confirm_change(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, artifact_id: uuid.UUID, queue: JobQueue,
    events: EventLog,
) -> BuildJob:  # fmt: skip
    """Start the iteration build of a drafted change request; the timeline records it."""
    artifact = await session.get(Artifact, artifact_id)
    if artifact is None or artifact.project_id != project_id or artifact.kind != 'change_request':
        raise NotFound('That change request')
    project = await load_project(session, user=user, project_id=project_id, active=True)
    await require_enabled(session, user, 'iterations')
    await lock_key(session, Project, project.id)  # the count below and the build it starts are one decision
    number, limit = await iteration_count(session, user=user, project_id=project.id)
    if number > limit:
        raise Conflict(limit_reached(limit))
    timeline.record(session, project_id=project.id, kind='change.requested', title='Change requested',
                    detail=artifact.content.get('summary', ''))  # fmt: skip
    advance_stage(project, 'iterating')
    return await start_build(session, user=user, project_id=project.id, queue=queue, events=events,
                             kind='iteration', change_request_id=artifact.id)  # fmt: skip


def limit_reached(limit: int) -> str:
    """Why no more change can be asked for, and what to do instead."""
    return (f'You have used all {limit} iterations your plan allows for this project. Ship this version, '
            'or ask an administrator for a plan with more iterations.')  # fmt: skip


async def iteration_count(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> tuple[int, int]:
    """(the number the next iteration would have, the tier's limit): "Iteration 2 of 5"."""
    done = (await session.exec(select(func.count()).select_from(BuildJob).where(
        BuildJob.project_id == project_id, BuildJob.kind == 'iteration'))).one()  # fmt: skip
    tier = await session.get(Tier, user.tier)
    return int(done) + 1, tier.max_iterations if tier else 3


async def _built_version(session: AsyncSession, project_id: uuid.UUID) -> str | None:
    query = select(BuildJob.version_label).where(BuildJob.project_id == project_id, BuildJob.state == 'READY')
    return (await session.exec(query.order_by(col(BuildJob.version_number).desc()).limit(1))).first()


async def _next_version(session: AsyncSession, project_id: uuid.UUID) -> int:
    newest = await latest(session, project_id=project_id, kind='change_request')
    return (newest.version + 1) if newest else 1
