"""grep: search the text of workspace files with a regular expression."""

from __future__ import annotations

import re
from typing import Any

from core.agent.tools.base import ToolContext, ToolOutcome, failed, schema, text_arg
from core.agent.tools.glob import pattern_regex
from core.ports import SandboxError, ToolSpec

MAX_MATCHES = 200
MAX_FILE_BYTES = 1_000_000  # larger files are data, not code

SPEC = ToolSpec(
    name='grep',
    description='Search workspace files for a regular expression. Returns "path:line: text" for each match. '
    'Optional: path (a folder or file to search), include (a glob such as **/*.py), ignore_case.',
    input_schema=schema(
        {
            'pattern': {'type': 'string'},
            'path': {'type': 'string'},
            'include': {'type': 'string'},
            'ignore_case': {'type': 'boolean'},
        },
        ['pattern'],
    ),
)


def label(data: dict[str, Any]) -> str:
    return f'Searched the code for “{data.get("pattern", "")}”'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    pattern = text_arg(data, 'pattern')
    where = text_arg(data, 'path', default='.')
    include = pattern_regex(text_arg(data, 'include')) if data.get('include') else None
    try:
        regex = re.compile(pattern, re.IGNORECASE if data.get('ignore_case') else 0)
    except re.error as exc:
        return failed(f'The pattern is not a valid regular expression: {exc}', label(data))
    try:
        paths = await _files(ctx, where)
        matches = await _search(ctx, paths, regex, include)
    except SandboxError as exc:
        return failed(f'Could not search {where}: {exc}', label(data))
    if not matches:
        return ToolOutcome(ok=True, output=f'No matches for {pattern}.', label=label(data))
    more = f'\n… stopped after {MAX_MATCHES} matches' if len(matches) >= MAX_MATCHES else ''
    return ToolOutcome(ok=True, output='\n'.join(matches) + more, label=label(data))


async def _files(ctx: ToolContext, where: str) -> list[str]:
    try:
        return await ctx.sandbox.list_files(where, recursive=True)
    except SandboxError:
        await ctx.sandbox.read_file(where)  # a single file? (raises the confinement error otherwise)
        return [where.removeprefix('./')]


async def _search(
    ctx: ToolContext, paths: list[str], regex: re.Pattern[str], include: re.Pattern[str] | None
) -> list[str]:
    found: list[str] = []
    for path in paths:
        if include and not include.match(path):
            continue
        raw = await ctx.sandbox.read_file(path)
        if len(raw) > MAX_FILE_BYTES or b'\0' in raw[:4096]:
            continue
        for number, line in enumerate(raw.decode('utf-8', 'replace').splitlines(), 1):
            if regex.search(line):
                found.append(f'{path}:{number}: {line[:300]}')
                if len(found) >= MAX_MATCHES:
                    return found
    return found
