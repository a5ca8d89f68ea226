"""What the chat can do for the founder, always in two steps: a `Proposal` shown in the chat with a Confirm
button, then `execute` once the founder confirms. Execution goes through the very functions the pages' buttons
call (ownership, suspension, kill switch, budget and tier limits are checked there), so the chat succeeds and
refuses exactly as the buttons do, with the same message."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from core.builds import jobs
from core.builds.escalations import answer_escalation
from core.builds.states import IllegalTransition
from core.chat import intents as i
from core.chat import words
from core.chat.context import RETRYABLE_STATES, RUNNING_STATES, ChatState, ProjectState
from core.db import SessionFactory
from core.errors import CofounderError, Conflict, NotFound
from core.event_log import EventLog
from core.flags import require_enabled
from core.journey import change_requests
from core.journey.projects import load_project
from core.models import User
from core.ports import LLM, JobQueue

FLAG = 'chat'  # the beta flag that gates the chat (core/flags.py)
NOT_WAITING = 'This build is not waiting any more.'  # what the build page says when an answer races a cancel


@dataclass(frozen=True)
class Proposal:
    """An action waiting for the founder's confirmation (kept in the tab's memory as a dict)."""

    kind: str
    project_id: str
    project_title: str
    job_id: str | None = None
    text: str = ''  # the change asked for, the option chosen, the page to open

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Proposal:
        job_id = data.get('job_id')
        return cls(kind=str(data['kind']), project_id=str(data['project_id']), project_title=str(data['project_title']),
                   job_id=str(job_id) if job_id else None, text=str(data.get('text') or ''))  # fmt: skip


@dataclass(frozen=True)
class Refusal:
    """Why there is nothing to propose: a sentence of `core.chat.words` and its values."""

    key: str
    values: dict[str, str]

    def text(self, lang: str) -> str:
        return words.say(lang, self.key, **self.values)


def refusal(key: str, **values: str) -> Refusal:
    return Refusal(key, values)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    url: str | None = None  # a page to open, or a file to download
    download: bool = False


@dataclass(frozen=True)
class Deps:
    """What the chat needs of the app's Services (core may not import them)."""

    sessions: SessionFactory
    queue: JobQueue
    events: EventLog
    llm: LLM | None = None  # the configured model; its `offline` flag picks the chat's offline brain
    default_model: str = ''  # the global default model (BU-7), for a founder whose tier names none


# ── preparing a proposal from the state ───────────────────────────────────────────────────────


def target(state: ChatState, message: str, project_ref: uuid.UUID | None) -> ProjectState | None:
    """The project an action is about: the one named (by id or title), the page's, or the only one."""
    if project_ref is not None:
        return next((p for p in state.projects if p.id == project_ref), None)
    if state.project is not None:
        return state.project
    low = message.casefold()
    named = [p for p in state.projects if p.title.casefold() in low]
    if len(named) == 1 or len(state.projects) == 1:
        return (named or state.projects)[0]
    return None


def prepare(project: ProjectState, kind: str, text: str = '') -> Proposal | Refusal:
    """The proposal for `kind` on `project`, or why there is nothing to propose (plain words)."""
    build = project.build
    base = {'project_id': str(project.id), 'project_title': project.title}
    if kind in (i.START, i.RETRY):
        if build is not None and build.state in RUNNING_STATES:
            return refusal('busy')
        if build is not None and build.state in RETRYABLE_STATES:
            return Proposal(i.RETRY, job_id=str(build.job_id), **base)
        return Proposal(i.START, **base)
    if kind == i.CANCEL:
        if build is None or build.state not in RUNNING_STATES:
            return refusal('nothing_to_cancel')
        return Proposal(i.CANCEL, job_id=str(build.job_id), **base)
    if kind == i.ANSWER:
        return _answer(project, text, base)
    if kind == i.CHANGE:
        return Proposal(i.CHANGE, text=text.strip(), **base)
    if kind == i.OPEN:
        return _open(project, text, base)
    if kind == i.DOCS:
        return Proposal(i.DOCS, **base)
    if kind == i.ZIP:
        current = project.current_version
        if current is None:
            return refusal('no_version_yet')
        return Proposal(i.ZIP, job_id=str(current.job_id), text=current.label, **base)
    return refusal('cannot')


def _answer(project: ProjectState, text: str, base: dict[str, str]) -> Proposal | Refusal:
    build = project.build
    if build is None or build.question is None:
        return refusal('no_question')
    options = build.question.options
    choice = option_chosen(text, options, build.question.recommendation)
    if choice is None:
        return refusal('which_option', options=' / '.join(f'{n}. {o}' for n, o in enumerate(options, 1)))
    return Proposal(i.ANSWER, job_id=str(build.job_id), text=choice, **base)


