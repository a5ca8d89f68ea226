"""The Services object: the one place that chooses adapters from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.budget import ensure_default_tiers
from core.config import Settings
from core.db import SessionFactory, make_engine, make_session_factory
from core.ports import Health


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def offline_model(self) -> bool:
        """True when no model provider is configured and the built-in offline model drives the agent."""
        return self.settings.ANTHROPIC_API_KEY is None and not self.settings.OPENAI_BASE_URL

    async def start(self) -> None:
        """Seed what the product needs to exist (tiers) — idempotent."""
        async with self.sessions() as session:
            await ensure_default_tiers(session)

    async def close(self) -> None:
        await self.engine.dispose()

    async def health(self) -> list[Health]:
        return [await self._database_health()]

    async def _database_health(self) -> Health:
        kind = 'sqlite' if self.settings.is_sqlite else 'postgresql'
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text('SELECT 1'))
            return Health('database', True, kind)
        except Exception as error:  # noqa: BLE001 - health reports any failure
            return Health('database', False, f'{kind}: {type(error).__name__}')


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.database_url)
    return Services(settings=settings, engine=engine, sessions=make_session_factory(engine))
