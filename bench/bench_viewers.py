"""Viewers one web process serves: ONE build at 20 events/s watched by N build pages, N stepping up.

The app runs as its own process (bench_build_push's instrumented `--serve-app`: `main.py serve` with a
loop watchdog and server-side marks, SQLite in its own DATA_DIR, REDIS_URL set). One founder signs up in
Chromium; N pages of `/builds/{id}` for the same build are open across a few browser contexts sharing
the founder's session. The bench appends `Narration`s through an EventLog with a RedisNotifier (the
product's cross-process path) in an open loop at --rate events/s for --seconds, noting `time.time()`
just before each append; every page notes `Date.now()` when the text enters its DOM (bench_build_push's
MutationObserver) and when the socket.io message carrying it arrived. One sample = one (event, page).

Per N: p50/p99 append → DOM over all samples, the web process's RSS and CPU (its share of one core), its
event-loop lag, Chromium's CPU and the load average. Pages are added step by step (the earlier ones stay
open); the bench stops once p99 is well past 100 ms (--stop-ms) or memory gets tight. The knee: the
largest N with p99 < 100 ms. Chromium shares the 2 cores with the server here, so past some N the
browser, not the server, is the limit: the stages (server marks on the first copy; arrival in the page)
tell which.

Second mode, `--mode sockets`: Chromium on this 2-core machine saturates at a few tens of pages, so the
viewers are socket.io clients in the bench speaking NiceGUI's protocol (the page's HTML is fetched, which
makes the NiceGUI client and its elements on the server; the socket connects with the page's query, an
implicit handshake). Figures are then append → message arrived: the server's whole cost, no rendering.
Before each step the bench waits out the web process's quiet full collection after pages connect
(ui/quiet_gc.py); `--no-full-gc` (diagnosis) also stops Python's automatic full collections there.

Printed, never asserted, never part of the test run. Target: ≥ 150 viewers with p99 < 100 ms.
Run: .venv/bin/python -m bench.bench_viewers [--mode sockets] [--steps 10,25,50,100,150,200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import gc
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import socketio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from bench.bench_build_push import (
    CHROMIUM,
    OBSERVER,
    REDIS_URL,
    AppProbe,
    _proc_table,
    app_environment,
    app_settings,
    live_builds,
    new_text,
    pct,
    print_loop,
    serve_app,
    settle,
    sign_up,
)
from core.adapters.notify_redis import RedisNotifier
from core.db import make_engine, make_session_factory
from core.event_log import EventLog
from core.events import Narration
from tests.live_app import CHROMIUM_ARGS, free_port, start_process, stop_process
from ui.quiet_gc import QUIET_AFTER

TARGET_MS = 100.0
SEEN_TIMEOUT = 20.0  # s after the last append; a copy not in its page's DOM by then counts as missing
MIN_FREE_GIB = 3.0  # no more pages once the machine has less than this available


@dataclass
class Step:
    viewers: int
    unit: str = 'append→DOM'  # or append→msg: socket viewers render nothing
    samples: list[float] = field(default_factory=list)  # ms append → DOM, one per (event, page)
    arrive: list[float] = field(default_factory=list)  # ms append → socket.io message in the page
    render: list[float] = field(default_factory=list)  # ms message → DOM
    server: dict[str, list[float]] = field(default_factory=dict)  # first copy: stage → ms
    appends: list[float] = field(default_factory=list)  # ms each append took in the bench
    missing: int = 0
    late_appends: int = 0  # appends started > 50 ms behind the open-loop schedule
    rss_mib: float = 0.0
    app_cpu: float = 0.0  # share of one core over the phase
    chromium_cpu: float = 0.0
    bench_cpu: float = 0.0
    load: str = ''
    loop: dict[str, Any] = field(default_factory=dict)

    @property
    def p99(self) -> float:
        return pct(self.samples, 0.99)

    def line(self) -> str:
        s = self.samples
        return (
            f'  N={self.viewers:<4} n={len(s):<6} {self.unit} p50 {pct(s, 0.5):6.1f}  p99 {pct(s, 0.99):7.1f}  '
            f'max {max(s, default=float("nan")):7.1f} ms | web RSS {self.rss_mib:5.0f} MiB  '
            f'CPU {self.app_cpu:4.0%} of a core | chromium {self.chromium_cpu:4.0%}  bench {self.bench_cpu:4.0%} | '
            f'load {self.load}' + (f' | missing {self.missing}' if self.missing else '')
            + (f' | late appends {self.late_appends}' if self.late_appends else '')
        )  # fmt: skip

    def parts(self) -> str:
        shown = [f'append (bench) {pct(self.appends, 0.5):.1f}/{pct(self.appends, 0.99):.1f}']
        if self.arrive:  # Chromium pages only: socket viewers' samples are the arrival itself
            shown += [f'→ arrived {pct(self.arrive, 0.5):.1f}/{pct(self.arrive, 0.99):.1f}',
                      f'arrived → DOM {pct(self.render, 0.5):.1f}/{pct(self.render, 0.99):.1f}']  # fmt: skip
        shown += [f'{name} {pct(v, 0.5):.1f}/{pct(v, 0.99):.1f}' for name, v in self.server.items() if v]
        lags = self.loop.get('lags', [])
        return (
            '         p50/p99 ms: ' + '  '.join(shown) + f'  | web loop lag p50/p99 {pct(lags, 0.5):.1f}/'
            f'{pct(lags, 0.99):.1f}'
        )


# ── processes ─────────────────────────────────────────────────────────────────────────────────


def rss_mib(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


def available_gib() -> float:
    for line in Path('/proc/meminfo').read_text().splitlines():
        if line.startswith('MemAvailable:'):
            return int(line.split()[1]) / 1024 / 1024
    return float('nan')


def load_average() -> str:
    return ' '.join(Path('/proc/loadavg').read_text().split()[:3])


def cpu_split(app_pid: int, table: dict[int, tuple[int, str, float]]) -> tuple[float, float, float]:
    """CPU seconds so far of (the web process, all Chromium processes, this bench)."""
    app = table.get(app_pid, (0, '', 0.0))[2]
    chromium = sum(cpu for _, name, cpu in table.values() if 'chrom' in name.lower())
    bench = table.get(os.getpid(), (0, '', 0.0))[2]
    return app, chromium, bench


# ── pages ─────────────────────────────────────────────────────────────────────────────────────


async def open_viewers(contexts: list[BrowserContext], url: str, have: int, want: int) -> list[Page]:
    """Pages have..want-1 of `url`, spread round-robin over `contexts`, a few at a time."""

    async def one(n: int) -> Page:
        page = await contexts[n % len(contexts)].new_page()
        await page.goto(url, timeout=120_000)
        await page.locator('.activity-feed').first.wait_for(timeout=120_000)
        await page.evaluate(OBSERVER)
        return page

    pages: list[Page] = []
    for start in range(have, want, 5):
        pages += await asyncio.gather(*(one(n) for n in range(start, min(start + 5, want))))
    return pages


async def take(pages: list[Any], texts: list[str]) -> list[dict[str, dict[str, float]]]:
    """Each page's (or socket viewer's) notes on `texts`: text → {arrived, dom} ms."""
    if pages and isinstance(pages[0], Viewer):
        return [v.take(texts) for v in pages]
    return await asyncio.gather(*(p.evaluate('t => window.__benchTake(t)', texts) for p in pages))


async def warm_up(events: EventLog, job_id: uuid.UUID, pages: list[Any]) -> None:
    """One entry every page has shown (sockets connected, followers subscribed), then Chromium quiet."""
    text = new_text()
    await events.append(Narration(job_id=job_id, text=text))
    deadline = time.monotonic() + 60
    waiting = list(pages)
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        found = await take(waiting, [text])
        waiting = [p for p, f in zip(waiting, found, strict=True) if text not in f]
    await settle(quiet=0.3, most=30.0)
    # The web process runs a full collection QUIET_AFTER s after the last page connected (ui/quiet_gc.py):
    # not in the measured step (socket viewers are quiet at once; the first runs measured that pass).
    await asyncio.sleep(QUIET_AFTER + 0.5)


# ── the second mode: socket.io clients instead of Chromium pages ──────────────────────────────

QUERY = re.compile(r'query: (\{.*?\}),\n')
BENCH_TEXT = re.compile(r'bench-[0-9a-f]{12}')


class Viewer:
    """One /builds/{id} tab without a browser: the page's HTML is fetched (NiceGUI makes the client and
    its elements), then a socket.io client connects with the query the page would send (implicit
    handshake), and notes when each bench text first arrives in an update message. What it costs the
    server is what a real tab costs it; nothing is rendered."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on('*', self._any)

    async def _any(self, _event: str, *args: Any) -> None:
        at = time.time() * 1000
        for text in BENCH_TEXT.findall(json.dumps(args)):
            self.arrived.setdefault(text, at)

    async def open(self, http: httpx.AsyncClient, url: str, cookie: str) -> None:
        html = (await http.get(url, headers={'Cookie': cookie})).raise_for_status().text
        match = QUERY.search(html)
        if not match:
            raise RuntimeError(f'no socket.io query in {url} (signed out?)')
        query = {
            **ast.literal_eval(match.group(1)),  # a Python dict in the template
            'tab_id': str(uuid.uuid4()),
            'document_id': str(uuid.uuid4()),
        }
        query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()}
        base = str(http.base_url).rstrip('/')
        await self.sio.connect(f'{base}?{urlencode(query)}', socketio_path='/_nicegui_ws/socket.io',
                               transports=['websocket'], headers={'Cookie': cookie})  # fmt: skip

    def take(self, texts: list[str]) -> dict[str, dict[str, float]]:
        return {t: {'arrived': self.arrived.pop(t), 'dom': float('nan')} for t in texts if t in self.arrived}


