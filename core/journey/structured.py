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
    assume      true on the fast path (write_brief): no interview, so assume and list each assumption
    insist      true when the founder insists (write_brief): no pushback, the brief they asked for
    clarified   [[question, answer], ...]: the founder's answers to the brief's open questions (write_brief)
    build       per plan: the features, accounts, time and cost of its build (propose_plans; core.journey.plans)
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


def has_words(text: object) -> bool:
    """Whether text carries a word (a letter or digit in any script): "'" and "-" never name a feature."""
    return any(ch.isalnum() for ch in str(text or ''))


def _named(items: Any) -> Any:
    """Features without a word in their name dropped (punctuation-only fragments are not features)."""
    if not isinstance(items, list):
        return items
    return [f for f in items if not isinstance(f, dict) or has_words(f.get('name'))]


class Feature(_Strict):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default='', max_length=500)


class LeftOut(_Strict):
    """A feature or ask kept out of the first version, and why (the co-founder's judgment, JD-1)."""

    name: str = Field(min_length=1, max_length=200)
    why: str = Field(default='', max_length=500)


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
    assumptions: list[str] = Field(default_factory=list, max_length=20)  # the fast path's guesses, editable
    # The co-founder's judgment (JD-1): what it still needs to know (non-empty: too vague to be confident), and
    # what it kept out of the first version with why (too big). Empty when the idea is clear and sized.
    open_questions: list[str] = Field(default_factory=list, max_length=10)
    left_out: list[LeftOut] = Field(default_factory=list, max_length=30)

    @field_validator('non_goals', 'risks', 'assumptions', 'open_questions')
    @classmethod
    def _drop_blank(cls, items: list[str]) -> list[str]:
        return [s.strip() for s in items if s and s.strip()]

    @field_validator('core_features', mode='before')
    @classmethod
    def _only_named(cls, items: Any) -> Any:
        return _named(items)

    @field_validator('left_out', mode='before')
    @classmethod
    def _left_out_named(cls, items: Any) -> Any:
        return (
            [i for i in items if not isinstance(i, dict) or has_words(i.get('name'))]
            if isinstance(items, list)
            else items
        )


class ScopeFeature(Feature):
    priority: Literal['must', 'should'] = 'must'


class MvpScope(_Strict):
    features: list[ScopeFeature] = Field(min_length=1, max_length=12)
    out_of_scope: list[str] = Field(default_factory=list, max_length=40)
    acceptance: list[str] = Field(default_factory=list, max_length=20)

    @field_validator('features', mode='before')
    @classmethod
    def _only_named(cls, items: Any) -> Any:
        return _named(items)


class BriefOutput(_Strict):
    idea_brief: IdeaBrief
    mvp_scope: MvpScope


COVERS = ('target_user', 'problem', 'must_have', 'constraints', 'success')  # the interview's fixed questions


class Question(_Strict):
    text: str = Field(min_length=3, max_length=200)
    hint: str = Field(default='', max_length=200)
    covers: str = Field(default='', max_length=40)  # which interview question it already asks ('' for none)

    @field_validator('covers', mode='before')
    @classmethod
    def _known_key(cls, value: Any) -> str:
        return value if value in COVERS else ''  # a model's unknown tag only means nothing is skipped


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


COVERS_DESCRIPTION = (
    'When the question asks who uses it first (target_user), the problem (problem), the must-have features '
    "(must_have), constraints (constraints) or the measure of success (success), that key, else ''; the "
    'interview then does not ask it again'
)
OPEN_QUESTIONS_DESCRIPTION = (
    'Only when the idea and answers are too vague for a useful brief: what you need to know, as questions to '
    'the founder (else empty)'
)
LEFT_OUT_DESCRIPTION = (
    'What you kept out of the first version (too much, impossible or not needed to learn from the first '
    'users), each with why; empty when everything fits'
)
ASSUMPTIONS_DESCRIPTION = 'What you assumed because the founder skipped the questions (leave empty otherwise)'
BRIEF_REQUIRED = ['title', 'problem', 'target_users', 'value_proposition', 'core_features', 'non_goals', 'risks',
                  'success_measure', 'constraints']  # fmt: skip
