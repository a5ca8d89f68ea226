"""The web UI: pages, components, live updates. `register_pages(svc)` wires everything."""

from __future__ import annotations

from core.services import Services


def register_pages(svc: Services) -> None:
    from nicegui import app

    from ui import (
        auth,
        blob_routes,
        export_routes,
        http,
        preview_proxy,
        preview_socket,
        quiet_gc,
        socket_guard,
        tailwind_quiet,
    )
    from ui.pages import (
        account,
        admin,
        brief,
        build,
        change,
        dashboard,
        interview,
        new_project,
        plan,
        project,
        versions,
    )

    app.state.services = svc  # tests that run main.py reach the live Services through here
    http.register(svc)
    quiet_gc.install()
    socket_guard.install()  # websocket events only for the page whose socket sent them
    tailwind_quiet.install()
    modules = (
        blob_routes,
        preview_proxy,
        preview_socket,
        auth,
        dashboard,
        new_project,
        project,
        interview,
        brief,
        plan,
        build,
        admin,
    )
    for module in modules:  # /projects/new before /projects/{project_id}
        module.register(svc)
    for module in (export_routes, change, versions):  # IT-2, IT-5: change requests, versions and downloads
        module.register(svc)
    account.register(svc)  # J-1: /account (password, API tokens) and /forgot
