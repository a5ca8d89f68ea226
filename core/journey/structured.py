"""Structured outputs of the founder journey: tool specs, the input message format, validation.

Every journey call to the model forces one tool (`tool_choice`) and reads `tool_calls[0].input`.
The user message carries the founder's own words as one JSON block between INPUT_OPEN and
INPUT_CLOSE, so any model (and the offline one, core/adapters/llm_offline/journey.py, which
parses exactly this block) reads the same facts. Keys of that JSON object:

    tool        the forced tool's name
    title       the project title
    idea        the idea as the founder typed it
    onboarding  [[question, answer], ...] in order
    answers     {target_user, problem, must_have, constraints, success} (understanding interview)
    mode        'generate' | 'narrow' | 'pivot'          (write_brief)
    guidance    the founder's reason / direction ('' when none)
    previous    {'idea_brief': {...}, 'mvp_scope': {...}} or null (write_brief when regenerating)
    brief       the latest idea_brief content              (propose_plans)
    scope       the latest mvp_scope content                (propose_plans)
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ModelUnavailable
from core.ports import LLM, LLMError, ToolSpec

M = TypeVar('M', bound=BaseModel)

INPUT_OPEN = '<journey-input>'
INPUT_CLOSE = '</journey-input>'

UNAVAILABLE = (
    'Your AI co-founder is unavailable right now. Everything you typed is saved — please try again in a minute.'
)
INCOMPLETE = 'Your AI co-founder gave an incomplete answer, so nothing was changed. Please try again.'


# ── validated shapes (shared with the agent engineer: see the brief's data contract) ─────────


class _Strict(BaseModel):
    model_config = ConfigDict(extra='ignore', str_strip_whitespace=True)


class Feature(_Strict):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default='', max_length=500)


class IdeaBrief(_Strict):
    title: str = Field(min_length=1, max_length=120)
    problem: str = Field(min_length=1, max_length=4000)
    target_users: str = Field(min_length=1, max_length=2000)
    value_proposition: str = Field(min_length=1, max_length=2000)
    core_features: list[Feature] = Field(min_length=1, max_length=12)
    non_goals: list[str] = Field(default_factory=list, max_length=20)
    risks: list[str] = Field(default_factory=list, max_length=20)
    success_measure: str = Field(default='', max_length=2000)
    constraints: str = Field(default='', max_length=2000)

    @field_validator('non_goals', 'risks')
    @classmethod
    def _drop_blank(cls, items: list[str]) -> list[str]:
        return [s.strip() for s in items if s and s.strip()]


class ScopeFeature(Feature):
    priority: Literal['must', 'should'] = 'must'


class MvpScope(_Strict):
    features: list[ScopeFeature] = Field(min_length=1, max_length=12)
    out_of_scope: list[str] = Field(default_factory=list, max_length=20)
    acceptance: list[str] = Field(default_factory=list, max_length=20)


class BriefOutput(_Strict):
    idea_brief: IdeaBrief
    mvp_scope: MvpScope


class Question(_Strict):
    text: str = Field(min_length=3, max_length=200)
    hint: str = Field(default='', max_length=200)


class QuestionsOutput(_Strict):
    questions: list[Question] = Field(min_length=3, max_length=6)


class Plan(_Strict):
    key: Literal['fast', 'balanced', 'robust']
    title: str = Field(min_length=1, max_length=120)
    summary: str = Field(min_length=1, max_length=2000)
    time: str = Field(min_length=1, max_length=200)
    cost: str = Field(min_length=1, max_length=200)
    risk: str = Field(min_length=1, max_length=300)
    stack: str = Field(min_length=1, max_length=300)
    tradeoffs: list[str] = Field(default_factory=list, max_length=10)
    phases: list[str] = Field(min_length=1, max_length=12)


class PlansOutput(_Strict):
    plans: list[Plan] = Field(min_length=2, max_length=3)

    @field_validator('plans')
    @classmethod
    def _unique_keys(cls, plans: list[Plan]) -> list[Plan]:
        if len({p.key for p in plans}) != len(plans):
            raise ValueError('plan keys must be unique')
        return plans


# ── JSON schemas sent to the model (kept flat: no $ref, every provider accepts them) ─────────


def _s(description: str) -> dict[str, Any]:
    return {'type': 'string', 'description': description}


def _list(items: dict[str, Any], description: str, **bounds: int) -> dict[str, Any]:
    return {'type': 'array', 'items': items, 'description': description, **bounds}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {'type': 'object', 'properties': props, 'required': required or list(props)}


_FEATURE = _obj({'name': _s('Short feature name in Title Case'), 'description': _s('One line')})
_SCOPE_FEATURE = _obj({**_FEATURE['properties'], 'priority': {'type': 'string', 'enum': ['must', 'should']}})

PROPOSE_QUESTIONS = ToolSpec(
    name='propose_questions',
    description='Propose 3 to 6 short onboarding questions that help understand this idea.',
    input_schema=_obj(
        {
            'questions': _list(
                _obj({'text': _s('The question, one short sentence'), 'hint': _s('An example answer')}),
                '3 to 6 questions, in the language of the idea',
                minItems=3,
                maxItems=6,
            )
        }
    ),
)

WRITE_BRIEF = ToolSpec(
    name='write_brief',
    description="Write the Idea Brief and the MVP scope from the founder's own words.",
    input_schema=_obj(
        {
            'idea_brief': _obj(
                {
                    'title': _s('Product name or short title'),
                    'problem': _s("The problem, in the founder's words"),
                    'target_users': _s('Who it is for'),
                    'value_proposition': _s('Why they will use it'),
                    'core_features': _list(_FEATURE, 'The core features', minItems=1),
                    'non_goals': _list(_s('A non-goal'), 'What the first version will not do'),
                    'risks': _list(_s('A risk'), 'Main risks'),
                    'success_measure': _s('How success is measured'),
                    'constraints': _s('Constraints'),
                }
            ),
            'mvp_scope': _obj(
                {
                    'features': _list(_SCOPE_FEATURE, 'Features of the MVP', minItems=1),
                    'out_of_scope': _list(_s('Left out'), 'Out of scope for the MVP'),
                    'acceptance': _list(_s('A check'), 'Acceptance checks a founder can verify'),
                }
            ),
        }
    ),
)

PROPOSE_PLANS = ToolSpec(
    name='propose_plans',
    description='Propose 2 or 3 execution plans (fast MVP, balanced, robust) with their trade-offs.',
    input_schema=_obj(
        {
            'plans': _list(
                _obj(
                    {
                        'key': {'type': 'string', 'enum': ['fast', 'balanced', 'robust']},
                        'title': _s('e.g. Fast MVP'),
                        'summary': _s('Two sentences'),
                        'time': _s('Rough time'),
                        'cost': _s('Rough cost'),
                        'risk': _s('Main risk'),
                        'stack': _s('Technology stack'),
                        'tradeoffs': _list(_s('A trade-off'), 'Trade-offs'),
                        'phases': _list(_s('A phase naming the features it builds'), 'Build phases', minItems=1),
                    }
                ),
                '2 or 3 plans with distinct keys',
                minItems=2,
                maxItems=3,
            )
        }
    ),
)

TOOLS: dict[str, ToolSpec] = {t.name: t for t in (PROPOSE_QUESTIONS, WRITE_BRIEF, PROPOSE_PLANS)}

SYSTEM = (
    'You are Cofounder, an AI co-founder helping a non-technical founder shape a product idea. '
    "Use the founder's own words, stay concrete, answer in the language of the idea, and reply "
    'only by calling the tool you are given.'
)
_INSTRUCTIONS = {
    'propose_questions': 'Ask 3 to 6 short onboarding questions about this idea.',
    'write_brief': 'Write the Idea Brief and the MVP scope for this idea.',
    'propose_plans': 'Propose 2 or 3 execution plans for this MVP.',
}


# ── the message format ───────────────────────────────────────────────────────────────────────


def input_message(tool: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The one user message of a journey call: an instruction then the JSON block."""
    body = json.dumps({'tool': tool, **payload}, ensure_ascii=False, indent=1)
    return {'role': 'user', 'content': f'{_INSTRUCTIONS[tool]}\n\n{INPUT_OPEN}\n{body}\n{INPUT_CLOSE}'}


