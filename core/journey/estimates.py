"""What a build will take (J-6): steps, time, tokens and cost, from the model that will build, its pace and the
founder's tier, so a plan states facts instead of a model's guess ("a week of agent work" for a 30-second build).

The offline model runs a fixed script (core/adapters/llm_offline/builder.py): one call per step, paced by
`OFFLINE_PACE_SECONDS`, so its steps are counted exactly (tests/integration/test_plans_honest.py holds the count
to a real build). A real model's steps, seconds and tokens are rough figures, given as a range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from core.budget import Price, cost_microdollars, price_of
from core.language import JAPANESE, detect
from core.metering import model_for
from core.models import User
from core.pacing import allowance_for
from core.ports import LLM

BUILD_ROLE = 'builder'  # the role the build pipeline resolves its model for
OFFLINE_STACK = {
    'en': 'Python standard library only (one app.py, data saved in JSON files, nothing to install)',
    'ja': 'Python 標準ライブラリのみ(app.py ひとつ、データは JSON ファイルに保存、インストール不要)',
}
# The offline script: 21 fixed steps (plan, styling, checks, docs, the closing turn), 4 per page group
# (at most 3 groups) and 2 per page (its acceptance check and the sentence before it).
OFFLINE_FIXED_STEPS, OFFLINE_GROUP_STEPS, OFFLINE_PAGE_STEPS, OFFLINE_GROUPS = 21, 4, 2, 3
# Each offline call re-reads the conversation (the app's source included), so tokens per call grow slowly.
OFFLINE_TOKENS_BASE, OFFLINE_TOKENS_GROWTH, OFFLINE_OUTPUT = 5_800, 175, 350
OFFLINE_CHECK_SECONDS, OFFLINE_PAGE_SECONDS = 8, 3  # starting the app and the browser's check of each page
# A real model: rough figures for an agent writing a small app (a range around them is shown).
REAL_FIXED_STEPS, REAL_PAGE_STEPS, REAL_STEP_SECONDS = 10, 5, 15
REAL_TOKENS_BASE, REAL_TOKENS_GROWTH, REAL_OUTPUT = 8_000, 400, 800


@dataclass(frozen=True)
class Builder:
    """The model that will build for this founder, how it is paced, and the tier that pays for it."""

    offline: bool
    provider: str
    model: str
    pace_seconds: float
    tier_label: str
    daily_tokens: int
    daily_cost: int | None  # microdollars; None when the tier has no dollar allowance
    price: Price


@dataclass(frozen=True)
class Estimate:
    steps: int
    seconds_low: int
    seconds_high: int
    tokens: int
    cost_low: int  # microdollars
    cost_high: int
    days: int  # pacing days the build needs at the founder's daily allowance

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ('steps', 'seconds_low', 'seconds_high', 'tokens', 'cost_low',
                                              'cost_high', 'days')}  # fmt: skip


def pace_of(llm: LLM) -> float:
    """The pause per build step of the offline model (a metered wrapper keeps the real one as `inner`)."""
    inner = getattr(llm, 'inner', llm)
    return float(getattr(inner, 'pace_seconds', 0.0) or 0.0)


async def builder_for(session: AsyncSession, user: User, llm: LLM) -> Builder:
    """The build model for this founder as the pipeline will resolve it, with their tier's daily allowance."""
    model = await model_for(session, user, BUILD_ROLE, llm.default_model)
    allowance = await allowance_for(session, user)
    tier = allowance.calendar.tier
    return Builder(offline=llm.offline, provider=llm.name, model=model, pace_seconds=pace_of(llm),
                   tier_label=tier.label or tier.name, daily_tokens=allowance.daily_tokens,
                   daily_cost=allowance.daily_cost, price=price_of(model, llm.name))  # fmt: skip


def offline_steps(pages: int) -> int:
    """The offline script's model calls for a first build of `pages` pages (no page still gets a home group)."""
    groups = min(OFFLINE_GROUPS, pages) or 1
    return OFFLINE_FIXED_STEPS + OFFLINE_GROUP_STEPS * groups + OFFLINE_PAGE_STEPS * pages


def estimate(builder: Builder, pages: int) -> Estimate:
    """Steps, time, tokens, cost and pacing days of a first build of `pages` pages."""
    if builder.offline:
        steps = offline_steps(pages)
        tokens = steps * (OFFLINE_TOKENS_BASE + OFFLINE_TOKENS_GROWTH * steps)
        output = steps * OFFLINE_OUTPUT
        base = steps * builder.pace_seconds + OFFLINE_CHECK_SECONDS + OFFLINE_PAGE_SECONDS * pages
        low, high = base, base * 2.5 + 15  # a busy machine starts the app and its browser more slowly
    else:
        steps = REAL_FIXED_STEPS + REAL_PAGE_STEPS * pages
        tokens = steps * (REAL_TOKENS_BASE + REAL_TOKENS_GROWTH * steps)
        output = steps * REAL_OUTPUT
        low, high = steps * REAL_STEP_SECONDS / 2, steps * REAL_STEP_SECONDS * 2
    cost = cost_microdollars(builder.model, tokens - output, output, builder.provider)
    days = max(1, math.ceil(tokens / builder.daily_tokens)) if builder.daily_tokens > 0 else 1
    if builder.daily_cost and cost:
        days = max(days, math.ceil(cost / builder.daily_cost))
    scale = (1.0, 1.0) if builder.offline else (0.5, 2.0)
    return Estimate(steps=steps, seconds_low=round(low), seconds_high=round(high), tokens=tokens,
                    cost_low=round(cost * scale[0]), cost_high=round(cost * scale[1]), days=days)  # fmt: skip


