"""The co-founder's pushback on a brief (JD-1), above the document: what it still needs to know (a field per open
question, then "Rewrite the brief"), or the first version it proposes with what it left out and why. Either way
the founder may insist ("Write it anyway" / "Keep everything"), which `core.journey.brief.insist` records as a
decision. Founder and model text is shown as text (labels), never as HTML."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from core.journey.interview import ANSWER_MAX

Clarify = Callable[[list[str]], Awaitable[None]]
Insist = Callable[[], Awaitable[None]]


def needs_pushback(content: dict[str, Any]) -> bool:
    return bool(content.get('open_questions') or content.get('left_out'))


class PushbackCard:
    def __init__(self, content: dict[str, Any], *, on_clarify: Clarify, on_insist: Insist) -> None:
        self.on_clarify, self.on_insist = on_clarify, on_insist
        self.buttons: list[ui.button] = []
        tone = 'border border-amber-300 bg-amber-50 dark:bg-amber-950 dark:border-amber-700'
        with ui.card().classes(f'w-full p-6 gap-2 {tone}').mark('pushback'):
            if content.get('open_questions'):
                self._questions(content['open_questions'])
            elif content.get('left_out'):
                self._scope(content)

    def _questions(self, questions: list[str]) -> None:
        ui.label('Before I write a brief I can stand behind, I need to know more').classes(
            'text-lg font-semibold'
        ).mark('pushback-vague')
        ui.label('Answer what you can; I will rewrite the brief with your answers.').classes('text-sm')
        self.answers = []
        for question in questions:
            ui.label(question).classes('font-medium mt-2').mark('open-question')
            area = ui.textarea().props(f'outlined autogrow maxlength={ANSWER_MAX}').classes('w-full')
            area.props(f'aria-label="{_attr(question)}"')
            self.answers.append(area.mark('clarify-answer'))
        with ui.row().classes('w-full gap-2 flex-wrap'):
            rewrite = ui.button('Rewrite the brief with my answers', icon='auto_awesome', on_click=self._clarify)
            self.buttons.append(rewrite.props('unelevated').mark('clarify-submit'))
            self.buttons.append(ui.button('Write it anyway', icon='done_all', on_click=self.on_insist)
                                .props('flat').mark('insist'))  # fmt: skip

    def _scope(self, content: dict[str, Any]) -> None:
        count = len(content.get('core_features') or [])
        ui.label(f'I propose a first version of {count} features').classes('text-lg font-semibold').mark(
            'pushback-scope'
        )
        ui.label('A first version that does a few things well teaches you the most. This waits:').classes('text-sm')
        for item in content.get('left_out') or []:
            with ui.row().classes('items-baseline gap-2'):
                ui.label(str(item.get('name', ''))).classes('font-semibold').mark('left-out-name')
                if item.get('why'):
                    ui.label(f'— {item["why"]}').classes('text-slate-600 dark:text-slate-300').mark('left-out-why')
        self.buttons.append(ui.button('Keep everything in the first version', icon='playlist_add',
                                      on_click=self.on_insist).props('flat').mark('insist'))  # fmt: skip

    async def _clarify(self) -> None:
        await self.on_clarify([area.value or '' for area in self.answers])


def _attr(text: str) -> str:
    return text.replace('&', '&amp;').replace('"', '&quot;').replace('<', '&lt;')[:200]
