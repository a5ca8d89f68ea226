"""Where a project is on the founder journey: a stepper, and the one "Continue" target that fits (J-7)."""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import ui

from core.journey.projects import stage_index

# (step key, label, the first stage that belongs to the step, page suffix)
STEPS = (
    ('idea', 'Idea', 'idea', ''),
    ('interview', 'Interview', 'onboarding', '/interview'),
    ('brief', 'Idea Brief', 'brief', '/brief'),
    ('direction', 'Direction', 'gate1', '/brief'),
    ('plan', 'Plan', 'plan', '/plan'),
    ('build', 'Build', 'building', '/build'),
    ('mvp', 'MVP', 'mvp_built', '/build'),
)


@dataclass(frozen=True)
class NextStep:
    label: str
    path: str  # relative to /projects/{id}


def current_step(stage: str) -> int:
    """Index in STEPS of the step the project's stage belongs to."""
    position = stage_index(stage)
    current = 0
    for i, (_, _, first_stage, _) in enumerate(STEPS):
        if position >= stage_index(first_stage):
            current = i
    return current


def next_step(stage: str, *, plan_chosen: bool = False) -> NextStep:
    """The one thing the founder should do next for a project at `stage`."""
    if stage in ('idea', 'onboarding', 'interview'):
        return NextStep('Continue the interview', '/interview')
    if stage == 'brief':
        return NextStep('Open your Idea Brief', '/brief')
    if stage == 'gate1':
        return NextStep('Decide the direction', '/brief')
    if stage == 'plan':
        return NextStep('Start the build' if plan_chosen else 'Choose a plan', '/plan')
    if stage == 'building':
        return NextStep('Watch the build', '/build')
    return NextStep('Open your MVP', '/build')


def journey_steps(project_id: object, stage: str) -> ui.row:
    """A compact stepper: done steps link back, the current one stands out, later ones are grey."""
    current = current_step(stage)
    with ui.row().classes('w-full items-center gap-1 flex-wrap').mark('journey-steps') as row:
        for i, (key, label, _, suffix) in enumerate(STEPS):
            if i:
                ui.icon('chevron_right').classes('text-slate-300')
            done, here = i < current, i == current
            icon = 'check_circle' if done else ('radio_button_checked' if here else 'radio_button_unchecked')
            colour = 'text-emerald-600' if done else ('text-primary font-semibold' if here else 'text-slate-400')
            with ui.row().classes(f'items-center gap-1 {colour}').mark(f'step-{key}' + ('-current' if here else '')):
                ui.icon(icon, size='18px')
                if done and suffix:
                    ui.link(label, f'/projects/{project_id}{suffix}').classes('no-underline text-inherit')
                else:
                    ui.label(label)
    return row


class JourneySteps(ui.column):
    """The stepper in a container a page redraws when the project moves on (e.g. a brief opens Gate 1)."""

    def __init__(self, project_id: object, stage: str) -> None:
        super().__init__()
        self.classes('w-full')
        self.project_id, self.stage = project_id, ''
        self.set_stage(stage)

    def set_stage(self, stage: str) -> None:
        if stage == self.stage:
            return
        self.stage = stage
        self.clear()
        with self:
            journey_steps(self.project_id, stage)
