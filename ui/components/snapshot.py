"""The live snapshot (UI-5): the newest screenshot of the app in a browser-like frame."""

from __future__ import annotations

from nicegui import ui

from core.events import BuildEvent, SnapshotUpdated
from ui.live import SeqGuard


class LiveSnapshot(SeqGuard, ui.card):
    """Skeleton until the first `snapshot.updated`; then the newest image (QImg fades between sources)."""

    def __init__(self, *, app_name: str) -> None:
        super().__init__()
        self.url = ''
        self.classes('w-full p-0 gap-0 overflow-hidden live-snapshot').mark('live-snapshot')
        with self:
            with ui.row().classes('w-full items-center gap-2 px-3 py-2 bg-slate-100 dark:bg-slate-800 flex-nowrap'):
                for colour in ('bg-red-400', 'bg-amber-400', 'bg-green-400'):
                    ui.element('span').classes(f'inline-block w-3 h-3 rounded-full {colour}')
                with ui.row().classes(
                    'grow items-center gap-1 px-3 py-0.5 rounded-md bg-white dark:bg-slate-700 '
                    'text-xs text-slate-500 flex-nowrap overflow-hidden'
                ):
                    ui.icon('lock', size='14px')
                    ui.label(app_name).classes('truncate').mark('address-bar')
            self.skeleton = ui.skeleton(animation='none').classes('w-full aspect-[8/5]').mark('snapshot-skeleton')
            self.image = (
                ui.image()
                .classes('w-full aspect-[8/5] cursor-zoom-in live-snapshot-image')
                .props('fit=contain transition=fade')
                .mark('snapshot-image')
            )
            self.image.set_visibility(False)
            self.image.on('click', self.enlarge)
            self.caption = (
                ui.label('A first look at your app appears here as soon as it runs.')
                .classes('text-xs text-slate-500 px-3 py-2')
                .mark('snapshot-caption')
            )
        with ui.dialog().props('maximized') as self.dialog, ui.card().classes('w-full h-full items-center'):
            ui.button(icon='close', on_click=self.dialog.close).props('flat round aria-label="Close"').classes(
                'self-end'
            )
            self.large = ui.image().classes('w-full grow').props('fit=contain').mark('snapshot-large')

    def apply(self, event: BuildEvent) -> None:
        if not self.fresh(event) or not isinstance(event, SnapshotUpdated):
            return
        self.url = event.url
        self.image.set_source(event.url)
        self.large.set_source(event.url)
        self.skeleton.set_visibility(False)
        self.image.set_visibility(True)
        after = f' after "{event.phase}"' if event.phase else ''
        self.caption.set_text(f'Updated at {event.at.strftime("%H:%M:%S")}{after}. Click to enlarge.')

    def enlarge(self) -> None:
        if self.url:
            self.dialog.open()
