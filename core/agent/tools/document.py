"""document: write one section of the founder's documentation (founder-safe Markdown)."""

from __future__ import annotations

from typing import Any

from core.agent.safety import founder_safe, founder_safe_markdown
from core.agent.tools.base import ToolContext, ToolInputError, ToolOutcome, schema, text_arg
from core.events import DocumentationUpdated
from core.ports import ToolSpec

SECTIONS = {'overview': 'Overview', 'features': 'Features', 'getting_started': 'Getting started', 'faq': 'FAQ'}

SPEC = ToolSpec(
    name='document',
    description='Write (or rewrite) one section of the documentation the founder reads: overview, features, '
    'getting_started or faq. Markdown, plain language for a non-technical reader: no code, commands, file '
    'names or technical terms. getting_started is a few numbered steps a founder can follow in the preview.',
    input_schema=schema(
        {
            'section': {'type': 'string', 'enum': list(SECTIONS)},
            'content': {'type': 'string'},
            'title': {'type': 'string'},
        },
        ['section', 'content'],
    ),
)


def label(data: dict[str, Any]) -> str:
    return f'Wrote the {SECTIONS.get(str(data.get("section")), "documentation").lower()} documentation'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    section = text_arg(data, 'section')
    if section not in SECTIONS:
        raise ToolInputError(f'Argument "section" must be one of {", ".join(SECTIONS)}.')
    content = founder_safe_markdown(text_arg(data, 'content'), fallback='This section is being written.')
    title = founder_safe(str(data.get('title') or SECTIONS[section]), fallback=SECTIONS[section])
    await ctx.emit(DocumentationUpdated(job_id=ctx.job_id, section=section, title=title, content=content))  # type: ignore[arg-type]
    ctx.docs_written.add(section)
    missing = [name for name in SECTIONS if name not in ctx.docs_written]
    rest = f' Still to write: {", ".join(missing)}.' if missing else ' All four sections are written.'
    return ToolOutcome(ok=True, output=f'The {section} section is shown to the founder.{rest}', label=label(data))
