"""Soak: one web process for --minutes with real offline builds and 50 build-page watchers; does it stay flat?

The app is bench_build_push's instrumented `--serve-app` (`main.py serve` with a loop watchdog, SQLite in its
own DATA_DIR, REDIS_URL set, the in-process worker). One founder signs up in Chromium (then the browser is
closed), gets the CTO Scale tier (4 builds at once; the default tier runs one) and a project per build
(jobs.demo.founder_flow, fast path), and an API token. Over the run the bench starts --builds builds through
the app's API (`POST /api/v1/projects/{id}/builds`, the Start build button's core function), one every
minutes×60/builds s (30 s at the defaults); the app's own worker runs them with the offline model and
WORKER_CONCURRENCY --concurrency (4, the product default). --pace is OFFLINE_PACE_SECONDS, 3 s a step here:
at the product's 1 s an offline build takes ~35 s, so 20 builds over 10 minutes would seldom overlap; at
3 s about three are under way at once (at most 4: the worker and the tier), which 2 cores hold.

Watchers: --watchers socket.io viewers (bench_viewers' `Viewer`: the page's HTML fetched, then NiceGUI's
socket, nothing rendered) spread evenly over the builds under way: when a build starts some watchers of the
others move to it, when one ends its watchers open the page of a build still running, as founders come and
go. A soak looks for what accumulates, and what accumulates comes from churn (clients made and dropped,
builds started and finished, followers subscribed and gone): 50 watchers parked on one build would exercise
only the steady state.

Push latency: every second the bench appends a probe `Narration` (a unique `bench-…` text) to each running
build through an EventLog with a RedisNotifier (the product's cross-process path), noting `time.time()`
just before the append; a watcher of that build notes when the socket.io message carrying it arrives. One
sample = one (probe, watcher connected when it was sent); not arrived within 20 s = an error.

Every 10 s: the web process's RSS (/proc) and CPU (its share of one core), its event-loop lag (the
watchdog's 10 ms ticker) and garbage collections. Errors: builds not ended READY (or not ended once the
run and --drain are over), HTTP and socket errors (a page or API call that failed, a socket dropped by the
server), ERROR lines and tracebacks in the app's log, probes a watcher never got.

Printed, never asserted, never part of the test run. Target: RSS flat within 10 % from start to end.
Run: .venv/bin/python -m bench.bench_soak [--minutes 10] [--builds 20] [--watchers 50] [--json soak.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import async_playwright
from sqlmodel import col, select

from bench.bench_build_push import (
    CHROMIUM,
    EMAIL,
    IDEA,
    REDIS_URL,
    AppProbe,
    _proc_table,
    app_environment,
    app_settings,
    new_text,
    pct,
    serve_app,
    sign_up,
)
from bench.bench_viewers import Viewer, load_average, rss_mib
from core.adapters.notify_redis import RedisNotifier
from core.api_tokens import create_token
from core.builds.states import RUNNING, TERMINAL
from core.db import make_engine, make_session_factory
from core.event_log import EventLog
from core.events import Narration
from core.models import BuildJob, User
from core.services import build_services
from jobs.demo import founder_flow
from tests.live_app import CHROMIUM_ARGS, free_port, start_process, stop_process

SAMPLE_EVERY = 10.0  # s between samples of the web process
POLL_EVERY = 2.0  # s between reads of the builds' states (and moving watchers off ended builds)
SEEN_TIMEOUT = 20.0  # s; a probe not at a connected watcher by then is an error
TARGET_FLAT = 0.10  # RSS end vs start
RUNNING_VALUES = {s.value for s in RUNNING}
TERMINAL_VALUES = {s.value for s in TERMINAL}
TIER = 'cto_scale'  # 4 builds of one founder at once (the default tier: 1)


def now_ms() -> float:
    return time.time() * 1000


# ── watchers ──────────────────────────────────────────────────────────────────────────────────


class Watcher(Viewer):
    """One connection of a viewer to one build's page; moving to another build makes a new Watcher."""

    def __init__(self, job_id: uuid.UUID, errors: Errors) -> None:
        super().__init__()
        self.job_id, self.errors = job_id, errors
        self.connected_at = 0.0  # ms; 0 until the socket is up
        self.closed = False
        self.sio.on('disconnect', self._dropped)

    async def _dropped(self, *_: Any) -> None:
        if not self.closed:
            self.closed = True
            self.errors.note('socket dropped by the server', str(self.job_id))

    async def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


