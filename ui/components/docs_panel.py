"""The documentation panel (UI-6): sections appear as the agent writes them; download as Markdown."""

from __future__ import annotations

import re

from nicegui import ui

from core.events import BuildEvent, ChecksRun, DocumentationUpdated
from core.journey.markdown import file_stem, inline
from ui.live import SeqGuard

SECTIONS = (('overview', 'Overview'), ('features', 'Features'), ('getting_started', 'Getting started'), ('faq', 'FAQ'))


def slug(name: str) -> str:
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-') or 'app'


def as_text(markdown: str) -> str:
    """Markdown whose tag-like text stays visible text ("<script>" is shown, not dropped by sanitising):
    outside code, '<' and '&' become entities; code spans and blocks already show text as it is."""
    parts = re.split(r'(```.*?```|`[^`\n]*`)', markdown, flags=re.DOTALL)
    return ''.join(p if p.startswith('`') else p.replace('&', '&amp;').replace('<', '&lt;') for p in parts)


class DocsPanel(SeqGuard, ui.column):
    def __init__(self, *, app_name: str) -> None:
        super().__init__()
        self.app_name = app_name
        self.content: dict[str, tuple[str, str]] = {}  # section → (title, markdown)
        self.parts: dict[str, tuple[ui.label, ui.skeleton, ui.markdown]] = {}
        self.classes('w-full gap-3 docs-panel').mark('docs-panel')
        with self:
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Documentation').classes('text-lg font-semibold')
                self.download_button = (
                    ui.button('Download documentation', icon='download', on_click=self.download)
                    .props('flat dense no-caps')
                    .mark('download-docs')
                )
                self.download_button.disable()
            for key, title in SECTIONS:
                with ui.column().classes('w-full gap-1').mark(f'docs-{key}'):
                    heading = ui.label(title).classes('font-semibold')
                    skeleton = ui.skeleton(height='3rem', animation='none').classes('w-full')
                    body = ui.markdown('', sanitize=True).classes('w-full text-sm docs-body')
                    body.set_visibility(False)
                self.parts[key] = (heading, skeleton, body)
            self.verified = ui.column().classes('w-full gap-1').mark('docs-verified')
            self.verified.set_visibility(False)

    def apply(self, event: BuildEvent) -> None:
        if not self.fresh(event):
            return
        if isinstance(event, ChecksRun):
            self._mark_verified(event)
            return
        if not isinstance(event, DocumentationUpdated):
            return
        self.content[event.section] = (event.title, event.content)
        heading, skeleton, body = self.parts[event.section]
        heading.set_text(event.title)
        body.set_content(as_text(event.content))
        skeleton.set_visibility(False)
        body.set_visibility(True)
        self.download_button.enable()

    def _mark_verified(self, event: ChecksRun) -> None:
        """Which features were tried in a browser and worked (the docs describe them; this says they work)."""
        self.verified.clear()
        self.verified.set_visibility(True)
        with self.verified:
            ui.label('Verified in a browser').classes('font-semibold')
            for result in event.results:
                mark = '✓' if result.passed else ('·' if not result.ran else '✗')
                state = 'works' if result.passed else ('not checked yet' if not result.ran else 'does not work yet')
                ui.label(f'{mark} {result.feature}: {state}').classes('text-sm').mark('docs-verified-feature')

    def markdown_document(self) -> str:
        """Every written section, in reading order, as one Markdown file."""
        parts = [f'# {inline(self.app_name)}: documentation']  # the founder's title, shown as text
        for key, _ in SECTIONS:
            if key in self.content:
                title, text = self.content[key]
                parts.append(f'## {title}\n\n{as_text(text.strip())}')
        return '\n\n'.join(parts) + '\n'

    def download(self) -> None:
        name = f'{file_stem(self.app_name, "app")}-documentation.md'  # the title kept, in any script
        ui.download.content(self.markdown_document().encode(), name, 'text/markdown')
