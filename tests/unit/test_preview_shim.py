"""The storage stand-in goes first in every page of a preview, before any script of the app (ui/preview_shim.py).
Whether it works is seen in Chromium (tests/e2e/test_preview_hot_reload.py, test_preview_nicegui.py)."""

from __future__ import annotations

from ui.preview_shim import STORAGE_SHIM, with_storage_shim


def test_the_shim_is_the_first_thing_in_the_head() -> None:
    page = b'<!doctype html><html lang="en"><HEAD data-x="1"><script src="/app.js"></script></HEAD></html>'
    assert with_storage_shim(page) == (
        b'<!doctype html><html lang="en"><HEAD data-x="1">'
        + STORAGE_SHIM
        + b'<script src="/app.js"></script></HEAD></html>'
    )


def test_a_page_without_a_head_gets_it_after_html_or_the_doctype() -> None:
    assert with_storage_shim(b'<html><body>x</body></html>') == b'<html>' + STORAGE_SHIM + b'<body>x</body></html>'
    assert with_storage_shim(b'<!DOCTYPE html><p>x') == b'<!DOCTYPE html>' + STORAGE_SHIM + b'<p>x'
    assert with_storage_shim(b'<p>x') == STORAGE_SHIM + b'<p>x'
    assert with_storage_shim(b'<header>not a head</header>').startswith(STORAGE_SHIM)
