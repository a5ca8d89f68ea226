"""Acceptance checks run by the host's own Chromium against the sandboxed preview (verified progress).

A check is data (`core.acceptance.spec`): this module turns each step into Playwright calls on a fresh
browser context of the screenshotter's warm browser. Every request that leaves the preview's origin is
blocked, so a check (or the app it drives) cannot make the host's browser fetch anything else. The run
never raises: a step that fails ends the run with the step and a plain reason, and a screenshot of the
page as it was is kept as evidence.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from playwright.async_api import Browser, Locator, Page, Route
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from core.acceptance.fixtures import fixture_files
from core.acceptance.spec import AcceptanceCheck, CheckRun, Step

SHOT_TIMEOUT_S = 5.0
# A page load gets at least this long: a short step timeout is for "is it there yet", and a dev server
# under load can take seconds to answer a first request that is not a missing feature.
LOAD_TIMEOUT_FLOOR_S = 15.0
NOWHERE_PROXY = 'http://127.0.0.1:9'  # the discard port: nothing listens, so the connection is refused


class StepFailed(Exception):
    """A step's expectation did not hold; the message is for the founder and the agent."""


async def run_check(
    browser: Browser, base_url: str, check: AcceptanceCheck, *, step_timeout_s: float = 5.0
) -> CheckRun:
    started = time.monotonic()
    origin = _origin(base_url)
    # Route interception does not see redirects, so a proxy that is never there catches everything the
    # preview's own host:port does not: another origin fails to load instead of reaching the network.
    context = await browser.new_context(
        viewport={'width': 1280, 'height': 800},
        base_url=base_url.rstrip('/'),
        proxy={'server': NOWHERE_PROXY, 'bypass': urlsplit(base_url).netloc},
    )
    context.set_default_timeout(step_timeout_s * 1000)
    context.set_default_navigation_timeout(max(step_timeout_s, LOAD_TIMEOUT_FLOOR_S) * 1000)
    blocked: list[str] = []
    await context.route('**/*', lambda route: _same_origin_only(route, origin, blocked))
    page = await context.new_page()
    runner = _Runner(page, base_url.rstrip('/'), step_timeout_s, blocked)
    failed_at, problem = None, ''
    try:
        for index, step in enumerate(check.steps, start=1):
            try:
                await runner.do(step)
            except StepFailed as error:
                failed_at, problem = index, str(error)
                break
            except PlaywrightTimeout:
                failed_at, problem = index, runner.timeout_reason(step)
                break
            except PlaywrightError as error:
                failed_at, problem = index, _plain_error(error, blocked)
                break
        shot = await _screenshot(page)
    finally:
        await asyncio.shield(_close(context))
    step_text = check.steps[failed_at - 1].describe() if failed_at else ''
    return CheckRun(feature=check.feature, passed=failed_at is None, failed_step=failed_at, step=step_text,
                    problem=problem, screenshot=shot, seconds=round(time.monotonic() - started, 3))  # fmt: skip


