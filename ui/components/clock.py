"""Things on the build page that move with time, moved by the browser: a live duration and a blink.

The server sets them once (and again when an event changes them); the browser's own timer does the
ticking, so a watched build sends nothing per second and no card is re-rendered to show a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nicegui import ui


def now() -> datetime:
    return datetime.now(UTC)


def format_duration(seconds: float) -> str:
    """'45s', '3m 05s', '1h 02m' (clock.js formats the same way)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f'{hours}h {minutes:02d}m'
    return f'{minutes}m {secs:02d}s' if minutes else f'{secs}s'


def _ms(at: datetime | None) -> float | None:
    return at.timestamp() * 1000 if at is not None else None


class LiveClock(ui.element, component='clock.js', dependencies=['cofounder-ticks.js']):
    """`before` + a duration + `after`: elapsed since `since` (fixed once `until` is set), or with
    `countdown` the time left until `until` (then `done`). `idle` while there is nothing to count."""

    def __init__(self) -> None:
        super().__init__()
        self.set()

    def set(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        countdown: bool = False,
        before: str = '',
        after: str = '',
        done: str = '',
        idle: str = '',
    ) -> None:
        """Say what to count and how to word it (all of it, each time): one update to the browser."""
        self.since, self.until = since, until
        self._props.update(
            since=_ms(since), until=_ms(until), countdown=countdown, before=before, after=after, done=done, idle=idle
        )
        self.update()

    @property
    def text(self) -> str:
        """What the browser shows now (for the server side: tests and logs)."""
        props = self._props
        if props['countdown']:
            if self.until is None:
                return props['idle']
            left = (self.until - now()).total_seconds()
            return f'{props["before"]}{format_duration(left)}{props["after"]}' if left > 0 else props['done']
        if self.since is None:
            return props['idle']
        end = self.until or now()
        return f'{props["before"]}{format_duration((end - self.since).total_seconds())}{props["after"]}'

    def _displayed_contents(self, *, only_visible: bool) -> list:
        return [self.text]


class Pulse(ui.element, component='pulse.js', dependencies=['cofounder-ticks.js']):
    """Blinks its content while `active` (the current stage of a running build)."""

    def __init__(self) -> None:
        super().__init__()
        self._props['active'] = False

    def set_active(self, active: bool) -> None:
        if self._props['active'] != active:
            self._props['active'] = active
            self.update()
