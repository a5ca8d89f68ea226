"""The acceptance check format: a feature's name and a list of small declarative steps.

A check is data, never code: the host's own browser runs it against the sandboxed preview. Each step
is an object with exactly one of these keys:

    {"open": "/listings"}                                      open a path of the app
    {"fill": {"label": "Title", "value": "Two-person tent"}}   type into the field with that label
    {"select": {"label": "Currency", "value": "EUR"}}          pick an option of a <select> by label
    {"upload": {"label": "Photo", "fixture": "photo.png"}}     attach one of the host's fixture files
    {"click": {"role": "button", "name": "Save"}}              click an element by ARIA role and name
    {"expect_text": "Two-person tent"}                         the page shows this text
    {"expect_element": {"role": "img", "name": "…"}}           such an element is visible
    {"expect_count": {"role": "listitem", "min": 1}}           how many elements of a role (min/max/exact)
    {"expect_status": 200}                                     the last page load answered this status

Paths are same-origin paths ("/x?y"): a step naming another origin is refused when the check is read,
and the runner blocks every request that leaves the preview's origin.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.acceptance.fixtures import FIXTURES

CHECKS_DIR = 'checks'  # in the workspace: one JSON file per feature, kept with the app's files
MAX_STEPS = 40
MAX_CHECKS = 20
ROLES = (
    'button', 'link', 'textbox', 'checkbox', 'radio', 'combobox', 'img', 'heading', 'listitem', 'list', 'row',
    'cell', 'table', 'status', 'alert', 'article', 'region', 'navigation', 'main', 'form', 'option', 'spinbutton',
    'slider', 'tab', 'dialog', 'figure', 'group', 'paragraph', 'menuitem', 'searchbox',
)  # fmt: skip
Role = Literal[ROLES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True, str_strip_whitespace=True)


class Field_(_Strict):
    label: str = Field(min_length=1, max_length=120)
    value: str = Field(default='', max_length=2000)


class Upload(_Strict):
    label: str = Field(min_length=1, max_length=120)
    fixture: str

    @field_validator('fixture')
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in FIXTURES:
            raise ValueError(f'unknown fixture "{name}"; use one of {", ".join(sorted(FIXTURES))}')
        return name


class Target(_Strict):
    role: Role
    name: str = Field(default='', max_length=200)


class Count(_Strict):
    role: Role
    name: str = Field(default='', max_length=200)
    min: int | None = Field(default=None, ge=0, le=10_000)
    max: int | None = Field(default=None, ge=0, le=10_000)
    exact: int | None = Field(default=None, ge=0, le=10_000)

    @model_validator(mode='after')
    def _bounded(self) -> Count:
        if self.min is None and self.max is None and self.exact is None:
            raise ValueError('expect_count needs "min", "max" or "exact"')
        return self


class Step(_Strict):
    open: str | None = Field(default=None, max_length=500)
    fill: Field_ | None = None
    select: Field_ | None = None
    upload: Upload | None = None
    click: Target | None = None
    expect_text: str | None = Field(default=None, min_length=1, max_length=500)
    expect_element: Target | None = None
    expect_count: Count | None = None
    expect_status: int | None = Field(default=None, ge=100, le=599)

    @model_validator(mode='after')
    def _one_action(self) -> Step:
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            raise ValueError(f'each step has exactly one action, got {", ".join(given) or "none"}')
        return self

    @field_validator('open')
    @classmethod
    def _same_origin(cls, path: str | None) -> str | None:
        if path is None:
            return None
        parts = urlsplit(path)
        if parts.scheme or parts.netloc or not path.startswith('/') or path.startswith('//') or '\\' in path:
            raise ValueError(f'"{path}" is not a path of the app: checks may only open paths like "/bookings"')
        return path

    @property
    def kind(self) -> str:
        return next(k for k, v in self.__dict__.items() if v is not None)

    def describe(self) -> str:
        """The step in plain words, for the founder and the agent."""
        value = getattr(self, self.kind)
        match self.kind:
            case 'open':
                return f'open {value}'
            case 'fill':
                return f'type “{_short(value.value)}” into “{value.label}”'
            case 'select':
                return f'choose “{_short(value.value)}” in “{value.label}”'
            case 'upload':
                return f'attach {value.fixture} to “{value.label}”'
            case 'click':
                return f'press the {value.role} “{value.name}”' if value.name else f'press a {value.role}'
            case 'expect_text':
                return f'see “{_short(value)}”'
            case 'expect_element':
                return f'see the {value.role} “{value.name}”' if value.name else f'see a {value.role}'
            case 'expect_count':
                bound = _bound(value)
                return f'see {bound} {value.role} element(s)' + (f' named “{value.name}”' if value.name else '')
            case _:
                return f'get HTTP {value}'


class AcceptanceCheck(_Strict):
    feature: str = Field(min_length=1, max_length=120)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode='after')
    def _starts_somewhere(self) -> AcceptanceCheck:
        if self.steps[0].kind != 'open':
            raise ValueError('the first step must open a path of the app')
        return self


class CheckError(ValueError):
    """A check that cannot be read, with a message the agent can act on."""


def parse_check(data: Any) -> AcceptanceCheck:
    try:
        return AcceptanceCheck.model_validate(data)
    except ValidationError as error:
        problems = '; '.join(f'{_where(e["loc"])}: {e["msg"].removeprefix("Value error, ")}' for e in error.errors())
        raise CheckError(f'The acceptance check is not valid: {problems}') from None


def check_file_name(feature: str) -> str:
    """The workspace path of a feature's check: checks/<ascii slug>-<short hash>.json (stable per name)."""
    import hashlib
    import unicodedata

    ascii_name = unicodedata.normalize('NFKD', feature).encode('ascii', 'ignore').decode()
    slug = re.sub(r'[^a-z0-9]+', '-', ascii_name.lower()).strip('-')[:40].strip('-') or 'feature'
    digest = hashlib.sha256(' '.join(feature.split()).casefold().encode()).hexdigest()[:6]
    return f'{CHECKS_DIR}/{slug}-{digest}.json'


