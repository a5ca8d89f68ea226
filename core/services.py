"""The Services object: the one place that chooses adapters from Settings."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import cached_property, partial
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from core.admin_settings import egress_allowlist
from core.budget import ensure_default_tiers
from core.builds.pipeline import BuildDeps
from core.config import Settings
from core.db import SessionFactory, make_engine, make_session_factory
from core.event_log import EventLog
from core.health import HealthChecker, Integrations
from core.metering import MeteredLLM
from core.ports import (
    LLM,
    BlobStore,
    JobQueue,
    LeaderLock,
    Notifier,
    PreviewGateway,
    SandboxProvider,
    Screenshotter,
)

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    notifier: Notifier
    events: EventLog
    blobs: BlobStore
    sandboxes: SandboxProvider
    screenshotter: Screenshotter
    llm: LLM
    queue: JobQueue
    leader: LeaderLock

    @property
    def offline_model(self) -> bool:
        """True when the built-in offline model drives the agent (no provider configured)."""
        return self.llm.offline

    @property
    def model(self) -> str:
        return self.settings.DEFAULT_MODEL or self.llm.default_model

    def llm_for(self, user_id: uuid.UUID, project_id: uuid.UUID | None, role: str = 'journey') -> MeteredLLM:
        """The model for one journey step of one founder, accounted like the agent's calls."""
        return MeteredLLM(
            self.llm, self.sessions, user_id=user_id, project_id=project_id, role=role, global_default=self.model
        )

    async def preview_upstream(self, sandbox_id: str | None, preview_url: str) -> tuple[str, dict[str, str]]:
        """Where the preview proxy sends a preview's requests and the headers it adds (an E2B sandbox's token):
        a gateway's answer for sandboxes behind one, else the stored preview URL as it is."""
        if sandbox_id and isinstance(self.sandboxes, PreviewGateway):
            edge, headers = await self.sandboxes.preview_upstream(sandbox_id)
            return edge.rstrip('/') + urlsplit(preview_url).path, headers  # keeps the app's base path
        return preview_url, {}

    def build_deps(self) -> BuildDeps:
        s = self.settings
        return BuildDeps(
            sessions=self.sessions,
            events=self.events,
            notifier=self.notifier,
            sandboxes=self.sandboxes,
            blobs=self.blobs,
            screenshotter=self.screenshotter,
            llm=self.llm,
            model=self.model,
            secrets=s.secret_values(),
            max_tool_calls=s.AGENT_MAX_TOOL_CALLS,
            max_tokens=s.AGENT_MAX_TOKENS,
            command_timeout=s.SANDBOX_COMMAND_TIMEOUT,
            model_retry_s=s.MODEL_RETRY_SECONDS,
        )

    async def start(self) -> None:
        """Seed what the product needs to exist (tiers) — idempotent."""
        async with self.sessions() as session:
            await ensure_default_tiers(session)

    async def close(self) -> None:
        await self.llm.aclose()
        await self.sandboxes.close()
        await self.screenshotter.close()
        await self.notifier.close()
        await self.engine.dispose()

    @cached_property
    def health(self) -> HealthChecker:
        """The integrations' health, checked for real and cached a few seconds (`/readyz`)."""
        parts = Integrations(
            engine=self.engine,
            database_kind='sqlite' if self.settings.is_sqlite else 'postgresql',
            notifier=self.notifier,
            blobs=self.blobs,
            storage_kind='s3' if self.settings.S3_BUCKET else 'files',
            sandboxes=self.sandboxes,
            llm=self.llm,
            model=self.model,
            screenshotter=self.screenshotter,
        )
        return HealthChecker(parts)


