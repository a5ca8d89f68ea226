"""Issue 29, item 5: the preview proxy streams with a cap, refuses bad paths, builds each response, hides
the server; capability links are short-lived, renewed while used and revoked by logout, suspension and a
newer build of the project.

The generated app is replaced by a small HTTP server of our own (the network edge) so each test controls
exactly what the upstream sends.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core.builds.preview import preview_token, revoke_user_previews
from core.models import BuildJob, Project
from core.models import User as Account
from tests.security.conftest import PREVIEW_CAP_MB
from tests.ui.conftest import log_out, sign_up

CAP = PREVIEW_CAP_MB << 20


class FakeApp(BaseHTTPRequestHandler):
    """Answers like a generated app that gives itself away (Server, X-Powered-By) and uses hop headers."""

    protocol_version = 'HTTP/1.1'

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith('/prefix'):  # what the app is told its prefix is
            self._answer(self.headers.get('X-Forwarded-Prefix', 'none').encode())
            return
        if self.path.startswith('/huge'):
            self._answer(b'x' * 16, extra={'Content-Length': str(CAP + 1)}, length=False)
            return
        self._answer(b'<html><a href="/next">hello from the app</a></html>', content_type='text/html')

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        self._answer(f'{len(body)} {hashlib.sha256(body).hexdigest()}'.encode())

    def _answer(self, body: bytes, *, content_type: str = 'text/plain', extra: dict[str, str] | None = None,
                length: bool = True) -> None:  # fmt: skip
        self.send_response(200)
        self.send_header('Content-Type', content_type)
        self.send_header('X-Powered-By', 'Express')
        self.send_header('Connection', 'keep-alive, X-Hop-Secret')
        self.send_header('X-Hop-Secret', 'for-the-next-hop-only')
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if length:
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(('127.0.0.1', 0), FakeApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


async def running_preview(user: User, db: Any, upstream: str, email: str = 'ada@example.com') -> BuildJob:  # type: ignore[no-untyped-def]
    """A signed-up founder with a READY build whose preview runs at `upstream`."""
    await sign_up(user, email)
    async with db() as session:
        owner = (await session.exec(select(Account).where(Account.email == email))).one()
        project = Project(owner_id=owner.id, title='PawBook', idea='Online booking for dog groomers')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=owner.id, state='READY', version_number=1,
                       preview_url=upstream, preview_state='running', finished_at=datetime.now(UTC),
                       queued_at=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
        session.add(job)
        await session.commit()
        await session.refresh(job)
    return job


async def capability_url(user: User, job: BuildJob) -> str:
    entry = await user.http_client.get(f'/preview/{job.id}/')
    assert entry.status_code == 307
    return entry.headers['location']


def secret() -> str:
    return app.state.services.settings.storage_secret()


# ── capability links ─────────────────────────────────────────────────────────────────────────


async def test_an_expired_link_is_not_found(user: User, db: Any, upstream: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    url = await capability_url(user, job)
    assert (await user.http_client.get(url)).status_code == 200
    lifetime = app.state.services.settings.PREVIEW_LINK_MINUTES * 60
    assert lifetime <= 30 * 60  # minutes, not the twelve hours links used to live
    old = preview_token(secret(), job.id, lifetime_s=lifetime, now=time.time() - lifetime - 1)
    assert (await user.http_client.get(f'/preview/{job.id}/t/{old}/')).status_code == 404


async def test_a_link_in_use_is_renewed_with_the_same_grant(user: User, db: Any, upstream: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    lifetime = app.state.services.settings.PREVIEW_LINK_MINUTES * 60
    aging = preview_token(secret(), job.id, lifetime_s=lifetime, now=time.time() - lifetime * 0.75)
    page = await user.http_client.get(f'/preview/{job.id}/t/{aging}/page?x=1', headers={'Sec-Fetch-Dest': 'iframe'})
    assert page.status_code == 307
    fresh = page.headers['location'].split('/t/')[1].split('/')[0]
    assert fresh != aging and fresh.split('.')[0] == aging.split('.')[0]  # same grant, later expiry
    assert page.headers['location'].endswith('/page?x=1')
    asset = await user.http_client.get(f'/preview/{job.id}/t/{aging}/app.js', headers={'Sec-Fetch-Dest': 'script'})
    assert asset.status_code == 200  # assets of the page being shown are not bounced


async def test_logout_revokes_the_links(user: User, db: Any, upstream: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    url = await capability_url(user, job)
    await user.open(f'/builds/{job.id}')
    await log_out(user)
    assert (await user.http_client.get(url)).status_code == 404


async def test_suspension_revokes_the_links(user: User, db: Any, upstream: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    url = await capability_url(user, job)
    await revoke_user_previews(app.state.services.sessions, job.user_id)  # what suspending a founder calls
    assert (await user.http_client.get(url)).status_code == 404
    assert (await user.http_client.get(await capability_url(user, job))).status_code == 200  # a new grant works


async def test_a_new_build_of_the_project_revokes_the_links(user: User, db: Any, upstream: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    url = await capability_url(user, job)
    async with db() as session:
        session.add(BuildJob(project_id=job.project_id, user_id=job.user_id, kind='iteration'))
        await session.commit()
    assert (await user.http_client.get(url)).status_code == 404


# ── the proxy ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize('bad', ['%00', 'a%1b%5b31m', '..%2f..%2fetc/passwd', 'a%5c..%5cb'])
async def test_bad_paths_get_400_not_a_traceback(user: User, db: Any, upstream: str, bad: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    response = await user.http_client.get(f'{await capability_url(user, job)}{bad}')
    assert response.status_code == 400
    assert 'Traceback' not in response.text and 'Bad request' in response.text


async def test_bodies_past_the_cap_are_refused_and_smaller_ones_pass_whole(user: User, db: Any, upstream: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    url = await capability_url(user, job)
    body = bytes(range(256)) * (CAP // 256 - 1)
    echoed = await user.http_client.post(f'{url}echo', content=body)
    assert echoed.status_code == 200 and echoed.text == f'{len(body)} {hashlib.sha256(body).hexdigest()}'
    too_big = await user.http_client.post(f'{url}echo', content=b'x' * (CAP + 1))
    assert too_big.status_code == 413 and 'larger than the preview accepts' in too_big.text

    async def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(PREVIEW_CAP_MB * 4 + 1):
            yield b'y' * (1 << 18)

    assert (await user.http_client.post(f'{url}echo', content=chunks())).status_code == 413
    assert (await user.http_client.get(f'{url}huge')).status_code == 502


async def test_server_identity_and_hop_headers_are_dropped(user: User, db: Any, upstream: str) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    page = await user.http_client.get(await capability_url(user, job))
    assert page.status_code == 200 and 'hello from the app' in page.text
    for header in ('server', 'x-powered-by', 'x-hop-secret'):
        assert header not in page.headers, header
    assert page.headers['content-security-policy'].startswith('sandbox')


async def test_each_not_found_is_its_own_response(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    for _ in range(3):  # a shared response object once carried content-encoding: gzip over a plain body
        response = await user.http_client.get(f'/preview/{"0" * 8}-0000-0000-0000-{"0" * 12}/',
                                              headers={'Accept-Encoding': 'gzip'})  # fmt: skip
        assert response.status_code == 404  # httpx would have failed decoding a plain body sent as gzip
        assert 'content-encoding' not in response.headers and 'Not found' in response.text


async def test_the_apps_own_requests_pass_cors_and_the_prefix_is_the_proxys_word(
    user: User, db: Any, upstream: str
) -> None:  # type: ignore[no-untyped-def]
    job = await running_preview(user, db, upstream)
    link = await capability_url(user, job)
    prefix = link.split('://', 1)[-1].split('/', 1)[-1] if '://' in link else link.lstrip('/')
    told = await user.http_client.get(f'{link}prefix', headers={'X-Forwarded-Prefix': '/elsewhere'})
    assert told.text == '/' + prefix.rstrip('/')  # the browser's own header is dropped, the proxy's is sent
    assert told.headers['access-control-allow-origin'] == '*'  # the app's opaque origin reads its own answers
    preflight = await user.http_client.request(
        'OPTIONS',
        f'{link}api',
        headers={
            'Origin': 'null',
            'Access-Control-Request-Method': 'PUT',
            'Access-Control-Request-Headers': 'content-type',
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers['access-control-allow-methods'] == 'PUT'
    assert preflight.headers['access-control-allow-headers'] == 'content-type'
    forged = await user.http_client.request(
        'OPTIONS', link.replace('/t/', '/t/x'), headers={'Origin': 'null', 'Access-Control-Request-Method': 'PUT'}
    )
    assert forged.status_code == 404  # a preflight is answered only under a valid link
