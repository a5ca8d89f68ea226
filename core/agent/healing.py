"""Self-healing (AG-7): every failure gets a signature `kind:hash` of its normalised text, so the same
fault seen again (another path, another number, another time) is recognised; the agent is told how often
it was seen and what was already tried, and after MAX_ATTEMPTS the founder is asked (AG-8)."""

from __future__ import annotations

import hashlib
import re

MAX_ATTEMPTS = 3

_NORMALISERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?'), '<time>'),
    (re.compile(r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b', re.I), '<id>'),
    (re.compile(r'\b[0-9a-f]{12,}\b', re.I), '<id>'),
    (re.compile(r'(?:[A-Za-z]:)?(?:[\w.@~-]*/)+[\w.@~-]+'), '<path>'),
    (re.compile(r'\d+(\.\d+)*'), '<n>'),
    (re.compile(r'\s+'), ' '),
]
_NETWORK = re.compile(r'no network access|only the allowed package registries|egress allowlist|'
                      r'EAI_AGAIN|ENOTFOUND|Could not resolve host|Name or service not known|'
                      r'Temporary failure in name resolution|Network is unreachable|Failed to establish',
                      re.I)  # fmt: skip

# What went wrong, in the founder's words, by kind of failure.
PLAIN_PROBLEMS: dict[str, str] = {
    'network': 'A step needs something downloaded from the internet, and the workspace has no internet access.',
    'command': 'A command that checks or runs the app keeps failing.',
    'file': 'Reading or changing one of the app’s files keeps failing.',
    'app': 'The app does not start or does not answer.',
    'check': 'A feature does not work yet when it is tried in a browser.',
    'input': 'I keep asking for a step in a way the tools do not accept.',
    'tool': 'One of my steps keeps failing.',
    'incomplete': 'I tried to finish while parts of the plan were not done.',
    'repeat': 'I kept repeating the same step without making progress.',
    'cap': 'I used all the steps one build may take before the app was finished.',
}


def normalise(text: str) -> str:
    """The failure's text without what changes between occurrences: times, ids, paths, numbers, spacing."""
    text = text.strip().lower()[:2000]
    for pattern, token in _NORMALISERS:
        text = pattern.sub(token, text)
    return text.strip()[:600]


def failure_kind(tool: str, output: str) -> str:
    if _NETWORK.search(output):
        return 'network'
    if output.startswith(('Invalid arguments for', 'There is no tool named')):
        return 'input'
    if tool == 'bash':
        return 'command'
    if tool in {'read_file', 'write_file', 'edit_file', 'glob', 'grep'}:
        return 'file'
    if tool == 'take_screenshot':
        return 'app'
    if tool == 'acceptance_check':
        return 'check'
    return 'tool'


def signature(kind: str, text: str) -> str:
    """`kind:hash` (12 hex digits of the normalised text). Every network failure is one problem (the workspace
    cannot reach it), whichever URL or tool met it, so trying other mirrors counts as attempts at it."""
    if kind == 'network':
        text = kind
    return f'{kind}:{hashlib.sha256(normalise(text).encode()).hexdigest()[:12]}'


def guidance(seen: int, tried: list[str]) -> str:
    """What the agent reads after the failure's result: how often it happened and what not to repeat."""
    lines = [f'[This failure has now happened {seen} time{"s" if seen > 1 else ""} in this build.']
    if tried:
        lines.append('Already tried, and it failed: ' + '; '.join(tried[-MAX_ATTEMPTS:]) + '.')
    left = MAX_ATTEMPTS - seen
    lines.append(
        'Do not repeat those. Try a genuinely different approach (another method, a simpler design, or the '
        f'Python standard library instead of a package). {left} attempt{"s" if left != 1 else ""} left before '
        'I have to ask the founder.]'
    )
    return ' '.join(lines)
