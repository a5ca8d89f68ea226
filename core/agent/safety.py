"""Founder-safe text (AG-5): what the founder reads never shows stack traces, file paths, code,
secrets or internal names.

The filter works in two passes: whole lines that are technical (trace frames, code, exception
lines) are dropped, then technical fragments inside human sentences are removed or replaced by
a neutral word, so "I fixed app/login.py so the form saves" still reads as a sentence.
"""

from __future__ import annotations

import re

GENERIC = "I'm working on your app."

_FENCE = re.compile(r'```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)', re.S)
_TRACEBACK_INLINE = re.compile(r'Traceback \(most recent call last\).*', re.S)

# ── whole lines that are technical ──
_TECH_LINE = [
    re.compile(r'^\s*File "[^"]*", line \d+'),  # Python frame
    re.compile(r'^\s*at\s+.*(:\d+:\d+\)?|\(.*:\d+\))\s*$'),  # JS frame
    re.compile(r'^\s*[\w.]*(Error|Exception|Warning|Interrupt|Exit)(:.*)?$'),  # exception line
    re.compile(
        r'^\s*(def|class|import|from\s+\S+\s+import|return|raise|const|let|var|function|async|await|'
        r'export\s+(?:default|const|function|class)|#include|try:|except|elif)\b'
    ),
    re.compile(
        r'\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE FROM\b|'
        r'\b(?:CREATE|DROP|ALTER)\s+(?:TABLE|INDEX|DATABASE)\b'
    ),  # SQL
    re.compile(r'^\s*(print|console\.\w+|self\.\w+|this\.\w+)\s*[.(]'),
    re.compile(r'^\s*[{}\[\]();]+\s*,?$'),  # lone braces
    re.compile(r'[{;]\s*$|^\s*[}\])]'),  # statement ends / block openers and closers
    re.compile(r'=>|==|!=|&&|\|\||::|\+=|-=|\$\(|\)\s*\{'),
    re.compile(r'^\s*[\w.\[\]\'"]+\s*=\s*\S'),  # assignment
    re.compile(r'^\s*(\$\s|>>>|#!)'),  # shell / REPL prompts, shebangs
    re.compile(r'^\s*(\.\.\.|\^+)\s*$'),  # trace ellipses and carets
]

# ── fragments inside sentences ── (pattern, replacement)
_SECRETS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'\bsk-(?:ant-)?[A-Za-z0-9_\-]{8,}'), ''),
    (re.compile(r'\b(?:AKIA|ASIA)[0-9A-Z]{16}\b'), ''),
    (re.compile(r'\bgh[pousr]_[A-Za-z0-9]{16,}\b'), ''),
    (re.compile(r'\bxox[abposr]-[A-Za-z0-9-]{10,}'), ''),
    (re.compile(r'\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*'), ''),  # JWT
    (re.compile(r'\b(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}', re.I), ''),
    (re.compile(r'(?i)\b(password|passwd|pwd|secret|token|api[_ -]?key)\s*[:=]\s*\S+'), r'\1 hidden'),
    (re.compile(r'\b[A-Za-z0-9+/]{32,}={0,2}'), ''),  # long opaque blobs (keys, hashes)
]
_URL = re.compile(r'\b[a-z][a-z0-9+.-]*://[^\s<>"\')]+', re.I)
_LOCAL_HOSTS = re.compile(r'://([^/@]*@)?(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\]|10\.|192\.168\.)', re.I)
_UUID = re.compile(r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b', re.I)
_INLINE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'`[^`\n]*`'), ''),  # inline code
    (re.compile(r'<(script|style)\b.*?(?:</\1\s*>|$)', re.I), ''),  # script and style with their content
    (re.compile(r'<[^<>\n]{1,200}>'), ''),  # HTML tags
    (re.compile(r'File "[^"]*", line \d+(, in \S+)?'), ''),
    (re.compile(r'\bat\s+[\w.$<>]+\s*\([^()\n]*:\d+(:\d+)?\)'), ''),  # JS frame inside a sentence
    (re.compile(r'\b[A-Za-z]:\\[^\s]*'), 'a file'),  # Windows path
    (re.compile(r'(?<![\w/.~])~?/(?:[\w.@-]+/)*[\w.@-]*[\w@-]'), 'a file'),  # absolute path
    (re.compile(r'(?<![\w/])\.{1,2}/[\w./@-]*'), 'a file'),  # ./relative path
    (re.compile(r'\b[\w@-]+(?:/[\w.@-]+)*/[\w@-]+\.[A-Za-z0-9]{1,5}\b'), 'a file'),  # dir/file.ext
    (re.compile(r'(?<![\w.])\.env(?:\.\w+)?\b'), 'the settings file'),
    (
        re.compile(
            r'\b(?!(?:node|next|vue|react|nuxt|express|three|d3|chart|angular|ember)\.js\b)[\w-]+\.(?:py|pyc|js|mjs|cjs|ts|tsx|jsx|css|scss|html?|json|sql|sh|bash|toml|ya?ml|ini|cfg|'
            r'lock|rb|go|rs|java|kt|php|cpp|hpp|swift|vue|svelte|db|sqlite3?|log|pem|key)\b',
            re.I,
        ),
        'a file',
    ),
    (re.compile(r'\b[A-Z][A-Za-z]*(?:Error|Exception)\b'), 'problem'),
    (
        re.compile(
            r'\b(?:read_file|write_file|edit_file|take_screenshot|bash|grep|glob|bwrap|bubblewrap|e2b|'
            r'subprocess|stdout|stderr|stdin|py_compile|pytest|npm|pip|sudo|chmod)\b',
            re.I,
        ),
        '',
    ),
    (re.compile(r'\bsandbox(es)?\b', re.I), 'workspace'),
    (re.compile(r'\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b'), ''),  # ENV_VAR names
    (re.compile(r'\b\w+(?:\.\w+)+\([^()\n]*\)|\b\w+\((?:[^()\n]*[=\'",][^()\n]*|\d*)\)'), ''),  # calls
    (re.compile(r'\b[a-z]+\.[a-z_]+\.[\w.]+\b'), ''),  # dotted module paths
    (re.compile(r'\b[A-Za-z][A-Za-z0-9]*_\w+\b'), ''),  # snake_case symbols
    (
        re.compile(
            r'(?<![\w-])(?!(?:iPhone|iPad|iOS|iCloud|eBay|macOS|iMac|iPod|eCommerce|WhatsApp|YouTube|'
            r'LinkedIn|PayPal|GitHub|JavaScript|TypeScript|WordPress|PowerPoint|OpenAI|ChatGPT)\b)'
            r'[a-z]+[A-Z]\w*\b'
        ),
        '',
    ),  # camelCase symbols (a few brand names kept)
    (re.compile(r'\b(?:0x[0-9a-f]{6,}|[0-9a-f]{12,})\b', re.I), ''),  # addresses, hashes
    (re.compile(r'[{}\[\]|\\^<>]+'), ' '),  # stray code punctuation
]
_TIDY: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'\(\s*[,;:.]*\s*\)'), ''),  # emptied parentheses
    (re.compile(r'"\s*"|\'\s*\'|“\s*”'), ''),  # emptied quotes
    (re.compile(r'[ \t]+([,.;:!?])'), r'\1'),
    (re.compile(r'([,;:])(?:\s*[,;:])+'), r'\1'),
    (
        re.compile(
            r'\b(?:a|an|the|in|to|of|at|and|or|with|for|from|see|using|via|into)(?:\s+(?:a|an|the|and|or|with|in|to))*'
            r'\s*(?=[.,;:!?]|$)',
            re.I,
        ),
        '',
    ),  # words left dangling where a fragment was removed
    (re.compile(r'[ \t]{2,}'), ' '),
]
_HUMAN = re.compile(r'[^\W\d_]{2,}')  # a word of letters, in any alphabet
_PLACEHOLDERS = re.compile(
    r'\b(?:a file|some files|the settings file|the preview|a connection address|workspace|'
    r'problem|password hidden)\b',
    re.I,
)