_FEATURE = _obj({'name': _s('Short feature name in Title Case'), 'description': _s('One line')})
_SCOPE_FEATURE = _obj({**_FEATURE['properties'], 'priority': {'type': 'string', 'enum': ['must', 'should']}})

PROPOSE_QUESTIONS = ToolSpec(
    name='propose_questions',
    description='Propose 3 to 6 short onboarding questions that help understand this idea.',
    input_schema=_obj(
        {
            'questions': _list(
                _obj(
                    {
                        'text': _s('The question, one short sentence'),
                        'hint': _s('An example answer'),
                        'covers': {'type': 'string', 'enum': [*COVERS, ''], 'description': COVERS_DESCRIPTION},
                    },
                    required=['text', 'hint'],
                ),
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
                    'core_features': _list(_FEATURE, 'The features of the first version (3 to 5)', minItems=1),
                    'non_goals': _list(_s('A non-goal'), 'What the first version will not do'),
                    'risks': _list(
                        _s('A risk'), 'Main risks; an unrealistic goal or deadline is a risk with a suggestion'
                    ),
                    'success_measure': _s('How success is measured'),
                    'constraints': _s('Constraints'),
                    'assumptions': _list(_s('One assumption, in plain words'), ASSUMPTIONS_DESCRIPTION),
                    'open_questions': _list(_s('A question to the founder'), OPEN_QUESTIONS_DESCRIPTION),
                    'left_out': _list(
                        _obj({'name': _s('The feature or ask'), 'why': _s('Why it waits, one sentence')}),
                        LEFT_OUT_DESCRIPTION,
                    ),
                },
                required=BRIEF_REQUIRED,
            ),
            'mvp_scope': _obj(
                {
                    'features': _list(_SCOPE_FEATURE, 'Features of the MVP (the core features)', minItems=1),
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
JUDGMENT = (
    ' Act as a co-founder, not a form. If the idea and answers are too vague to know who it is for, what problem it '
    'solves or what it does, do not invent them: say so in the brief and list what you need in '
    'idea_brief.open_questions. If the founder asks for more than a first version can hold, keep 3 to 5 features '
    'that let the first users try the core of it (as core_features and mvp_scope.features) and list everything '
    'else in idea_brief.left_out, each with why. An unrealistic goal or deadline (a billion users, launching '
    'tomorrow) is a risk that says so and suggests a realistic step. If the founder insists (insist: true), write '
    'the brief they asked for and leave open_questions and left_out empty.'
)
_INSTRUCTIONS = {
    'propose_questions': 'Ask 3 to 6 short onboarding questions about this idea. Mark with covers each one that '
    'asks one of the interview questions (who uses it first, the problem, the must-have features, constraints, '
    'success), so the founder is never asked the same thing twice.',
    'write_brief': 'Write the Idea Brief and the MVP scope for this idea, using every answer the founder gave '
    '(onboarding included).' + JUDGMENT,
    'propose_plans': 'Propose 2 or 3 execution plans for this MVP.',
}

_EXTRA = {  # said only when the payload holds the key
    'write_brief': {
        'assume': ' The founder skipped the questions: make reasonable assumptions for everything the idea does '
        'not say (who it is for, the must-have features, devices, success) and list each one in '
        'idea_brief.assumptions, in the language of the idea.'
    },
    'propose_plans': {
        'build': ' Each plan must say only what the build will really do: use the features, accounts, stack, time '
        "and cost given for it under 'build'; when build.stack is empty, its stack is one of build.stacks (what "
        'the workspace can build and preview), chosen for the plan.'
    },
}


# ── the message format ───────────────────────────────────────────────────────────────────────


def input_message(tool: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The one user message of a journey call: an instruction then the JSON block."""
    body = json.dumps({'tool': tool, **payload}, ensure_ascii=False, indent=1)
    instruction = _INSTRUCTIONS[tool] + ''.join(text for key, text in _EXTRA.get(tool, {}).items() if payload.get(key))
    return {'role': 'user', 'content': f'{instruction}\n\n{INPUT_OPEN}\n{body}\n{INPUT_CLOSE}'}


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
