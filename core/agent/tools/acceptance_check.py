"""acceptance_check: write a feature's acceptance check into the workspace and run it in a real browser.

The check is data (core.acceptance.spec), run by the host's own browser against the running app; a
failing run is a failed step the self-healing loop works on. The pipeline re-runs every check before READY.
"""

from __future__ import annotations

from typing import Any

from core.acceptance.spec import CheckError, check_file_name, dump_check, parse_check
from core.agent.tools.base import ToolContext, ToolOutcome, failed, schema
from core.ports import ToolSpec

_STEP = {
    'type': 'object',
    'description': 'Exactly one action: open (a path like "/bookings"), fill {label, value}, select {label, value}, '
    'upload {label, fixture: photo.png | document.pdf | notes.txt}, click {role, name}, expect_text (text), '
    'expect_element {role, name}, expect_count {role, name?, min?, max?, exact?}, expect_status (HTTP code).',
}
SPEC = ToolSpec(
    name='acceptance_check',
    description='Write the acceptance check of one feature of the brief and run it against the running app in a '
    'real browser. Use the feature name exactly as the brief gives it. The steps must exercise what the feature '
    'does (fill its fields, upload a photo, press its buttons, then expect what a user would see), starting with '
    '{"open": "/path"}. Fields are found by their visible label, buttons and links by role and name, so give every '
    'input a <label>. Every feature needs a passing check before the app is ready.',
    input_schema=schema(
        {'feature': {'type': 'string'}, 'steps': {'type': 'array', 'items': _STEP, 'minItems': 1}},
        ['feature', 'steps'],
    ),
)


def label(data: dict[str, Any]) -> str:
    return f'Checked “{str(data.get("feature", ""))[:80]}” in a browser'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    try:
        check = parse_check(data)
    except CheckError as error:
        return failed(str(error), label(data))
    await ctx.sandbox.write_file(check_file_name(check.feature), dump_check(check))
    if ctx.run_check is None:
        return ToolOutcome(ok=True, output='Check saved; browser checks are off on this server.', label=label(data))
    result = await ctx.run_check(check)
    if not result.ran:
        return ToolOutcome(ok=True, output=f'Check saved; it could not run now ({result.problem}).', label=label(data))
    if not result.passed:
        return failed(f'The check failed: {result.sentence()}', label(data))
    return ToolOutcome(ok=True, output=f'The check passed ({len(check.steps)} steps).', label=label(data))