async def open_socket_viewers(http: httpx.AsyncClient, url: str, cookie: str, count: int) -> list[Viewer]:
    viewers = [Viewer() for _ in range(count)]
    for start in range(0, count, 10):
        await asyncio.gather(*(v.open(http, url, cookie) for v in viewers[start : start + 10]))
    return viewers


# ── one step ──────────────────────────────────────────────────────────────────────────────────


async def drive(
    events: EventLog, job_id: uuid.UUID, rate: float, seconds: float, took: list[float]
) -> tuple[dict[str, float], int]:
    """Open loop: an append every 1/rate s on schedule, whatever the previous ones take. text → start ms;
    each append's own duration (SQLite commit + Redis publish, in the bench) goes to `took`."""
    sent: dict[str, float] = {}
    late = 0
    tasks = []
    begin = time.perf_counter()

    async def append(text: str) -> None:
        sent[text] = start = time.time() * 1000
        await events.append(Narration(job_id=job_id, text=text))
        took.append(time.time() * 1000 - start)

    for n in range(round(rate * seconds)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.05:
            late += 1
        tasks.append(asyncio.create_task(append(new_text())))
    await asyncio.gather(*tasks)
    return sent, late


async def gather_marks(pages: list[Any], sent: dict[str, float], step: Step) -> None:
    texts = list(sent)
    waiting = {n: set(texts) for n in range(len(pages))}
    deadline = time.monotonic() + SEEN_TIMEOUT
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        slots = list(waiting)
        notes = await take([pages[n] for n in slots], texts)
        for n, found in zip(slots, notes, strict=True):
            for text, mark in found.items():
                if text not in waiting[n]:
                    continue
                waiting[n].discard(text)
                sockets = mark['dom'] != mark['dom']  # NaN: a socket viewer, nothing rendered
                step.samples.append((mark['arrived'] if sockets else mark['dom']) - sent[text])
                if 'arrived' in mark and not sockets:
                    step.arrive.append(mark['arrived'] - sent[text])
                    step.render.append(mark['dom'] - mark['arrived'])
            if not waiting[n]:
                del waiting[n]
    step.missing = sum(len(v) for v in waiting.values())


async def measure_step(
    viewers: int, pages: list[Any], events: EventLog, job_id: uuid.UUID, probe: AppProbe, args: argparse.Namespace
) -> Step:
    step = Step(viewers, 'append→DOM' if args.mode == 'chromium' else 'append→msg')
    app_pid = probe.proc.process.pid
    await probe.phase()  # the app's figures afresh
    gc.collect()
    gc.disable()  # a full pass of the bench's collector stalls appends in flight (see bench_build_push)
    before, started = cpu_split(app_pid, _proc_table()), time.perf_counter()
    try:
        sent, step.late_appends = await drive(events, job_id, args.rate, args.seconds, step.appends)
    finally:
        gc.enable()
    after, wall = cpu_split(app_pid, _proc_table()), time.perf_counter() - started
    step.app_cpu, step.chromium_cpu, step.bench_cpu = ((a - b) / wall for a, b in zip(after, before, strict=True))
    step.rss_mib, step.load = rss_mib(app_pid), load_average()
    await gather_marks(pages, sent, step)
    step.loop = await probe.phase()
    server = step.loop.pop('marks', {})
    firsts = [(sent[t], m) for t, m in server.items() if t in sent]
    step.server = {
        'first copy: → woken': [m['woken'] - s for s, m in firsts if 'woken' in m],
        'woken → applied': [m['applied'] - m['woken'] for _, m in firsts if 'woken' in m],
        'applied → emitted': [m['emitted'] - m['applied'] for _, m in firsts if 'emitted' in m],
    }
    return step


# ── run ───────────────────────────────────────────────────────────────────────────────────────


async def contexts_for(browser: Browser, app_url: str, count: int) -> list[BrowserContext]:
    """`count` contexts, all signed in as the one founder (the first signs up, the others share its cookies)."""
    first = await browser.new_context(viewport={'width': 1280, 'height': 900})
    await sign_up(first, app_url)
    state = await first.storage_state()
    others = [
        await browser.new_context(viewport={'width': 1280, 'height': 900}, storage_state=state)
        for _ in range(count - 1)
    ]
    return [first, *others]


async def run(args: argparse.Namespace) -> list[Step]:
    tmp = Path(tempfile.mkdtemp(prefix='bench-viewers-'))
    data_dir = tmp / 'app-data'
    data_dir.mkdir()
    probe_out = tmp / 'app-loop.jsonl'
    env = {**app_environment(data_dir), 'BENCH_WATCHDOG_OUT': str(probe_out), 'BENCH_STACKS': str(args.stacks)}
    if args.no_full_gc:
        env['BENCH_NO_FULL_GC'] = '1'
    app = start_process(['-m', 'bench.bench_viewers', '--serve-app'], free_port(), env, tmp / 'app.log')
    probe = AppProbe(app, probe_out)
    engine = make_engine(app_settings(data_dir, None).database_url)
    notifier = RedisNotifier(REDIS_URL, client_name='bench-viewers')
    events = EventLog(make_session_factory(engine), notifier)
    steps: list[Step] = []
    pages: list[Any] = []
    try:
        async with async_playwright() as playwright, httpx.AsyncClient(base_url=app.url, timeout=120) as http:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            contexts = await contexts_for(browser, app.url, args.contexts)
            cookie = '; '.join(f'{c["name"]}={c["value"]}' for c in (await contexts[0].storage_state())['cookies'])
            if args.mode == 'sockets':
                await browser.close()  # the founder is signed up; Chromium takes no CPU from the server now
            (job_id,) = await live_builds(make_session_factory(engine), 1)
            url = f'{app.url}/builds/{job_id}'
            for viewers in args.steps:
                if available_gib() < MIN_FREE_GIB:
                    print(f'  stop: {available_gib():.1f} GiB available before N={viewers}', flush=True)
                    break
                opened = time.perf_counter()
                if args.mode == 'sockets':
                    pages += await open_socket_viewers(http, f'/builds/{job_id}', cookie, viewers - len(pages))
                else:
                    pages += await open_viewers(contexts, url, len(pages), viewers)
                await warm_up(events, job_id, pages)
                print(f'  N={viewers}: pages open and quiet in {time.perf_counter() - opened:.0f} s, '
                      f'{available_gib():.1f} GiB available', flush=True)  # fmt: skip
                step = await measure_step(viewers, pages, events, job_id, probe, args)
                steps.append(step)
                print(step.line(), flush=True)
                print(step.parts(), flush=True)
                if step.p99 > args.stop_ms:
                    print(f'  stop: p99 {step.p99:.0f} ms > {args.stop_ms:.0f} ms', flush=True)
                    break
            for viewer in pages if args.mode == 'sockets' else ():
                await viewer.sio.disconnect()
            if args.mode == 'chromium':
                await browser.close()
    finally:
        await notifier.close()
        await engine.dispose()
        stop_process(app)
        if args.keep:
            print(f'(kept {tmp})')
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return steps


def summary(steps: list[Step], args: argparse.Namespace) -> None:
    what = (
        f'Chromium pages in {args.contexts} contexts, append → DOM'
        if args.mode == 'chromium'
        else ('socket.io clients in the bench process, append → message arrived')
    )
    print(f'\n== Summary: one build at {args.rate:g} events/s for {args.seconds:g} s per step, N build pages '
          f'({what}) ==')  # fmt: skip
    for step in steps:
        print(step.line())
        print(step.parts())
    under = [s.viewers for s in steps if s.p99 < TARGET_MS and not s.missing]
    knee = max(under, default=0)
    print(f'  knee (largest N with p99 < {TARGET_MS:.0f} ms): {knee or "none"}; target ≥ 150: '
          f'{"PASS" if knee >= 150 else "FAIL"}')  # fmt: skip
    beyond = [s for s in steps if s.viewers > knee]
    for step in [s for s in steps if s.viewers == knee] + beyond[:1]:
        print(f"  the web process's event loop at N={step.viewers}:")
        print_loop(step.loop, indent='    ')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', default='10,25,50,100,150,200', help='viewer counts, ascending')
    parser.add_argument(
        '--mode',
        choices=['chromium', 'sockets'],
        default='chromium',
        help='viewers as Chromium pages (append → DOM) or socket.io clients (append → message)',
    )
    parser.add_argument('--rate', type=float, default=20.0, help='events per second into the one build')
    parser.add_argument('--seconds', type=float, default=10.0, help='seconds of appends per step')
    parser.add_argument('--contexts', type=int, default=4, help='browser contexts the pages are spread over')
    parser.add_argument('--stop-ms', type=float, default=300.0, help='stop stepping once p99 passes this')
    parser.add_argument('--stacks', type=int, default=0, help="print the web loop's N most frequent stalled stacks")
    parser.add_argument(
        '--no-full-gc',
        action='store_true',
        help='diagnosis: no automatic full collections in the web process (its own quiet ones stay)',
    )
    parser.add_argument('--serve-app', action='store_true', help=argparse.SUPPRESS)  # bench_build_push's app
    parser.add_argument('--keep', action='store_true', help='keep the data dir and app log')
    args = parser.parse_args()
    if args.serve_app:
        if os.environ.get('BENCH_NO_FULL_GC'):
            gc.set_threshold(*gc.get_threshold()[:2], 10**9)  # gen 2 never runs by itself
        serve_app()
        return
    args.steps = [int(n) for n in args.steps.split(',')]
    summary(asyncio.run(run(args)), args)


if __name__ == '__main__':
    main()