async def call_tool(llm: LLM, tool: ToolSpec, payload: dict[str, Any], *, max_tokens: int = 4096) -> dict[str, Any]:
    """Force `tool` and return its raw input; a provider failure becomes ModelUnavailable."""
    try:
        reply = await llm.complete(
            system=SYSTEM,
            messages=[input_message(tool.name, payload)],
            tools=[tool],
            tool_choice=tool.name,
            max_tokens=max_tokens,
        )
    except LLMError as exc:
        raise ModelUnavailable(UNAVAILABLE) from exc
    calls = [c for c in reply.tool_calls if c.name == tool.name]
    if not calls or not isinstance(calls[0].input, dict):
        raise ModelUnavailable(INCOMPLETE)
    return calls[0].input


def _validated(model: type[M], raw: dict[str, Any]) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ModelUnavailable(INCOMPLETE) from exc


async def ask_questions(llm: LLM, payload: dict[str, Any]) -> QuestionsOutput:
    """Onboarding questions for an idea (3-6)."""
    return _validated(QuestionsOutput, await call_tool(llm, PROPOSE_QUESTIONS, payload, max_tokens=1024))


async def write_brief(llm: LLM, payload: dict[str, Any]) -> BriefOutput:
    """Idea Brief + MVP scope, validated; incomplete output raises ModelUnavailable."""
    return _validated(BriefOutput, await call_tool(llm, WRITE_BRIEF, payload))


async def propose_plans(llm: LLM, payload: dict[str, Any]) -> PlansOutput:
    """2-3 execution plans with distinct keys."""
    return _validated(PlansOutput, await call_tool(llm, PROPOSE_PLANS, payload))
