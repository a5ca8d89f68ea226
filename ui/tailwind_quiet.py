"""Keeps additions that bring no CSS class from Tailwind's page-wide rescan (see tailwind_quiet.js)."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui

SCRIPT = (Path(__file__).with_name('tailwind_quiet.js')).read_text()


def install() -> None:
    """On every page, before Tailwind's runtime starts (head scripts run before NiceGUI's deferred ones)."""
    ui.add_head_html(f'<script>{SCRIPT}</script>', shared=True)
