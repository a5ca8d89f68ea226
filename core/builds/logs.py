"""Build logs (B-4): ANSI stripping, secret redaction and line buffering into `log.lines` events.

Redaction is by shape (known key prefixes, key=value assignments, passwords in URLs, bearer
tokens) plus the exact values of the app's own secret settings. There is deliberately no
"high-entropy string" rule: git SHAs, content hashes, UUIDs and lockfile integrity hashes stay
visible, because founders and the agent need them to read a build log; the price is that an
unlabelled random secret with no known prefix and no key name next to it is not caught, unless
it is one of our own settings (matched exactly).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Protocol
from uuid import UUID

from core.events import BuildEvent, LogLines

logger = logging.getLogger(__name__)

MARK = '[redacted]'
MAX_LINE = 4000  # longer lines (minified bundles) are cut: the UI and the database stay usable
MAX_PARTIAL = 64 * 1024  # a stream without newlines is emitted in pieces rather than held forever

_ANSI = re.compile(
    r'\x1b\[[0-?]*[ -/]*[@-~]'  # CSI: colours, cursor moves, erase line
    r'|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?'  # OSC: window titles, hyperlinks
    r'|\x1b[PX^_][^\x1b]*(?:\x1b\\)?'  # DCS/SOS/PM/APC strings
    r'|\x1b[ -/]*[0-~]'  # two-character escapes (charset selection, keypad mode, …)
    r'|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]'  # other control characters (keep \t, \n, \r)
)


def strip_ansi(text: str) -> str:
    """Remove terminal escape sequences and stray control characters (tabs and newlines stay)."""
    if '\x1b' not in text and not _has_controls(text):
        return text
    return _ANSI.sub('', text)


_CONTROLS = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')


def _has_controls(text: str) -> bool:
    return _CONTROLS.search(text) is not None


# Speed: Python's `re` only skips quickly through text to a *literal prefix*; an alternation, a
# leading lookbehind, `\b` or case-insensitivity makes it try every position (≈30x slower). So
# each rule below starts with a literal, boundary checks are lookbehinds placed after it, and
# case-insensitive names are spelled out ('assword' after [Pp] covers password/Password/dbPassword,
# 'ASSWORD' covers PASSWORD). Rules run one after another over a whole batch of lines; none
# crosses a newline. A group `keep` is kept before the marker; a quoted value keeps its quotes.
_VALUE = r"""(?:(?P<q>["'])(?!\[redacted\])[^"'\n]{1,500}(?P=q)|(?!\[redacted\])[^\s"'&,;<>]{1,500})"""


def _assignment(head: str, first: str, rest: str = '') -> str:
    """`<name> = value` where the name contains first+head+rest (e.g. [Pp] + 'assword')."""
    name = f'{head}(?<=[{first}]{head}){rest}'
    return rf"""(?P<keep>{name}[A-Za-z0-9_\-]{{0,40}}["']?[ \t]*[:=][ \t]*){_VALUE}"""


def _bare_or(tail: str, first: str, head: str) -> str:
    # 'pass' alone must stand as its own word (DB_PASS=, pass:), so compass= and passed= stay.
    return f'(?:{tail}|(?<![A-Za-z][{first}]{head})(?![A-Za-z]))'


_RULES: list[str] = [
    r"""(?P<keep>://[^\s:/@'"]{0,100}:)[^\s@/'"]{1,200}(?=@)""",  # scheme://user:PASSWORD@host
    r"""(?P<keep>uthorization(?<=[Aa]uthorization)["']?[ \t]*[:=][ \t]*["']?(?:[A-Za-z]+[ \t]+)?)[^\s"']{1,500}""",
    r"""(?P<keep>UTHORIZATION(?<=AUTHORIZATION)["']?[ \t]*[:=][ \t]*["']?(?:[A-Za-z]+[ \t]+)?)[^\s"']{1,500}""",
    r'(?P<keep>earer(?<=[Bb]earer)[ \t]+)[A-Za-z0-9\-._~+/]{8,500}=*',
    r'(?P<keep>EARER(?<=BEARER)[ \t]+)[A-Za-z0-9\-._~+/]{8,500}=*',
    r'sk-ant-(?<![A-Za-z0-9_\-]sk-ant-)[A-Za-z0-9_\-]{8,500}',  # Anthropic
    r'sk-(?<![A-Za-z0-9_\-]sk-)[A-Za-z0-9_\-]{16,500}',  # OpenAI (sk-, sk-proj-, sk-svcacct-, …)
    r'sk_(?:live|test)_[A-Za-z0-9]{10,500}',  # Stripe
    r'rk_(?:live|test)_[A-Za-z0-9]{10,500}',
    r'whsec_[A-Za-z0-9]{10,500}',
    r'A(?:KIA|SIA|BIA|CCA)(?<![A-Z0-9].{4})[A-Z0-9]{16}(?![A-Z0-9])',  # AWS access key ids
    r'gh[pousr]_[A-Za-z0-9]{20,500}',  # GitHub
    r'github_pat_[A-Za-z0-9_]{20,500}',
    r'xox[abposr]-[A-Za-z0-9\-]{10,500}',  # Slack
    r'xapp-[A-Za-z0-9\-]{10,500}',
    r'(?P<keep>hooks\.slack\.com/services/)[A-Za-z0-9/]{1,500}',
    r'AIza[0-9A-Za-z_\-]{35}',  # Google
    r'eyJ[A-Za-z0-9_\-]{8,2000}\.eyJ[A-Za-z0-9_\-]{8,2000}\.[A-Za-z0-9_\-]{8,2000}',  # JWT
    # key = value, key: value, "key": "value", KEY="a quoted value": the name stays, the value goes.
    _assignment('ass', 'Pp', _bare_or('word|wd|phrase', 'Pp', 'ass')),
    _assignment('ASS', 'P', _bare_or('WORD|WD|PHRASE', 'Pp', 'ASS')),
    _assignment('ecret', 'Ss'),
    _assignment('ECRET', 'S'),
    _assignment('oken', 'Tt'),
    _assignment('OKEN', 'T'),
    _assignment('redential', 'Cc'),
    _assignment('REDENTIAL', 'C'),
    _assignment('pi', 'Aa', '[_-]?[Kk]ey'),
    _assignment('PI', 'A', '[_-]?KEY'),
    _assignment('ccess', 'Aa', '[_-]?[Kk]ey'),
    _assignment('CCESS', 'A', '[_-]?KEY'),
    _assignment('rivate', 'Pp', '[_-]?[Kk]ey'),
    _assignment('RIVATE', 'P', '[_-]?KEY'),
    _assignment('_KEY', '0-9A-Z'),  # env style: STRIPE_KEY=, SIGNING_KEY=
]
_COMPILED = [re.compile(rule) for rule in _RULES]


def _replace(match: re.Match[str]) -> str:
    groups = match.groupdict()
    quote = groups.get('q') or ''
    return (groups.get('keep') or '') + quote + MARK + quote


class Redactor:
    """Replaces secret-shaped strings (and our own secret values) with `[redacted]`."""

    def __init__(self, extra_secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._exact = sorted({s for s in extra_secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text with every secret-shaped part replaced by the marker."""
        for secret in self._exact:  # exact values first: a shape rule could otherwise cut one in half
            if secret in text:
                text = text.replace(secret, MARK)
        for pattern in _COMPILED:
            text = pattern.sub(_replace, text)
        return text


class EventSink(Protocol):
    """Where log batches go: an EventLog, or anything with the same append_many."""

    async def append_many(self, events: Iterable[BuildEvent]) -> Sequence[BuildEvent]: ...


class LogBuffer:
    """Turns streamed command output into phase-tagged, redacted `log.lines` events in batches.

    `write` takes chunks of any size (partial lines wait for their newline); a batch is
    appended every `flush_interval` seconds or every `max_lines` lines, whichever comes first.
    Call `close()` at the end (it flushes the last partial line).
    """

    def __init__(
        self,
        log: EventSink,
        job_id: UUID,
        *,
        phase: str = '',
        redactor: Redactor | None = None,
        flush_interval: float = 0.1,
        max_lines: int = 200,
        keep_tail: int = 200,
    ) -> None:
        self._log = log
        self._job_id = job_id
        self.phase = phase
        self._redactor = redactor or Redactor()
        self._interval = flush_interval
        self._max_lines = max_lines
        self._partial: dict[str, str] = {}  # stream → text after its last newline
        self._runs: list[tuple[str, str, list[str]]] = []  # (stream, phase, lines) waiting to be appended
        self._pending = 0
        self._tail: deque[str] = deque(maxlen=keep_tail)
        self._lock = asyncio.Lock()  # batches are appended one at a time, in order
        self._timer: asyncio.Task[None] | None = None
        self.lines_written = 0

    def set_phase(self, name: str) -> None:
        """Tag the lines written from now on with this phase."""
        self.phase = name

    def tail(self, n: int = 20) -> list[str]:
        """The last n lines (already cleaned), for an error summary."""
        return list(self._tail)[-n:] if n > 0 else []

    async def write(self, chunk: str, stream: str = 'stdout') -> None:
        """Accept a chunk of output; complete lines are cleaned and queued for the next batch."""
        text = self._partial.pop(stream, '') + chunk
        end = text.rfind('\n')
        if end < 0:
            self._hold(stream, text)
            return
        if end + 1 < len(text):
            self._hold(stream, text[end + 1 :])
        self._add(stream, self._clean(text[:end]).split('\n'))
        await self._after_add()

    async def flush(self) -> None:
        """Append everything complete that is waiting (partial lines keep waiting)."""
        runs, self._runs, self._pending = self._runs, [], 0
        if not runs:
            return
        events = [
            LogLines(job_id=self._job_id, phase=phase, stream=stream, lines=lines) for stream, phase, lines in runs
        ]
        async with self._lock:
            await self._log.append_many(events)

    async def close(self) -> None:
        """Flush the partial last line of every stream and everything waiting."""
        for stream in list(self._partial):
            rest = self._partial.pop(stream)
            if rest:
                self._add(stream, self._clean(rest).split('\n'))
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = None
        await self.flush()

    # ── internals ──

    def _clean(self, text: str) -> str:
        text = strip_ansi(text.replace('\r\n', '\n'))
        return self._redactor.redact(text)

    def _hold(self, stream: str, text: str) -> None:
        if '\r' in text[:-1]:  # a progress bar redraws its line: only the latest drawing matters
            cut = text.rfind('\r', 0, len(text) - 1)
            text = text[cut + 1 :]
        if len(text) > MAX_PARTIAL:
            self._add(stream, [self._clean(text[:MAX_PARTIAL])])
            text = text[MAX_PARTIAL:]
        self._partial[stream] = text

    def _add(self, stream: str, lines: list[str]) -> None:
        lines = [_last_drawing(line) for line in lines]
        if self._runs and self._runs[-1][0] == stream and self._runs[-1][1] == self.phase:
            self._runs[-1][2].extend(lines)
        else:
            self._runs.append((stream, self.phase, lines))
        self._pending += len(lines)
        self.lines_written += len(lines)
        self._tail.extend(lines)

    async def _after_add(self) -> None:
        if self._pending >= self._max_lines:
            await self.flush()
        elif self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._interval)
        try:
            await self.flush()
        except Exception:  # noqa: BLE001 — a background flush has nobody to raise to; logs never fail a build
            logger.warning('could not append build log lines for job %s', self._job_id, exc_info=True)


def _last_drawing(line: str) -> str:
    """What a terminal shows for a line redrawn with carriage returns; long lines are cut."""
    if '\r' in line:
        parts = [p for p in line.split('\r') if p]
        line = parts[-1] if parts else ''
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE] + '…'
    return line
