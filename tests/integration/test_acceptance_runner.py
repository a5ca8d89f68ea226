"""The acceptance-check runner: each step kind against a small local app, in the real Chromium."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import pytest_asyncio

from core.acceptance.spec import CheckError, parse_check
from core.adapters.screenshot_playwright import PlaywrightScreenshotter
from tests.services import require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope='module')]  # one warm browser

ITEMS: list[str] = []
FORM = """<!doctype html><html><body><h1>Gear</h1>
<form method="post" action="/gear" enctype="multipart/form-data">
<label for="t">Title</label><input id="t" name="title">
<label for="c">Currency</label><select id="c" name="currency"><option value="EUR">Euro</option>
<option value="JPY">Yen</option></select>
<label for="p">Photo</label><input id="p" type="file" name="photo" accept="image/*">
<button type="submit">Save</button></form><ul>{items}</ul></body></html>"""
PAGES = {
    '/plain': '<!doctype html><p>Nothing to see</p>',
    '/slow-list': '<ul id="l"></ul><script>setTimeout(() => {document.getElementById("l").innerHTML = '
    '"<li>a</li><li>b</li>"}, 300)</script>',
    '/leaky': '<p>Hello</p><img alt="tracker" src="https://tracker.example/pixel.png">',
}


class App(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path == '/gear':
            items = ''.join(f'<li>{t}</li>' for t in ITEMS)
            return self._send(200, FORM.replace('{items}', items))
        if self.path == '/moved':
            self.send_response(302)
            self.send_header('Location', '/plain')
            self.send_header('Content-Length', '0')
            return self.end_headers()
        if self.path == '/away':
            self.send_response(302)
            self.send_header('Location', 'http://example.invalid/')
            self.send_header('Content-Length', '0')
            return self.end_headers()
        if self.path in PAGES:
            return self._send(200, PAGES[self.path])
        return self._send(404, '<p>Not found</p>')

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        marker = b'name="title"\r\n\r\n'
        start = body.find(marker) + len(marker)
        title = body[start : body.find(b'\r\n', start)].decode()
        photo = b'filename="photo.png"' in body and b'\x89PNG' in body
        ITEMS.append(f'{title}{" with photo" if photo else ""}' + (' in EUR' if b'EUR' in body else ''))
        self.send_response(303)
        self.send_header('Location', '/gear')
        self.send_header('Content-Length', '0')
        self.end_headers()

    def _send(self, status: int, html: str) -> None:
        data = html.encode()
        self.send_response(status)
        self.send_header('Content-Type', 'text/html; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope='module')
def app() -> Iterator[str]:
    server = ThreadingHTTPServer(('127.0.0.1', 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


@pytest_asyncio.fixture(scope='module', loop_scope='module')
async def checker() -> AsyncIterator[PlaywrightScreenshotter]:
    shooter = PlaywrightScreenshotter(require_chromium())
    yield shooter
    await shooter.close()


def check(*steps: dict) -> object:
    return parse_check({'feature': 'Gear with photos', 'steps': list(steps)})


async def test_a_form_with_an_upload_and_a_select_passes(app: str, checker: PlaywrightScreenshotter) -> None:
    run = await checker.run_check(app, check(
        {'open': '/gear'}, {'expect_status': 200},
        {'fill': {'label': 'Title', 'value': 'Tent'}},
        {'select': {'label': 'Currency', 'value': 'Euro'}},
        {'upload': {'label': 'Photo', 'fixture': 'photo.png'}},
        {'click': {'role': 'button', 'name': 'Save'}},
        {'expect_text': 'Tent with photo in EUR'},
        {'expect_count': {'role': 'listitem', 'min': 1}},
    ))  # fmt: skip
    assert run.passed, run.sentence()
    assert run.screenshot and run.screenshot[:4] == b'\x89PNG'


async def test_a_missing_field_fails_at_its_step_in_plain_words(app: str, checker: PlaywrightScreenshotter) -> None:
    run = await checker.run_check(app, check({'open': '/gear'}, {'fill': {'label': 'Price', 'value': '12'}}),
                                  step_timeout_s=1)  # fmt: skip
    assert not run.passed and run.ran
    assert run.failed_step == 2
    assert run.problem == 'there is no field labelled “Price” on the page /gear'
    assert run.screenshot is not None  # evidence of what the page looked like


async def test_expectations_fail_with_what_was_found(app: str, checker: PlaywrightScreenshotter) -> None:
    text = await checker.run_check(app, check({'open': '/plain'}, {'expect_text': 'Tent'}), step_timeout_s=0.5)
    assert (text.failed_step, text.problem) == (2, '“Tent” is not on the page /plain')
    img = {'expect_element': {'role': 'img', 'name': 'Tent'}}
    element = await checker.run_check(app, check({'open': '/plain'}, img), step_timeout_s=0.5)
    assert element.problem == 'no visible img named “Tent” on the page /plain'
    two = {'expect_count': {'role': 'listitem', 'exact': 2}}
    counted = await checker.run_check(app, check({'open': '/plain'}, two), step_timeout_s=0.5)
    assert counted.problem == 'found 0 listitem element(s) on the page /plain'
    status = await checker.run_check(app, check({'open': '/nowhere'}, {'expect_status': 200}))
    assert status.problem == 'the page answered HTTP 404, not 200'


async def test_a_count_waits_for_the_page_to_settle_within_the_timeout(
    app: str, checker: PlaywrightScreenshotter
) -> None:
    run = await checker.run_check(
        app, check({'open': '/slow-list'}, {'expect_count': {'role': 'listitem', 'exact': 2}})
    )
    assert run.passed, run.sentence()


async def test_a_redirect_is_followed_within_the_app(app: str, checker: PlaywrightScreenshotter) -> None:
    run = await checker.run_check(app, check({'open': '/moved'}, {'expect_status': 200}, {'expect_text': 'Nothing'}))
    assert run.passed, run.sentence()


async def test_requests_to_another_origin_are_blocked(app: str, checker: PlaywrightScreenshotter) -> None:
    leaky = await checker.run_check(app, check({'open': '/leaky'}, {'expect_text': 'Hello'}))
    assert not leaky.passed
    assert 'tried to reach another site (https://tracker.example)' in leaky.problem
    away = await checker.run_check(app, check({'open': '/away'}))
    assert not away.passed and away.failed_step == 1
    assert away.problem == 'the page tried to reach another site, which checks do not allow'


async def test_a_step_that_targets_another_origin_is_refused_before_running() -> None:
    for path in ('http://example.com/', '//example.com/x', 'javascript:alert(1)', 'gear'):
        with pytest.raises(CheckError, match='is not a path of the app'):
            parse_check({'feature': 'x', 'steps': [{'open': path}]})


async def test_an_app_that_does_not_answer_fails_the_check(checker: PlaywrightScreenshotter) -> None:
    with socket.socket() as sock:  # a free port nobody listens on
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    run = await checker.run_check(f'http://127.0.0.1:{port}', check({'open': '/'}))
    assert not run.passed and run.ran
    assert run.problem == 'the app is not answering'