@dataclass
class Probe:
    job_id: uuid.UUID
    sent: float  # ms, just before the append
    waiting: set[Watcher]  # watchers of the build connected when it was sent, not yet arrived


@dataclass
class Errors:
    started: float  # ms, the run's start: errors are counted per minute from it
    seen: list[tuple[float, str, str]] = field(default_factory=list)  # (ms, kind, detail)

    def note(self, kind: str, detail: str = '', count: int = 1) -> None:
        self.seen.extend([(now_ms(), kind, detail[:200])] * count)

    def in_minute(self, minute: int) -> int:
        return sum(1 for at, _, _ in self.seen if int((at - self.started) / 60_000) == minute)

    def by_kind(self) -> Counter[str]:
        return Counter(kind for _, kind, _ in self.seen)


# ── the run's state ───────────────────────────────────────────────────────────────────────────


@dataclass
class Soak:
    args: argparse.Namespace
    http: httpx.AsyncClient
    cookie: str
    token: str
    projects: list[uuid.UUID]
    events: EventLog
    sessions: Any
    probe: AppProbe
    errors: Errors
    started: float  # ms
    states: dict[uuid.UUID, str] = field(default_factory=dict)  # started builds → state
    ended: dict[uuid.UUID, float] = field(default_factory=dict)  # build → ms its end was seen
    watchers: list[Watcher | None] = field(default_factory=list)
    pending: dict[str, Probe] = field(default_factory=dict)  # probe text → what is awaited
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent ms, ms to the watcher)
    samples: list[dict[str, Any]] = field(default_factory=list)
    log_offset: int = 0
    opened: int = 0  # watcher connections made over the run (churn)
    durations: list[float] = field(default_factory=list)  # s, STARTING → end, builds that ended
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def minute(self, at_ms: float) -> int:
        return int((at_ms - self.started) / 60_000)

    def under_way(self) -> list[uuid.UUID]:
        """Builds started and not ended; running ones if any (their pages move), else queued ones."""
        live = [j for j, s in self.states.items() if s not in TERMINAL_VALUES]
        running = [j for j in live if self.states[j] in RUNNING_VALUES]
        return running or live


async def start_builds(soak: Soak) -> None:
    """One build every minutes×60/builds s through the API, as a founder's script would start it."""
    every = soak.args.minutes * 60 / soak.args.builds
    for n, project_id in enumerate(soak.projects):
        delay = soak.started / 1000 + n * every - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if soak.stop.is_set():
            return
        try:
            response = await soak.http.post(
                f'/api/v1/projects/{project_id}/builds', headers={'Authorization': f'Bearer {soak.token}'}
            )
            response.raise_for_status()
            soak.states[uuid.UUID(response.json()['id'])] = response.json()['state']
        except (httpx.HTTPError, KeyError, ValueError) as problem:
            soak.errors.note('HTTP: starting a build', repr(problem))


async def read_states(soak: Soak) -> None:
    """The started builds' states from the database; a build seen ending other than READY is an error."""
    if not soak.states:
        return
    async with soak.sessions() as session:
        rows = (await session.exec(select(BuildJob.id, BuildJob.state, BuildJob.error_summary)
                                   .where(col(BuildJob.id).in_(list(soak.states))))).all()  # fmt: skip
    for job_id, state, summary in rows:
        soak.states[job_id] = state
        if state in TERMINAL_VALUES and job_id not in soak.ended:
            soak.ended[job_id] = now_ms()
            if state != 'READY':
                soak.errors.note(f'build ended {state}', summary or '')


async def place_watchers(soak: Soak) -> None:
    """Every watcher on a build under way, as evenly as they go: watchers of an ended build move, and when a
    build starts the most-watched builds give some of theirs to it (at most one apart)."""
    targets = soak.under_way()
    if not targets:
        return  # nothing under way: watchers stay on the page they have
    load = Counter({job_id: 0 for job_id in targets})
    slots_of: dict[uuid.UUID, list[int]] = {job_id: [] for job_id in targets}
    moves: list[tuple[int, uuid.UUID]] = []
    for slot, watcher in enumerate(soak.watchers):
        if watcher and not watcher.closed and watcher.job_id in load:
            load[watcher.job_id] += 1
            slots_of[watcher.job_id].append(slot)
        else:
            moves.append((slot, uuid.UUID(int=0)))  # a target below
    for n, (slot, _) in enumerate(moves):
        target = min(targets, key=lambda j: load[j])
        load[target] += 1
        moves[n] = (slot, target)
    while max(load.values()) - min(load.values()) > 1:
        busiest, idlest = max(targets, key=lambda j: load[j]), min(targets, key=lambda j: load[j])
        moves.append((slots_of[busiest].pop(), idlest))
        load[busiest] -= 1
        load[idlest] += 1
    for start in range(0, len(moves), 10):  # ten connections at a time, as bench_viewers opens them
        await asyncio.gather(*(move(soak, slot, target) for slot, target in moves[start : start + 10]))


