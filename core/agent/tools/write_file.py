"""write_file: create or replace one workspace file."""

from __future__ import annotations

from typing import Any

from core.agent.tools.base import ToolContext, ToolOutcome, failed, line_count, schema, text_arg
from core.ports import SandboxError, ToolSpec

SPEC = ToolSpec(
    name='write_file',
    description='Create or overwrite a file in the project workspace with the full content given. '
    'Folders are created as needed. Paths are relative to the workspace root.',
    input_schema=schema(
        {'path': {'type': 'string'}, 'content': {'type': 'string', 'description': 'the complete file content'}},
        ['path', 'content'],
    ),
)


def label(data: dict[str, Any]) -> str:
    content = data.get('content')
    lines = line_count(content) if isinstance(content, str) else 0
    return f'Wrote {lines} line{"" if lines == 1 else "s"} to {data.get("path", "a file")}'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    path = text_arg(data, 'path')
    content = text_arg(data, 'content', allow_empty=True)
    try:
        await ctx.sandbox.write_file(path, content)
    except SandboxError as exc:
        return failed(f'Could not write {path}: {exc}', label(data))
    size = len(content.encode('utf-8'))
    return ToolOutcome(ok=True, output=f'{label(data)} ({size} bytes).', label=label(data))
