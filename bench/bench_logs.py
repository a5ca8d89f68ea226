"""Build log ingest: lines/s through strip_ansi + Redactor + LogBuffer, beside a line-split baseline.

Input: realistic npm/pytest-like output (some ANSI colours, progress redraws, an occasional
secret) fed in 4 KiB chunks, as a sandbox streams it.
  - baseline: the same chunks only split into lines (partial lines carried over);
  - Redactor alone over whole batches;
  - LogBuffer with an in-memory sink (measures processing, not storage);
  - LogBuffer into the real EventLog on SQLite (batches of 200 lines per event).

Run: .venv/bin/python -m bench.bench_logs [LINES]
Target: ≥ 50,000 lines/s with redaction on.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlmodel import SQLModel

from bench.bench_events import new_job
from core.adapters.notify_memory import MemoryNotifier
from core.builds.logs import LogBuffer, Redactor
from core.db import make_engine, make_session_factory
from core.event_log import EventLog
from core.events import BuildEvent

SECRETS = ['storage-secret-value-123456', 'sk-ant-api03-' + 'k' * 40]


def sample_output(lines: int) -> str:
    templates = [
        '\x1b[32m✔\x1b[39m added {i} packages from 1203 contributors and audited {i} packages in 4.2s',
        'npm \x1b[33mWARN\x1b[39m deprecated request@2.88.2: request has been deprecated, see #{i}',
        'tests/test_login.py::test_login_{i} \x1b[32mPASSED\x1b[0m                      [ 42%]',
        '  GET /api/users?page={i} 200 12ms - 1.2kb',
        'Downloading 10%\rDownloading 55%\rDownloading 100% ({i})',
        'DATABASE_URL=postgres://app:hunter{i}@db:5432/app',
        '   at Object.<anonymous> (/workspace/src/index.js:{i}:17)',
        'export ANTHROPIC_API_KEY=' + SECRETS[1],
    ]
    return ''.join(templates[i % len(templates)].format(i=i) + '\n' for i in range(lines))


def chunks(text: str, size: int = 4096) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class CountingSink:
    """In-memory sink: counts what would be stored."""

    def __init__(self) -> None:
        self.lines = 0

    async def append_many(self, events: Iterable[BuildEvent]) -> Sequence[BuildEvent]:
        batch = list(events)
        self.lines += sum(len(e.lines) for e in batch)  # type: ignore[attr-defined]
        return batch


def baseline_split(parts: list[str]) -> int:
    count, partial = 0, ''
    for chunk in parts:
        text = partial + chunk
        end = text.rfind('\n')
        if end < 0:
            partial = text
            continue
        partial = text[end + 1 :]
        count += len(text[:end].split('\n'))
    return count


def rate(label: str, lines: int, seconds: float, base: float | None = None) -> float:
    per_s = lines / seconds
    ratio = f'   ({per_s / base:.2f}x of baseline)' if base else ''
    print(f'  {label:52s} {per_s:12,.0f} lines/s{ratio}')
    return per_s


async def through_buffer(sink: object, job_id: uuid.UUID, parts: list[str], redactor: Redactor) -> float:
    buffer = LogBuffer(sink, job_id, phase='Install', redactor=redactor, flush_interval=0.1, max_lines=200)  # type: ignore[arg-type]
    start = time.perf_counter()
    for chunk in parts:
        await buffer.write(chunk)
    await buffer.close()
    return time.perf_counter() - start


async def main(lines: int) -> None:
    text = sample_output(lines)
    parts = chunks(text)
    redactor = Redactor(SECRETS)
    print(f'Log ingest benchmark: {lines:,} lines, {len(text) / 1e6:.1f} MB in {len(parts):,} chunks of 4 KiB')

    start = time.perf_counter()
    assert baseline_split(parts) == lines
    base = rate('baseline: split chunks into lines', lines, time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(0, len(text), 200 * 100):
        redactor.redact(text[i : i + 200 * 100])
    rate('Redactor alone (batches of ~200 lines)', lines, time.perf_counter() - start, base)

    sink = CountingSink()
    elapsed = await through_buffer(sink, uuid.uuid4(), parts, redactor)
    assert sink.lines == lines, sink.lines
    rate('LogBuffer + ANSI strip + redaction → memory sink', lines, elapsed, base)

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f'sqlite+aiosqlite:///{Path(tmp) / "bench.db"}')
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        sessions = make_session_factory(engine)
        log = EventLog(sessions, MemoryNotifier())
        job = await new_job(sessions)
        elapsed = await through_buffer(log, job, parts, redactor)
        stored = sum(len(e.lines) for e in await log.read(job))  # type: ignore[attr-defined]
        assert stored == lines, stored
        rate('LogBuffer + redaction → EventLog on SQLite', lines, elapsed, base)
        leaked = [s for e in await log.read(job, limit=50) for s in SECRETS if any(s in ln for ln in e.lines)]  # type: ignore[attr-defined]
        print(f'  secrets found in stored lines: {len(leaked)}')
        await engine.dispose()


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