async def move(soak: Soak, slot: int, job_id: uuid.UUID) -> None:
    old = soak.watchers[slot]
    if old is not None:
        harvest(soak, old)
        await old.close()
    watcher = Watcher(job_id, soak.errors)
    soak.watchers[slot] = watcher
    try:
        await watcher.open(soak.http, f'/builds/{job_id}', soak.cookie)
        watcher.connected_at = now_ms()
        soak.opened += 1
    except Exception as problem:  # noqa: BLE001 - counted, and the slot is tried again at the next poll
        watcher.closed = True
        soak.errors.note('HTTP/socket: opening a build page', repr(problem))


async def follow_builds(soak: Soak) -> None:
    while not soak.stop.is_set():
        try:
            await read_states(soak)
            await place_watchers(soak)
        except Exception as problem:  # noqa: BLE001 - the bench's own read; counted, not fatal
            soak.errors.note('bench: reading builds', repr(problem))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(soak.stop.wait(), POLL_EVERY)


# ── probes and their latency ──────────────────────────────────────────────────────────────────


async def send_probes(soak: Soak) -> None:
    """A probe narration to each running build every 1/rate s, appended concurrently."""
    begin = time.perf_counter()
    for n in range(10**9):
        delay = begin + n / soak.args.probe_rate - time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(soak.stop.wait(), max(delay, 0))
        if soak.stop.is_set():
            return
        running = [j for j, s in soak.states.items() if s in RUNNING_VALUES]
        await asyncio.gather(*(append_probe(soak, job_id) for job_id in running))


async def append_probe(soak: Soak, job_id: uuid.UUID) -> None:
    text = new_text()
    watching = {w for w in soak.watchers if w and w.job_id == job_id and w.connected_at and not w.closed}
    soak.pending[text] = Probe(job_id, now_ms(), watching)
    try:
        await soak.events.append(Narration(job_id=job_id, text=text))
    except Exception as problem:  # noqa: BLE001 - the bench's own append
        soak.pending.pop(text, None)
        soak.errors.note('bench: appending a probe', repr(problem))


def harvest(soak: Soak, watcher: Watcher) -> None:
    """Take the watcher's arrivals: a latency per probe it was waited for; anything else is forgotten."""
    for text, at in watcher.arrived.items():
        probe = soak.pending.get(text)
        if probe is not None and watcher in probe.waiting:
            probe.waiting.discard(watcher)
            soak.latencies.append((probe.sent, at - probe.sent))
    watcher.arrived.clear()


def settle_probes(soak: Soak, final: bool = False) -> None:
    """Harvest every watcher; probes fully arrived are done, those past SEEN_TIMEOUT count their missing."""
    for watcher in soak.watchers:
        if watcher is not None:
            harvest(soak, watcher)
    for text, probe in list(soak.pending.items()):
        probe.waiting = {w for w in probe.waiting if not w.closed}  # a watcher that moved on owes nothing
        if not probe.waiting:
            del soak.pending[text]
        elif final or now_ms() - probe.sent > SEEN_TIMEOUT * 1000:
            soak.errors.note('push: probe never arrived', str(probe.job_id), count=len(probe.waiting))
            del soak.pending[text]


# ── samples ───────────────────────────────────────────────────────────────────────────────────


def scan_log(soak: Soak, log: Path) -> None:
    """New ERROR/CRITICAL lines and tracebacks in the app's log (a logged exception counts once)."""
    with log.open('rb') as file:
        file.seek(soak.log_offset)
        chunk = file.read()
    end = chunk.rfind(b'\n') + 1  # whole lines only; the rest is read next time
    soak.log_offset += end
    lines = chunk[:end].decode(errors='replace').splitlines()
    for n, line in enumerate(lines):
        if line.startswith(('ERROR', 'CRITICAL')):
            soak.errors.note('app log: ERROR', line)
        elif line.startswith('Traceback (most recent call last)'):
            previous = lines[n - 1] if n else ''
            if not previous.startswith(('ERROR', 'CRITICAL')):  # not the traceback of an ERROR line
                soak.errors.note('app log: traceback', lines[min(n + 1, len(lines) - 1)])