def option_chosen(text: str, options: list[str], recommended: str) -> str | None:
    """An option by its number, its words, or 'the recommended one'."""
    words = text.strip().casefold()
    if words.isdigit() and 1 <= int(words) <= len(options):
        return options[int(words) - 1]
    named = [o for o in options if o.casefold() in words or (words and words in o.casefold())]
    if len(named) == 1:
        return named[0]
    if 'recommend' in words or 'おすすめ' in words or '推奨' in words:
        return recommended
    return None


def _open(project: ProjectState, page: str, base: dict[str, str]) -> Proposal | Refusal:
    if page not in i.PAGES:
        return refusal('which_page', pages=', '.join(i.PAGES))
    current = project.current_version
    if page in ('files', 'changelog') and current is None:
        return refusal('no_version_yet')
    return Proposal(i.OPEN, text=page, job_id=str(current.job_id) if current else None, **base)


def page_url(project_id: str, page: str, job_id: str | None) -> str:
    if page == 'dashboard':
        return '/'
    if page in ('files', 'changelog'):
        return f'/builds/{job_id}/{page}'
    return f'/projects/{project_id}' + ('' if page == 'project' else f'/{page}')


# ── running a confirmed proposal ──────────────────────────────────────────────────────────────


def describe(p: Proposal, lang: str) -> str:
    """The confirmation the founder reads above Confirm."""
    return words.say(lang, p.kind, title=p.project_title, text=p.text, page=words.page_name(lang, p.text))


async def execute(deps: Deps, *, user: User, proposal: Proposal, lang: str = 'en') -> Outcome:
    """Run the confirmed action as its button would; a refusal is the button's own message."""
    try:
        async with deps.sessions() as session:
            fresh = await session.get(User, user.id)  # a suspension since the page opened counts at once
            await require_enabled(session, fresh or user, FLAG)
            return await _run(deps, session, fresh or user, proposal, lang)
    except CofounderError as problem:
        return Outcome(False, str(problem))
    except IllegalTransition:
        return Outcome(False, NOT_WAITING)


async def _run(deps: Deps, session: Any, user: User, p: Proposal, lang: str) -> Outcome:
    project_id = _uuid(p.project_id, 'That project')
    if p.kind == i.START:
        job = await jobs.start_build(session, user=user, project_id=project_id, queue=deps.queue, events=deps.events)
        return Outcome(True, words.say(lang, 'started'), f'/builds/{job.id}')
    if p.kind == i.RETRY:
        job = await jobs.retry_build(session, user=user, job_id=str(p.job_id), queue=deps.queue, events=deps.events)
        return Outcome(True, words.say(lang, 'retried'), f'/builds/{job.id}')
    if p.kind == i.CANCEL:
        job = await jobs.request_cancel(session, user=user, job_id=str(p.job_id), events=deps.events)
        return Outcome(True, words.say(lang, 'cancelled' if job.state == 'CANCELLED' else 'cancelling'))
    if p.kind == i.ANSWER:
        await answer_escalation(session, user=user, job_id=str(p.job_id), choice=p.text, queue=deps.queue,
                                events=deps.events, sessions=deps.sessions)  # fmt: skip
        return Outcome(True, words.say(lang, 'answered'))
    if p.kind == i.CHANGE:
        await _change(session, user, project_id, p.text)
        return Outcome(True, words.say(lang, 'change_opened'), f'/projects/{project_id}/change')
    return await _navigate(session, user, project_id, p, lang)


async def _change(session: Any, user: User, project_id: uuid.UUID, text: str) -> None:
    """The change-request flow, begun with the founder's words (its page continues it, prefilled); past the
    plan's iteration limit it refuses as the change page does."""
    await load_project(session, user=user, project_id=project_id, active=True)
    number, limit = await change_requests.iteration_count(session, user=user, project_id=project_id)
    if number > limit:
        raise Conflict(change_requests.limit_reached(limit))
    await change_requests.start_change(session, user=user, project_id=project_id, request=text)


async def _navigate(session: Any, user: User, project_id: uuid.UUID, p: Proposal, lang: str) -> Outcome:
    await load_project(session, user=user, project_id=project_id)
    if p.job_id:
        await jobs.get_build(session, user=user, job_id=p.job_id)
    if p.kind == i.OPEN:
        page = words.page_name(lang, p.text)
        return Outcome(True, words.say(lang, 'opening', page=page), page_url(p.project_id, p.text, p.job_id))
    if p.kind == i.DOCS:
        return Outcome(True, words.say(lang, 'docs'), f'/projects/{project_id}/export.md', download=True)
    if p.kind == i.ZIP:
        return Outcome(True, words.say(lang, 'zip', text=p.text), f'/builds/{p.job_id}/zip', download=True)
    raise NotFound('That action')


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(what) from None
