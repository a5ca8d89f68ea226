"""The live build experience, measured: append → DOM latency and event-loop lag under 20 builds.

1. Append → DOM latency on `/builds/{id}`: the app runs as its own process (`main.py serve`, SQLite in its
   own DATA_DIR, REDIS_URL set), one founder signs up in Chromium and watches 1, then 20 builds (rows in
   CODE, one page each, one browser context). The bench appends a `Narration` with a unique text through
   an EventLog with a RedisNotifier (the product's cross-process path), noting `time.time()` just before;
   a MutationObserver in the page notes `Date.now()` when the text enters the DOM. The page keeps its
   notes until the phase is over; the bench then collects them (no Playwright call per sample nor any
   polling while measuring: those cost the pages and the driver CPU in the very moments being measured).
   The load is an open loop, the same for the baseline: rounds at a fixed pace, whatever the latency.
   Where the time goes: the page also notes when the socket.io message carrying the text arrives, and the
   app process (started through this module's `--serve-app`, which wraps `main.py serve` with timing
   hooks and leaves the product code as it is) notes when ActivityFeed.apply got the event and when
   NiceGUI emitted it; its event loop is watched too. CPU used per process group is read from /proc.
   Before measuring, the bench waits until Chromium is quiet after opening the pages and again after
   the warm-up entry on each page (`settle`): the first round otherwise measured page loading and the
   warm-up's layout and paint (p50 94 ms, max 289 ms in that round alone).
2. Baseline in the same run: a bare NiceGUI page (bench/_push_baseline_app.py) whose per-client task sets
   a label when the bench POSTs the text, observed the same way, with 1 and 20 pages. Each count is measured
   in four passes of half the samples, baseline, build, build, baseline, so that both meet the machine's
   slow stretches alike (with one pass of each, one such stretch decided the ratio).
3. Event-loop lag while 20 offline builds run in one process (SQLite, in-process notifier, pace 0,
   WORKER_CONCURRENCY=20): a 10 ms ticker measures sleep overshoot; every loop callback is timed and a
   watchdog thread samples the loop thread's stack while one runs over 50 ms, so a blocking call is
   named by file:line.

Printed, never asserted, never part of the test run. Targets: p99 at 20 builds within 2× the baseline
p99 and under 100 ms; loop lag p99 under 50 ms while 20 offline builds run.
Run: .venv/bin/python -m bench.bench_build_push [--only push|lag] [--stacks 6] [--postgres] [--still]
(--plain-app: `python main.py` without timing hooks; --still: stop CSS animations on the build pages.)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, async_playwright
from sqlmodel import select

from core.adapters.notify_redis import RedisNotifier
from core.config import Settings
from core.db import make_engine, make_session_factory
from core.event_log import EventLog, build_topic
from core.events import Narration
from core.models import BuildJob, Project, User
from tests.live_app import CHROMIUM_ARGS, LiveProcess, free_port, start_process, stop_process

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get('BENCH_REDIS_URL', 'redis://127.0.0.1:6379/0')
CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')
EMAIL, PASSWORD = 'bench@example.com', 'correct horse battery'
IDEA = 'A booking tool for dog groomers so owners can book a grooming slot online'
SEEN_TIMEOUT = 15.0  # a text not in the DOM by then counts as missing
STALL_MS = 50.0  # a loop callback running longer than this is sampled and reported

# Notes, in the page, when each bench text first enters the DOM and when the socket.io message carrying
# it arrived (Date.now()). The bench collects the notes after each phase (`__benchTake`), so nothing
# crosses to the bench while the page is being measured: a Playwright binding per mark cost the pages
# and the driver CPU in the very moments measured.
OBSERVER = """() => {
  if (window.__benchObserver) return;
  const re = /bench-[0-9a-f]{12}/g;
  const marks = new Map();  // text → {dom, arrived}
  const note = (text, what, at) => {
    for (const m of (text || '').matchAll(re)) {
      const mark = marks.get(m[0]) || {};
      if (mark[what] === undefined) { mark[what] = at; marks.set(m[0], mark); }
    }
  };
  window.__benchObserver = new MutationObserver((records) => {
    const at = Date.now();
    for (const r of records) {
      if (r.type === 'characterData') note(r.target.data, 'dom', at);
      else for (const n of r.addedNodes) note(n.textContent, 'dom', at);
    }
  });
  window.__benchObserver.observe(document.body, {childList: true, subtree: true, characterData: true});
  window.socket.onAny((_event, ...args) => note(JSON.stringify(args), 'arrived', Date.now()));
  window.__benchTake = (texts) => {
    const found = {};
    for (const text of texts) {
      const mark = marks.get(text);
      if (mark && mark.dom !== undefined) { found[text] = mark; marks.delete(text); }
    }
    return found;
  };
}"""


# ── processes ─────────────────────────────────────────────────────────────────────────────────


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds so far) for every process we can read."""
    table = {}
    tick = os.sysconf('SC_CLK_TCK')
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / 'stat').read_text()
        except OSError:
            continue
        name = raw[raw.index('(') + 1 : raw.rindex(')')]
        fields = raw[raw.rindex(')') + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    return table


def _steal_seconds() -> float:
    """CPU seconds the hypervisor ran something else while this machine wanted to run (all cores).
    On a shared host it made the same phase's p99 vary 2-4× between runs; printed beside the CPU used."""
    fields = Path('/proc/stat').read_text().split('\n', 1)[0].split()
    return int(fields[8]) / os.sysconf('SC_CLK_TCK') if len(fields) > 8 else 0.0


def cpu_by_group(roots: dict[str, int], since: dict[int, tuple[int, str, float]]) -> dict[str, float]:
    """CPU seconds each root process tree used since the `since` table (processes alive at the end only),
    Chromium counted apart."""
    table = _proc_table()
    used_by = {pid: cpu - since.get(pid, (0, '', 0.0))[2] for pid, (_, _, cpu) in table.items()}
    children: dict[int, list[int]] = collections.defaultdict(list)
    for pid, (ppid, _, _) in table.items():
        children[ppid].append(pid)
    used: dict[str, float] = collections.defaultdict(float)
    for group, root in roots.items():
        stack = [root]
        used[group] = 0.0
        while stack:
            pid = stack.pop()
            if pid in table and 'chrom' not in table[pid][1].lower():  # the browser is counted apart
                # the Playwright driver (node) apart from the bench's own Python
                used['playwright driver' if table[pid][1].startswith('node') else group] += used_by[pid]
                stack.extend(children.get(pid, ()))
    for pid, (_, name, _) in table.items():
        if 'chrom' in name.lower():
            used[f'chromium {_chromium_kind(pid)}'] += used_by[pid]
    return used


def _chromium_kind(pid: int) -> str:
    """renderer, gpu-process, utility… or browser, from the process's --type switch: which of Chromium's
    processes a page's updates cost tells layout and script (renderer) from drawing (gpu-process)."""
    try:
        args = Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').split()
    except OSError:
        return 'gone'
    # (Chromium rewrites its children's command lines into one string, hence the split on spaces.)
    kinds = [a.split(b'=', 1)[1].decode() for a in args if a.startswith(b'--type=')]
    return kinds[0] if kinds else 'browser'


# ── figures ───────────────────────────────────────────────────────────────────────────────────


def pct(values: list[float], q: float) -> float:
    if not values:
        return float('nan')
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


STAGES = (  # (label, from mark, to mark); marks are ms on this machine's wall clock
    ('trigger', 'start', 'triggered'),  # the bench's append (SQLite commit + Redis publish) or POST
    ('→ app woken', 'start', 'woken'),  # the bench's append, Redis, the app's notifier hands the seq on
    ('→ applied', 'woken', 'applied'),  # the follower's read, ActivityFeed.apply
    ('→ emitted', 'applied', 'emitted'),  # NiceGUI outbox until socket.io emit
    ('→ browser JS', 'emitted', 'arrived'),  # network and the page's busy main thread
    ('start → browser JS', 'start', 'arrived'),
    ('→ DOM', 'arrived', 'dom'),  # Vue renders the update
)


@dataclass
class Latencies:
    label: str
    marks: dict[str, dict[str, float]] = field(default_factory=dict)  # text → mark → ms
    missing: int = 0
    app_loops: list[dict[str, Any]] = field(default_factory=list)  # the app's loop in each pass (Watchdog.report)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process group during the phase
    wall: float = 0.0

    def add(self, other: Latencies) -> None:
        """Take in another pass of the same phase."""
        self.marks.update(other.marks)
        self.missing += other.missing
        self.app_loops += other.app_loops
        for group, seconds in other.cpu.items():
            self.cpu[group] = self.cpu.get(group, 0.0) + seconds
        self.wall += other.wall

    @property
    def values(self) -> list[float]:
        """ms from the trigger's start to the text in the DOM."""
        return [m['dom'] - m['start'] for m in self.marks.values() if 'dom' in m]

    def stage(self, begin: str, end: str) -> list[float]:
        return [m[end] - m[begin] for m in self.marks.values() if begin in m and end in m]

    def line(self) -> str:
        v = self.values
        return (
            f'  {self.label:<22} n={len(v):<4} p50 {pct(v, 0.5):6.1f}  p99 {pct(v, 0.99):6.1f}  '
            f'max {max(v, default=float("nan")):6.1f} ms' + (f'  missing {self.missing}' if self.missing else '')
        )

    def cpu_line(self) -> str:
        used = '  '.join(f'{group} {seconds:.1f} s' for group, seconds in self.cpu.items())
        return f'  {self.label:<22} {self.wall:.1f} s wall; CPU: {used} (2 cores = {2 * self.wall:.1f} s available)'

    def parts(self) -> str:
        shown = []
        for name, begin, end in STAGES:
            values = self.stage(begin, end)
            if values:
                shown.append(f'{name} {pct(values, 0.5):.1f}/{pct(values, 0.99):.1f}')
        return f'  {self.label:<22} p50/p99 ms: ' + '  '.join(shown)


# ── what the browser saw ──────────────────────────────────────────────────────────────────────


def new_text() -> str:
    return f'bench-{uuid.uuid4().hex[:12]}'


Trigger = Callable[[int, str], Awaitable[None]]  # (slot, text): make `text` appear on the page of `slot`
Sent = dict[int, dict[str, dict[str, float]]]  # slot → text → the bench's marks (ms)
COLLECT_EVERY = 0.05  # s between asking the pages for their notes, once the measured updates are over
ROUND_GAP = 0.2  # s after a round of 20 (spread over 200 ms) before the next: an open loop, the same for both


async def collect(pages: list[Page], sent: Sent, result: Latencies) -> None:
    """Wait for the pages' notes on the texts `sent` and add them to `result`; a text not in its page's
    DOM within SEEN_TIMEOUT counts as missing."""
    deadline = time.monotonic() + SEEN_TIMEOUT
    waiting = {slot: dict(texts) for slot, texts in sent.items() if texts}
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(COLLECT_EVERY)
        notes = await asyncio.gather(*(pages[slot].evaluate('t => window.__benchTake(t)', list(texts))
                                       for slot, texts in waiting.items()))  # fmt: skip
        for (slot, texts), found in zip(list(waiting.items()), notes, strict=True):
            for text, mark in found.items():
                result.marks[text] = {**texts.pop(text), **mark}
            if not texts:
                del waiting[slot]
    result.missing += sum(len(texts) for texts in waiting.values())


async def fire_round(trigger: Trigger, pages: list[Page], sent: Sent, spread: float) -> None:
    """Each page's text triggered once, at a random moment within `spread` s; noted in `sent`."""

    async def fire(slot: int) -> None:
        await asyncio.sleep(random.uniform(0, spread))
        text = new_text()
        marks = {'start': time.time() * 1000, 'slot': slot}  # start: the wall clock of the browser's Date.now()
        await trigger(slot, text)
        marks['triggered'] = time.time() * 1000
        sent.setdefault(slot, {})[text] = marks

    await asyncio.gather(*(fire(slot) for slot in range(len(pages))))


async def measure(trigger: Trigger, pages: list[Page], label: str, *, samples: int, rounds: int) -> Latencies:
    """One page: `samples` one after another. Many: `rounds` rounds, each page once at a random moment
    within 200 ms, so appends to different builds overlap.

    First one text per page (sockets connected, followers subscribed, first-render costs paid), then a
    wait until Chromium is quiet: without it the pages were still laying out and painting those first
    entries during the first measured round. The measured texts are collected only once all are sent:
    asking every page for its notes 50 ms after each round (and again until all had come) cost the pages
    CPU in the very moments measured, the more the slower the page (build page p50 11 → 6 ms without).
    """
    warm_up: Sent = {}
    await fire_round(trigger, pages, warm_up, spread=0)
    await collect(pages, warm_up, warm := Latencies('warm-up'))
    if warm.missing:
        raise RuntimeError(f'{warm.missing} of {len(pages)} pages never showed their warm-up text')
    await settle()
    result = Latencies(label)
    sent: Sent = {}
    if len(pages) == 1:
        for _ in range(samples):
            await fire_round(trigger, pages, sent, spread=0)
            await asyncio.sleep(random.uniform(0.05, 0.1))
    else:
        for _ in range(rounds):
            await fire_round(trigger, pages, sent, spread=0.2)
            await asyncio.sleep(ROUND_GAP)
    await collect(pages, sent, result)
    return result


async def measured(
    roots: dict[str, int], trigger: Trigger, pages: list[Page], label: str, *, samples: int, rounds: int
) -> Latencies:
    """`measure`, plus the wall time and the CPU each process group used meanwhile.

    The bench's own garbage collector is held off meanwhile: one of its full passes stalled every
    trigger in flight (4 appends at once took ~95 ms) and counted as latency of the page measured."""
    gc.collect()
    gc.disable()
    before, stolen, started = _proc_table(), _steal_seconds(), time.perf_counter()
    try:
        result = await measure(trigger, pages, label, samples=samples, rounds=rounds)
    finally:
        gc.enable()
    result.cpu = {**cpu_by_group(roots, before), 'taken by the host (steal)': _steal_seconds() - stolen}
    result.wall = time.perf_counter() - started
    return result


async def open_pages(context: BrowserContext, urls: list[str], ready: str) -> list[Page]:
    pages = []
    for url in urls:
        page = await context.new_page()
        await page.goto(url)
        await page.locator(ready).first.wait_for()
        await page.evaluate(OBSERVER)
        pages.append(page)
    return pages


def _chromium_cpu() -> float:
    return sum(cpu for _, name, cpu in _proc_table().values() if 'chrom' in name.lower())


async def settle(quiet: float = 0.15, window: float = 0.5, most: float = 20.0) -> float:
    """Wait until Chromium has finished loading the pages just opened (under `quiet` of a core over
    `window` s), so page-load work is not counted as push latency; same for the baseline and the app.
    Returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < most:
        before = _chromium_cpu()
        await asyncio.sleep(window)
        if _chromium_cpu() - before < quiet * window:
            break
    return time.perf_counter() - started


async def close_pages(pages: list[Page]) -> None:
    for page in pages:
        await page.close()


# ── 1 and 2: the build page and the baseline ──────────────────────────────────────────────────


def app_settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        DATA_DIR=data_dir,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        ANTHROPIC_API_KEY=None,
        OPENAI_BASE_URL=None,
        ENV='test',
        OFFLINE_PACE_SECONDS=0,
    )


async def sign_up(context: BrowserContext, url: str) -> None:
    page = await context.new_page()
    await page.goto(f'{url}/signup')
    await page.get_by_label('Email').fill(EMAIL)
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_role('button', name='Create account').click()
    await page.get_by_text('Your projects').wait_for()
    await page.close()


async def live_builds(sessions, count: int) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """`count` projects of the founder, each with a build in CODE (rows only: the bench is its writer)."""
    ids = []
    async with sessions() as session:
        owner = (await session.exec(select(User).where(User.email == EMAIL))).one()
        for n in range(count):
            project = Project(owner_id=owner.id, title=f'PawBook {n + 1}', idea=IDEA, stage='building')
            session.add(project)
            await session.flush()
            job = BuildJob(project_id=project.id, user_id=owner.id, state='CODE', started_at=datetime.now(UTC))
            session.add(job)
            await session.flush()
            ids.append(job.id)
        await session.commit()
    return ids


def app_environment(data_dir: Path) -> dict[str, str]:
    """The app process's environment: SQLite in `data_dir`, Redis, offline model (also used by bench_viewers)."""
    return {
        'DATA_DIR': str(data_dir),
        'REDIS_URL': REDIS_URL,
        'ENV': 'test',
        'OFFLINE_PACE_SECONDS': '0',
        'LOG_JSON': 'false',
        'LOG_LEVEL': 'WARNING',
    }


async def push_latencies(args: argparse.Namespace, tmp: Path) -> list[Latencies]:
    data_dir = tmp / 'app-data'
    data_dir.mkdir()
    app_env = app_environment(data_dir)
    database_url = None
    if args.postgres:
        from tests.services import fresh_postgres_database

        database_url = fresh_postgres_database()
        app_env['DATABASE_URL'] = database_url
    probe_out = tmp / 'app-loop.jsonl'
    if args.plain_app:
        app = start_process(['main.py'], free_port(), app_env, tmp / 'app.log')
    else:
        app_env.update({'BENCH_WATCHDOG_OUT': str(probe_out), 'BENCH_STACKS': str(args.stacks)})
        app = start_process(['-m', 'bench.bench_build_push', '--serve-app'], free_port(), app_env, tmp / 'app.log')
    probe = None if args.plain_app else AppProbe(app, probe_out)
    baseline = start_process(
        ['bench/_push_baseline_app.py'],
        free_port(),
        {'NICEGUI_STORAGE_PATH': str(tmp / 'baseline-storage')},
        tmp / 'baseline.log',
    )
    roots = {'app': app.process.pid, 'baseline app': baseline.process.pid, 'bench': os.getpid()}
    engine = make_engine(app_settings(data_dir, database_url).database_url)
    notifier = RedisNotifier(REDIS_URL, client_name='bench-build-push')
    events = EventLog(make_session_factory(engine), notifier)
    results: list[Latencies] = []
    try:
        async with async_playwright() as playwright, httpx.AsyncClient(base_url=baseline.url) as http:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = await browser.new_context(viewport={'width': 1280, 'height': 900})
            await sign_up(context, app.url)
            job_ids = await live_builds(make_session_factory(engine), args.builds)

            async def append(slot: int, text: str) -> None:
                await events.append(Narration(job_id=job_ids[slot], text=text))

            async def set_label(slot: int, text: str) -> None:
                (await http.post(f'/push/{slot}/{text}')).raise_for_status()

            async def baseline_pass(slots: int, label: str, samples: int, rounds: int) -> Latencies:
                pages = await open_pages(context, [f'{baseline.url}/?slot={s}' for s in range(slots)], '.push-label')
                await settle()
                result = await measured(roots, set_label, pages, label, samples=samples, rounds=rounds)
                await close_pages(pages)
                return result

            async def build_pass(slots: int, label: str, samples: int, rounds: int) -> Latencies:
                pages = await open_pages(
                    context, [f'{app.url}/builds/{job_ids[s]}' for s in range(slots)], '.activity-feed'
                )
                if args.still:  # diagnosis: is the browser busy animating the pages?
                    for page in pages:
                        await page.add_style_tag(content='*, *::before, *::after { animation: none !important; }')
                print(f'  ({slots} build page(s) settled in {await settle():.1f} s)', flush=True)
                if probe:
                    await probe.phase()  # start the app's figures afresh
                result = await measured(roots, append, pages, label, samples=samples, rounds=rounds)
                if probe:
                    report = await probe.phase()
                    for text, marks in report.pop('marks', {}).items():
                        if text in result.marks:
                            result.marks[text].update(marks)
                    result.app_loops.append(report)
                await close_pages(pages)
                return result

            for slots in (1, args.builds):
                plural = 's' if slots > 1 else ''
                base = Latencies(f'baseline, {slots} page{plural}')
                build = Latencies(f'build page, {slots} build{plural}')
                # Baseline, build, build, baseline, half the samples each: both meet the machine's slow stretches
                # alike (a single pass of each let one stretch decide the ratio).
                for phase_run, into in (
                    (baseline_pass, base),
                    (build_pass, build),
                    (build_pass, build),
                    (baseline_pass, base),
                ):
                    into.add(await phase_run(slots, into.label, (args.samples + 1) // 2, (args.rounds + 1) // 2))
                for result in (base, build):
                    results.append(result)
                    print(result.line(), flush=True)
                    print(result.parts(), flush=True)
            await browser.close()
    finally:
        await notifier.close()
        await engine.dispose()
        stop_process(baseline)
        stop_process(app)
        if database_url:
            from tests.services import drop_postgres_database

            drop_postgres_database(database_url)
    return results


# ── the app process, instrumented ─────────────────────────────────────────────────────────────

_KEEP: list[asyncio.Task[None]] = []


def serve_app() -> None:
    """`--serve-app`: `main.py serve` with a Watchdog and a 10 ms ticker in its event loop.

    SIGUSR1 appends the figures gathered since the previous signal to $BENCH_WATCHDOG_OUT (one JSON
    line) and starts afresh, so the bench learns what the app's loop went through in one phase.
    """
    from nicegui import app

    import main as app_main

    out = Path(os.environ['BENCH_WATCHDOG_OUT'])
    stacks = int(os.environ.get('BENCH_STACKS', '0'))
    marks, woken = _mark_server_side()

    async def begin() -> None:
        watchdog, lags = Watchdog(), []
        watchdog.start()
        _KEEP.append(asyncio.create_task(ticker(lags, asyncio.Event()), name='bench ticker'))

        def dump() -> None:
            with out.open('a') as file:
                file.write(json.dumps({**watchdog.report(lags, stacks), 'marks': marks}) + '\n')
            lags.clear()
            watchdog.reset()
            marks.clear()
            woken.clear()

        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)

    app.on_startup(begin)
    sys.exit(app_main.main(['serve']))


def _mark_server_side() -> tuple[dict[str, dict[str, float]], dict[tuple[str, int], float]]:
    """Note when a bench narration reaches ActivityFeed.apply and when the socket.io message carrying it
    is emitted (wrappers installed in this process only; the product code is not changed)."""
    from nicegui import core

    from core.notify import TopicListener
    from ui.components.activity_feed import ActivityFeed

    marks: dict[str, dict[str, float]] = {}
    pending: set[str] = set()
    woken: dict[tuple[str, int], float] = {}  # (topic, seq) → when the notifier handed it to a follower
    apply, announce = ActivityFeed.apply, TopicListener.announce

    def marked_announce(self: TopicListener, seq: int, note: str = '') -> None:
        woken.setdefault((self.topic, seq), time.time() * 1000)
        announce(self, seq, note)

    def marked_apply(self: ActivityFeed, event: Any) -> None:
        text = getattr(event, 'text', '')
        if event.type == 'agent.narration' and text.startswith('bench-') and text not in marks:
            marks[text] = {'applied': time.time() * 1000}
            at = woken.pop((build_topic(event.job_id), event.seq), None)
            if at is not None:
                marks[text]['woken'] = at
            pending.add(text)
        apply(self, event)

    TopicListener.announce = marked_announce  # type: ignore[method-assign]

    ActivityFeed.apply = marked_apply  # type: ignore[method-assign]
    emit = core.sio.emit

    async def marked_emit(*args: Any, **kwargs: Any) -> Any:
        if pending:
            payload = repr(args)
            for text in [t for t in pending if t in payload]:
                pending.discard(text)
                marks[text]['emitted'] = time.time() * 1000
        return await emit(*args, **kwargs)

    core.sio.emit = marked_emit  # type: ignore[method-assign]
    return marks, woken  # woken: every announcement, so cleared with the marks at each phase


class AppProbe:
    """Reads the app process's loop figures phase by phase (see serve_app)."""

    def __init__(self, proc: LiveProcess, out: Path) -> None:
        self.proc, self.out = proc, out

    def _lines(self) -> list[str]:
        return self.out.read_text().splitlines() if self.out.exists() else []

    async def phase(self) -> dict[str, Any]:
        """The figures since the previous call."""
        before = len(self._lines())
        self.proc.process.send_signal(signal.SIGUSR1)
        for _ in range(200):
            await asyncio.sleep(0.05)
            lines = self._lines()
            if len(lines) > before:
                with contextlib.suppress(ValueError):  # caught mid-write: read again
                    return json.loads(lines[before])
        raise RuntimeError('the app did not report its loop figures')


# ── 3: event-loop lag while offline builds run ────────────────────────────────────────────────


class Watchdog:
    """Times every loop callback and samples the loop thread's stack while one runs > STALL_MS.

    A slow callback is code blocking the loop (its stack names the line); a late ticker with no slow
    callback under it means the process was starved instead (CPU taken by other processes or threads,
    or the garbage collector running in another thread while it holds the GIL: collections are timed too).
    """

    def __init__(self) -> None:
        self.loop_thread = threading.get_ident()
        self.running_since: float | None = None  # start of the callback running now, if any
        self.slow: list[tuple[float, str]] = []  # (ms, what ran)
        self.stacks: list[list[traceback.FrameSummary]] = []
        self._original = asyncio.events.Handle._run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name='lag-watchdog', daemon=True)
        self.collections: list[tuple[int, float]] = []  # (generation, ms) of each garbage collection
        self._gc_started = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == 'start':
            self._gc_started = time.perf_counter()
        else:
            self.collections.append((info['generation'], (time.perf_counter() - self._gc_started) * 1000))

    def start(self) -> None:
        original, watchdog = self._original, self
        gc.callbacks.append(self._on_gc)

        def timed_run(handle: asyncio.Handle) -> None:
            watchdog.running_since = started = time.perf_counter()
            try:
                original(handle)
            finally:
                watchdog.running_since = None
                took = (time.perf_counter() - started) * 1000
                if took > STALL_MS:
                    watchdog.slow.append((took, _describe(handle)))

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
        self._thread.start()

    def stop(self) -> None:
        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            since = self.running_since
            if since is not None and (time.perf_counter() - since) * 1000 > STALL_MS:
                frame = sys._current_frames().get(self.loop_thread)
                if frame is not None:
                    self.stacks.append(traceback.extract_stack(frame))

    def slowest(self, top: int = 5) -> list[tuple[int, float, float, str]]:
        """(count, total ms, max ms, what) of slow callbacks, grouped by what ran."""
        groups: dict[str, list[float]] = collections.defaultdict(list)
        for took, what in self.slow:
            groups[what].append(took)
        ranked = sorted(groups.items(), key=lambda item: -sum(item[1]))[:top]
        return [(len(v), sum(v), max(v), what) for what, v in ranked]

    def culprits(self, top: int = 6) -> list[tuple[int, str, str]]:
        """(samples, innermost project frame, innermost frame) of the stacks sampled in slow callbacks."""
        counts: collections.Counter[tuple[str, str]] = collections.Counter()
        for stack in self.stacks:
            ours = [f for f in stack if _is_project(f.filename)]
            counts[(_where(ours[-1]) if ours else '(no project frame)', _where(stack[-1]))] += 1
        return [(n, ours, inner) for (ours, inner), n in counts.most_common(top)]

    def full_stacks(self, top: int = 4, depth: int = 14) -> list[tuple[int, list[str]]]:
        """The most frequent sampled stacks, innermost `depth` frames (for --stacks)."""
        counts: collections.Counter[tuple[str, ...]] = collections.Counter(
            tuple(_where(f) for f in stack[-depth:]) for stack in self.stacks
        )
        return [(n, list(frames)) for frames, n in counts.most_common(top)]

    def report(self, lags: list[float], stacks: int) -> dict[str, Any]:
        """Everything print_loop shows, as plain data (it crosses a process boundary as JSON)."""
        return {
            'lags': list(lags),
            'slow_count': len(self.slow),
            'slowest': self.slowest(),
            'culprits': self.culprits(),
            'stacks': self.full_stacks(stacks) if stacks else [],
            'gc': [
                (gen, len(ms), sum(ms), max(ms, default=0.0))
                for gen in (0, 1, 2)
                for ms in [[took for g, took in self.collections if g == gen]]
            ],
        }

    def reset(self) -> None:
        self.slow.clear()
        self.stacks.clear()
        self.collections.clear()


def _describe(handle: asyncio.Handle) -> str:
    """The task (and coroutine) a callback stepped, else the callback itself."""
    callback = getattr(handle, '_callback', None)
    owner = getattr(callback, '__self__', None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        code = getattr(coro, 'cr_code', None)
        where = f'{Path(code.co_filename).name}:{code.co_firstlineno} {code.co_qualname}' if code else repr(coro)
        return f'task {owner.get_name()!r} [{where}]'
    return repr(callback)[:160]


def _is_project(filename: str) -> bool:
    path = Path(filename)
    return path.is_relative_to(ROOT) and '.venv' not in path.parts and 'bench' not in path.parts


def _where(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else Path(*path.parts[-3:])
    return f'{shown}:{frame.lineno} ({frame.name})'


async def ticker(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - before - 0.01) * 1000)


async def wait_done(services, job_id: uuid.UUID, timeout: float) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout), aclosing(services.events.follow(job_id, until_done=True)) as stream:
            async for _ in stream:
                pass


async def loop_lag(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from core.builds import jobs as builds
    from core.services import build_services
    from jobs import worker
    from jobs.demo import founder_flow
    from main import settle_long_lived_objects
    from migrations import upgrade

    settings = Settings(
        DATA_DIR=tmp / 'lag-data',
        DATABASE_URL=None,
        REDIS_URL=None,
        ANTHROPIC_API_KEY=None,
        OPENAI_BASE_URL=None,
        ENV='test',
        OFFLINE_PACE_SECONDS=args.pace,
        WORKER_CONCURRENCY=args.builds,
    )
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    services = build_services(settings)
    await services.start()
    await worker.start(services)
    settle_long_lived_objects()  # as `main.py serve` does once started
    lags: list[float] = []
    watchdog = Watchdog()
    stop = asyncio.Event()
    try:
        founders = [await founder_flow(services, f'{IDEA} ({n + 1})') for n in range(args.builds)]
        watchdog.start()
        ticking = asyncio.create_task(ticker(lags, stop))
        started = time.perf_counter()
        job_ids = []
        for user, project_id in founders:
            async with services.sessions() as session:
                job = await builds.start_build(
                    session, user=user, project_id=project_id, queue=services.queue, events=services.events
                )
            job_ids.append(job.id)
        await asyncio.gather(*(wait_done(services, job_id, args.build_timeout) for job_id in job_ids))
        total = time.perf_counter() - started
        stop.set()
        await ticking
        async with services.sessions() as session:
            rows = (await session.exec(select(BuildJob).where(BuildJob.id.in_(job_ids)))).all()  # type: ignore[attr-defined]
        states = collections.Counter(row.state for row in rows)
        errors = sorted({row.error_summary for row in rows if row.error_summary})
    finally:
        stop.set()
        watchdog.stop()
        await worker.stop(services)
        await services.close()
    return {'total': total, 'states': dict(states), 'errors': errors, **watchdog.report(lags, args.stacks)}


# ── report ────────────────────────────────────────────────────────────────────────────────────


def verdict(ok: bool) -> str:
    return 'PASS' if ok else 'FAIL'


def summary_push(push: list[Latencies], builds: int, database: str) -> None:
    by_label = {r.label: r for r in push}
    print(f'Append → DOM latency (ms): narration on /builds/{{id}} ({database} + Redis, app in its own process)')
    print('                           vs a bare NiceGUI label set from a per-client task (same run)')
    for result in push:
        print(result.line())
    print("  where the time goes (trigger = the append or POST in the bench; both clocks are this machine's):")
    for result in push:
        print(result.parts())
    print('  CPU per process group (bench = this process and the Playwright driver; chromium = all its processes):')
    for result in push:
        print(result.cpu_line())
    for result in push:
        for n, report in enumerate(result.app_loops, 1):
            print(f'  the app process\'s event loop during "{result.label}", pass {n}:')
            print_loop(report, indent='    ')
    for n in (1, builds):
        suffix = 's' if n > 1 else ''
        build, base = by_label[f'build page, {n} build{suffix}'], by_label[f'baseline, {n} page{suffix}']
        print(f'  ratio p99 build / baseline at {n:>2}: {pct(build.values, 0.99) / pct(base.values, 0.99):.1f}x')
    build = by_label[f'build page, {builds} builds']
    base = by_label[f'baseline, {builds} pages']
    p99, base_p99 = pct(build.values, 0.99), pct(base.values, 0.99)
    within = verdict(p99 <= 2 * base_p99)
    print(f'  target: p99 at {builds} builds ≤ 2× baseline p99 ({p99:.1f} vs {2 * base_p99:.1f} ms): {within}')
    print(f'  target: p99 at {builds} builds < 100 ms ({p99:.1f} ms): {verdict(p99 < 100)}')
    if build.missing or base.missing:
        print(f'  note: {build.missing + base.missing} texts never reached the DOM within {SEEN_TIMEOUT:.0f} s')


def summary_lag(lag: dict[str, Any], builds: int, pace: float) -> None:
    print(f'\nEvent-loop lag while {builds} offline builds run in one process (10 ms ticker, pace {pace} s/step)')
    print(f'  builds: {lag["total"]:.1f} s from the first start_build to the last end; states {lag["states"]}')
    for error in lag['errors']:
        print(f'  build error: {error}')
    print_loop(lag)
    lag_p99 = pct(lag['lags'], 0.99)
    print(f'  target: lag p99 < 50 ms ({lag_p99:.1f} ms): {verdict(lag_p99 < 50)}')


def print_loop(report: dict[str, Any], indent: str = '  ') -> None:
    """Lag figures, the slow callbacks and where the loop thread was while they ran."""
    lags = report['lags']
    late = sum(1 for v in lags if v > STALL_MS)
    print(
        f'{indent}loop lag over {len(lags)} ticks: p50 {pct(lags, 0.5):.1f} ms   p99 {pct(lags, 0.99):.1f} ms   '
        f'max {max(lags, default=float("nan")):.1f} ms'
    )
    print(f'{indent}ticks > {STALL_MS:.0f} ms late: {late}; loop callbacks that ran > {STALL_MS:.0f} ms: '
          f'{report["slow_count"]}')  # fmt: skip
    collected = '; '.join(
        f'gen {gen}: {n}× total {total:.0f} ms max {most:.1f} ms' for gen, n, total, most in report['gc']
    )
    print(f'{indent}garbage collections: {collected}')
    for count, total, most, what in report['slowest']:
        print(f'{indent}  {count:>3}× total {total:7.0f} ms  max {most:5.0f} ms  {what}')
    if report['culprits']:
        print(f'{indent}loop-thread stack samples inside those callbacks (innermost project frame ← innermost frame):')
        for count, ours, inner in report['culprits']:
            print(f'{indent}  {count:>4}×  {ours}  ←  {inner}')
    for count, frames in report['stacks']:
        print(f'{indent}sampled {count}× (outermost first):')
        for frame in frames:
            print(f'{indent}    {frame}')
    if late and not report['slow_count']:
        print(f'{indent}late ticks without a slow callback: the process was starved (CPU/GIL), not blocked by a call')


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix='bench-build-push-'))
    push, lag = None, None
    try:
        if args.only in (None, 'push'):
            print(f'1+2. append → DOM latency, 1 and {args.builds} pages (Chromium, one context)', flush=True)
            push = await push_latencies(args, tmp)
        if args.only in (None, 'lag'):
            print(f'3. event-loop lag while {args.builds} offline builds run', flush=True)
            lag = await loop_lag(args, tmp)
        if args.dump and push is not None:
            args.dump.write_text(json.dumps({r.label: r.marks for r in push}))
        print('\n== Summary ==')
        if push is not None:
            summary_push(push, args.builds, 'Postgres' if args.postgres else 'SQLite')
        if lag is not None:
            summary_lag(lag, args.builds, args.pace)
    finally:
        if args.keep:
            print(f'(kept {tmp})')
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=100, help='samples with one build/page')
    # 800 samples at 20 builds: the p99 is the 8th slowest, not the 4th (one stall cluster decided it)
    parser.add_argument('--rounds', type=int, default=40, help='samples per build/page with many')
    parser.add_argument('--builds', type=int, default=20, help='concurrent builds (and pages)')
    parser.add_argument('--build-timeout', type=float, default=180.0, help='seconds to wait for the offline builds')
    parser.add_argument('--only', choices=['push', 'lag'], help='run one part only')
    parser.add_argument(
        '--pace',
        type=float,
        default=0.0,
        help='offline model seconds per step for the lag part: 0 = flat out, 1 = the product default',
    )
    parser.add_argument('--stacks', type=int, default=0, help='also print the N most frequent stalled stacks')
    parser.add_argument('--plain-app', action='store_true', help='run `python main.py` without the loop watchdog')
    parser.add_argument('--postgres', action='store_true', help='the app on a fresh Postgres database, not SQLite')
    parser.add_argument('--still', action='store_true', help='diagnosis: stop CSS animations on the build pages')
    parser.add_argument('--serve-app', action='store_true', help=argparse.SUPPRESS)  # the instrumented app
    parser.add_argument('--keep', action='store_true', help='keep the data dirs and app logs')
    parser.add_argument('--dump', type=Path, help="write every sample's marks (ms) to this JSON file")
    args = parser.parse_args()
    if args.serve_app:
        serve_app()
    else:
        asyncio.run(run(args))


if __name__ == '__main__':
    main()
