"""Health of each integration, checked for real and cached briefly (OPS-3): what `/readyz` answers.

Each check does the smallest real thing: a query, a PING, a probe blob written, read and deleted,
`true` run in a sandbox, a browser launched. Results are cached for a few seconds so a load
balancer polling every second costs one round of checks per cache period, and concurrent callers
share one round in flight.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.ports import LLM, BlobStore, Health, Notifier, SandboxProvider, Screenshotter

CHECK_TIMEOUT_S = 10.0
PROBE_BYTES = b'cofounder health probe'


@dataclass
class HealthReport:
    checks: list[Health]
    required: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        """Every required integration answered (the browser is not required: screenshots are best effort)."""
        return all(check.ok for check in self.checks if check.name in self.required)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {'status': 'ok' if self.ok else 'failing'}
        for check in self.checks:
            body[check.name] = {'ok': check.ok, 'required': check.name in self.required, 'detail': check.detail,
                                **check.extra}  # fmt: skip
        return body


@dataclass
class Integrations:
    engine: AsyncEngine
    database_kind: str
    notifier: Notifier
    blobs: BlobStore
    storage_kind: str
    sandboxes: SandboxProvider
    llm: LLM
    model: str
    screenshotter: Screenshotter


class HealthChecker:
    """Runs every check at most once per `ttl_s`; callers in between get the last report."""

    def __init__(self, parts: Integrations, *, ttl_s: float = 5.0) -> None:
        self.parts = parts
        self.ttl_s = ttl_s
        self._report: HealthReport | None = None
        self._checked_at = 0.0
        self._running: asyncio.Task[HealthReport] | None = None

    async def report(self) -> HealthReport:
        if self._report is not None and time.monotonic() - self._checked_at < self.ttl_s:
            return self._report
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._check_all())
        return await asyncio.shield(self._running)

    async def _check_all(self) -> HealthReport:
        p = self.parts
        named: list[tuple[str, Callable[[], Awaitable[str]]]] = [
            ('database', self._database),
            ('events', p.notifier.ping),
            ('storage', self._storage),
            ('sandbox', self._sandbox),
            ('llm', self._llm),
            ('browser', p.screenshotter.probe),
        ]
        checks = await asyncio.gather(*(_timed(name, probe) for name, probe in named))
        checks[3].extra.update(provider=p.sandboxes.name, **sandbox_limits(p.sandboxes))
        checks[4].extra.update(model=p.model, offline=p.llm.offline)
        report = HealthReport(list(checks), required={'database', 'events', 'storage', 'sandbox', 'llm'})
        self._report, self._checked_at = report, time.monotonic()
        return report

    async def _database(self) -> str:
        async with self.parts.engine.connect() as conn:
            await conn.execute(text('SELECT 1'))
        return self.parts.database_kind

    async def _storage(self) -> str:
        blobs = self.parts.blobs
        key = f'health/{uuid.uuid4().hex}.txt'
        await blobs.put(key, PROBE_BYTES, content_type='text/plain')
        try:
            if await blobs.get(key) != PROBE_BYTES:
                raise RuntimeError('the probe blob read back different bytes')
        finally:
            await blobs.delete(key)
        return self.parts.storage_kind

    async def _sandbox(self) -> str:
        await self.parts.sandboxes.probe()
        return self.parts.sandboxes.isolation()

    async def _llm(self) -> str:
        if not await self.parts.llm.healthy():
            raise RuntimeError('the model provider is not configured or refused the key')
        return self.parts.llm.name


def sandbox_limits(sandboxes: SandboxProvider) -> dict[str, str | bool]:
    """Which per-sandbox limits are in force (for /readyz, /healthz and the admin system page): `limits` is
    cgroup v2 | cgroup v1 | uid | shared; `isolated` is False when one sandbox can still starve the others."""
    return {'limits': sandboxes.limits_mode, 'isolated': sandboxes.limits_mode != 'shared'}


async def _timed(name: str, probe: Callable[[], Awaitable[str]]) -> Health:
    """One check: ok with what it found, or failed with the error's kind and first line (never a secret)."""
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
        ok = True
    except Exception as error:  # noqa: BLE001 - a health check reports any failure
        detail, ok = f'{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ""}', False
    return Health(name, ok, detail, {'ms': round((time.perf_counter() - started) * 1000, 1)})
