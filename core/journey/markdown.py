"""Markdown export of the journey's documents (J-4, IT-5).

Founder text is escaped: it may contain '#', '*', '|', backticks or HTML, and must not be able
to turn into headings, lists, code blocks, links or raw HTML in the exported document.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from core.models import Artifact

_INLINE = re.compile(r'([\\`*_\[\]{}|~])')
_LINE_START = re.compile(r'^(\s*)([#>+\-=]|\d+[.)])')


def escape(text: Any) -> str:
    """Escape founder text for one Markdown line or paragraph (newlines kept, each line safe)."""
    lines = []
    for line in str(text or '').replace('\r\n', '\n').split('\n'):
        line = _INLINE.sub(r'\\\1', line).replace('<', '&lt;').replace('>', '&gt;')
        lines.append(_LINE_START.sub(lambda m: m.group(1) + '\\' + m.group(2), line))
    return '\n'.join(lines).strip()


def inline(text: Any) -> str:
    """Escape and fold onto a single line (for list items and table-less fields)."""
    return ' '.join(escape(text).split())


def _bullets(items: Iterable[Any], empty: str = '_None yet._') -> list[str]:
    lines = [f'- {inline(item)}' for item in items if str(item or '').strip()]
    return lines or [empty]


def _section(title: str, body: list[str]) -> list[str]:
    return [f'## {title}', '', *body, '']


def _features(features: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for f in features:
        tag = f' _({inline(f["priority"])})_' if f.get('priority') else ''
        desc = f' — {inline(f.get("description", ""))}' if f.get('description') else ''
        lines.append(f'- **{inline(f.get("name", ""))}**{tag}{desc}')
    return lines or ['_None yet._']


def _left_out(items: Sequence[Any]) -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, dict) and str(item.get('name') or '').strip():
            why = f' — {inline(item["why"])}' if item.get('why') else ''
            lines.append(f'- **{inline(item["name"])}**{why}')
    return lines


def idea_brief_sections(brief: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if brief.get('open_questions'):  # too vague to be confident: what the co-founder needs first
        out += _section('Open questions — answer these for a confident brief', _bullets(brief['open_questions']))
    if brief.get('assumptions'):
        out += _section('Assumptions', _bullets(brief['assumptions']))
    out += _section('Problem', [escape(brief.get('problem', ''))])
    out += _section('Target users', [escape(brief.get('target_users', ''))])
    out += _section('Value proposition', [escape(brief.get('value_proposition', ''))])
    out += _section('Core features', _features(brief.get('core_features') or []))
    if left := _left_out(brief.get('left_out') or []):
        out += _section('Left out of the first version, and why', left)
    out += _section('Non-goals', _bullets(brief.get('non_goals') or []))
    out += _section('Risks', _bullets(brief.get('risks') or []))
    out += _section('Success measure', [escape(brief.get('success_measure', '')) or '_Not set._'])
    out += _section('Constraints', [escape(brief.get('constraints', '')) or '_None._'])
    return out


def mvp_scope_sections(scope: dict[str, Any]) -> list[str]:
    out: list[str] = []
    out += _section('MVP features', _features(scope.get('features') or []))
    out += _section('Out of scope', _bullets(scope.get('out_of_scope') or []))
    out += _section('Acceptance checks', [f'- [ ] {inline(a)}' for a in scope.get('acceptance') or []] or ['_None._'])
    return out


def brief_markdown(
    brief_content: dict[str, Any],
    scope_content: dict[str, Any],
    *,
    title: str,
    version: int,
    scope_version: int | None = None,
) -> str:
    """The Idea Brief and the MVP scope as one readable Markdown document (versions in headings)."""
    heading = inline(brief_content.get('title') or title)
    lines = [f'# {heading} — Idea Brief (v{version})', '']
    lines += idea_brief_sections(brief_content)
    lines += ['---', '', f'# MVP scope (v{scope_version or version})', '']
    lines += mvp_scope_sections(scope_content)
    return '\n'.join(lines).rstrip() + '\n'


def _generic(content: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in content.items():
        label = inline(str(key).replace('_', ' ').capitalize())
        if isinstance(value, list):
            lines += [f'**{label}**', '', *_bullets(v if isinstance(v, str) else json.dumps(v) for v in value), '']
        else:
            lines += [f'**{label}:** {inline(value)}', '']
    return lines


_RENDER = {'idea_brief': ('Idea Brief', idea_brief_sections), 'mvp_scope': ('MVP scope', mvp_scope_sections)}


def artifacts_markdown(artifacts: Sequence[Artifact], *, title: str) -> str:
    """Several artifacts (any kind) in one document, one top-level section each."""
    lines = [f'# {inline(title)}', '']
    for art in artifacts:
        label, render = _RENDER.get(art.kind, (art.kind.replace('_', ' ').capitalize(), _generic))
        meta = f'_Version {art.version} · {inline(art.note) or art.source} · {art.created_at:%Y-%m-%d}_'
        body = [line.replace('## ', '### ', 1) if line.startswith('## ') else line for line in render(art.content)]
        lines += [f'## {inline(label)} (v{art.version})', '', meta, '', *body]
    return '\n'.join(lines).rstrip() + '\n'


# ── download names: the title kept (UTF-8), with a safe ASCII fallback ─────────────────────────

_UNSAFE = re.compile(r'[^\w]+')


def file_stem(title: str, default: str = 'project') -> str:
    """The title as a file name: its words in any script joined by '-' (nothing a file system or a header
    could misread: no slashes, quotes, dots or control characters)."""
    stem = _UNSAFE.sub('-', unicodedata.normalize('NFC', str(title or '')).lower()).strip('-_')
    return stem[:80].strip('-_') or default


def ascii_stem(title: str, default: str = 'project') -> str:
    """The ASCII fallback: accents dropped, other scripts left out (an all-Japanese title gives `default`)."""
    folded = unicodedata.normalize('NFKD', str(title or '')).encode('ascii', 'ignore').decode()
    stem = re.sub(r'[^a-z0-9]+', '-', folded.lower()).strip('-')
    return stem[:80].strip('-') or default


def content_disposition(stem: str, suffix: str, *, fallback: str) -> str:
    """An attachment header keeping the UTF-8 name (RFC 5987 filename*) with an ASCII filename for old clients."""
    return f'attachment; filename="{fallback}{suffix}"; filename*=UTF-8\'\'{quote(stem + suffix, safe="")}'