class _Runner:
    def __init__(self, page: Page, base: str, timeout_s: float, blocked: list[str]) -> None:
        self.page, self.base, self.timeout_ms, self.blocked = page, base, timeout_s * 1000, blocked
        self.status: int | None = None
        page.on('response', self._note_document)

    def _note_document(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self.status = response.status

    async def do(self, step: Step) -> None:
        handler = getattr(self, f'_{step.kind}')
        await handler(getattr(step, step.kind))
        if self.blocked:
            raise StepFailed(f'the page tried to reach another site ({self.blocked[0]}), which checks do not allow')

    async def _open(self, path: str) -> None:
        response = await self.page.goto(self.base + path, wait_until='load')
        self.status = response.status if response is not None else None

    async def _fill(self, field) -> None:  # type: ignore[no-untyped-def]
        await (await self._labelled(field.label)).fill(field.value)

    async def _select(self, field) -> None:  # type: ignore[no-untyped-def]
        target = await self._labelled(field.label)
        try:
            await target.select_option(label=field.value, timeout=self.timeout_ms / 2)
        except PlaywrightTimeout:
            await target.select_option(value=field.value)

    async def _upload(self, upload) -> None:  # type: ignore[no-untyped-def]
        data, mime = fixture_files()[upload.fixture]
        target = await self._labelled(upload.label)
        await target.set_input_files({'name': upload.fixture, 'mimeType': mime, 'buffer': data})

    async def _click(self, target) -> None:  # type: ignore[no-untyped-def]
        locator = self._role(target.role, target.name)
        if await locator.count() == 0:
            await locator.wait_for(state='attached')
        async with self._settles():
            await locator.click()

    async def _expect_text(self, text: str) -> None:
        try:
            await self.page.get_by_text(text).first.wait_for(state='visible')
        except PlaywrightTimeout:
            raise StepFailed(f'“{text}” is not on {self._where()}') from None

    async def _expect_element(self, target) -> None:  # type: ignore[no-untyped-def]
        try:
            await self._role(target.role, target.name).wait_for(state='visible')
        except PlaywrightTimeout:
            named = f' named “{target.name}”' if target.name else ''
            raise StepFailed(f'no visible {target.role}{named} on {self._where()}') from None

    async def _expect_count(self, count) -> None:  # type: ignore[no-untyped-def]
        locator = self.page.get_by_role(count.role, name=count.name or None)
        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            found = await locator.count()
            if _within(found, count):
                return
            if time.monotonic() >= deadline:
                raise StepFailed(f'found {found} {count.role} element(s) on {self._where()}')
            await asyncio.sleep(0.1)  # the count may still be settling after a load; bounded by the step timeout

    async def _expect_status(self, status: int) -> None:
        if self.status != status:
            raise StepFailed(f'the page answered HTTP {self.status}, not {status}')

    def _role(self, role: str, name: str) -> Locator:
        return self.page.get_by_role(role, name=name or None).first  # type: ignore[arg-type]

    async def _labelled(self, label: str) -> Locator:
        exact = self.page.get_by_label(label, exact=True)
        return (exact if await exact.count() else self.page.get_by_label(label)).first

    def _settles(self):  # type: ignore[no-untyped-def]
        return _Settle(self.page)

    def _where(self) -> str:
        path = urlsplit(self.page.url).path or '/'
        return f'the page {path}'

    def timeout_reason(self, step: Step) -> str:
        value = getattr(step, step.kind)
        if step.kind in {'fill', 'select', 'upload'}:
            return f'there is no field labelled “{value.label}” on {self._where()}'
        if step.kind == 'click':
            named = f' named “{value.name}”' if value.name else ''
            return f'there is no {value.role}{named} to press on {self._where()}'
        if step.kind == 'open':
            return f'{value} did not finish loading in time'
        return f'this did not happen in time on {self._where()}'


class _Settle:
    """After a click, wait for a navigation it started to load (forms post and redirect)."""

    def __init__(self, page: Page) -> None:
        self.page, self.url = page, ''

    async def __aenter__(self) -> None:
        self.url = self.page.url

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return
        try:
            await self.page.wait_for_load_state('load')
        except PlaywrightTimeout:
            pass


async def _same_origin_only(route: Route, origin: str, blocked: list[str]) -> None:
    url = route.request.url
    if url.startswith(('data:', 'blob:', 'about:')) or _origin(url) == origin:
        await route.continue_()
        return
    blocked.append(_origin(url) or url[:80])
    await route.abort('blockedbyclient')


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f'{parts.scheme}://{parts.netloc}'.lower() if parts.netloc else ''


def _within(found: int, count) -> bool:  # type: ignore[no-untyped-def]
    if count.exact is not None and found != count.exact:
        return False
    if count.min is not None and found < count.min:
        return False
    return count.max is None or found <= count.max


def _plain_error(error: PlaywrightError, blocked: list[str]) -> str:
    if blocked:
        return f'the page tried to reach another site ({blocked[0]}), which checks do not allow'
    first = (str(error).strip().splitlines() or ['the browser reported an error'])[0]
    if 'ERR_PROXY_CONNECTION_FAILED' in first or 'ERR_TUNNEL_CONNECTION_FAILED' in first:
        return 'the page tried to reach another site, which checks do not allow'
    if 'ERR_CONNECTION_REFUSED' in first or 'ERR_EMPTY_RESPONSE' in first:
        return 'the app is not answering'
    return first.removeprefix('Error: ')[:200]


async def _screenshot(page: Page) -> bytes | None:
    try:
        return await page.screenshot(type='png', full_page=False, timeout=SHOT_TIMEOUT_S * 1000)
    except PlaywrightError:
        return None


async def _close(context) -> None:  # type: ignore[no-untyped-def]
    try:
        await asyncio.wait_for(context.close(), timeout=10)
    except Exception:  # noqa: BLE001 - the browser may already be gone
        pass
