"""How a generated app starts: framework detection for the dev server (pure, no I/O).

The caller (a sandbox adapter) lists the workspace root, reads the few files named in
`CANDIDATE_FILES` that exist, and passes them to `detect_start`. Commands expect `$PORT` in
the environment and bind 127.0.0.1, because the host proxies the preview from there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.ports import SandboxError

PYTHON_ENTRIES = ('app.py', 'main.py', 'server.py')
STATIC_ENTRIES = ('index.html',)
# Files whose content detection needs; any other file only needs to be present in the mapping.
CANDIDATE_FILES = ('package.json', *PYTHON_ENTRIES)

_PORT_RE = re.compile(r'\bPORT\b')
# Where a Vite dev server is told its app lives. Vite writes this base into every module URL, its HMR
# socket's path and import.meta.env.BASE_URL, so the preview proxy serves the app under its own prefix
# by replacing this one exact string (no parsing of JavaScript), and deploys keep base '/'.
PREVIEW_BASE = '/__cofounder_preview__/'


class StartDetectionError(SandboxError):
    """Nothing in the workspace says how to start the app."""


@dataclass(frozen=True)
class StartPlan:
    """The command that starts the app (run with `sh -c`, `$PORT` set) and what it is."""

    kind: Literal['node', 'python', 'static']
    command: str
    install: str | None = None  # run first (e.g. npm install when node_modules is missing)
    reason: str = ''
    base_path: str = '/'  # the path the app serves from (PREVIEW_BASE for a Vite dev server)


def detect_start(files: Mapping[str, str | None]) -> StartPlan:
    """Pick how to start the app from the workspace's top-level files.

    `files` maps a relative path at the workspace root to its content, or to None when the file
    exists but its content was not read (directories such as `node_modules` count as present).
    Order: package.json scripts (dev, then start) → a Python entry that reads PORT → static
    index.html. Raises StartDetectionError when none applies.
    """
    plan = _node_plan(files)
    if plan:
        return plan
    plan = _python_plan(files)
    if plan:
        return plan
    for name in STATIC_ENTRIES:
        if name in files:
            return StartPlan('static', 'exec python3 -m http.server "$PORT" --bind 127.0.0.1', reason=f'{name} found')
    unread = [n for n in PYTHON_ENTRIES if n in files]
    if unread:
        raise StartDetectionError(
            f'{unread[0]} does not read the PORT environment variable, so its dev server cannot be reached; '
            'make it listen on 127.0.0.1 at int(os.environ["PORT"])'
        )
    raise StartDetectionError(
        'No way to start the app was found: add package.json with a "dev" or "start" script, '
        'an app.py/main.py/server.py that listens on $PORT, or an index.html'
    )


def _node_plan(files: Mapping[str, str | None]) -> StartPlan | None:
    raw = files.get('package.json')
    if raw is None:
        return None
    try:
        package = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise StartDetectionError(f'package.json is not valid JSON: {exc}') from exc
    scripts = package.get('scripts') if isinstance(package, dict) else None
    if not isinstance(scripts, dict):
        return None
    for script in ('dev', 'start'):
        body = scripts.get(script)
        if isinstance(body, str) and body.strip():
            deps = bool(package.get('dependencies') or package.get('devDependencies'))
            install = 'npm install --no-audit --no-fund' if deps and 'node_modules' not in files else None
            command = _npm_command(script, body)
            base = PREVIEW_BASE if PREVIEW_BASE in command else '/'
            return StartPlan('node', command, install, reason=f'package.json "{script}" script', base_path=base)
    return None


def _npm_command(script: str, body: str) -> str:
    """`npm run <script>`; tools that ignore $PORT get it as flags."""
    run = 'exec npm start' if script == 'start' else f'exec npm run {script}'
    if re.search(r'\bvite\b', body):
        # `vite preview` serves a finished build, whose URLs were fixed at build time
        base = '' if re.search(r'\bvite\s+preview\b', body) else f' --base {PREVIEW_BASE}'
        return f'{run} -- --port "$PORT" --strictPort --host 127.0.0.1{base}'
    if re.search(r'\bnext\b', body):
        return f'{run} -- --port "$PORT" --hostname 127.0.0.1'
    return run  # express, CRA and most servers read process.env.PORT


def _python_plan(files: Mapping[str, str | None]) -> StartPlan | None:
    for name in PYTHON_ENTRIES:
        content = files.get(name)
        if content is not None and _PORT_RE.search(content):
            return StartPlan('python', f'exec python3 {name}', reason=f'{name} reads PORT')
    return None
