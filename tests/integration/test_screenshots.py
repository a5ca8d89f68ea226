"""Screenshots (B-7) with the real system Chromium against pages served on a local port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import struct
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlmodel import select

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.screenshot_playwright import PlaywrightScreenshotter
from core.builds.screenshots import capture_and_publish
from core.db import SessionFactory
from core.events import BuildEvent, SnapshotUpdated
from core.models import BlobRecord
from tests.services import require_chromium

pytestmark = pytest.mark.browser

COLOURFUL = (
    """<!doctype html><html><head><style>
body { margin: 0; font-family: sans-serif; background: linear-gradient(135deg, #ff6b6b, #4ecdc4 40%, #556270); }
.card { margin: 40px; padding: 30px; border-radius: 16px; background: rgba(255,255,255,.85); }
.swatch { display: inline-block; width: 90px; height: 90px; margin: 6px; border-radius: 50%; }
</style></head><body><div class="card"><h1>Pawfect Walks</h1>
<p>Book a trusted dog walker in your neighbourhood in under a minute.</p>"""
    + ''.join(
        f'<span class="swatch" style="background: hsl({h * 23 % 360}, 70%, {35 + h % 4 * 10}%)"></span>'
        for h in range(30)
    )
    + '</div></body></html>'
)
BLANK = '<!doctype html><html><body style="background:#fff"></body></html>'
PAGES = {'/': COLOURFUL, '/blank': BLANK}


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = PAGES.get(self.path)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/html; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope='module')
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(('127.0.0.1', 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


@pytest.fixture
def unreachable() -> str:
    with socket.socket() as sock:  # a free port nobody listens on
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}/'


@pytest.fixture
async def shooter() -> AsyncIterator[PlaywrightScreenshotter]:
    # No network-idle settling here: these pages are static, and it saves ~0.5 s per capture.
    shot = PlaywrightScreenshotter(require_chromium(), failure_threshold=2, cooldown_s=60, settle_timeout_s=0)
    yield shot
    await shot.close()


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and png[12:16] == b'IHDR'
    return struct.unpack('>II', png[16:24])


async def test_colourful_page_gives_a_1280x800_png(site: str) -> None:
    shooter = PlaywrightScreenshotter(require_chromium())  # production defaults, network-idle settling included
    try:
        assert shooter.status() == 'idle'
        png = await shooter.capture(site + '/')
        assert png is not None
        assert png_size(png) == (1280, 800)
        assert len(png) >= 5 * 1024
        assert shooter.status() == 'ready'
    finally:
        await shooter.close()


async def test_blank_page_is_discarded(shooter: PlaywrightScreenshotter, site: str) -> None:
    assert await shooter.capture(site + '/blank') is None
    assert shooter.status() == 'ready'  # a blank app is not a browser failure


async def test_concurrent_captures_share_one_browser(shooter: PlaywrightScreenshotter, site: str) -> None:
    shots = await asyncio.gather(*(shooter.capture(site + '/') for _ in range(3)))
    assert all(s is not None and png_size(s) == (1280, 800) for s in shots)
    assert shooter.launches == 1


async def test_repeated_failures_open_the_breaker(
    shooter: PlaywrightScreenshotter, site: str, unreachable: str
) -> None:
    assert await shooter.capture(unreachable) is None
    assert shooter.status() in {'ready', 'idle'}  # one failure: still closed
    assert await shooter.capture(unreachable) is None
    assert shooter.status().startswith('circuit open (2 failures in a row')
    assert shooter.launches == 1

    await shooter.close()
    assert await shooter.capture(site + '/') is None  # even a good page: the breaker answers
    assert shooter.launches == 1  # ... without launching a browser
    assert shooter.status().startswith('circuit open')


async def test_breaker_lets_one_trial_through_after_cooldown(site: str, unreachable: str) -> None:
    shot = PlaywrightScreenshotter(require_chromium(), failure_threshold=1, cooldown_s=0.3)
    try:
        assert await shot.capture(unreachable) is None
        assert shot.status().startswith('circuit open')
        await asyncio.sleep(0.4)
        assert 'trial' in shot.status()
        assert await shot.capture(site + '/') is not None
        assert shot.status() == 'ready'
    finally:
        await shot.close()


async def test_disabled_never_launches(site: str) -> None:
    shot = PlaywrightScreenshotter(require_chromium(), enabled=False)
    assert await shot.capture(site + '/') is None
    assert shot.status() == 'disabled' and shot.launches == 0


async def test_relaunches_after_close_and_after_the_browser_dies(shooter: PlaywrightScreenshotter, site: str) -> None:
    assert await shooter.capture(site + '/') is not None
    await shooter.close()
    assert shooter.status() == 'idle'
    assert await shooter.capture(site + '/') is not None
    assert shooter.launches == 2

    for pid in chromium_browser_pids():  # the browser this test launched crashes
        os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if shooter.status() == 'idle':
            break
        await asyncio.sleep(0.05)
    png = await shooter.capture(site + '/')
    if png is None:  # the crash was noticed by this capture: it failed, the next one relaunches
        png = await shooter.capture(site + '/')
    assert png is not None
    assert shooter.launches == 3


def chromium_browser_pids() -> list[int]:
    """Main Chromium processes descended from this test process (not renderers, not others')."""
    parents: dict[int, int] = {}
    cmdlines: dict[int, str] = {}
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / 'stat').read_text()
            cmdlines[int(entry.name)] = (entry / 'cmdline').read_bytes().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(')', 1)[1].split()[1])

    def mine(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return [
        pid for pid, cmd in cmdlines.items() if 'chrom' in cmd.split(' ', 1)[0] and '--type=' not in cmd and mine(pid)
    ]


async def test_capture_and_publish_stores_blob_and_emits(
    shooter: PlaywrightScreenshotter, site: str, session_factory: SessionFactory, tmp_path: Path
) -> None:
    blobs = FileBlobStore(tmp_path / 'blobs')
    events: list[BuildEvent] = []

    async def emit(event: BuildEvent) -> None:
        events.append(event)

    job_id, project_id, owner_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    url = await capture_and_publish(
        shooter=shooter,
        blobs=blobs,
        sessions=session_factory,
        emit=emit,
        job_id=job_id,
        project_id=project_id,
        owner_id=owner_id,
        url=site + '/',
        phase='Landing page',
    )
    assert url is not None
    [event] = events
    assert isinstance(event, SnapshotUpdated)
    assert event.job_id == job_id and event.url == url and event.phase == 'Landing page'
    assert event.key.startswith(f'projects/{project_id}/screenshots/{job_id}/') and event.key.endswith('.png')
    assert url == f'/blobs/{event.key}'
    data, content_type = await blobs.open(event.key)
    assert content_type == 'image/png' and png_size(data) == (1280, 800)
    async with session_factory() as session:
        record = (await session.exec(select(BlobRecord).where(BlobRecord.key == event.key))).one()
    assert (record.owner_id, record.project_id, record.job_id, record.kind) == (
        owner_id,
        project_id,
        job_id,
        'screenshot',
    )
    assert record.size == len(data)

    # A blank page publishes nothing.
    blank = await capture_and_publish(
        shooter=shooter,
        blobs=blobs,
        sessions=session_factory,
        emit=emit,
        job_id=job_id,
        project_id=project_id,
        owner_id=owner_id,
        url=site + '/blank',
    )
    assert blank is None and len(events) == 1
    assert await blobs.list(f'projects/{project_id}/') == [event.key]


async def test_publish_failure_never_raises(
    shooter: PlaywrightScreenshotter, site: str, tmp_path: Path, sqlite_session_factory: SessionFactory
) -> None:
    async def broken_emit(event: BuildEvent) -> None:
        raise ConnectionError('event log unavailable')

    url = await capture_and_publish(
        shooter=shooter,
        blobs=FileBlobStore(tmp_path / 'blobs'),
        sessions=sqlite_session_factory,
        emit=broken_emit,
        job_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        owner_id=None,
        url=site + '/',
    )
    assert url is None
