"""The admin's Models page (AD-2): the global default model, the providers' status and a real test call.

Which provider runs is chosen from the settings (core/services.py: an Anthropic key, else an
OpenAI-compatible endpoint, else the offline model). A provider is "reachable" when its latest test call
answered; each test is a tiny real call through the configured LLM port, accounted like any other
(`Services.llm_for`) and kept in the audit log, which is also where the last error is read from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.admin_settings import set_setting
from core.admin_users import MODEL_ID
from core.budget import PRICES, Price
from core.db import SessionFactory
from core.errors import InvalidInput
from core.models import AuditEntry, User
from core.ports import LLM

PROVIDERS = (('anthropic', 'Anthropic'), ('openai_compat', 'OpenAI-compatible endpoint'), ('offline', 'Offline model'))
TEST_ACTION = 'provider.test'


@dataclass(frozen=True)
class ProviderStatus:
    name: str
    label: str
    configured: bool
    in_use: bool
    note: str  # why it is or is not in use
    reachable: bool | None  # None: never tested
    tested_at: datetime | None
    last_error: str
    last_error_at: datetime | None


@dataclass(frozen=True)
class TestResult:
    ok: bool
    detail: str
    model: str
    seconds: float


def configured_providers(*, anthropic_key: bool, openai_url: bool) -> dict[str, bool]:
    return {'anthropic': anthropic_key, 'openai_compat': openai_url, 'offline': True}


async def provider_statuses(
    session: AsyncSession, *, actor: User, configured: dict[str, bool], in_use: str
) -> list[ProviderStatus]:
    """Each provider: configured, in use, reachable at its latest test, and its latest error."""
    audit.require_admin(actor)
    tests = (
        await session.exec(
            select(AuditEntry).where(AuditEntry.action == TEST_ACTION).order_by(col(AuditEntry.at).desc()).limit(200)
        )
    ).all()
    statuses = []
    for name, label in PROVIDERS:
        mine = [entry for entry in tests if entry.target == name]
        failed = next((entry for entry in mine if not entry.after.get('ok')), None)
        statuses.append(ProviderStatus(
            name, label, configured[name], name == in_use, _note(name, configured, in_use),
            bool(mine[0].after.get('ok')) if mine else None, mine[0].at if mine else None,
            str(failed.after.get('detail', '')) if failed else '', failed.at if failed else None,
        ))  # fmt: skip
    return statuses


def _note(name: str, configured: dict[str, bool], in_use: str) -> str:
    if name == in_use:
        return 'In use: every build and journey step calls it.'
    if not configured[name]:
        return {'anthropic': 'Not configured: set ANTHROPIC_API_KEY.',
                'openai_compat': 'Not configured: set OPENAI_BASE_URL (and OPENAI_API_KEY if it needs one).'}.get(
            name, 'Not in use.')  # fmt: skip
    if name == 'offline':
        return 'Not in use: a model provider is configured.'
    return 'Configured but not in use: ANTHROPIC_API_KEY takes precedence.'


async def check_provider(sessions: SessionFactory, *, actor: User, llm: LLM, provider: str, model: str) -> TestResult:
    """A tiny real call (a few tokens, accounted to the admin by `llm`); the result goes to the audit log."""
    audit.require_admin(actor)
    started = time.perf_counter()
    try:
        reply = await llm.complete(system='You check that a model provider answers. Reply with the single word OK.',
                                   messages=[{'role': 'user', 'content': 'Reply with OK.'}], model=model or None,
                                   max_tokens=16)  # fmt: skip
        ok, detail, model = True, f'Answered “{reply.text.strip()[:60]}” with {reply.model}.', reply.model or model
    except Exception as error:  # noqa: BLE001 - any failure of the provider is what the admin needs to see
        first = str(error).splitlines()[0][:200] if str(error) else ''
        ok, detail = False, f'{type(error).__name__}: {first}'
    result = TestResult(ok, detail, model, round(time.perf_counter() - started, 2))
    async with sessions() as session:
        audit.record(session, actor=actor, area='models', action=TEST_ACTION, target=provider,
                     after={'ok': ok, 'detail': detail, 'model': model, 'seconds': result.seconds})  # fmt: skip
        await session.commit()
    return result


async def set_global_default(session: AsyncSession, *, actor: User, model: str) -> str:
    """The model of every founder and role without an override or a tier model ('' → the configured one)."""
    model = model.strip()
    if model and not MODEL_ID.match(model):
        raise InvalidInput('A model id is letters, digits and . _ : / @ - (up to 100 characters), like '
                           'claude-sonnet-4-5.')  # fmt: skip
    await set_setting(session, actor=actor, key='models', value={'default': model})
    return model


def price_table() -> list[tuple[str, Price]]:
    """The price table (dollars per million tokens) as the metering applies it."""
    return sorted(PRICES.items())
