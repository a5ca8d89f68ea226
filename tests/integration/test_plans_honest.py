"""Plans that match the build (issue 25, item 5): what a plan promises — features, sign-in, stack, time, cost,
pace — is what the configured model builds, and the build honours the chosen plan's scope.

The offline model is the real one; a provider that pretends (a fake at the network edge) shows that core
stamps the facts over a model's guesses.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.adapters.llm_offline import OfflineLLM, builder
from core.adapters.llm_offline.shapes import LOGIN
from core.agent.prompt import parse_build_spec
from core.budget import PRICES
from core.builds.context import built_features, system_prompt_for
from core.journey import estimates, flow, gates, plans
from core.models import BuildJob, PlanOption, Tier
from core.ports import LLMReply, ToolCall
from tests.integration.test_journey import GROOMER, make_founder, project_at_gate

BROKEN_PROMISES = ('NiceGUI', 'agent work', 'tens of dollars', 'a few dollars')


class BoastfulLLM:
    """A provider at the network edge whose plans promise what no build here does (the issue's example)."""

    name, offline, default_model = 'anthropic', False, 'claude-sonnet-4-5'

    async def complete(self, **kwargs: Any) -> LLMReply:
        reply = await OfflineLLM(pace_seconds=0).complete(**kwargs)
        data = dict(reply.tool_calls[0].input)
        if 'plans' in data:
            boast = {'time': 'About a week of agent work', 'cost': 'Moderate: tens of dollars',
                     'stack': 'Python web app (NiceGUI) + SQLite + login'}  # fmt: skip
            data['plans'] = [{**p, **boast} for p in data['plans']]
        reply.tool_calls = [ToolCall(id='x', name=reply.tool_calls[0].name, input=data)]
        return reply

    async def healthy(self) -> bool:
        return True


async def plans_after_gate(session, user, llm) -> tuple[Any, dict[str, PlanOption]]:  # type: ignore[no-untyped-def]
    """A groomer project (4 features: 3 must-haves, 1 should-have) taken through Gate 1 with `llm`."""
    project = await project_at_gate(session, user, OfflineLLM(pace_seconds=0))
    gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
    await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', llm=llm)
    options = await plans.list_plans(session, user=user, project_id=project.id)
    return project, {o.key: o for o in options}


def texts(option: PlanOption) -> str:
    d = option.details
    return ' '.join([option.title, option.summary, *(str(d.get(k, '')) for k in ('time', 'cost', 'stack', 'risk')),
                     *d.get('tradeoffs', []), *d.get('phases', [])])  # fmt: skip


async def test_offline_plans_say_what_the_offline_build_does(session_factory) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        user = await make_founder(session)
        project, by_key = await plans_after_gate(session, user, OfflineLLM(pace_seconds=1.0))
    musts = ['Online Booking Calendar', 'Deposit Payment', 'SMS Reminders']
    every = [*musts, 'Client Pet Profiles']
    fast, balanced, robust = by_key['fast'].details, by_key['balanced'].details, by_key['robust'].details
    assert (fast['features'], fast['left_out'], fast['accounts'], fast['scope']) == (musts, every[3:], False, 'must')
    assert (balanced['features'], balanced['left_out'], balanced['accounts']) == (every, [], False)
    assert (robust['features'], robust['accounts']) == (every, True)
    for key, option in by_key.items():
        d = option.details
        assert d['stack'] == estimates.OFFLINE_STACK['en'], key
        assert 'offline model' in option.summary and 'offline model' in d['model'] and 'not an AI' in d['model']
        assert d['pace'] == 'The offline model pauses 1 s per step so you can watch'
        assert d['cost'].startswith('$0: the offline model is free') and 'Bootstrapper allowance' in d['cost']
        pages = len(d['features']) + (1 if d['accounts'] else 0)
        assert d['estimate']['steps'] == estimates.offline_steps(pages)
        assert f'{d["estimate"]["steps"]} steps of the offline model' in d['time']
        assert not any(broken in texts(option) for broken in BROKEN_PROMISES), texts(option)
    assert 'Client Pet Profiles' in by_key['fast'].summary  # it says what it leaves out
    assert fast['estimate']['seconds_low'] < robust['estimate']['seconds_low']  # fewer pages, sooner


async def test_core_stamps_the_facts_over_a_models_guesses(session_factory) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        tier = Tier(name=f'tiny-{uuid.uuid4().hex[:6]}', label='Tiny', token_allowance=300_000, period_days=30)
        session.add(tier)
        await session.flush()
        user = await make_founder(session, tier=tier.name)
        _, by_key = await plans_after_gate(session, user, BoastfulLLM())
    price = PRICES['claude-sonnet-4-5']
    for key, option in by_key.items():
        d, est = option.details, option.details['estimate']
        assert d['model'] == 'claude-sonnet-4-5' and d['stack'] == 'Python web app (NiceGUI) + SQLite + login'
        assert 'agent work' not in d['time'] and 'tens of dollars' not in d['cost'], key
        output = est['steps'] * estimates.REAL_OUTPUT
        cost = round((est['tokens'] - output) * price.input_per_mtok + output * price.output_per_mtok)
        assert (est['cost_low'], est['cost_high']) == (round(cost * 0.5), round(cost * 2.0))
        assert f'${est["cost_low"] / 1e6:.2f}' in d['cost'] and 'Tiny allowance' in d['cost']
        # 300k tokens over 30 days is 10k a day: the build rests and goes on over many days, and says so
        assert est['days'] == -(-est['tokens'] // 10_000) and f'over {est["days"]} days' in d['time']
        assert d['pace'].startswith('As fast as claude-sonnet-4-5 answers') and '10k tokens a day' in d['pace']


def simulated_calls(spec: dict[str, Any]) -> int:
    """The offline model's calls for a first build, each step answered as a success (a whole build's count)."""
    messages: list[dict[str, Any]] = []
    calls = 0
    while True:
        decision = builder.decide(spec, messages)
        calls += 1
        if decision.step is None:
            return calls
        tool_id = builder.step_id(calls - 1, decision.step.key)
        messages.append({'role': 'assistant', 'content': [{'type': 'tool_use', 'id': tool_id,
                                                           'name': decision.step.tool, 'input': {}}]})  # fmt: skip
        messages.append({'role': 'user', 'content': [{'type': 'tool_result', 'tool_use_id': tool_id, 'content': 'ok'}]})


async def test_the_build_honours_the_chosen_plan(session_factory) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        user = await make_founder(session)
        project, by_key = await plans_after_gate(session, user, OfflineLLM(pace_seconds=0))
        specs, built = {}, {}
        for key, option in by_key.items():
            job = BuildJob(project_id=project.id, user_id=user.id, plan_id=option.id)  # never saved: its context
            specs[key] = parse_build_spec(await system_prompt_for(session, job))
            built[key] = await built_features(session, job)
    assert built['fast'] == by_key['fast'].details['features'] == ['Online Booking Calendar', 'Deposit Payment',
                                                                    'SMS Reminders']  # fmt: skip
    fast = specs['fast']
    assert [f['name'] for f in fast['brief']['core_features']] == built['fast']
    assert 'Not in this plan (Fast MVP): Client Pet Profiles' in fast['brief']['non_goals']
    assert fast['plan']['stack'] == estimates.OFFLINE_STACK['en'] and fast['plan']['accounts'] is False
    for key, spec in specs.items():
        made = builder.make_plan(spec)
        names = [p.name for p in made.pages if p.shape != LOGIN]
        assert names == by_key[key].details['features'], key
        assert any(p.shape == LOGIN for p in made.pages) == by_key[key].details['accounts'], key
        assert simulated_calls(spec) == by_key[key].details['estimate']['steps'], key
    assert {'title': 'Fast MVP'}.items() <= specs['fast']['plan'].items()
    assert GROOMER['answers']['must_have'].startswith('online booking calendar')


def test_offline_estimates_follow_the_pace_and_the_script() -> None:
    b = estimates.Builder(offline=True, provider='offline', model='offline-1', pace_seconds=2.0, tier_label='Partner',
                          daily_tokens=10_000_000, daily_cost=None, price=PRICES['offline-1'])  # fmt: skip
    est = estimates.estimate(b, 3)
    assert est.steps == 39 and est.cost_high == 0 and est.days == 1
    assert est.seconds_low == 39 * 2 + estimates.OFFLINE_CHECK_SECONDS + 3 * estimates.OFFLINE_PAGE_SECONDS
    assert estimates.time_text(b, est, 'en').startswith('About 2–4 minutes: 39 steps of the offline model')
    assert estimates.time_text(b, est, 'ja').startswith('約 2–4 分')
    assert '1 ステップごとに 2 秒' in estimates.pace_text(b, 'ja')
