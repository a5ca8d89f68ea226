"""The running app inside the build page (B-6): a sandboxed iframe, "Open in new tab", and Resume.

With `auto_resume` a paused preview starts again by itself once the page is shown (core/builds/preview.py
`auto_resume_due`); Resume stays for when that fails or the preview pauses again while the page is open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.errors import CofounderError

IFRAME_SANDBOX = 'allow-scripts allow-forms allow-popups'

Resume = Callable[[], Awaitable[str]]  # restarts the preview, returns the iframe path


class PreviewPane(ui.column):
    """Shows the preview when it runs; otherwise "Preview paused — Resume" (or expired)."""

    def __init__(self, *, src: str, running: bool, resume: Resume, auto_resume: bool = False) -> None:
        super().__init__()
        self.src, self.resume_preview = src, resume
        self.classes('w-full gap-2').mark('preview')
        with self:
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Your app').classes('text-lg font-semibold')
                ui.link('Open in new tab', src, new_tab=True).classes('text-sm').mark('open-preview')
            self.body = ui.column().classes('w-full gap-2')
        if running:
            self.show_frame()
        elif auto_resume:
            self.show_paused('Starting your app again…')
            self.resume_button.props('loading')
            ui.timer(0, self._resume, once=True)  # after the page is sent: starting the app takes seconds
        else:
            self.show_paused()

    def show_frame(self) -> None:
        self.body.clear()
        with self.body:
            frame = ui.element('iframe').classes('w-full h-[70vh] rounded-lg border bg-white').mark('preview-frame')
            frame.props['src'] = self.src
            frame.props['sandbox'] = IFRAME_SANDBOX
            frame.props['title'] = 'Preview of your app'
            frame.props['referrerpolicy'] = 'same-origin'

    def show_paused(self, message: str = '') -> None:
        self.body.clear()
        with self.body, ui.card().classes('w-full items-center p-8 text-center').mark('preview-paused'):
            ui.icon('pause_circle', size='40px').classes('text-slate-400')
            ui.label('Preview paused').classes('text-lg font-semibold')
            ui.label(message or 'The preview sleeps when nobody is looking, to save resources.').classes(
                'text-sm text-slate-500'
            )
            self.resume_button = ui.button('Resume', icon='play_arrow', on_click=self._resume).mark('resume-preview')

    async def _resume(self) -> None:
        self.resume_button.props('loading')
        try:
            self.src = await self.resume_preview()
        except CofounderError as problem:
            self.show_paused(str(problem))
            return
        self.show_frame()
