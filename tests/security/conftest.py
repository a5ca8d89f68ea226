"""The security suite runs main.py in NiceGUI's simulated browser like tests/ui, with a small preview body cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import app_env, db  # noqa: F401  (the same fresh data dir and settings per test)

PREVIEW_CAP_MB = 1


@pytest.fixture(autouse=True)
def small_preview_cap(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv('PREVIEW_MAX_BODY_MB', str(PREVIEW_CAP_MB))
