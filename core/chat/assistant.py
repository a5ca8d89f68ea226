"""One question to the co-founder chat: the state read now, one model call (streamed, accounted with the role
'chat'), and the answer with at most one proposed action. Nothing is run here: `actions.execute` runs a
proposal once the founder confirms it."""

from __future__ import annotations

import inspect
import uuid
from dataclasses import dataclass
from typing import Any

from core.chat import intents as i
from core.chat.actions import FLAG, Deps, Proposal, Refusal, prepare, target
from core.chat.context import ChatState, chat_state
from core.chat.offline import OfflineChatModel, language_of
from core.chat.prompt import system_prompt, tools_for
from core.chat.words import say
from core.errors import InvalidInput, NotFound
from core.flags import require_enabled
from core.metering import MeteredLLM
from core.models import User, utcnow
from core.ports import LLM, LLMError, TextCallback, ToolCall

QUESTION_MAX = 2000
HISTORY_TURNS = 12  # the conversation's last turns the model sees (the tab keeps the whole of it)
MAX_TOKENS = 1024
STREAM_PAUSE_S = 0.02  # the offline model's pause between streamed chunks, so the founder sees it write


@dataclass(frozen=True)
class Reply:
    text: str
    proposal: Proposal | None
    lang: str


def deps_of(svc: Any) -> Deps:
    """The chat's part of the app's Services (`core.services.Services`, which core modules may not import)."""
    return Deps(sessions=svc.sessions, queue=svc.queue, events=svc.events, llm=svc.llm, default_model=svc.model)


async def ask(
    deps: Deps,
    *,
    user: User,
    project_id: uuid.UUID | None,
    question: str,
    history: list[dict[str, str]] | None = None,
    on_text: TextCallback | None = None,
    stream_pause: float = STREAM_PAUSE_S,
) -> Reply:
    """Answer `question` about `project_id` (None: the dashboard, all the founder's projects)."""
    text = question.strip()
    if not text or len(text) > QUESTION_MAX:
        raise InvalidInput(f'Write a question of at most {QUESTION_MAX} characters.')
    lang, intent = language_of(text), i.recognise(text)
    scope = intent.project_ref or project_id  # a project named by its id: only the founder's own is found
    try:
        async with deps.sessions() as session:
            await require_enabled(session, user, FLAG)  # a beta feature (AD-3): refused with its clear message
            state = await chat_state(session, deps.events, user=user, project_id=scope)
    except NotFound as problem:
        await _emit(on_text, str(problem))
        return Reply(str(problem), None, lang)
    model = _model(deps, user, state, stream_pause)
    messages = [*history_messages(history or []), {'role': 'user', 'content': text}]
    system = system_prompt(state, intent=intent.kind, now=utcnow())
    try:
        reply = await model.complete(system=system, messages=messages, tools=tools_for(state), max_tokens=MAX_TOKENS,
                                     on_text=on_text)  # fmt: skip
    except LLMError as error:
        failed = say(lang, 'model_failed', problem=str(error))
        await _emit(on_text, failed)
        return Reply(failed, None, lang)
    proposal, note = proposal_from(state, reply.tool_calls, text, lang)
    if note:
        await _emit(on_text, f'\n{note}')
    return Reply(f'{reply.text}\n{note}'.strip() if note else reply.text, proposal, lang)


def _model(deps: Deps, user: User, state: ChatState, stream_pause: float) -> MeteredLLM:
    """The chat's model, accounted like every journey call (role 'chat'); without a provider configured the
    offline brain answers from the state."""
    llm: LLM = OfflineChatModel(state, pause_s=stream_pause) if deps.llm is None or deps.llm.offline else deps.llm
    return MeteredLLM(llm, deps.sessions, user_id=user.id, project_id=state.scope, role='chat',
                      global_default=deps.default_model or llm.default_model)  # fmt: skip


def proposal_from(state: ChatState, calls: list[ToolCall], question: str, lang: str) -> tuple[Proposal | None, str]:
    """The first tool call as a proposal checked against the state, or why it cannot be proposed."""
    call = next((c for c in calls if c.name in i.ACTIONS), None)
    if call is None:
        return None, ''
    named = _project_named(call.input)
    project = target(state, question, named)
    if project is None:
        return None, say(lang, 'which_project', titles=', '.join(f'“{p.title}”' for p in state.projects))
    text = str(call.input.get('text') or call.input.get('option') or call.input.get('page') or '')
    prepared = prepare(project, call.name, text)
    if isinstance(prepared, Refusal):
        return None, prepared.text(lang)
    return prepared, ''


def _project_named(data: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(data['project_id'])) if data.get('project_id') else None
    except ValueError:
        return None


def history_messages(turns: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The conversation so far as alternating messages, starting with the founder's."""
    messages: list[dict[str, Any]] = []
    for turn in turns[-HISTORY_TURNS:]:
        role = 'user' if turn.get('role') == 'founder' else 'assistant'
        content = str(turn.get('text') or '').strip()
        if not content or (not messages and role == 'assistant'):
            continue
        if messages and messages[-1]['role'] == role:
            messages[-1]['content'] += '\n' + content
        else:
            messages.append({'role': role, 'content': content})
    if messages and messages[-1]['role'] == 'user':
        messages.append({'role': 'assistant', 'content': '…'})  # the question that follows must not join it
    return messages


async def _emit(on_text: TextCallback | None, text: str) -> None:
    if on_text is not None:
        result = on_text(text)
        if inspect.isawaitable(result):
            await result
