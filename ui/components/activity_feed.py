"""The activity feed (UI-2): one human sentence per step, a verbose view of tool calls, reassurance while
it takes long, and the raw build log behind "Technical details" (capped, so 10,000+ lines stay fast)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from datetime import datetime
from typing import Any

from nicegui import ui

from core.events import (
    BuildDone,
    BuildEvent,
    DocumentationUpdated,
    Escalated,
    Healing,
    LogLines,
    Narration,
    PhaseCompleted,
    PhaseStarted,
    Resumed,
    Sleeping,
    SnapshotUpdated,
    StageChanged,
    Thinking,
    ToolCalled,
    ToolResult,
    Waking,
)
from ui.components.clock import now
from ui.components.feed_log import Entry, FeedLog, Kind
from ui.components.stage_bar import RUNNING
from ui.live import SeqGuard

STAGE_SENTENCES = {
    'STARTING': 'Getting a workspace ready',
    'SCAFFOLD': 'Started scaffolding your app',
    'CODE': 'Started writing code',
    'DEPS': 'Started installing what your app needs',
    'CHECKS': 'Started checking that everything works',
    'READY': 'Your app is ready',
    'CANCELLED': 'The build was cancelled',
    'SLEEPING': "Taking a rest: today's budget is spent",
    'NEEDS_INPUT': 'Paused: I need your input',
    'BUDGET_EXCEEDED': 'Stopped: the budget for this build is used up',
}
REASSURANCE = (
    (120, 'Still working — bigger apps take a few minutes.'),
    (300, 'Almost there — I am being thorough so the first version really works.'),
)
MAX_ENTRIES = 400  # the feed keeps the newest; the full story stays in the event log
LOG_LINES_SHOWN = 500
DETAIL_CHARS = 2000


# Entries are drawn by feed_log.js, without a class (see there): the icon and the time come from their data
# attributes through this sheet.
FEED_CSS = """
.activity-feed [data-at] { display: flex; align-items: flex-start; gap: .5rem; width: 100%; font-size: .875rem;
  line-height: 1.25rem; }
