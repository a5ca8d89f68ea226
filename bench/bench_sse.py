"""The API's live events, measured: append → event received by an SSE client, with 1 and 100 streams open, against
the build page's append → DOM latency measured in the same run.

The app runs as its own process (`main.py serve`, SQLite in its own DATA_DIR, REDIS_URL set), as in
bench_build_push: the bench appends a `Narration` with a unique text through an EventLog with a RedisNotifier (the
product's cross-process path), noting `time.time()` just before; each SSE client (httpx in this process, one
stream per build on `/api/v1/builds/{id}/events`, one token each since a token's burst is 60 requests) notes
when the `data:` line carrying the text arrives. The load is an open loop as in bench_build_push: one stream
samples one after another; many streams in rounds, each build once at a random moment within 200 ms. Before
measuring, one warm-up text per stream must arrive (streams opened, followers subscribed).
The build page figures come from bench_build_push's own functions (Chromium, one context, a MutationObserver),
with 1 and --pages pages (100 Chromium pages do not fit 2 cores; 20 is bench_build_push's count).

Printed, never asserted, never part of the test run.
Run: .venv/bin/python -m bench.bench_sse [--streams 100] [--pages 20] [--no-page] [--postgres] [--samples 100]
[--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from playwright.async_api import async_playwright
from sqlmodel import select

from bench.bench_build_push import (
    CHROMIUM,
    EMAIL,
    PASSWORD,
    REDIS_URL,
    ROUND_GAP,
    SEEN_TIMEOUT,
    app_settings,
    close_pages,
    live_builds,
    measured,
    open_pages,
    pct,
    settle,
)
from bench.bench_build_push import sign_up as browser_sign_up
from core import accounts, api_tokens
from core.adapters.notify_redis import RedisNotifier
from core.db import make_engine, make_session_factory
from core.event_log import EventLog
from core.events import Narration
from core.models import User
from tests.live_app import CHROMIUM_ARGS, free_port, start_process, stop_process

MARK = re.compile(rb'bench-[0-9a-f]{12}')


class Streams:
    """One SSE client per build, noting when each bench text arrives (ms on this machine's wall clock)."""

    def __init__(self, url: str, job_ids: list[uuid.UUID], tokens: list[str]) -> None:
        self.url, self.job_ids, self.tokens = url, job_ids, tokens
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[None]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.http = httpx.AsyncClient(base_url=url, timeout=None, limits=httpx.Limits(max_connections=None))

    async def open(self) -> None:
        self.tasks = [
            asyncio.create_task(self._read(job, token)) for job, token in zip(self.job_ids, self.tokens, strict=True)
        ]

    async def _read(self, job_id: uuid.UUID, token: str) -> None:
        headers = {'Authorization': f'Bearer {token}'}
        async with self.http.stream('GET', f'/api/v1/builds/{job_id}/events', headers=headers) as response:
            response.raise_for_status()
            async for chunk in response.aiter_raw():
                at = time.time() * 1000
                for found in MARK.findall(chunk):
                    text = found.decode()
                    self.arrived.setdefault(text, at)
                    waiter = self.waiters.pop(text, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.http.aclose()


def new_text() -> str:
    return f'bench-{uuid.uuid4().hex[:12]}'


async def sse_pass(
    events: EventLog, streams: Streams, *, samples: int, rounds: int
) -> tuple[list[float], list[float], list[float], int]:
    """(append → received, the append itself, append done → received: ms; texts missing) for the open loop."""
    sent: dict[str, float] = {}
    appended: dict[str, float] = {}
    loop = asyncio.get_running_loop()

    async def fire(slot: int, spread: float) -> None:
        await asyncio.sleep(random.uniform(0, spread))
        text = new_text()
        streams.waiters[text] = loop.create_future()
        sent[text] = time.time() * 1000
        await events.append(Narration(job_id=streams.job_ids[slot], text=text))
        appended[text] = time.time() * 1000

    warm = [new_text() for _ in streams.job_ids]
    streams.waiters.update({text: loop.create_future() for text in warm})
    waiting = [streams.waiters[text] for text in warm]
    for slot, text in enumerate(warm):
        await events.append(Narration(job_id=streams.job_ids[slot], text=text))
    await asyncio.wait_for(asyncio.gather(*waiting), 60)
    gc.collect()
    gc.disable()  # as bench_build_push: a full pass of the bench's collector counted as latency
    try:
        if len(streams.job_ids) == 1:
            for _ in range(samples):
                await fire(0, 0)
                await asyncio.sleep(random.uniform(0.05, 0.1))
        else:
            for _ in range(rounds):
                await asyncio.gather(*(fire(slot, 0.2) for slot in range(len(streams.job_ids))))
                await asyncio.sleep(ROUND_GAP)
        pending = [streams.waiters[text] for text in sent if text in streams.waiters]
        if pending:
            await asyncio.wait(pending, timeout=SEEN_TIMEOUT)
    finally:
        gc.enable()
    got = [streams.arrived[text] - start for text, start in sent.items() if text in streams.arrived]
    append = [appended[text] - start for text, start in sent.items() if text in appended]
    delivery = [streams.arrived[text] - done for text, done in appended.items() if text in streams.arrived]
    return got, append, delivery, len(sent) - len(got)


def line(label: str, values: list[float], missing: int = 0) -> str:
    return (
        f'  {label:<26} n={len(values):<5} p50 {pct(values, 0.5):6.1f}  p99 {pct(values, 0.99):6.1f}  '
        f'max {max(values, default=float("nan")):6.1f} ms' + (f'  missing {missing}' if missing else '')
    )


async def founder_tokens(sessions, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        user = (await session.exec(select(User).where(User.email == EMAIL))).first()
        if user is None:
            user = await accounts.sign_up(session, email=EMAIL, password=PASSWORD)
        return [(await api_tokens.create_token(session, user=user, name=f'bench {n}')).secret for n in range(count)]


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix='bench-sse-'))
    data_dir = tmp / 'app-data'
    data_dir.mkdir()
    env = {
        'DATA_DIR': str(data_dir),
        'REDIS_URL': REDIS_URL,
        'ENV': 'test',
        'OFFLINE_PACE_SECONDS': '0',
        'LOG_JSON': 'false',
        'LOG_LEVEL': 'WARNING',
    }
    database_url = None
    if args.postgres:
        from tests.services import fresh_postgres_database

        database_url = env['DATABASE_URL'] = fresh_postgres_database()
    app = start_process(['main.py'], free_port(), env, tmp / 'app.log')
    engine = make_engine(app_settings(data_dir, database_url).database_url)
    sessions = make_session_factory(engine)
    notifier = RedisNotifier(REDIS_URL, client_name='bench-sse')
    events = EventLog(sessions, notifier)
    results: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = None
            if not args.no_page:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                context = await browser.new_context(viewport={'width': 1280, 'height': 900})
                await browser_sign_up(context, app.url)
            tokens = await founder_tokens(sessions, args.streams)
            job_ids = await live_builds(sessions, max(args.streams, args.pages))
            # SSE at 1, at the page count (like for like) and at --streams; the page at 1 and --pages.
            for count, pages in ((1, 1), (args.pages, args.pages), (args.streams, 0)):
                streams = Streams(app.url, job_ids[:count], tokens[:count])
                await streams.open()
                values, append, delivery, missing = await sse_pass(
                    events, streams, samples=args.samples, rounds=args.rounds
                )
                await streams.close()
                results.append(line(f'SSE, {count} stream{"s" * (count > 1)}', values, missing))
                results.append(line('  the append (bench)', append))
                results.append(line('  append done → received', delivery))
                print(*results[-3:], sep='\n', flush=True)
                if browser is None or not pages:
                    continue

                async def append(slot: int, text: str) -> None:
                    await events.append(Narration(job_id=job_ids[slot], text=text))

                opened = await open_pages(context, [f'{app.url}/builds/{j}' for j in job_ids[:pages]], '.activity-feed')
                await settle()
                roots = {'app': app.process.pid, 'bench': os.getpid()}
                page = await measured(roots, append, opened, 'page', samples=args.samples, rounds=args.rounds)
                await close_pages(opened)
                results.append(line(f'build page, {pages} page{"s" * (pages > 1)}', page.values, page.missing))
                print(results[-1], flush=True)
            if browser is not None:
                await browser.close()
    finally:
        await notifier.close()
        await engine.dispose()
        stop_process(app)
        if database_url:
            from tests.services import drop_postgres_database

            drop_postgres_database(database_url)
        if args.keep:
            print(f'(kept {tmp})')
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    database = 'Postgres' if args.postgres else 'SQLite'
    print(f'\n== Summary: append → received (ms), {database} + Redis, app in its own process ==')
    print('\n'.join(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--streams', type=int, default=100, help='concurrent SSE streams (one build each)')
    parser.add_argument('--pages', type=int, default=20, help='build pages open in Chromium for the comparison')
    parser.add_argument('--samples', type=int, default=100, help='samples with one stream/page')
    parser.add_argument('--rounds', type=int, default=20, help='samples per stream/page with many')
    parser.add_argument('--no-page', action='store_true', help='skip the build page comparison (no Chromium)')
    parser.add_argument('--postgres', action='store_true', help='the app on a fresh Postgres database, not SQLite')
    parser.add_argument('--keep', action='store_true', help='keep the data dir and the app log')
    asyncio.run(run(parser.parse_args()))


if __name__ == '__main__':
    main()