def build_services(settings: Settings, *, worker_process: bool = False) -> Services:
    """Pick every adapter from the settings; `worker_process` runs builds even when WORKERS=external."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    notifier = _notifier(settings)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        notifier=notifier,
        events=EventLog(sessions, notifier, archive=(blobs := _blobs(settings)).get),  # archived events: B-3
        blobs=blobs,
        sandboxes=_sandboxes(settings, sessions),
        screenshotter=_screenshotter(settings),
        llm=_llm(settings),
        queue=_queue(settings, sessions, worker_process=worker_process),
        leader=_leader(settings),
    )


def _leader(settings: Settings) -> LeaderLock:
    if settings.REDIS_URL:
        from core.adapters.leader_redis import RedisLeaderLock

        return RedisLeaderLock(settings.REDIS_URL, ttl_s=settings.SCHEDULER_LEADER_TTL_SECONDS)
    from core.adapters.leader_memory import SoleLeader

    return SoleLeader()


def _notifier(settings: Settings) -> Notifier:
    if settings.REDIS_URL:
        from core.adapters.notify_redis import RedisNotifier

        return RedisNotifier(settings.REDIS_URL)
    from core.adapters.notify_memory import MemoryNotifier

    return MemoryNotifier()


def _blobs(settings: Settings) -> BlobStore:
    if settings.S3_BUCKET:
        from core.adapters.blobs_s3 import S3BlobStore

        secret = settings.AWS_SECRET_ACCESS_KEY
        return S3BlobStore(
            settings.S3_BUCKET,
            endpoint_url=settings.S3_ENDPOINT_URL,
            region=settings.S3_REGION,
            public_url=settings.S3_PUBLIC_URL,
            access_key=settings.AWS_ACCESS_KEY_ID.get_secret_value() if settings.AWS_ACCESS_KEY_ID else None,
            secret_key=secret.get_secret_value() if secret else None,
        )
    from core.adapters.blobs_fs import FileBlobStore

    return FileBlobStore(settings.data_dir / 'blobs')


def _sandboxes(settings: Settings, sessions: SessionFactory) -> SandboxProvider:
    if settings.E2B_API_KEY:
        from core.adapters.sandbox_e2b import E2BSandboxProvider

        return E2BSandboxProvider(api_key=settings.E2B_API_KEY.get_secret_value(), template=settings.E2B_TEMPLATE,
                                  api_url=settings.E2B_API_URL, sandbox_url=settings.E2B_SANDBOX_URL)  # fmt: skip
    from core.adapters.sandbox_local import LocalSandboxProvider

    egress = None
    if settings.SANDBOX_EGRESS_PROXY and settings.SANDBOX_NETWORK == 'isolated':
        from core.adapters.egress_proxy import EgressProxy

        egress = EgressProxy(partial(_egress_hosts, sessions))
    return LocalSandboxProvider(settings, egress=egress)


async def _egress_hosts(sessions: SessionFactory) -> list[str]:
    """The admin's egress allowlist, read by the proxy (which keeps it a few seconds)."""
    async with sessions() as session:
        return await egress_allowlist(session)


def _screenshotter(settings: Settings) -> Screenshotter:
    from core.adapters.screenshot_playwright import PlaywrightScreenshotter

    return PlaywrightScreenshotter(settings.CHROMIUM_PATH, enabled=settings.SCREENSHOTS_ENABLED)


def _llm(settings: Settings) -> LLM:
    if settings.ANTHROPIC_API_KEY:
        from core.adapters.llm_anthropic import AnthropicLLM

        return AnthropicLLM(settings.ANTHROPIC_API_KEY.get_secret_value(), base_url=settings.ANTHROPIC_BASE_URL)
    if settings.OPENAI_BASE_URL:
        from core.adapters.llm_openai_compat import OpenAICompatLLM

        key = settings.OPENAI_API_KEY.get_secret_value() if settings.OPENAI_API_KEY else None
        return OpenAICompatLLM(settings.OPENAI_BASE_URL, api_key=key)
    from core.adapters.llm_offline import OfflineLLM

    return OfflineLLM(pace_seconds=settings.OFFLINE_PACE_SECONDS, scenario=settings.OFFLINE_SCENARIO)


def _queue(settings: Settings, sessions: SessionFactory, *, worker_process: bool = False) -> JobQueue:
    """WORKERS=external: builds run on arq workers (`main.py worker`); otherwise in this process."""
    if settings.WORKERS == 'external':
        if not settings.REDIS_URL:
            raise ValueError('WORKERS=external needs REDIS_URL: the arq workers take their builds from Redis')
        from core.adapters.queue_arq import ArqQueue
        from core.builds.scheduling import queued_builds

        return ArqQueue(settings.REDIS_URL, pending=partial(queued_builds, sessions),
                        concurrency=settings.WORKER_CONCURRENCY, dispatch=worker_process)  # fmt: skip
    from core.adapters.queue_inprocess import InProcessQueue

    return InProcessQueue(concurrency=settings.WORKER_CONCURRENCY)
