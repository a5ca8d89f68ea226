"""Framework detection: which command starts a generated app."""

from __future__ import annotations

import json

import pytest

from core.builds.devserver import PREVIEW_BASE, StartDetectionError, detect_start
from core.ports import SandboxError


def pkg(scripts: dict[str, str], **extra: object) -> str:
    return json.dumps({'name': 'app', 'scripts': scripts, **extra})


def test_package_json_dev_script_wins_over_start() -> None:
    plan = detect_start({'package.json': pkg({'start': 'node server.js', 'dev': 'node dev.js'}), 'node_modules': None})
    assert plan.kind == 'node'
    assert plan.command == 'exec npm run dev'
    assert plan.install is None


def test_package_json_start_script() -> None:
    plan = detect_start({'package.json': pkg({'start': 'node server.js'})})
    assert plan.command == 'exec npm start'


def test_vite_and_next_get_the_port_as_flags() -> None:
    vite = detect_start({'package.json': pkg({'dev': 'vite'})})
    assert '--port "$PORT"' in vite.command and '--host 127.0.0.1' in vite.command
    nxt = detect_start({'package.json': pkg({'dev': 'next dev'})})
    assert '--port "$PORT"' in nxt.command and '--hostname 127.0.0.1' in nxt.command


def test_a_vite_dev_server_serves_under_the_preview_base_and_a_vite_preview_does_not() -> None:
    dev = detect_start({'package.json': pkg({'dev': 'vite'})})
    assert dev.base_path == PREVIEW_BASE and f'--base {PREVIEW_BASE}' in dev.command
    built = detect_start({'package.json': pkg({'start': 'vite preview'})})
    assert built.base_path == '/' and '--base' not in built.command
    other = detect_start({'package.json': pkg({'dev': 'node server.js'})})
    assert other.base_path == '/'


def test_missing_node_modules_means_install_first() -> None:
    plan = detect_start({'package.json': pkg({'dev': 'vite'}, devDependencies={'vite': '^5'})})
    assert plan.install is not None and plan.install.startswith('npm install')
    installed = detect_start(
        {'package.json': pkg({'dev': 'vite'}, devDependencies={'vite': '^5'}), 'node_modules': None}
    )
    assert installed.install is None


def test_package_json_without_scripts_falls_through_to_static() -> None:
    plan = detect_start({'package.json': json.dumps({'name': 'x'}), 'index.html': None})
    assert plan.kind == 'static'


def test_python_entry_reading_port() -> None:
    src = "import os\nport = int(os.environ['PORT'])\n"
    plan = detect_start({'main.py': src, 'index.html': None})
    assert plan.kind == 'python'
    assert plan.command == 'exec python3 main.py'


def test_python_entry_order_prefers_app_py() -> None:
    src = "import os; os.environ.get('PORT')"
    assert detect_start({'server.py': src, 'app.py': src}).command == 'exec python3 app.py'


def test_static_site_is_served_by_http_server_on_loopback() -> None:
    plan = detect_start({'index.html': None, 'style.css': None})
    assert plan.kind == 'static'
    assert 'http.server "$PORT" --bind 127.0.0.1' in plan.command


def test_python_without_port_is_a_clear_error() -> None:
    with pytest.raises(StartDetectionError, match='PORT'):
        detect_start({'app.py': 'print("hello")'})


def test_nothing_to_start_is_a_clear_error_and_a_sandbox_error() -> None:
    with pytest.raises(SandboxError, match='No way to start the app'):
        detect_start({'README.md': None})


def test_broken_package_json_is_reported() -> None:
    with pytest.raises(StartDetectionError, match='package.json is not valid JSON'):
        detect_start({'package.json': '{nope'})
