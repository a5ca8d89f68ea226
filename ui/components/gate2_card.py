"""Gate 2 — solidification (IT-1): iterate / ship / park once the founder has seen a version running.

`Gate2Card` draws the pending gate and collects the decision and its reason (needed for ship and park);
`gate2_card` wires it to the core: iterate opens the change request page, ship and park go back to the
project page. `Gate2Slot` sits under a READY build's result on the build page: viewing that version's
preview offers the gate (`core.journey.gate2.offer_gate2`); once it is decided, "Ask for a change" stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.errors import CofounderError
from core.journey import gate2
from core.models import BuildJob, DecisionGate, Project, User
from core.services import Services

Decide = Callable[[str, str], Awaitable[None]]

CHOICES = {
    'iterate': (
        'Iterate: ask for a change',
        'edit_note',
        'One change, a short conversation, then the next version.',
    ),
    'ship': ('Ship this version', 'rocket_launch', 'This version is the one: get it ready to deploy.'),
    'park': ('Park', 'pause', 'Pause this project. You can unpark it any time.'),
}


class Gate2Card(ui.card):
    """The pending solidification gate: three choices and one reason field."""

    def __init__(self, gate: DecisionGate, version: str | None, on_decide: Decide) -> None:
        super().__init__()
        self.on_decide = on_decide
        self.classes('w-full p-5 gap-3 border-l-4 border-emerald-500').mark('gate2-card')
        with self:
            ui.label(f'You have seen {version or "your app"} running. What next?').classes('text-lg font-semibold')
            ui.label(
                'Iterate on it with one change at a time, ship it, or park the project. '
                'Your reason is recorded on the timeline.'
            ).classes('text-slate-500 text-sm')
            self.reason = (
                ui.textarea('Your reason (needed to ship or park)', value=gate.reason or '')
                .props('outlined autogrow')
                .classes('w-full')
                .mark('gate2-reason')
            )
            with ui.row().classes('w-full gap-2 flex-wrap'):
                self.buttons = [self._choice(key) for key in gate.options if key in CHOICES]
            self.error = ui.label().classes('text-negative').mark('gate2-error')

    def _choice(self, key: str) -> ui.button:
        label, icon, hint = CHOICES[key]
        button = ui.button(label, icon=icon, on_click=lambda k=key: self.decide(k)).mark(f'gate2-{key}')
        button.props('unelevated no-caps' if key == 'iterate' else 'outline no-caps').tooltip(hint)
        return button

    async def decide(self, decision: str) -> None:
        self.error.set_text('')
        for button in self.buttons:
            button.disable()
        try:
            await self.on_decide(decision, (self.reason.value or '').strip())
        except CofounderError as problem:
            self.error.set_text(str(problem))
        finally:
            if not self.is_deleted:
                for button in self.buttons:
                    button.enable()


def gate2_card(svc: Services, user: User, project: Project, gate: DecisionGate, version: str | None) -> Gate2Card:
    """The card, deciding through the core: iterate → the change page; ship or park → the project page."""

    async def decide(decision: str, reason: str) -> None:
        async with svc.sessions() as session:
            await gate2.decide_gate2(session, user=user, gate_id=gate.id, decision=decision, reason=reason)
        if decision == 'iterate':
            ui.navigate.to(f'/projects/{project.id}/change')
            return
        ui.notify(f'Shipped {version}.' if decision == 'ship' and version else 'Decision recorded.', type='positive')
        ui.navigate.to(f'/projects/{project.id}')

    return Gate2Card(gate, version, decide)


def ask_for_a_change(project: Project) -> ui.button:
    return (
        ui.button(
            'Ask for a change', icon='edit_note', on_click=lambda: ui.navigate.to(f'/projects/{project.id}/change')
        )
        .props('outline no-caps')
        .mark('ask-change')
    )


class Gate2Slot(ui.column):
    """Under a READY build's result: Gate 2 while it waits for the founder, else "Ask for a change"."""

    def __init__(self, svc: Services, user: User, project: Project, job: BuildJob) -> None:
        super().__init__()
        self.svc, self.user, self.project, self.job = svc, user, project, job
        self.classes('w-full gap-2').mark('gate2-slot')
        with self:
            ui.timer(0, self.load, once=True)  # after the page is shown: the offer writes to the database

    async def load(self) -> None:
        async with self.svc.sessions() as session:
            gate = await gate2.offer_gate2(session, user=self.user, job=self.job)
            current = await gate2.current_version(session, self.job.project_id)
            project = await session.get(Project, self.job.project_id)
        if self.is_deleted or project is None:
            return
        with self:
            if gate is not None:
                gate2_card(self.svc, self.user, project, gate, current.version_label if current else None)
            elif not project.parked and current is not None and current.id == self.job.id:
                with ui.row().classes('items-center gap-2'):
                    ask_for_a_change(project)
                    ui.link('All versions', f'/projects/{project.id}').classes('text-sm')
