"""take_screenshot: start the app if needed, capture it and show it to the founder."""

from __future__ import annotations

from typing import Any

from core.agent.tools.base import ToolContext, ToolOutcome, failed, schema
from core.ports import ToolSpec

SPEC = ToolSpec(
    name='take_screenshot',
    description='Start the app (if it is not running), take a screenshot of its home page and show it to the '
    'founder. Use it once pages exist, and again after visible changes.',
    input_schema=schema({}, []),
)


def label(data: dict[str, Any]) -> str:
    return 'Took a screenshot of the app'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    if ctx.screenshot is None:
        return failed('Screenshots are turned off on this server; carry on without one.', label(data))
    url = await ctx.screenshot(ctx.phase or '')
    if not url:
        return failed(
            'The app could not be captured: it did not start or showed a blank page. '
            'Check that it starts (app.py reading PORT, or index.html, or package.json) and try later.',
            label(data),
        )
    return ToolOutcome(ok=True, output='Screenshot taken and shown to the founder.', label=label(data))
