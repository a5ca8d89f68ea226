"""Guards that keep an agent run bounded (AG-4): a tool-call cap, a repetition stop, and cutting
long tool results in the middle so the model keeps the start and the end of an output."""

from __future__ import annotations

import hashlib
import json
from typing import Any

CHARS_PER_TOKEN = 4
REPEAT_LIMIT = 3  # the same call this many times ...
REPEAT_WINDOW = 10  # ... within this many calls stops the loop


def fingerprint(tool: str, arguments: dict[str, Any]) -> str:
    """A short stable id of a call: the tool name and its arguments as canonical JSON."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str)
    return f'{tool}:{hashlib.sha1(canonical.encode()).hexdigest()[:16]}'


def cap_reached(tool_calls: int, max_tool_calls: int) -> str | None:
    """A founder-readable reason when the run has used all its tool calls, else None."""
    if tool_calls >= max_tool_calls:
        return (
            f'I stopped after {max_tool_calls} steps, the most one build may take, '
            'so the build does not run on without end.'
        )
    return None


def repetition(recent: list[str], call: str) -> str | None:
    """A founder-readable reason when `call` would be the third identical call within the last ten."""
    window = recent[-(REPEAT_WINDOW - 1) :]
    if window.count(call) + 1 >= REPEAT_LIMIT:
        return 'I stopped because I kept repeating the same step without making progress.'
    return None


def remember(recent: list[str], call: str) -> None:
    """Record a call in the sliding window (kept in the checkpoint so the guard survives restarts)."""
    recent.append(call)
    del recent[:-REPEAT_WINDOW]


def truncate_middle(text: str, max_tokens: int = 1000) -> str:
    """Cut `text` to about `max_tokens` tokens, keeping head and tail lines around a marker."""
    budget = max_tokens * CHARS_PER_TOKEN
    if len(text) <= budget:
        return text
    lines = text.split('\n')
    half = budget // 2
    head, used = 0, 0
    while head < len(lines) and used + len(lines[head]) + 1 <= half:
        used += len(lines[head]) + 1
        head += 1
    tail, used = 0, 0
    while tail < len(lines) - head and used + len(lines[-1 - tail]) + 1 <= half:
        used += len(lines[-1 - tail]) + 1
        tail += 1
    omitted = len(lines) - head - tail
    if head == 0 and tail == 0:  # one enormous line: cut characters instead
        return f'{text[:half]}\n[{len(text) - 2 * half} characters omitted]\n{text[-half:]}'
    noun = 'line' if omitted == 1 else 'lines'
    kept_tail = lines[len(lines) - tail :] if tail else []
    return '\n'.join([*lines[:head], f'[{omitted} {noun} omitted]', *kept_tail])