def dump_check(check: AcceptanceCheck) -> str:
    return json.dumps(check.model_dump(mode='json', exclude_none=True), ensure_ascii=False, indent=1) + '\n'


def same_feature(a: str, b: str) -> bool:
    return ' '.join(a.split()).casefold() == ' '.join(b.split()).casefold()


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + '…'


def _bound(count: Count) -> str:
    if count.exact is not None:
        return f'exactly {count.exact}'
    if count.min is not None and count.max is not None:
        return f'{count.min} to {count.max}'
    return f'at least {count.min}' if count.min is not None else f'at most {count.max}'


def _where(loc: tuple[Any, ...]) -> str:
    parts = [f'step {p + 1}' if isinstance(p, int) else str(p) for p in loc]
    return ' › '.join(parts) or 'check'


class CheckRun(BaseModel):
    """One run of a check: passed, or the step that failed and why in plain words; a screenshot at the end."""

    model_config = ConfigDict(frozen=True)
    feature: str
    passed: bool
    ran: bool = True  # False when the host could not run it (no browser): unverified, not the app's fault
    failed_step: int | None = None  # 1-based
    step: str = ''  # the failed step in plain words
    problem: str = ''
    screenshot: bytes | None = None
    seconds: float = 0.0

    def sentence(self) -> str:
        """'Reviews: step 4 (press the button “Save”) failed: …' for the agent and the founder."""
        if self.passed:
            return f'{self.feature}: passed'
        if not self.ran:
            return f'{self.feature}: not checked ({self.problem})'
        where = f' at step {self.failed_step} ({self.step})' if self.failed_step else ''
        return f'{self.feature}: failed{where}: {self.problem}'
