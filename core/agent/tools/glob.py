"""glob: list workspace files whose path matches a pattern (`*`, `?`, `**`)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from core.agent.tools.base import ToolContext, ToolOutcome, failed, schema, text_arg
from core.ports import SandboxError, ToolSpec

MAX_RESULTS = 300

SPEC = ToolSpec(
    name='glob',
    description='List files in the workspace whose path matches a glob pattern: * matches within a folder, '
    '** matches any number of folders (e.g. **/*.py, static/*.css).',
    input_schema=schema({'pattern': {'type': 'string'}}, ['pattern']),
)


@lru_cache(maxsize=128)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob into an anchored regex; `**/` spans folders, `*` and `?` stay inside one."""
    out, i = [], 0
    pattern = pattern.removeprefix('./')
    while i < len(pattern):
        if pattern.startswith('**/', i):
            out.append('(?:.*/)?')
            i += 3
        elif pattern.startswith('**', i):
            out.append('.*')
            i += 2
        elif pattern[i] == '*':
            out.append('[^/]*')
            i += 1
        elif pattern[i] == '?':
            out.append('[^/]')
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile(''.join(out) + r'\Z')


def label(data: dict[str, Any]) -> str:
    return f'Listed files matching {data.get("pattern", "")}'.strip()


async def matching_files(ctx: ToolContext, pattern: str) -> list[str]:
    regex = pattern_regex(pattern)
    return [path for path in await ctx.sandbox.list_files('.', recursive=True) if regex.match(path)]


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    pattern = text_arg(data, 'pattern')
    try:
        paths = await matching_files(ctx, pattern)
    except SandboxError as exc:
        return failed(f'Could not list files: {exc}', label(data))
    if not paths:
        return ToolOutcome(ok=True, output=f'No files match {pattern}.', label=label(data))
    more = f'\n… and {len(paths) - MAX_RESULTS} more' if len(paths) > MAX_RESULTS else ''
    return ToolOutcome(ok=True, output='\n'.join(paths[:MAX_RESULTS]) + more, label=label(data))