async def sample(soak: Soak, log: Path, cpu_before: float, wall_before: float) -> tuple[float, float]:
    """One sample of the web process; returns its CPU seconds and the wall time, for the next one."""
    pid = soak.probe.proc.process.pid
    table = _proc_table()
    cpu, wall = table.get(pid, (0, '', 0.0))[2], time.perf_counter()
    loop = await soak.probe.phase()
    loop.pop('marks', None)
    settle_probes(soak)
    scan_log(soak, log)
    window = [ms for sent, ms in soak.latencies if sent >= now_ms() - SAMPLE_EVERY * 1000 - SEEN_TIMEOUT * 1000]
    entry = {
        't': round((now_ms() - soak.started) / 1000, 1),
        'rss_mib': round(rss_mib(pid), 1),
        'cpu': round((cpu - cpu_before) / (wall - wall_before), 3),  # share of one core since the last sample
        'loop_lag_p50_ms': round(pct(loop['lags'], 0.5), 2),
        'loop_lag_p99_ms': round(pct(loop['lags'], 0.99), 2),
        'loop_slow_callbacks': loop['slow_count'],
        'gc': loop['gc'],  # (generation, count, total ms, max ms) in the web process since the last sample
        'builds_started': len(soak.states),
        'builds_ended': len(soak.ended),
        'builds_ready': sum(1 for j in soak.ended if soak.states[j] == 'READY'),
        'builds_running': sum(1 for s in soak.states.values() if s in RUNNING_VALUES),
        'watchers': sum(1 for w in soak.watchers if w and w.connected_at and not w.closed),
        'push_recent_p99_ms': round(pct(window, 0.99), 1),
        'errors': len(soak.errors.seen),
        'load': load_average(),
    }
    soak.samples.append(entry)
    print(f'  t={entry["t"]:5.0f}s  RSS {entry["rss_mib"]:6.1f} MiB  CPU {entry["cpu"]:4.0%}  '
          f'loop lag p99 {entry["loop_lag_p99_ms"]:6.1f} ms  builds {entry["builds_running"]} running, '
          f'{entry["builds_ready"]}/{entry["builds_ended"]} ready/ended of {entry["builds_started"]}  '
          f'watchers {entry["watchers"]}  errors {entry["errors"]}  load {entry["load"]}', flush=True)  # fmt: skip
    return cpu, wall


async def sample_every(soak: Soak, log: Path) -> None:
    pid = soak.probe.proc.process.pid
    cpu, wall = _proc_table().get(pid, (0, '', 0.0))[2], time.perf_counter()
    await soak.probe.phase()  # the app's figures afresh
    end = soak.started / 1000 + soak.args.minutes * 60
    while time.time() < end - 0.5:
        await asyncio.sleep(min(SAMPLE_EVERY, max(0.0, end - time.time())))
        cpu, wall = await sample(soak, log, cpu, wall)
        gc.collect()  # the bench's own full pass, now rather than amid the next probes (it is disabled)


# ── setup and run ─────────────────────────────────────────────────────────────────────────────