def _meaningful(text: str) -> bool:
    """Some human words remain besides the neutral words the filter put in."""
    return bool(_HUMAN.search(_PLACEHOLDERS.sub('', text)))


def _technical_line(line: str) -> bool:
    return any(p.search(line) for p in _TECH_LINE)


def _clean_fragments(line: str) -> str:
    line = _TRACEBACK_INLINE.sub('', line)
    line = _URL.sub(_neutral_url, line)
    for pattern, repl in _SECRETS:
        line = pattern.sub(repl, line)
    line = _UUID.sub('', line)
    for pattern, repl in _INLINE:
        line = pattern.sub(repl, line)
    for pattern, repl in _TIDY:
        line = pattern.sub(repl, line)
    line = re.sub(r'\ba file(?:\s*(?:,|and|or)\s*a file)+', 'some files', line)
    return line.strip(' \t,;:-–—')


def _neutral_url(match: re.Match[str]) -> str:
    url = match.group(0)
    if _LOCAL_HOSTS.search(url):
        return 'the preview'
    if not url.lower().startswith(('http://', 'https://')):
        return 'a connection address'  # database / queue URLs are internal
    return re.sub(r'://[^/@\s]*@', '://', url)  # drop credentials, keep a public address readable


def _markdown_prefix(line: str) -> tuple[str, str]:
    match = re.match(r'^(\s*(?:#{1,6}\s+|[-*+]\s+|\d{1,3}[.)]\s+|>\s*)|\s{0,3})(.*)$', line)
    assert match is not None
    return match.group(1), match.group(2)


def _safe_lines(text: str) -> list[str]:
    text = _FENCE.sub('\n', text.replace('\r\n', '\n').replace('\r', '\n'))
    text = _TRACEBACK_INLINE.sub('', text)
    out: list[str] = []
    for raw in text.split('\n'):
        prefix, body = _markdown_prefix(raw.rstrip())
        if not body.strip():
            out.append('')
            continue
        if _technical_line(body) or (re.match(r'^\s{4,}\S', raw) and not prefix.strip()):
            continue  # indented without a list marker: a code block or trace detail
        body = _clean_fragments(body)
        if _meaningful(body):
            out.append((prefix.rstrip() + ' ' if prefix.strip() else '') + body)
    return out


def founder_safe(text: str, *, fallback: str = GENERIC) -> str:
    """One founder-readable sentence (or a few) from text that may hold traces, code or secrets.

    Returns `fallback` when nothing human is left.
    """
    joined = ' '.join(line for line in _safe_lines(text or '') if line)
    joined = re.sub(r'\s+', ' ', joined).strip()
    return joined if _meaningful(joined) else fallback


def founder_safe_markdown(text: str, *, fallback: str = GENERIC) -> str:
    """Like `founder_safe` but keeps the Markdown line structure (headings, lists, paragraphs)."""
    lines = _safe_lines(text or '')
    result = re.sub(r'\n{3,}', '\n\n', '\n'.join(lines)).strip()
    return result if _meaningful(result) else fallback
