"""read_file: the text of one workspace file."""

from __future__ import annotations

from typing import Any

from core.agent.tools.base import ToolContext, ToolOutcome, failed, schema, text_arg
from core.ports import SandboxError, ToolSpec

SPEC = ToolSpec(
    name='read_file',
    description='Read a text file from the project workspace. Paths are relative to the workspace root.',
    input_schema=schema({'path': {'type': 'string', 'description': 'e.g. app.py or static/style.css'}}, ['path']),
)


def label(data: dict[str, Any]) -> str:
    return f'Read {data.get("path", "a file")}'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    path = text_arg(data, 'path')
    try:
        raw = await ctx.sandbox.read_file(path)
    except SandboxError as exc:
        return failed(f'Could not read {path}: {exc}', label(data))
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        return failed(f'{path} is a binary file ({len(raw)} bytes); it cannot be shown as text.', label(data))
    return ToolOutcome(ok=True, output=text if text else f'{path} is empty.', label=label(data))
