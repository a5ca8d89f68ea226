"""edit_file: replace one exact, unique piece of text in a workspace file."""

from __future__ import annotations

from typing import Any

from core.agent.tools.base import ToolContext, ToolOutcome, failed, schema, text_arg
from core.ports import SandboxError, ToolSpec

SPEC = ToolSpec(
    name='edit_file',
    description='Replace an exact piece of text in a file. old_text must appear exactly once in the file '
    '(include surrounding lines to make it unique); it is replaced by new_text.',
    input_schema=schema(
        {'path': {'type': 'string'}, 'old_text': {'type': 'string'}, 'new_text': {'type': 'string'}},
        ['path', 'old_text', 'new_text'],
    ),
)


def label(data: dict[str, Any]) -> str:
    return f'Edited {data.get("path", "a file")}'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    path = text_arg(data, 'path')
    old = text_arg(data, 'old_text')
    new = text_arg(data, 'new_text', allow_empty=True)
    try:
        text = (await ctx.sandbox.read_file(path)).decode('utf-8')
    except SandboxError as exc:
        return failed(f'Could not read {path}: {exc}', label(data))
    except UnicodeDecodeError:
        return failed(f'{path} is a binary file; it cannot be edited as text.', label(data))
    matches = text.count(old)
    if matches == 0:
        return failed(f'old_text was not found in {path}; read the file and copy the text exactly.', label(data))
    if matches > 1:
        return failed(
            f'old_text appears {matches} times in {path}; include more surrounding lines so it matches once.',
            label(data),
        )
    try:
        await ctx.sandbox.write_file(path, text.replace(old, new, 1))
    except SandboxError as exc:
        return failed(f'Could not write {path}: {exc}', label(data))
    delta = new.count('\n') - old.count('\n')
    return ToolOutcome(ok=True, output=f'Edited {path} ({delta:+d} lines).', label=label(data))