# ── the words a plan shows (English, or Japanese for a Japanese idea) ─────────────────────────


def lang_of(*texts: str) -> str:
    return 'ja' if detect(*texts) == JAPANESE else 'en'


def duration(seconds: float, lang: str = 'en') -> str:
    if seconds < 90:
        return f'{max(1, round(seconds))} 秒' if lang == 'ja' else f'{max(1, round(seconds))} seconds'
    if seconds < 90 * 60:
        return f'{round(seconds / 60)} 分' if lang == 'ja' else f'{round(seconds / 60)} minutes'
    return f'{round(seconds / 3600, 1):g} 時間' if lang == 'ja' else f'{round(seconds / 3600, 1):g} hours'


def tokens_text(tokens: int) -> str:
    if tokens >= 1_000_000:
        return f'{tokens / 1_000_000:.1f}M'
    return f'{round(tokens / 1000)}k'


def dollars(microdollars: int) -> str:
    return f'${microdollars / 1_000_000:.2f}'


def span(low: float, high: float, lang: str = 'en') -> str:
    """'12–34 seconds', '1–3 minutes', or both ends in full when their units differ."""
    first, last = duration(low, lang), duration(high, lang)
    unit = last.split(' ', 1)[1]
    if first.endswith(' ' + unit):
        return f'{first.split(" ", 1)[0]}–{last}'
    return f'{first}–{last}'


def time_text(builder: Builder, est: Estimate, lang: str) -> str:
    span_ = span(est.seconds_low, est.seconds_high, lang)
    if lang == 'ja':
        text = f'約 {span_}(オフラインモデルの {est.steps} ステップ + アプリの起動と確認)' if builder.offline else (
            f'約 {span_}({builder.model} の推定 {est.steps} ステップ)')  # fmt: skip
        return text + (f'。1 日の上限を超えるため {est.days} 日に分けて進みます' if est.days > 1 else '')
    if builder.offline:
        text = f'About {span_}: {est.steps} steps of the offline model, then the app is started and checked'
    else:
        text = f'Roughly {span_}: about {est.steps} steps of {builder.model} (an estimate)'
    if est.days > 1:
        text += f'; more than a day of your {builder.tier_label} allowance, so it rests and goes on over '
        text += f'{est.days} days'
    return text


def cost_text(builder: Builder, est: Estimate, lang: str) -> str:
    tokens = tokens_text(est.tokens)
    daily = tokens_text(builder.daily_tokens)
    if builder.offline or est.cost_high == 0:
        if lang == 'ja':
            return f'$0(オフラインモデルは無料)。約 {tokens} トークンが {builder.tier_label} の枠' + (
                f'(1 日 {daily})から引かれます'
            )
        return (f'$0: the offline model is free. About {tokens} tokens count against your {builder.tier_label} '
                f'allowance ({daily} a day)')  # fmt: skip
    money = f'{dollars(est.cost_low)}–{dollars(est.cost_high)}'
    if lang == 'ja':
        return f'約 {money}({builder.model}、約 {tokens} トークン、{builder.tier_label} の枠から)'
    return f'About {money} of {builder.model} usage (about {tokens} tokens), from your {builder.tier_label} allowance'


def pace_text(builder: Builder, lang: str) -> str:
    pace = f'{builder.pace_seconds:g}'
    if builder.offline:
        if lang == 'ja':
            return f'オフラインモデル: 1 ステップごとに {pace} 秒待ちます(見守れるように)'
        if builder.pace_seconds <= 0:
            return 'The offline model: no pause between steps'
        return f'The offline model pauses {pace} s per step so you can watch'
    daily = tokens_text(builder.daily_tokens)
    if lang == 'ja':
        return f'{builder.model} の応答の速さで。{builder.tier_label} の枠は 1 日 {daily} トークン'
    return f'As fast as {builder.model} answers, within your {builder.tier_label} allowance of {daily} tokens a day'


def model_text(builder: Builder, lang: str) -> str:
    if builder.offline:
        if lang == 'ja':
            return 'オフラインモデル(内蔵の決まった手順で作ります。AI ではありません)'
        return 'The offline model (built in: a fixed, deterministic script, not an AI)'
    return builder.model
