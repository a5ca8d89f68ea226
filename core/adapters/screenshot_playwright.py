"""Screenshots of the generated app with Playwright driving the system Chromium (B-7).

One browser is kept warm (launching costs ~1 s, a shot ~1 s more) and each capture opens its own
page. Capture never raises: a failure, a blank page (< 5 KB PNG) or an open circuit breaker all
give None, because a screenshot must never fail a build. After `failure_threshold` consecutive
failures the breaker opens: captures return None at once until `cooldown_s` has passed, then a
single trial capture decides whether it closes again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from playwright.async_api import Browser, Page, Playwright, async_playwright

from core.acceptance.spec import AcceptanceCheck, CheckRun
from core.adapters.screenshot_playwright_checks import LOAD_TIMEOUT_FLOOR_S, run_check

log = logging.getLogger(__name__)

LAUNCH_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
]
BLANK_BELOW_BYTES = 5 * 1024  # a blank or near-blank 1280×800 PNG compresses below this


class PlaywrightScreenshotter:
    """`Screenshotter` on a warm headless Chromium. `launches` counts browser launches."""

    def __init__(
        self,
        chromium_path: str = '/usr/bin/chromium',
        *,
        enabled: bool = True,
        failure_threshold: int = 3,
        cooldown_s: float = 60.0,
        goto_timeout_s: float = 15.0,
        settle_timeout_s: float = 2.0,
    ) -> None:
        self.chromium_path = chromium_path
        self.enabled = enabled
        self.failure_threshold = max(1, failure_threshold)
        self.cooldown_s = cooldown_s
        self.goto_timeout_s = goto_timeout_s
        self.settle_timeout_s = settle_timeout_s
        self.launches = 0
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()  # one launch at a time, even with concurrent captures
        self._failures = 0
        self._open_until: float | None = None  # monotonic time; None while the breaker is closed
        self._trial_running = False
        self._last_error = ''

    # ── Screenshotter ─────────────────────────────────────────────────────────────────────────

    async def capture(self, url: str, *, width: int = 1280, height: int = 800) -> bytes | None:
        """A PNG of `url`, or None when disabled, failed, blank or while the breaker is open."""
        if not self.enabled:
            return None
        admitted, trial = self._admit()
        if not admitted:
            return None
        try:
            # The overall guard covers a hung browser too, not only a slow page.
            png = await asyncio.wait_for(self._shoot(url, width, height), timeout=self.goto_timeout_s + 20)
        except Exception as exc:
            self._record_failure(url, exc)
            return None
        finally:
            if trial:
                self._trial_running = False
        self._record_success()
        if len(png) < BLANK_BELOW_BYTES:
            log.info('screenshot of %s looks blank (%d bytes); discarded', url, len(png))
            return None
        return png

    def status(self) -> str:
        if not self.enabled:
            return 'disabled'
        if self._open_until is not None:
            wait = self._open_until - time.monotonic()
            when = f'retry in {wait:.0f} s' if wait > 0 else 'next capture is a trial'
            return f'circuit open ({self._failures} failures in a row, last: {self._last_error}; {when})'
        if self._browser is not None and self._browser.is_connected():
            return 'ready'
        return 'idle'

    async def probe(self) -> str:
        if self.enabled:
            await self._ensure_browser()
        return self.status()

    async def run_check(self, base_url: str, check: AcceptanceCheck, *, step_timeout_s: float = 5.0) -> CheckRun:
        """An acceptance check on the warm browser (its own context); never raises."""
        if not self.enabled:
            return CheckRun(feature=check.feature, passed=False, ran=False, problem='browser checks are turned off')
        try:
            browser = await self._ensure_browser()
            return await asyncio.wait_for(
                run_check(browser, base_url, check, step_timeout_s=step_timeout_s),
                timeout=max(step_timeout_s, LOAD_TIMEOUT_FLOOR_S) * len(check.steps) + 30,
            )
        except Exception as exc:  # noqa: BLE001 - the host's browser failed, not the app
            log.warning('acceptance check %r could not run: %r', check.feature, exc)
            return CheckRun(feature=check.feature, passed=False, ran=False,
                            problem='the browser on the server could not run the check')  # fmt: skip

    async def close(self) -> None:
        async with self._lock:
            await self._shutdown()

    # ── breaker ───────────────────────────────────────────────────────────────────────────────

    def _admit(self) -> tuple[bool, bool]:
        """(may this capture run, is it the trial after a cooldown)."""
        if self._open_until is None:
            return True, False
        if time.monotonic() < self._open_until or self._trial_running:
            return False, False
        self._trial_running = True  # cooldown over: exactly one trial goes through
        return True, True

    def _record_success(self) -> None:
        if self._open_until is not None:
            log.info('screenshot circuit closed again')
        self._failures = 0
        self._open_until = None

    def _record_failure(self, url: str, exc: BaseException) -> None:
        self._failures += 1
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        self._last_error = first_line[:120]
        log.warning('screenshot of %s failed (%d in a row): %s', url, self._failures, self._last_error)
        if self._failures >= self.failure_threshold:
            self._open_until = time.monotonic() + self.cooldown_s
            log.warning('screenshot circuit open for %.0f s', self.cooldown_s)

    # ── browser ───────────────────────────────────────────────────────────────────────────────

    async def _shoot(self, url: str, width: int, height: int) -> bytes:
        browser = await self._ensure_browser()
        page = await browser.new_page(viewport={'width': width, 'height': height}, device_scale_factor=1)
        pending = _InFlight(page)
        try:
            response = await page.goto(url, wait_until='load', timeout=self.goto_timeout_s * 1000)
            if response is not None and response.status >= 500:
                raise RuntimeError(f'the app answered HTTP {response.status}')
            if self.settle_timeout_s > 0:
                # Let late requests (fonts, API data) land. Not Playwright's 'networkidle', which always waits
                # 500 ms of silence: most pages are idle at 'load', and a shot should not pay for waiting.
                await pending.settled(self.settle_timeout_s)
            return await page.screenshot(type='png', full_page=False)
        finally:
            await _quietly(page.close())

    async def _ensure_browser(self) -> Browser:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            await self._shutdown()  # a browser that died: drop it and its driver, start clean
            try:
                self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.chromium_path, headless=True, args=LAUNCH_ARGS
                )
            except BaseException:
                await self._shutdown()
                raise
            self.launches += 1
            return self._browser

    async def _shutdown(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        if browser is not None:
            await _quietly(browser.close())
        if playwright is not None:
            await _quietly(playwright.stop())


class _InFlight:
    """The page's requests still in flight, and an event for when there are none."""

    QUIET_S = 0.05  # a request started by a script right after 'load' shows up within this

    def __init__(self, page: Page) -> None:
        self.open: set[Any] = set()
        self.idle = asyncio.Event()
        self.idle.set()
        page.on('request', self._started)
        page.on('requestfinished', self._ended)
        page.on('requestfailed', self._ended)

    def _started(self, request: Any) -> None:
        self.open.add(request)
        self.idle.clear()

    def _ended(self, request: Any) -> None:
        self.open.discard(request)
        if not self.open:
            self.idle.set()

    async def settled(self, limit_s: float) -> None:
        """Wait until nothing is in flight for QUIET_S (or `limit_s` passed: dev servers may never go idle)."""
        try:
            async with asyncio.timeout(limit_s):
                while True:
                    await self.idle.wait()
                    await asyncio.sleep(self.QUIET_S)
                    if self.idle.is_set():
                        return
        except TimeoutError:
            pass


async def _quietly(step: Any) -> None:
    """Await a cleanup step, bounded in time, ignoring its errors (the browser may be gone)."""
    try:
        await asyncio.wait_for(step, timeout=10)
    except Exception as exc:
        log.debug('screenshot cleanup step failed: %r', exc)
