"""The floating co-founder chat (UI-9): a button at the bottom right of every project page and the dashboard,
opening a panel where the founder asks about the project and confirms the actions it proposes.

The conversation lives in the browser tab's memory (`app.storage.tab`, never the database: PRODUCT.md), one per
project, so it is still there when the founder moves between the project's pages, and so is the open panel.
The answer is streamed as it is written; an action runs only when its Confirm button is pressed, through
`core.chat.actions.execute` (the same core functions as the pages' buttons).
"""

from __future__ import annotations

import uuid
from typing import Any

from nicegui import app, ui

from core.chat import actions, assistant
from core.chat.actions import Proposal
from core.chat.words import say
from core.errors import CofounderError
from core.flags import is_beta, is_enabled
from core.models import User
from core.services import Services

OPEN_KEY = 'chat:open'
WELCOME = {
    'en': 'Hi! I know this project as it is right now. Ask me what is blocking your deploy, why the build is resting, '
    'what changed in a version, or ask me to start a build or a change.',
}


def _services() -> Services:
    return app.state.services  # set once by ui.register_pages: the frame that mounts the chat has no Services


class ChatPanel:
    """The button, the panel and the conversation of one project (or of the dashboard)."""

    def __init__(self, user: User, project_id: uuid.UUID | None) -> None:
        self.user, self.project_id = user, project_id
        self.key = f'chat:{project_id or "dashboard"}'
        self.turns: list[dict[str, Any]] = []
        self.busy = False
        with ui.page_sticky(position='bottom-right', x_offset=20, y_offset=20) as self.root:
            with ui.column().classes('items-end gap-3'):
                self._panel()
                self.button = (
                    ui.button(icon='forum', on_click=self.toggle)
                    .props('fab color=primary aria-label="Chat with your co-founder"')
                    .mark('chat-button')
                )
                self.button.tooltip('Ask your co-founder')
        self.root.set_visibility(False)  # shown once the flag is known to be on for this founder
        ui.timer(0, self._restore, once=True)

    def _panel(self) -> None:
        self.panel = ui.card().classes('w-96 max-w-[calc(100vw-2.5rem)] h-[30rem] max-h-[70vh] p-0 gap-0 shadow-xl')
        self.panel.mark('chat-panel')
        with self.panel:
            with ui.row().classes('w-full items-center justify-between px-3 py-2 border-b'):
                with ui.row().classes('items-center gap-2'):
                    ui.label('Your co-founder').classes('font-semibold')
                    if is_beta(actions.FLAG):
                        ui.badge('Beta', color='amber').props('outline').mark('chat-beta')
                ui.button(icon='close', on_click=self.toggle).props('flat round dense aria-label="Close the chat"')
            with ui.scroll_area().classes('w-full grow') as self.scroll:
                self.log = ui.column().classes('chat-log w-full gap-2 p-3').mark('chat-log')
            with ui.row().classes('w-full items-center gap-1 px-2 py-2 border-t no-wrap'):
                self.input = (
                    ui.input(placeholder='Ask about your project…')
                    .props(f'dense outlined maxlength={assistant.QUESTION_MAX}')
                    .classes('grow')
                    .mark('chat-input')
                )
                self.input.on('keydown.enter', self.send)
                self.send_button = (
                    ui.button(icon='send', on_click=self.send).props('flat round aria-label="Send"').mark('chat-send')
                )
        self.panel.set_visibility(False)

    # ── the tab's memory ──

    async def _restore(self) -> None:
        async with _services().sessions() as session:
            if not await is_enabled(session, self.user, actions.FLAG):
                self.root.delete()
                return
        self.root.set_visibility(True)
        try:
            await ui.context.client.connected()
            stored = app.storage.tab.get(self.key) or []
        except (TimeoutError, RuntimeError):  # no browser tab on the other end (it left): nothing to restore
            return
        self.turns = [dict(turn) for turn in stored if isinstance(turn, dict)]
        for turn in self.turns:
            self._draw(turn)
        if not self.turns:
            self._bubble(WELCOME['en'], mine=False)
        if app.storage.tab.get(OPEN_KEY):
            self._show(True)

    def _save(self) -> None:
        try:
            app.storage.tab[self.key] = [dict(turn) for turn in self.turns]
        except RuntimeError:  # the tab has gone (the founder left while the answer was written)
            pass

    def toggle(self) -> None:
        self._show(not self.panel.visible)

    def _show(self, visible: bool) -> None:
        self.panel.set_visibility(visible)
        self.button.props(f'icon={"close" if visible else "forum"}')
        try:
            app.storage.tab[OPEN_KEY] = visible
        except RuntimeError:
            pass
        if visible:
            self.input.run_method('focus')
            self.scroll.scroll_to(percent=1.0)

    # ── drawing ──

    def _bubble(self, text: str, *, mine: bool) -> ui.label:
        with self.log:
            label = ui.label(text).classes(
                'whitespace-pre-line break-words rounded-lg px-3 py-2 max-w-[85%] text-sm '
                + ('chat-founder self-end bg-primary text-white' if mine else 'chat-answer self-start bg-slate-100')
                + ('' if mine else ' dark:bg-slate-800')
            )
        label.mark('chat-founder' if mine else 'chat-answer')
        self.scroll.scroll_to(percent=1.0)
        return label

    def _draw(self, turn: dict[str, Any]) -> None:
        if turn['role'] == 'result':
            with self.log:
                colour = 'text-positive' if turn.get('ok') else 'text-negative'
                ui.label(turn['text']).classes(f'text-sm {colour} whitespace-pre-line').mark('chat-result')
            return
        self._bubble(turn['text'], mine=turn['role'] == 'founder')
        if turn.get('proposal'):
            self._proposal(turn)

    def _proposal(self, turn: dict[str, Any]) -> None:
        proposal = Proposal.from_dict(turn['proposal'])
        with self.log, ui.row().classes('self-start gap-2').mark('chat-proposal') as row:
            confirm = ui.button('Confirm', icon='check').props('unelevated dense no-caps').mark('chat-confirm')
            decline = ui.button('Not now').props('flat dense no-caps').mark('chat-decline')
        confirm.on_click(lambda: self.confirm(turn, proposal, row))
        decline.on_click(lambda: self.decline(turn, row))
        row.set_visibility(turn.get('status') == 'pending')

    # ── asking and acting ──

    async def send(self) -> None:
        question = (self.input.value or '').strip()
        if not question or self.busy:
            return
        self.busy = True
        self.input.value = ''
        self.send_button.disable()
        history = [t for t in self.turns if t['role'] in ('founder', 'assistant')]
        self.turns.append({'role': 'founder', 'text': question})
        self._bubble(question, mine=True)
        turn: dict[str, Any] = {'role': 'assistant', 'text': ''}
        label = self._bubble('…', mine=False)

        def streamed(piece: str) -> None:
            turn['text'] += piece
            label.set_text(turn['text'])

        try:
            deps = assistant.deps_of(_services())
            reply = await assistant.ask(deps, user=self.user, project_id=self.project_id, question=question,
                                        history=history, on_text=streamed)  # fmt: skip
            turn['text'], turn['lang'] = reply.text, reply.lang
            if reply.proposal is not None:
                turn['proposal'], turn['status'] = reply.proposal.as_dict(), 'pending'
        except CofounderError as problem:
            turn['text'] = str(problem)
        finally:
            self.busy = False
            self.send_button.enable()
        label.set_text(turn['text'])
        self.turns.append(turn)
        if turn.get('proposal'):
            self._proposal(turn)
        self.scroll.scroll_to(percent=1.0)
        self._save()

    async def confirm(self, turn: dict[str, Any], proposal: Proposal, row: ui.row) -> None:
        if turn.get('status') != 'pending':
            return
        turn['status'] = 'confirmed'
        row.set_visibility(False)
        outcome = await actions.execute(assistant.deps_of(_services()), user=self.user, proposal=proposal,
                                        lang=turn.get('lang', 'en'))  # fmt: skip
        self._result(outcome.message, ok=outcome.ok)
        if outcome.url and outcome.download:
            ui.download.from_url(outcome.url)
        elif outcome.url:
            ui.navigate.to(outcome.url)

    def decline(self, turn: dict[str, Any], row: ui.row) -> None:
        turn['status'] = 'declined'
        row.set_visibility(False)
        self._result(say(turn.get('lang', 'en'), 'declined'), ok=True)

    def _result(self, text: str, *, ok: bool) -> None:
        result = {'role': 'result', 'text': text, 'ok': ok}
        self.turns.append(result)
        self._draw(result)
        self.scroll.scroll_to(percent=1.0)
        self._save()


def chat_button(user: User, project_id: uuid.UUID | None) -> ChatPanel:
    """Mount the chat on the page being built (the frame calls it, outside the page's content)."""
    return ChatPanel(user, project_id)
