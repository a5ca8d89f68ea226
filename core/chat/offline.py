"""The offline model's side of the chat (AG-9, UI-9): a deterministic brain behind the same `LLM` port as a
real model. It answers the common questions from the state it is given, proposes the actions the founder asks
for as tool calls (like a real model would), streams its answer in small chunks, and says plainly when it does
not understand, with what it can do. Only the founder's last message is read for intent, never project data."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from datetime import datetime
from typing import Any

from core.chat import answers
from core.chat import intents as i
from core.chat.actions import Proposal, Refusal, describe, prepare, target
from core.chat.context import ChatState
from core.chat.words import say
from core.language import JAPANESE, detect
from core.models import utcnow
from core.ports import LLMReply, TextCallback, ToolCall, ToolSpec, Usage

CHARS_PER_TOKEN = 4
WORDS_PER_CHUNK = 3
CHARS_PER_PIECE = 10  # Japanese has no spaces: a long run of text is streamed in pieces of this size
QUESTIONS = (i.STATUS, i.BLOCKERS, i.SLEEPING, i.CHANGES, i.QUESTION)


def language_of(text: str) -> str:
    """The founder's language as far as the offline model speaks it: Japanese, else English."""
    return JAPANESE if detect(text) == JAPANESE else 'en'


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get('role') != 'user':
            continue
        content = message.get('content')
        if isinstance(content, str):
            return content
        return ' '.join(b.get('text', '') for b in content or [] if isinstance(b, dict) and b.get('type') == 'text')
    return ''


def chunks(text: str) -> list[str]:
    """The answer in the small pieces it is streamed in (they join back to the text exactly)."""
    words: list[str] = []
    for word in re.findall(r'\S+\s*|\s+', text):
        words += (
            [word[n : n + CHARS_PER_PIECE] for n in range(0, len(word), CHARS_PER_PIECE)] if len(word) > 20 else [word]
        )
    return [''.join(words[n : n + WORDS_PER_CHUNK]) for n in range(0, len(words), WORDS_PER_CHUNK)]


class OfflineChatModel:
    """Answers one founder's question from `state`; `pause_s` between streamed chunks lets the answer be seen
    being written (zero in tests)."""

    name = 'offline'
    offline = True
    default_model = 'offline-1'

    def __init__(self, state: ChatState, *, pause_s: float = 0.0, now: datetime | None = None) -> None:
        self.state, self.pause_s, self.now = state, pause_s, now or utcnow()

    async def complete(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        max_tokens: int = 4096,
        tool_choice: str | None = None,
        on_text: TextCallback | None = None,
    ) -> LLMReply:
        question = last_user_text(messages)
        text, call = self.respond(question, language_of(question))
        for piece in chunks(text):
            if on_text is not None:
                result = on_text(piece)
                if inspect.isawaitable(result):
                    await result
            await asyncio.sleep(self.pause_s)  # zero still yields: the page sends each piece as it comes
        content: list[dict[str, Any]] = [{'type': 'text', 'text': text}]
        if call is not None:
            content.append({'type': 'tool_use', 'id': call.id, 'name': call.name, 'input': call.input})
        prompt_chars = len(system) + len(json.dumps(messages, ensure_ascii=False, default=str))
        usage = Usage(max(1, prompt_chars // CHARS_PER_TOKEN), max(1, len(text) // CHARS_PER_TOKEN))
        return LLMReply(text=text, tool_calls=[call] if call else [], stop_reason='tool_use' if call else 'end_turn',
                        usage=usage, model=model or self.default_model, content=content)  # fmt: skip

    async def healthy(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None

    def respond(self, question: str, lang: str) -> tuple[str, ToolCall | None]:
        """The answer's text, and the action it proposes (a tool call), if any."""
        intent = i.recognise(question)
        if intent.kind == i.HELP:
            return say(lang, 'help'), None
        if intent.kind == i.SPEND:
            return answers.spend(lang, self.state.spending), None
        if not self.state.projects:
            return say(lang, 'no_project'), None
        project = target(self.state, question, intent.project_ref)
        if project is None:
            if intent.kind == i.STATUS:
                return answers.overview(lang, self.state), None
            if intent.kind == i.UNKNOWN:
                return f'{say(lang, "unknown")} {say(lang, "help")}', None
            return say(lang, 'which_project', titles=', '.join(f'“{p.title}”' for p in self.state.projects)), None
        if intent.kind in QUESTIONS:
            return answers.answer(lang, intent.kind, project, self.state, intent.text, self.now), None
        if intent.kind in i.ACTIONS:
            return self._propose(lang, prepare(project, intent.kind, intent.text))
        return f'{say(lang, "unknown")} {say(lang, "help")}', None

    def _propose(self, lang: str, prepared: Proposal | Refusal) -> tuple[str, ToolCall | None]:
        if isinstance(prepared, Refusal):
            return prepared.text(lang), None
        call = ToolCall(id=f'chat_{prepared.kind}', name=prepared.kind,
                        input={'project_id': prepared.project_id, 'text': prepared.text})  # fmt: skip
        return f'{say(lang, "confirm_lead")} {describe(prepared, lang)}', call