.activity-feed [data-at]::before { content: attr(data-icon) / ""; font: 18px/1.25rem "Material Icons";
  font-feature-settings: "liga"; color: #94a3b8; flex: none; user-select: none; }
.activity-feed [data-at]::after { content: attr(data-at); margin-left: auto; flex: none; padding-left: .5rem;
  font-size: .75rem; color: #94a3b8; font-variant-numeric: tabular-nums; }
.activity-feed summary[data-at] { cursor: pointer; }
/* A sentence shows the time only when a new minute begins (see ActivityFeed._time_shown): a time box on every
   entry had each push paint every drawn entry's box again (bench/README.md). */
.activity-feed [data-at=""]::after { content: none; }
.activity-feed [data-block] { display: flex; flex-direction: column; gap: .25rem; }
/* Tool calls and thinking show only in the verbose view; a call's details open below its label. */
.cf-feed:not([data-verbose-shown]) [data-verbose] { display: none; }
.activity-feed details[data-verbose] { width: 100%; }
.activity-feed [data-call-body] { display: flex; flex-direction: column; gap: .25rem; padding: .25rem 0 0 1.75rem; }
.activity-feed [data-part] { font-size: .75rem; font-weight: 600; color: #64748b; }
.activity-feed [data-call-body] pre { margin: 0; font-size: .75rem; white-space: pre-wrap; word-break: break-all; }
/* A new entry re-lays out and repaints this box only. Beside the other panels (≥ 1024 px) it has a fixed
   height too, so it is where layout starts: the page above it is not walked. Both in this sheet: an inline
   `contain` would override the wide screen's. */
.cf-feed-box { contain: content; }
@media (min-width: 1024px) { .cf-feed-box { height: 32rem; contain: strict; } }
/* Blocks of entries out of view are skipped when the page is drawn: with hundreds of entries, each push
   otherwise re-recorded the paint of all of them. `auto` keeps each block's last drawn height. Not the
   newest blocks (feed_log.js marks the older ones). */
.cf-feed-box > * > [data-skippable] { content-visibility: auto; contain-intrinsic-size: auto 14rem; }
/* Opaque, so the browser scrolls the box by moving what it has drawn instead of drawing it again. */
.cf-feed-box { background: #fff; } .body--dark .cf-feed-box { background: var(--q-dark); }
"""


def healing_sentence(event: Healing) -> str:
    """What went wrong and what the agent does instead, in plain words (the signature is for the platform)."""
    attempt = f'(attempt {event.attempt} of {event.max_attempts})'
    problem = event.problem.strip()
    if not problem:  # an event written before problems were put in plain words
        return f'Noticed a problem — fixing it automatically {attempt}'
    if not problem.endswith(('.', '!', '?')):
        problem += '.'
    instead = event.next_step.strip().rstrip('.') or "I'm trying a different approach"
    return f'Something went wrong: {problem} {instead} {attempt}.'


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + ' …'


class ActivityFeed(SeqGuard, ui.card):
    """Oldest first, the newest in view. `apply` follows the build; `tick` adds reassurance while it runs long."""

    def __init__(self, *, state: str, started_at: datetime | None = None) -> None:
        super().__init__()
        self.state, self.started_at = state, started_at
        self.reassured = 0
        self.calls: dict[str, Entry] = {}  # tool calls by call_id, for their results
        self._minute = ''  # the minute the newest sentence began, as _time_shown keys it
        self.log_count = 0
        self._pending: deque[tuple[str, str]] = deque(maxlen=LOG_LINES_SHOWN)
        self._flush_scheduled = False
        self.classes('w-full p-3 gap-2 activity-feed').mark('activity-feed')
        ui.add_css(FEED_CSS)
        with self:
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Activity').classes('text-lg font-semibold')
                ui.switch('Verbose', on_change=lambda e: self.set_verbose(bool(e.value))).mark('verbose-toggle')
            self.empty = ui.label('Updates appear here as I work.').classes('text-sm text-slate-500')
            # From its first entry on, the box is contained (FEED_CSS): beside the other panels (≥ 1024 px) with
            # a fixed height, so entries no longer grow the card and move the page below it (each one re-laid
            # out and repainted the whole page).
            self.feed_log = FeedLog(cap=MAX_ENTRIES, on_trim=self._after_trim)
            self.feed_log.classes('w-full max-h-[32rem] overflow-y-auto cf-feed')
            with ui.expansion('Technical details', icon='terminal').classes('w-full text-sm').mark('tech-details'):
                self.log_count_label = (
                    ui.label('No log output yet.').classes('text-xs text-slate-500').mark('log-count')
                )
                self.log = ui.log(max_lines=LOG_LINES_SHOWN).classes('w-full h-64 text-xs').mark('build-log')

    @property
    def entries(self) -> list[Entry]:
        """What the feed shows, oldest first."""
        return self.feed_log.entries

    # ── following ──

    def apply(self, event: BuildEvent) -> None:
        if not self.fresh(event):
            return
        if isinstance(event, LogLines):
            self._add_log(event)
        elif isinstance(event, ToolCalled):
            self._add_call(event)
        elif isinstance(event, ToolResult):
            self._add_result(event)
        elif isinstance(event, Thinking):
            self._add(event.text, icon='psychology', at=event.at, verbose=True)
        else:
            if isinstance(event, StageChanged):
                self.state = event.to_state
                if event.to_state == 'STARTING' and self.started_at is None:
                    self.started_at = event.at
            elif isinstance(event, BuildDone):
                self.state = event.state
            sentence = self.sentence(event)
            if sentence:
                self._add(sentence[1], icon=sentence[0], at=event.at)

    def sentence(self, event: BuildEvent) -> tuple[str, str] | None:
        """(icon, the human sentence) for a step, or None when it needs none."""
        match event:
            case Narration(text=text):
                return 'chat_bubble_outline', text
            case StageChanged(to_state='FAILED', reason=reason):
                return 'error_outline', f'The build stopped: {reason}' if reason else 'The build stopped.'
            case StageChanged(to_state=state) if state in STAGE_SENTENCES:
                return 'flag', STAGE_SENTENCES[state]
            case SnapshotUpdated():
                return 'photo_camera', 'Took a new look at your app'
            case DocumentationUpdated(title=title):
                return 'menu_book', f'Wrote the "{title}" part of the documentation'
            case PhaseStarted(phase=phase):
                return 'play_arrow', f'Started: {phase}'
            case PhaseCompleted(phase=phase):
                return 'task_alt', f'Finished: {phase}'
            case Sleeping():
                return 'bedtime', 'Resting until the budget refills; I will continue on my own'
            case Waking():
                return 'wb_sunny', 'Back to work'
            case Escalated(problem=problem):
                return 'help_outline', f'I need your input: {problem}'
            case Resumed():
                return 'play_circle', 'Thanks — continuing with your decision'
            case Healing():
                return 'healing', healing_sentence(event)
            case BuildDone(state='READY', version=version):
                return 'celebration', f'All done: {version} is ready' if version else 'All done: your app is ready'
        return None

    # ── entries ──

    def _add(self, text: str, *, icon: str, at: datetime, verbose: bool = False) -> Entry:
        shown = at.strftime('%H:%M:%S') if verbose else self._time_shown(at)
        return self._place('verbose' if verbose else 'sentence', text, icon=icon, at=shown, exact=at)

    def _time_shown(self, at: datetime) -> str:
        """A sentence's time as the feed shows it: 'HH:MM' on the first of each minute, nothing on the others
        (each still has its time to the second as its tooltip). Sentences only: they are always in view,
        while the verbose entries between them may be hidden, so a minute is never shown on one of those."""
        minute = at.strftime('%Y-%m-%d %H:%M')
        if minute == self._minute:
            return ''
        self._minute = minute
        return at.strftime('%H:%M')

    def _add_call(self, event: ToolCalled) -> None:
        at = f'{event.tool} · {event.at.strftime("%H:%M:%S")}'
        given = [('Input', _clip(json.dumps(event.input, indent=2, ensure_ascii=False)))]  # its output follows
        self.calls[event.call_id] = self._place('call', event.label, icon='build', at=at, exact=event.at, parts=given)

    def _add_result(self, event: ToolResult) -> None:
        call = self.calls.get(event.call_id)
        if call is None:
            return
        call['parts'].append(('Output' if event.ok else 'Output (failed)', _clip(event.output) or '(no output)'))
        self.feed_log.change(call)

    def _place(
        self, kind: Kind, text: str, *, icon: str, at: str, exact: datetime, parts: list[tuple[str, str]] | None = None
    ) -> Entry:
        if self.empty.visible:
            self.empty.set_visibility(False)
            self.feed_log.classes('cf-feed-box')  # from the first entry on, contained (FEED_CSS)
        return self.feed_log.add(kind, text, icon=icon, at=at, title=exact.strftime('%H:%M:%S'), parts=parts)

    def _after_trim(self) -> None:
        """Once the oldest entries went (the cap): the calls among them wait for no output any more, and the
        sentence now first in the feed shows its minute, since the sentence that showed it may have gone."""
        first = self.feed_log.entries[0]['key']
        self.calls = {call_id: call for call_id, call in self.calls.items() if call['key'] >= first}
        for entry in self.feed_log.entries:
            if entry['kind'] == 'sentence':
                if entry['at'] == '':
                    entry['at'] = entry['title'][:5]
                    self.feed_log.change(entry)
                return

    def set_verbose(self, on: bool) -> None:
        self.feed_log.set_verbose(on)

    # ── reassurance ──

    def tick(self) -> None:
        """Reassure the founder at 2 and 5 minutes of building (local clock only)."""
        if self.state not in RUNNING or self.started_at is None or self.reassured >= len(REASSURANCE):
            return
        elapsed = (now() - self.started_at).total_seconds()
        while self.reassured < len(REASSURANCE) and elapsed >= REASSURANCE[self.reassured][0]:
            self._add(REASSURANCE[self.reassured][1], icon='hourglass_top', at=now())
            self.reassured += 1

    # ── technical details: coalesced, so a replay of thousands of lines renders once ──

    def _add_log(self, event: LogLines) -> None:
        self.log_count += len(event.lines)
        for line in event.lines[-LOG_LINES_SHOWN:]:
            self._pending.append((line, event.stream))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_log)

    def _flush_log(self) -> None:
        self._flush_scheduled = False
        if self.log.is_deleted:
            return
        lines: list[Any] = list(self._pending)
        self._pending.clear()
        for line, stream in lines:
            self.log.push(line, classes='text-red-400' if stream == 'stderr' else None)
        shown = min(self.log_count, LOG_LINES_SHOWN)
        self.log_count_label.set_text(
            f'{self.log_count:,} lines' + (f' (showing the last {shown})' if self.log_count > shown else '')
        )