async def prepare_founder(app_url: str, data_dir: Path, builds: int) -> tuple[str, str, list[uuid.UUID]]:
    """The founder signed up in Chromium (its cookie), on TIER, with `builds` projects and an API token."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = await browser.new_context()
        await sign_up(context, app_url)
        cookie = '; '.join(f'{c["name"]}={c["value"]}' for c in (await context.storage_state())['cookies'])
        await browser.close()
    services = build_services(app_settings(data_dir, None))
    try:
        async with services.sessions() as session:
            owner = (await session.exec(select(User).where(User.email == EMAIL))).one()
            owner.tier = TIER
            session.add(owner)
            await session.commit()
            await session.refresh(owner)
            token = (await create_token(session, user=owner, name='soak')).secret
        projects = []
        for n in range(builds):
            _, project_id = await founder_flow(services, f'{IDEA} ({n + 1})', user=owner, fast=True)
            projects.append(project_id)
    finally:
        await services.close()
    return cookie, token, projects


async def drain(soak: Soak) -> None:
    """After the run: wait up to --drain s for the builds under way to end; those that do not are errors."""
    deadline = time.monotonic() + soak.args.drain
    while time.monotonic() < deadline and any(s not in TERMINAL_VALUES for s in soak.states.values()):
        await asyncio.sleep(POLL_EVERY)
        await read_states(soak)
    for job_id, state in soak.states.items():
        if state not in TERMINAL_VALUES:
            soak.errors.note(f'build not ended after the run and {soak.args.drain:.0f} s ({state})', str(job_id))
    missing = soak.args.builds - len(soak.states)
    if missing > 0:
        soak.errors.note('build never started', count=missing)
    async with soak.sessions() as session:
        rows = (await session.exec(select(BuildJob.started_at, BuildJob.finished_at)
                                   .where(col(BuildJob.id).in_(list(soak.states))))).all()  # fmt: skip
    soak.durations = [(end - begin).total_seconds() for begin, end in rows if begin and end]


async def run(args: argparse.Namespace) -> Soak:
    tmp = Path(tempfile.mkdtemp(prefix='bench-soak-'))
    data_dir = tmp / 'app-data'
    data_dir.mkdir()
    probe_out, log = tmp / 'app-loop.jsonl', tmp / 'app.log'
    env = {
        **app_environment(data_dir),
        'BENCH_WATCHDOG_OUT': str(probe_out),
        'OFFLINE_PACE_SECONDS': str(args.pace),
        'WORKER_CONCURRENCY': str(args.concurrency),
    }
    app = start_process(['-m', 'bench.bench_soak', '--serve-app'], free_port(), env, log)
    engine = make_engine(app_settings(data_dir, None).database_url)
    notifier = RedisNotifier(REDIS_URL, client_name='bench-soak')
    soak: Soak | None = None
    try:
        print(f'  app pid {app.process.pid} at {app.url}; preparing the founder and {args.builds} projects', flush=True)
        cookie, token, projects = await prepare_founder(app.url, data_dir, args.builds)
        async with httpx.AsyncClient(base_url=app.url, timeout=60) as http:
            soak = Soak(args, http, cookie, token, projects, EventLog(make_session_factory(engine), notifier),
                        make_session_factory(engine), AppProbe(app, probe_out), Errors(now_ms()), now_ms(),
                        watchers=[None] * args.watchers)  # fmt: skip
            soak.errors.started = soak.started
            gc.collect()
            gc.freeze()  # setup's objects out of the bench's collections
            gc.disable()  # the bench collects after each sample instead (see sample_every)
            tasks = [asyncio.create_task(job(soak)) for job in (start_builds, follow_builds, send_probes)]
            try:
                await sample_every(soak, log)
            finally:
                gc.enable()
                soak.stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(2)  # the last probes' way to the watchers
            settle_probes(soak, final=True)
            for watcher in soak.watchers:
                if watcher is not None:
                    await watcher.close()
            print(f'  run over; waiting up to {args.drain:.0f} s for the builds under way', flush=True)
            await drain(soak)
            scan_log(soak, log)
    finally:
        await notifier.close()
        await engine.dispose()
        stop_process(app)
        if args.keep:
            print(f'(kept {tmp})')
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    assert soak is not None
    return soak


# ── report ────────────────────────────────────────────────────────────────────────────────────


def per_minute(soak: Soak) -> list[dict[str, Any]]:
    rows = []
    for minute in range(int(soak.args.minutes + 0.999)):
        ms = [v for sent, v in soak.latencies if soak.minute(sent) == minute]
        inside = [s for s in soak.samples if minute * 60 < s['t'] <= (minute + 1) * 60 + 1]
        done = sum(1 for at in soak.ended.values() if soak.minute(at) <= minute)
        rows.append({
            'minute': minute + 1,
            'builds_done': done,
            'rss_mib': inside[-1]['rss_mib'] if inside else float('nan'),
            'cpu': max((s['cpu'] for s in inside), default=float('nan')),
            'loop_lag_p99_ms': max((s['loop_lag_p99_ms'] for s in inside), default=float('nan')),
            'push_n': len(ms),
            'push_p50_ms': round(pct(ms, 0.5), 1),
            'push_p99_ms': round(pct(ms, 0.99), 1),
            'errors': soak.errors.in_minute(minute),
        })  # fmt: skip
    return rows


def summary(soak: Soak) -> dict[str, Any]:
    args = soak.args
    rows = per_minute(soak)
    print(f'\n== Soak: {args.minutes:g} min, {args.builds} offline builds (pace {args.pace:g} s/step, worker '
          f'concurrency {args.concurrency}), {args.watchers} socket watchers on the builds under way ==')  # fmt: skip
    print('  minute  builds done  RSS MiB  web CPU max  loop lag p99 max  push n  p50 ms  p99 ms  errors')
    for r in rows:
        print(f'  {r["minute"]:>6}  {r["builds_done"]:>11}  {r["rss_mib"]:7.1f}  {r["cpu"]:11.0%}  '
              f'{r["loop_lag_p99_ms"]:13.1f} ms  {r["push_n"]:>6}  {r["push_p50_ms"]:6.1f}  {r["push_p99_ms"]:6.1f}  '
              f'{r["errors"]:>6}')  # fmt: skip
    rss = [s['rss_mib'] for s in soak.samples]
    start, peak, end = (rss[0], max(rss), rss[-1]) if rss else (float('nan'),) * 3
    change = (end - start) / start if rss else float('nan')
    states = Counter(soak.states.values())
    running = [s['builds_running'] for s in soak.samples]
    print(f'  builds: {len(soak.states)} started, states at the end {dict(states)}; running at a sample: mean '
          f'{sum(running) / max(1, len(running)):.1f}, max {max(running, default=0)}; duration p50 '
          f'{pct(soak.durations, 0.5):.0f} s, max {max(soak.durations, default=float("nan")):.0f} s')  # fmt: skip
    print(f'  watchers: {soak.opened} page connections over the run ({args.watchers} at a time)')
    print(f'  errors total: {len(soak.errors.seen)}')
    for kind, n in soak.errors.by_kind().most_common():
        print(f'    {n:>4}× {kind}')
    for (kind, detail), n in Counter((k, d) for _, k, d in soak.errors.seen).most_common(5):
        print(f'    e.g. {n}× {kind}: {detail}')
    verdict = 'PASS' if abs(change) <= TARGET_FLAT else 'FAIL'
    print(f'  web RSS: start {start:.1f} MiB, peak {peak:.1f}, end {end:.1f}; end vs start {change:+.1%} '
          f'(target: flat within {TARGET_FLAT:.0%}: {verdict})')  # fmt: skip
    warm = [s['rss_mib'] for s in soak.samples if s['t'] > 60]  # after the first minute's builds and pages
    if warm and args.minutes > 2:
        print(f'  web RSS after the first minute {warm[0]:.1f} MiB; end vs that {(end - warm[0]) / warm[0]:+.1%}')
    first, last = (rows[0], rows[-1]) if rows else ({}, {})
    print(f'  push p99: first minute {first.get("push_p99_ms", float("nan")):.1f} ms, '
          f'last minute {last.get("push_p99_ms", float("nan")):.1f} ms')  # fmt: skip
    return {
        'args': {k: v for k, v in vars(args).items() if k not in ('json', 'serve_app')},
        'samples': soak.samples,
        'minutes': rows,
        'rss_mib': {'start': start, 'peak': peak, 'end': end, 'end_vs_start': change},
        'errors': [
            {'at_s': round((at - soak.started) / 1000, 1), 'kind': k, 'detail': d} for at, k, d in soak.errors.seen
        ],
        'builds': {str(j): s for j, s in soak.states.items()},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--minutes', type=float, default=10.0, help='length of the run (sampled every 10 s)')
    parser.add_argument('--builds', type=int, help='builds started over the run, evenly (default 2 a minute: 20)')
    parser.add_argument('--watchers', type=int, default=50, help='socket.io viewers on the builds under way')
    parser.add_argument('--pace', type=float, default=3.0, help='OFFLINE_PACE_SECONDS of the app (product: 1)')
    parser.add_argument('--concurrency', type=int, default=4, help="WORKER_CONCURRENCY of the app's worker")
    parser.add_argument('--probe-rate', type=float, default=1.0, help='probe narrations a second per running build')
    parser.add_argument('--drain', type=float, default=300.0, help='s to wait after the run for builds under way')
    parser.add_argument('--json', type=Path, help='write the samples, minutes and errors to this JSON file')
    parser.add_argument('--serve-app', action='store_true', help=argparse.SUPPRESS)  # bench_build_push's app
    parser.add_argument('--keep', action='store_true', help='keep the data dir and app log')
    args = parser.parse_args()
    if args.serve_app:
        serve_app()
        return
    if args.builds is None:
        args.builds = max(1, round(2 * args.minutes))
    report = summary(asyncio.run(run(args)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
        print(f'  samples written to {args.json}')


if __name__ == '__main__':
    main()
