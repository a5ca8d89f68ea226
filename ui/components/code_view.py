"""Read-only code with syntax highlighting (IT-5): `ui.code` with the language from the file's name.

`ui.code` renders its content inside a Markdown fence of three backticks, so a file that has such a line itself
(a README with examples, a diff of one) would end the block early; the fence here is longer than any run of
backticks in the content. The content is the file's text, never HTML (Markdown is sanitised in the browser).
"""

from __future__ import annotations

import posixpath
import re

from nicegui import ui

LANGUAGES = {
    '.py': 'python', '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'jsx',
    '.ts': 'typescript', '.tsx': 'tsx', '.html': 'html', '.htm': 'html', '.css': 'css', '.scss': 'scss',
    '.json': 'json', '.md': 'markdown', '.toml': 'toml', '.yml': 'yaml', '.yaml': 'yaml', '.sh': 'bash',
    '.sql': 'sql', '.ini': 'ini', '.cfg': 'ini', '.xml': 'xml', '.svg': 'xml', '.txt': 'text', '.diff': 'diff',
    '.vue': 'html', '.env': 'bash', '.example': 'bash', '.lock': 'text', '.csv': 'text',
}  # fmt: skip
NAMES = {'Dockerfile': 'docker', 'Makefile': 'make', 'Procfile': 'text', 'requirements.txt': 'text'}
_TICKS = re.compile(r'`{3,}')


def language_for(path: str) -> str:
    """The highlighting language of a file, from its name (plain text when unknown)."""
    name = posixpath.basename(path)
    return NAMES.get(name) or LANGUAGES.get(posixpath.splitext(name)[1].lower(), 'text')


def code_view(content: str, *, language: str) -> ui.code:
    """`ui.code` whose Markdown fence the content cannot close."""
    code = ui.code(content, language=language).classes('w-full')
    longest = max((len(run) for run in _TICKS.findall(content)), default=0)
    if longest:
        fence = '`' * (longest + 1)
        code.markdown.set_content(f'{fence}{language}\n{code.content}\n{fence}')
    return code


def as_text(data: bytes) -> str | None:
    """A file's text, or None for a binary file."""
    if b'\x00' in data[:8192]:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return None
