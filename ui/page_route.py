"""Every page's route: NiceGUI's `ui.page` with a build time a busy server can meet."""

from __future__ import annotations

from nicegui import ui

# NiceGUI gives a page 3 s to build, then serves an error page instead; on a loaded 2-core host a page's
# queries (the dashboard's three, behind SQLite's one writer) can take that long: better late than an error
PAGE_BUILD_TIMEOUT_S = 15.0


def page(path: str, *, title: str) -> ui.page:
    return ui.page(path, title=title, response_timeout=PAGE_BUILD_TIMEOUT_S)
