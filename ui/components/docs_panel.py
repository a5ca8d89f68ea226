"""The documentation panel (UI-6): sections appear as the agent writes them; download as Markdown."""

from __future__ import annotations

import re

from nicegui import ui

from core.events import BuildEvent, DocumentationUpdated
from ui.live import SeqGuard

SECTIONS = (('overview', 'Overview'), ('features', 'Features'), ('getting_started', 'Getting started'), ('faq', 'FAQ'))


def slug(name: str) -> str:
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-') or 'app'


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

    def apply(self, event: BuildEvent) -> None:
        if not self.fresh(event) or not isinstance(event, DocumentationUpdated):
            return
        self.content[event.section] = (event.title, event.content)
        heading, skeleton, body = self.parts[event.section]
        heading.set_text(event.title)
        body.set_content(event.content)
        skeleton.set_visibility(False)
        body.set_visibility(True)
        self.download_button.enable()

    def markdown_document(self) -> str:
        """Every written section, in reading order, as one Markdown file."""
        parts = [f'# {self.app_name}: documentation']
        for key, _ in SECTIONS:
            if key in self.content:
                title, text = self.content[key]
                parts.append(f'## {title}\n\n{text.strip()}')
        return '\n\n'.join(parts) + '\n'

    def download(self) -> None:
        ui.download.content(
            self.markdown_document().encode(), f'{slug(self.app_name)}-documentation.md', 'text/markdown'
        )
