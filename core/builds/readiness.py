"""Deploy readiness (IT-4): checks over a project's files → green / yellow / red, fixes and deploy paths.

`assess` is a pure function of the files (path → bytes) and two facts only the caller knows: how the
app starts (None: detected from the files, as `core.builds.devserver` does for previews) and whether
its home page answered. Each check passes, warns or fails; a fail is a blocker. The verdict is red when
any check fails, yellow when any warns, green otherwise. Every warn and fail carries a fix the founder
can copy as it is (a command, a file's content or the corrected line), filled in for this project.

Checks: README, `.env.example` naming every variable the code reads (Python `os.environ[...]`,
`os.environ.get(...)`, `os.getenv(...)`; JS `process.env.X`, `import.meta.env.X`; platform variables
such as PORT need not be listed; a hard-coded secret counts too, since it has to move to the
environment), a start command, no hard-coded secrets (the build log redactor's patterns — a line the
redactor changes holds a secret when what it removed is a literal, not a name or an expression — plus
Shannon entropy on long quoted values assigned to key/secret/token/password-like names), pinned
dependencies, a health route or a home page that answers, no debug mode, the app's own tests.
Files over 1 MB and binary files are only present: their content is not read.

Producing it: at READY the pipeline calls `record_readiness`, which reads the workspace through the
Sandbox port and stores the report as a `deploy_report` Artifact versioned with the build; a readiness
problem is logged and never fails the build. `latest_report` reads it back for the project's owner.
"""

from __future__ import annotations

import json
import logging
import math
import posixpath
import re
import shlex
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, computed_field
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.devserver import CANDIDATE_FILES, StartDetectionError, detect_start
from core.builds.logs import MARK, Redactor
from core.db import SessionFactory, transaction
from core.journey.projects import load_project
from core.models import Artifact, Project, User
from core.ports import Sandbox, SandboxError

logger = logging.getLogger(__name__)

KIND = 'deploy_report'
MAX_FILE_BYTES = 1_000_000
MAX_FILES = 2000  # a workspace read for the report stops here (dependency folders are never listed)
Status = Literal['pass', 'warn', 'fail']
Verdict = Literal['green', 'yellow', 'red']
VERDICT_LABELS: dict[str, str] = {
    'green': 'Ready to deploy',
    'yellow': 'Can be deployed, with warnings',
    'red': 'Not ready: fix the blockers first',
}
STATUS_LABELS: dict[str, str] = {'pass': 'Pass', 'warn': 'Warning', 'fail': 'Blocker'}


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    status: Status
    detail: str
    fix: str = ''  # copy-pasteable text or command; empty when the check passes


class DeployStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    code: str = ''  # a command or a file's content to copy, when the step has one


class DeployPath(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    cost: str
    difficulty: Literal['Easy', 'Medium', 'Hard']
    tradeoffs: list[str]
    steps: list[DeployStep]


class ReadinessReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    verdict: Verdict
    start_command: str | None
    checks: list[Check]
    deploy_paths: list[DeployPath]
    build_version: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def blockers(self) -> list[Check]:
        return [c for c in self.checks if c.status == 'fail']

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == 'warn']

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]


def verdict_of(checks: Iterable[Check]) -> Verdict:
    """Red if any check fails, yellow if any warns, green otherwise."""
    statuses = {c.status for c in checks}
    return 'red' if 'fail' in statuses else 'yellow' if 'warn' in statuses else 'green'


# ── the project's files ───────────────────────────────────────────────────────────────────────

SKIP_DIRS = frozenset(
    {'node_modules', '.git', '__pycache__', '.venv', 'venv', '.next', 'dist', '.cache', '.mypy_cache', '.local'}
)
BINARY_EXTENSIONS = frozenset(
    '.png .jpg .jpeg .gif .webp .ico .bmp .svgz .woff .woff2 .ttf .otf .eot .pdf .zip .gz .tgz .tar .bz2 .xz '
    '.7z .sqlite .sqlite3 .db .pyc .pyo .so .dylib .dll .exe .bin .lockb .mp3 .mp4 .mov .wav .webm'.split()
)
CODE_EXTENSIONS = ('.py', '.js', '.mjs', '.cjs', '.ts', '.tsx', '.jsx')
DOC_EXTENSIONS = ('.md', '.rst', '.txt', '.html', '.htm')
LOCKFILES = frozenset(
    {'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'}
)
PY_LOCKFILES = frozenset({'poetry.lock', 'Pipfile.lock', 'uv.lock', 'pdm.lock'})
ENV_EXAMPLES = ('.env.example', '.env.sample', '.env.template', 'example.env')
# Set by the host or the runtime, so a deploy never needs them listed.
PLATFORM_VARS = frozenset(
    'PORT HOST HOSTNAME PATH HOME PWD USER LANG TZ TMPDIR NODE_ENV PYTHONPATH PYTHONUNBUFFERED CI '
    'MODE DEV PROD SSR BASE_URL'.split()
)


@dataclass(frozen=True)
class _Project:
    names: frozenset[str]  # every file, read or not
    texts: dict[str, str]  # text files up to 1 MB

    def top(self, name: str) -> str | None:
        return self.texts.get(name)

    def code(self) -> Iterable[tuple[str, str]]:
        return ((p, t) for p, t in self.texts.items() if p.endswith(CODE_EXTENSIONS))


def _clean_path(path: str) -> str:
    return posixpath.normpath(path.replace('\\', '/')).lstrip('/').removeprefix('./')


def _skipped_dir(path: str) -> bool:
    return any(part in SKIP_DIRS for part in path.split('/')[:-1])


def _decode(data: bytes) -> str | None:
    """The text of a file, or None when it is large or binary."""
    if not data or len(data) > MAX_FILE_BYTES or b'\0' in data[:8192]:
        return None if data else ''
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return None


def _project(files: Mapping[str, bytes]) -> _Project:
    names: set[str] = set()
    texts: dict[str, str] = {}
    for raw, data in files.items():
        path = _clean_path(raw)
        if not path or path == '.' or _skipped_dir(path):
            continue
        names.add(path)
        if posixpath.splitext(path)[1].lower() in BINARY_EXTENSIONS:
            continue
        text = _decode(data)
        if text is not None:
            texts[path] = text.replace('\r\n', '\n')
    return _Project(frozenset(names), texts)


def _is_test_file(path: str) -> bool:
    base = posixpath.basename(path)
    return (
        bool(re.search(r'(^|/)(tests?|__tests__|spec)/', path))
        or bool(re.match(r'test_.+\.py$|.+_test\.py$', base))
        or bool(re.search(r'\.(test|spec)\.[cm]?[jt]sx?$', base))
    )


# ── how the app starts ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Start:
    command: str | None
    kind: Literal['python', 'node', 'static', 'unknown']
    source: str  # 'given' | 'Procfile' | 'package.json' | a file name | ''
    problem: str = ''


def _package(project: _Project) -> dict[str, Any] | None:
    raw = project.top('package.json')
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _scripts(project: _Project) -> dict[str, str]:
    scripts = (_package(project) or {}).get('scripts')
    return {k: v for k, v in scripts.items() if isinstance(v, str)} if isinstance(scripts, dict) else {}


def _kind(project: _Project) -> Literal['python', 'node', 'static', 'unknown']:
    if 'package.json' in project.names:
        return 'node'
    if any(n.endswith('.py') for n in project.names):
        return 'python'
    if 'index.html' in project.names:
        return 'static'
    return 'unknown'


def _procfile_web(project: _Project) -> str | None:
    for line in (project.top('Procfile') or '').splitlines():
        if line.startswith('web:') and line[4:].strip():
            return line[4:].strip()
    return None


def _asgi_start(project: _Project) -> _Start | None:
    """A FastAPI (or Starlette) app that does not run itself (no `__main__` block) is served by uvicorn."""
    for name in ('app.py', 'main.py', 'server.py'):
        text = project.texts.get(name) or ''
        if '__main__' not in text and re.search(r'^app\s*=\s*(?:FastAPI|Starlette)\(', text, re.MULTILINE):
            return _Start(f'uvicorn {name[:-3]}:app --host 0.0.0.0 --port $PORT', 'python', name)
    return None


def _start(project: _Project, given: str | None) -> _Start:
    kind = _kind(project)
    if given and given.strip():
        return _Start(given.strip(), kind, 'given')
    if web := _procfile_web(project):
        return _Start(web, kind, 'Procfile')
    if asgi := _asgi_start(project):
        return asgi
    scripts = _scripts(project)
    if scripts.get('start', '').strip():
        return _Start('npm start', 'node', 'package.json')
    top: dict[str, str | None] = {n: None for n in project.names if '/' not in n}
    top.update({n: project.texts.get(n) for n in CANDIDATE_FILES if n in project.names})
    try:
        plan = detect_start(top)
    except StartDetectionError as problem:
        return _Start(None, kind, '', str(problem))
    if plan.kind == 'node':  # only a "dev" script: it starts, but as a development server
        return _Start('npm run dev', 'node', 'package.json')
    if plan.kind == 'python':
        return _Start(plan.command.removeprefix('exec '), 'python', plan.reason.split(' ')[0])
    return _Start('python3 -m http.server "$PORT"', 'static', 'index.html')


def _check_start(start: _Start) -> Check:
    title = 'A start command'
    if start.command:
        where = {'given': '', 'Procfile': ' (from the Procfile)', 'package.json': ' (from package.json)'}.get(
            start.source, f' ({start.source} reads PORT)' if start.source else ''
        )
        return Check(key='start', title=title, status='pass', detail=f'The app starts with `{start.command}`{where}.')
    if 'does not read the PORT' in start.problem:
        entry = start.problem.split(' ', 1)[0]
        return Check(
            key='start',
            title=title,
            status='fail',
            detail=f'{entry} does not read the PORT environment variable, so a host cannot reach it.',
            fix=(
                f'# In {entry}: listen on every interface, at the port the host gives, for example\n'
                'import os\n'
                'HOST = os.environ.get("HOST", "0.0.0.0")\n'
                'PORT = int(os.environ.get("PORT", "8000"))\n'
                '# …then pass HOST and PORT to your server (app.run(host=HOST, port=PORT) for Flask)'
            ),
        )
    return Check(
        key='start',
        title=title,
        status='fail',
        detail='Nothing says how to start the app (no Procfile, package.json "start" script, app.py or index.html).',
        fix="echo 'web: python3 app.py' > Procfile   # replace with the command that starts your app",
    )


# ── README ────────────────────────────────────────────────────────────────────────────────────


def _check_readme(project: _Project, title: str, start: _Start, install: str | None) -> Check:
    name = next((n for n in sorted(project.names) if '/' not in n and n.lower().startswith('readme')), None)
    text = (project.texts.get(name) or '').strip() if name else ''
    lines = [line for line in text.splitlines() if line.strip()]
    if name and len(text) >= 120 and len(lines) >= 3:
        return Check(key='readme', title='README', status='pass', detail=f'{name} explains the project.')
    run = '\n'.join(c for c in (install, start.command or '<the command that starts the app>') if c)
    fix = (
        "cat > README.md <<'README_EOF'\n"
        f'# {title}\n\n'
        'What the app does and who it is for, in two sentences.\n\n'
        '## Run it\n\n'
        f'```\n{run}\n```\n\n'
        'Copy `.env.example` to `.env` and fill in the values first.\n'
        'README_EOF'
    )
    detail = f'{name} is too short to tell anyone how to run the app.' if name else 'There is no README.'
    return Check(key='readme', title='README', status='warn', detail=detail, fix=fix)


# ── environment variables ─────────────────────────────────────────────────────────────────────

_NAME = r'([A-Za-z_][A-Za-z0-9_]*)'
_PY_ENV = re.compile(
    r"""(?:environ\s*(?:\[|\.get\(|\.setdefault\(|\.pop\()|getenv\()\s*(?P<q>['"])""" + _NAME + r'(?P=q)'
)
_JS_ENV = re.compile(
    r'(?:process\.env|import\.meta\.env)(?:\.' + _NAME + r"""|\[\s*(?P<q>['"`])""" + _NAME + r'(?P=q))'
)
_JS_DESTRUCTURE = re.compile(r'\{([^{}]{1,500})\}\s*=\s*process\.env\b')
_ENV_LINE = re.compile(r'^\s*#?\s*(?:export\s+)?' + _NAME + r'\s*=', re.M)


def env_reads(project_files: Mapping[str, str], *, platform: bool = False) -> dict[str, str]:
    """Each environment variable the code reads → the first file reading it; platform ones only when asked."""
    found: dict[str, str] = {}
    for path in sorted(project_files):
        text = project_files[path]
        names: list[str] = []
        if path.endswith('.py'):
            names = [m.group(2) for m in _PY_ENV.finditer(text)]
        elif path.endswith(CODE_EXTENSIONS):
            names = [m.group(1) or m.group(3) for m in _JS_ENV.finditer(text)]
            for m in _JS_DESTRUCTURE.finditer(text):
                names += [re.split(r'[:=]', part)[0].strip() for part in m.group(1).split(',')]
        for name in names:
            if name and re.fullmatch(_NAME, name) and (platform or name not in PLATFORM_VARS):
                found.setdefault(name, path)
    return found


def _env_example(project: _Project) -> tuple[str | None, set[str]]:
    for name in ENV_EXAMPLES:
        if name in project.names:
            return name, set(_ENV_LINE.findall(project.texts.get(name) or ''))
    return None, set()


def _check_env(project: _Project, all_reads: dict[str, str], secret_names: list[str]) -> Check:
    title = '.env.example names every setting'
    needed = {n: p for n, p in all_reads.items() if n not in PLATFORM_VARS}
    for name in secret_names:
        needed.setdefault(name, 'a hard-coded secret')
    example, listed = _env_example(project)
    missing = sorted(n for n in needed if n not in listed)
    if not missing:
        given = sorted(set(all_reads) & PLATFORM_VARS)
        if not needed and given:
            detail = f'The code reads only what the host provides ({", ".join(given)}).'
        elif not needed:
            detail = 'The code reads no settings from the environment.'
        else:
            detail = f'{example} lists every setting the code reads ({", ".join(sorted(needed))}).'
        return Check(key='env_example', title=title, status='pass', detail=detail)
    where = '; '.join(f'{n} ({needed[n]})' for n in missing)
    lines = '\n'.join(f'{n}=' for n in missing)
    if example is None:
        detail = f'There is no .env.example, and the app needs: {where}.'
        fix = (
            "cat > .env.example <<'EOF'\n"
            "# Settings the app reads. Put real values in your host's settings or in .env, never in the code.\n"
            f'{lines}\nEOF'
        )
    else:
        detail = f'{example} does not name: {where}.'
        fix = f"cat >> {example} <<'EOF'\n{lines}\nEOF"
    return Check(key='env_example', title=title, status='fail', detail=detail, fix=fix)


# ── hard-coded secrets ────────────────────────────────────────────────────────────────────────

_REDACTOR = Redactor()
_PLACEHOLDER = re.compile(
    r'^(?:x+|\*+|-+|0+|\.\.\.|…|none|null|nil|undefined|true|false|todo|tbd|changeme|change[-_]me|secret|password|'
    r'example|sample|test|dummy|placeholder|redacted|\[redacted\])$'
    r'|\.\.\.|…|<[^>]*>|^\$|\{\{|\$\{|^your[-_ ]|^my[-_ ]|[-_ ]here$|^replace[-_ ]|^insert[-_ ]|^enter[-_ ]|^put[-_ ]',
    re.I,
)
_SECRET_NAME = re.compile(r'key|secret|token|passw|pwd|auth|salt|credential|signature|private', re.I)
_QUOTED_ASSIGN = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)["']?\s*[:=]\s*(?P<q>["'`])(?P<value>[^"'`\s]{16,500})(?P=q)"""
)
_ASSIGNED_NAME = re.compile(r"""(?:^|[\s,{(\[;])["']?([A-Za-z_][A-Za-z0-9_\-]*)["']?\s*[:=]\s*$""")
_FIRST_NAME = re.compile(r"""\s*(?:(?:const|let|var|export)\s+)*["']?([A-Za-z_][A-Za-z0-9_\-]*)["']?\s*[:=]""")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(value: str) -> bool:
    """A long token with no spaces and high entropy: shaped like a generated key, not a word."""
    return len(value) >= 16 and not re.search(r'\s', value) and entropy(value) >= 3.5


@dataclass(frozen=True)
class SecretFinding:
    path: str
    line: int
    shown: str  # the line with the secret replaced by the marker
    name: str | None  # the name it is assigned to, as an environment variable (API_KEY), when there is one
    original: str  # the line as written (used to write the fix; never shown)
    start: int = 0  # where the secret starts in the line


def _env_name(name: str | None) -> str | None:
    if not name:
        return None
    snake = re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', name.strip('_-')).replace('-', '_').upper()
    return snake if re.fullmatch(r'[A-Z_][A-Z0-9_]*', snake) else None


def _inside_string(line: str, pos: int) -> bool:
    quote = ''
    i = 0
    while i < pos:
        ch = line[i]
        if ch == '\\':
            i += 2
            continue
        if quote:
            quote = '' if ch == quote else quote
        elif ch in '"\'`':
            quote = ch
        i += 1
    return bool(quote)


def _removed(original: str, redacted: str) -> list[tuple[int, str]]:
    """What the redactor removed from a line: (offset in the original, text)."""
    parts = redacted.split(MARK)
    match = re.match('(.*?)'.join(re.escape(p) for p in parts) + r'\Z', original, re.S)
    if match is None:
        return [(0, original)]
    return [(match.start(i), match.group(i)) for i in range(1, len(parts))]


def _file_class(path: str) -> Literal['code', 'doc', 'test', 'config']:
    if _is_test_file(path):
        return 'test'
    if path.endswith(CODE_EXTENSIONS):
        return 'code'
    if path.lower().endswith(DOC_EXTENSIONS) or posixpath.basename(path).lower().startswith('readme'):
        return 'doc'
    return 'config'


_EXPRESSION = re.compile(r'[A-Za-z_$][\w$]*(?:$|[.\[(])')  # a name, or a call / attribute / item of one


def _counts(value: str, *, line: str, start: int, cls: str) -> bool:
    """Whether a value the redactor removed is a hard-coded secret, not a name, an expression or a placeholder."""
    value = value.strip().strip('"\'`')
    if len(value) < 4 or _PLACEHOLDER.search(value):
        return False
    if cls in ('doc', 'test'):  # prose and fixtures mention passwords; only key-shaped values count there
        return looks_random(value)
    if cls == 'code':
        if (start > 0 and line[start - 1] in '"\'`') or _inside_string(line, start):
            return True  # a string literal
        return looks_random(value) and not _EXPRESSION.match(value)  # a key pasted into a comment, say
    return True


def _scanned(path: str) -> bool:
    base = posixpath.basename(path)
    if base in LOCKFILES or base in PY_LOCKFILES or base in ENV_EXAMPLES:
        return False
    return not (base == '.env' or base.startswith('.env.'))  # real values belong there (checked separately)


def find_secrets(texts: Mapping[str, str]) -> list[SecretFinding]:
    """Hard-coded secrets in the project's text files, one finding per line."""
    findings: list[SecretFinding] = []
    for path in sorted(texts):
        if not _scanned(path):
            continue
        cls = _file_class(path)
        text = texts[path]
        redacted_lines = _REDACTOR.redact(text).split('\n')
        lines = text.split('\n')
        same_shape = len(redacted_lines) == len(lines)
        for n, line in enumerate(lines, 1):
            if len(line) > 4000:  # minified bundles: not written by hand
                continue
            redacted = redacted_lines[n - 1] if same_shape else _REDACTOR.redact(line)
            finding = _line_secret(path, n, line, redacted, cls)
            if finding:
                findings.append(finding)
    for name in ENV_EXAMPLES:  # an example file must hold placeholders, never a real key
        for n, line in enumerate((texts.get(name) or '').split('\n'), 1):
            key, _, value = line.partition('=')
            value = value.strip().strip('"\'')
            if value and not line.lstrip().startswith('#') and looks_random(value) and not _PLACEHOLDER.search(value):
                findings.append(SecretFinding(name, n, f'{key}={MARK}', _env_name(key.strip()), line))
    return findings


# What a key with a known prefix is usually called, for a secret not assigned to a name of its own.
_PREFIX_NAMES = (
    ('sk-ant-', 'ANTHROPIC_API_KEY'),
    ('sk-', 'OPENAI_API_KEY'),
    ('sk_', 'STRIPE_SECRET_KEY'),
    ('rk_', 'STRIPE_RESTRICTED_KEY'),
    ('whsec_', 'STRIPE_WEBHOOK_SECRET'),
    ('gh', 'GITHUB_TOKEN'),
    ('xox', 'SLACK_TOKEN'),
    ('AKIA', 'AWS_ACCESS_KEY_ID'),
    ('AIza', 'GOOGLE_API_KEY'),
)


def _secret_name(line: str, start: int, value: str) -> str | None:
    """The environment variable a secret should move to: its own name, a known key's usual name, the line's name."""
    head = _ASSIGNED_NAME.search(line[:start].rstrip('"\'` '))
    if head:
        return _env_name(head.group(1))
    for prefix, name in _PREFIX_NAMES:
        if value.startswith(prefix):
            return name
    first = _FIRST_NAME.match(line)
    if first and re.search(r'key|secret|token|passw|pwd|auth|credential|url|uri|dsn', first.group(1), re.I):
        return _env_name(first.group(1))
    return None


def _line_secret(path: str, n: int, line: str, redacted: str, cls: str) -> SecretFinding | None:
    if redacted != line:
        for start, value in _removed(line, redacted):
            if _counts(value, line=line, start=start, cls=cls):
                return SecretFinding(path, n, redacted.strip(), _secret_name(line, start, value), line, start)
    if cls == 'doc':
        return None
    for m in _QUOTED_ASSIGN.finditer(line):
        value = m.group('value')
        if _SECRET_NAME.search(m.group('name')) and looks_random(value) and not _PLACEHOLDER.search(value):
            shown = (line[: m.start('value')] + MARK + line[m.end('value') :]).strip()
            return SecretFinding(path, n, shown, _env_name(m.group('name')), line, m.start('value'))
    return None


def _literal_span(line: str, pos: int) -> tuple[int, int] | None:
    """The string literal (quotes and any f/r/b prefix included) that contains position `pos`, if any."""
    quote, opened, i = '', 0, 0
    while i < len(line):
        ch = line[i]
        if i >= pos and not quote:
            return None
        if ch == '\\':
            i += 2
            continue
        if quote and ch == quote:
            if i >= pos:
                while opened > 0 and line[opened - 1] in 'rbfuRBFU' and not line[opened - 2 : opened - 1].isalnum():
                    opened -= 1
                return opened, i + 1
            quote = ''
        elif not quote and ch in '"\'`':
            quote, opened = ch, i
        i += 1
    return None


def _secret_fix(finding: SecretFinding) -> str:
    var = finding.name or 'SECRET_VALUE'
    line = finding.original
    span = _literal_span(line, finding.start)
    if finding.path.endswith(CODE_EXTENSIONS) and span:
        python = finding.path.endswith('.py')
        read = f'os.environ["{var}"]' if python else f'process.env.{var}'
        # any other secret on the line stays hidden
        fixed = _REDACTOR.redact(line[: span[0]]) + read + _REDACTOR.redact(line[span[1] :])
        comment, also = ('#', '  # with `import os` at the top of the file') if python else ('//', '')
        return (
            f'{comment} {finding.path}, line {finding.line}: read the secret from the environment instead\n'
            f'{fixed}{also}\n'
            f"{comment} Then set {var} in your host's settings, and revoke the old value: it was in the code."
        )
    if posixpath.basename(finding.path) in ENV_EXAMPLES:
        return f'# {finding.path}, line {finding.line}: keep only the name here\n{var}='
    return (
        f"# {finding.path}, line {finding.line}: remove the value from the file and set it in your host's "
        f'settings instead, as {var}; then revoke the old value: it was in the project.'
    )


def _check_secrets(project: _Project, findings: list[SecretFinding]) -> Check:
    title = 'No hard-coded secrets'
    if findings:
        shown = '; '.join(f'{f.path} line {f.line}: {f.shown[:160]}' for f in findings[:5])
        more = f' (and {len(findings) - 5} more)' if len(findings) > 5 else ''
        return Check(
            key='secrets',
            title=title,
            status='fail',
            detail=f'Secret-shaped values are written in the code: {shown}{more}.',
            fix='\n\n'.join(_secret_fix(f) for f in findings[:5]),
        )
    ignore = project.texts.get('.gitignore') or ''
    if '.env' in project.names and not re.search(r'^/?\.env\*?\s*$', ignore, re.M):
        return Check(
            key='secrets',
            title=title,
            status='warn',
            detail='No secrets in the code, but .env (which holds real values) is not kept out of the project.',
            fix='echo ".env" >> .gitignore && echo ".env" >> .dockerignore',
        )
    return Check(key='secrets', title=title, status='pass', detail='No secret-shaped values in the code.')


# ── pinned dependencies ───────────────────────────────────────────────────────────────────────

_EXACT_NPM = re.compile(r'^=?v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.\-]+)?$')


def _requirement_pinned(line: str) -> bool:
    spec = line.split(';', 1)[0].strip()
    if ' @ ' in spec or spec.startswith(('git+', 'http://', 'https://')):  # a direct reference: pinned to a commit
        return bool(re.search(r'@[0-9a-f]{7,40}(?:#|$)', spec)) or spec.endswith(('.whl', '.tar.gz', '.zip'))
    return bool(re.search(r'===?\s*[\w.!+\-]+$', spec)) and '*' not in spec


def _unpinned_requirements(text: str) -> list[str]:
    out = []
    for raw in text.split('\n'):
        line = re.split(r'\s+#', raw, maxsplit=1)[0].strip()
        if not line or line.startswith(('#', '-')):
            continue
        if not _requirement_pinned(line):
            out.append(line)
    return out


def _npm_pinned(spec: str) -> bool:
    spec = spec.strip()
    if spec.startswith(('file:', 'link:', 'workspace:')):
        return True
    if spec.startswith('npm:'):
        spec = spec.rpartition('@')[2]
    if '#' in spec:  # git dependency pinned to a commit
        return bool(re.search(r'#[0-9a-f]{7,40}$', spec))
    return bool(_EXACT_NPM.match(spec))


def _check_pinned(project: _Project) -> Check:
    title = 'Dependencies pinned'
    problems: list[str] = []
    fixes: list[str] = []
    requirements = project.texts.get('requirements.txt')
    if requirements is not None:
        loose = _unpinned_requirements(requirements)
        if loose:
            problems.append(f'requirements.txt does not pin: {", ".join(loose[:8])}')
            fixes.append(
                '# pin every package in requirements.txt to the version installed now\n'
                'pip install -r requirements.txt\n'
                "pip freeze -r requirements.txt | sed '/^## /,$d' > requirements.pinned && "
                'mv requirements.pinned requirements.txt'
            )
    package = _package(project)
    if package is not None:
        loose_by: dict[str, list[str]] = {'dependencies': [], 'devDependencies': []}
        for section, loose in loose_by.items():
            deps = package.get(section)
            for name, spec in deps.items() if isinstance(deps, dict) else []:
                if not isinstance(spec, str) or not _npm_pinned(spec):
                    loose.append(
                        f'{name}@{spec}' if isinstance(spec, str) and spec not in ('', '*', 'latest') else name
                    )
        has_deps = any(isinstance(package.get(s), dict) and package.get(s) for s in loose_by)
        lock = any(n in project.names for n in LOCKFILES)
        for section, loose in loose_by.items():
            if loose:
                problems.append(f'package.json {section} use version ranges: {", ".join(loose[:8])}')
                dev = ' --save-dev' if section == 'devDependencies' else ''
                fixes.append(f'npm install --save-exact{dev} ' + ' '.join(shlex.quote(x) for x in loose))
        if has_deps and not lock:
            problems.append('there is no package-lock.json, so each install may get different versions')
            if not any(loose_by.values()):
                fixes.append('npm install   # writes package-lock.json: keep it with the project')
    if problems:
        return Check(
            key='pinned',
            title=title,
            status='fail',
            detail='; '.join(problems) + '. A deploy could install versions the app was never tried with.',
            fix='\n'.join(fixes),
        )
    if requirements is None and package is None:
        detail = 'No dependency list: the app uses no packages to install.'
    else:
        detail = 'Every dependency has an exact version.'
    return Check(key='pinned', title=title, status='pass', detail=detail)


# ── health, debug mode, tests ─────────────────────────────────────────────────────────────────

_CURL_HOME = 'curl -s -o /dev/null -w "%{http_code}\\n" http://127.0.0.1:8000/'
# "status" alone is a common word in code (a field, an ARIA role): only its path form counts
_HEALTH = re.compile(r"""['"`](?:/?(healthz|health|healthcheck|health-check|ping)|/(status))['"`]""")


def health_path(project: _Project) -> str | None:
    for _, text in project.code():
        m = _HEALTH.search(text)
        if m:
            return '/' + (m.group(1) or m.group(2))
    return None


def _check_health(health: str | None, home_answers: bool | None, start: _Start) -> Check:
    title = 'A health route or a home page that answers'
    if home_answers is False:
        run = start.command or 'the start command'
        return Check(
            key='health',
            title=title,
            status='fail',
            detail='The app did not answer at its home page when it was started.',
            fix=f'PORT=8000 {run}\n# in another terminal: this must print 200\n{_CURL_HOME}',
        )
    if home_answers:
        extra = f' It also has a health route, {health}, for the host to check.' if health else ''
        return Check(key='health', title=title, status='pass', detail=f'The home page answered.{extra}')
    if health:
        return Check(key='health', title=title, status='pass', detail=f'The app has a health route, {health}.')
    return Check(
        key='health',
        title=title,
        status='warn',
        detail='No health route was found and the home page was not tried.',
        fix=f'# start the app, then check that this prints 200\n{_CURL_HOME}',
    )


_DEBUG_COMMAND: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'(?:^|\s)--reload\b'), 'reloads on every file change (--reload)'),
    (re.compile(r'(?:^|\s)--debug\b'), 'runs in debug mode (--debug)'),
    (re.compile(r'\bFLASK_DEBUG=(?:1|true|True)\b'), 'turns on the Flask debugger (FLASK_DEBUG)'),
    (re.compile(r'\bFLASK_ENV=development\b'), 'runs Flask in development mode'),
    (re.compile(r'\bNODE_ENV=development\b'), 'runs in development mode (NODE_ENV=development)'),
    (re.compile(r'\bnodemon\b'), 'uses nodemon, a development tool'),
    (re.compile(r'\bmanage\.py runserver\b'), "uses Django's development server"),
    (
        re.compile(r'\bnext dev\b|\breact-scripts start\b|\bng serve\b|\bvite(?!\s+(?:build|preview))\b'),
        'runs a development server',
    ),  # fmt: skip
]
_DEBUG_PY = re.compile(r"""\b(?:debug|DEBUG|reload)\s*=\s*True\b|\[\s*['"]DEBUG['"]\s*\]\s*=\s*True\b""")
_DEBUG_JS = re.compile(r"""NODE_ENV['"]?\s*[:=]\s*['"]development['"]""")


def _production_command(command: str) -> str:
    out = re.sub(r'(?:^|\s)--(?:reload|debug)\b', '', command)
    out = re.sub(r'\b(?:FLASK_DEBUG=(?:1|true|True)|FLASK_ENV=development)\s*', '', out)
    out = out.replace('NODE_ENV=development', 'NODE_ENV=production').replace('nodemon', 'node')
    return re.sub(r'\s+', ' ', out).strip()


def _dev_server_fix(body: str) -> str:
    if re.search(r'\bvite\b', body):
        return 'npm pkg set scripts.build="vite build" scripts.start="vite preview --host 0.0.0.0 --port \\$PORT"'
    if re.search(r'\bnext\b', body):
        return 'npm pkg set scripts.build="next build" scripts.start="next start -p \\$PORT"'
    if 'react-scripts' in body:
        return 'npm pkg set scripts.build="react-scripts build" scripts.start="npx serve -s build -l \\$PORT"'
    return ''


def _check_debug(project: _Project, start: _Start) -> Check:
    title = 'No debug mode'
    problems: list[str] = []
    fixes: list[str] = []
    scripts = _scripts(project)
    sources: list[tuple[str, str]] = []
    if start.command:
        script = re.match(r'npm (?:start|run (\S+))$', start.command)
        if script:
            name = script.group(1) or 'start'
            sources.append((f'package.json "{name}" script', scripts.get(name, '')))
        else:
            sources.append(('Procfile' if start.source == 'Procfile' else 'the start command', start.command))
    for where, command in sources:
        why = [reason for pattern, reason in _DEBUG_COMMAND if pattern.search(command)]
        if not why:
            continue
        problems.append(f'{where} ({command}) {", ".join(why)}')
        fixed = _production_command(command)
        if where.startswith('package.json'):
            name = where.split('"')[1]
            fixes.append(_dev_server_fix(command) or f'npm pkg set scripts.{name}={shlex.quote(fixed)}')
        elif where == 'Procfile':
            fixes.append(f'echo {shlex.quote("web: " + fixed)} > Procfile')
        else:
            fixes.append(fixed)
    for path, text in sorted(project.code()):
        if _is_test_file(path):
            continue
        pattern = _DEBUG_PY if path.endswith('.py') else _DEBUG_JS
        for n, line in enumerate(text.split('\n'), 1):
            if line.lstrip().startswith(('#', '//')) or not pattern.search(line):
                continue
            shown = _REDACTOR.redact(line.strip())[:160]
            problems.append(f'{path} line {n}: {shown}')
            fixed = re.sub(r'(debug|DEBUG|reload|\])(\s*=\s*)True', r'\1\2False', line.strip())
            fixed = re.sub(r"""(['"])development\1""", r'\1production\1', fixed)
            fixes.append(f'# {path}, line {n}:\n{_REDACTOR.redact(fixed)}')
    if problems:
        return Check(
            key='debug',
            title=title,
            status='fail',
            detail='Debug or development mode is on: ' + '; '.join(problems[:5])
            + '. It can show your code and data to anyone who triggers an error, and runs slower.',
            fix='\n'.join(fixes[:5]),
        )  # fmt: skip
    return Check(key='debug', title=title, status='pass', detail='Nothing turns on debug or development mode.')


_NPM_DEFAULT_TEST = 'no test specified'


def _check_tests(project: _Project, start: _Start) -> Check:
    title = "The app's own tests"
    tests = sorted(
        n
        for n in project.names
        if _is_test_file(n)
        and n.endswith(CODE_EXTENSIONS)
        and posixpath.basename(n) not in ('__init__.py', 'conftest.py')
    )
    npm_test = _scripts(project).get('test', '')
    if tests or (npm_test and _NPM_DEFAULT_TEST not in npm_test):
        run = 'npm test' if npm_test and _NPM_DEFAULT_TEST not in npm_test else 'python3 -m pytest'
        count = f'{len(tests)} test file{"s" if len(tests) != 1 else ""}' if tests else 'A test script'
        return Check(
            key='tests',
            title=title,
            status='pass',
            detail=f'{count} found. Run them before each deploy: `{run}`.',
        )
    command = start.command or 'python3 app.py'
    fix = (
        "mkdir -p tests && cat > tests/test_smoke.py <<'TEST_EOF'\n"
        '"""Smoke test: the app starts and its home page answers."""\n'
        'import os, signal, socket, subprocess, time, urllib.request\n\n'
        'ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n\n\n'
        'def test_home_page_answers():\n'
        '    with socket.socket() as probe:  # a free port\n'
        '        probe.bind(("127.0.0.1", 0))\n'
        '        port = probe.getsockname()[1]\n'
        '    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1")\n'
        f'    app = subprocess.Popen({command!r}, shell=True, cwd=ROOT, env=env, start_new_session=True)\n'
        '    try:\n'
        '        for _ in range(100):\n'
        '            try:\n'
        '                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:\n'
        '                    assert page.status == 200\n'
        '                    return\n'
        '            except OSError:\n'
        '                time.sleep(0.2)\n'
        '        raise AssertionError("the app did not answer within 20 seconds")\n'
        '    finally:\n'
        '        os.killpg(app.pid, signal.SIGTERM)\n'
        '        app.wait()\n\n\n'
        'if __name__ == "__main__":\n'
        '    test_home_page_answers()\n'
        '    print("ok")\n'
        'TEST_EOF\n'
        'python3 tests/test_smoke.py'
    )
    return Check(
        key='tests',
        title=title,
        status='warn',
        detail='The app has no tests of its own, so nothing checks it still works after a change.',
        fix=fix,
    )


# ── deploy paths ──────────────────────────────────────────────────────────────────────────────

_WRITES_FILES = re.compile(
    r'\.write_text\(|\.write_bytes\(|open\([^)\n]*["\'][wa]b?\+?["\']|writeFile|sqlite3|DATA_DIR'
)


def slug(title: str) -> str:
    return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')[:40].strip('-') or 'app'


@dataclass(frozen=True)
class _Facts:
    title: str
    slug: str
    kind: str
    start: str
    install: str | None
    env: list[str]
    health: str
    writes_files: bool
    data_dir: bool
    reads_host: bool  # the app binds $HOST: a host must set it to 0.0.0.0 to reach it
    requirements: bool
    build: str | None = None  # a build step before the start (a Vite front end: `vite preview` serves dist/)


def _install_command(project: _Project) -> str | None:
    if 'package.json' in project.names:
        return 'npm ci' if any(n in project.names for n in LOCKFILES) else 'npm install'
    requirements = project.texts.get('requirements.txt') or ''
    if any(line.strip() and not line.strip().startswith('#') for line in requirements.split('\n')):
        return 'pip install -r requirements.txt'
    return None


def _dockerfile(f: _Facts) -> str:
    if f.kind == 'node' and f.build:  # the build needs the dev dependencies (vite itself), then serves its output
        head = f'FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN {f.install}\nCOPY . .\nRUN {f.build}\n'
        env = 'ENV HOST=0.0.0.0 PORT=8000\n'
    elif f.kind == 'node':
        install = 'RUN npm ci --omit=dev' if f.install == 'npm ci' else 'RUN npm install --omit=dev'
        head = f'FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\n{install}\nCOPY . .\n'
        env = 'ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000\n'
    else:
        pip = 'COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n' if f.install else ''
        head = f'FROM python:3.12-slim\nWORKDIR /app\n{pip}COPY . .\n'
        env = 'ENV PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000\n'
    return f'{head}{env}EXPOSE 8000\nCMD ["sh", "-c", {json.dumps(f.start)}]\n'


def _env_step(f: _Facts, where: str, *, host: bool = False) -> DeployStep:
    lines = ['HOST=0.0.0.0'] if host and f.reads_host else []
    lines += [f'{name}=' for name in f.env]
    if not lines:
        return DeployStep(text=f'The app reads no secret settings, so there is nothing to add in {where}.')
    return DeployStep(
        text=f'In {where}, add these environment variables (fill in your real values; the names are in .env.example):',
        code='\n'.join(lines),
    )


def _storage_note(f: _Facts) -> list[str]:
    if not f.writes_files:
        return []
    return ['The app saves what people enter as files on disk: on this path they are lost at each deploy or '
            'restart unless you attach a persistent disk or move them to a database.']  # fmt: skip


def _paas(f: _Facts) -> DeployPath:
    build = f.install or ('pip install -r requirements.txt' if f.requirements else 'echo "nothing to install"')
    build = f'{build} && {f.build}' if f.build else build
    return DeployPath(
        key='paas',
        name='A PaaS (Render, Railway or similar)',
        cost='$0–7/month to start (free tiers sleep when idle); about $7–25/month always on',
        difficulty='Easy',
        tradeoffs=[
            'Deploys on every push to GitHub, with HTTPS and logs included.',
            'Free tiers go to sleep: the first visit after a quiet spell takes several seconds.',
            'Less control over the machine than a server of your own.',
            *_storage_note(f),
        ],
        steps=[
            DeployStep(text=f'Put {f.title} in a GitHub repository (keep .env out of it):',
                       code=f'git init && git add . && git commit -m "{f.slug}: first deploy" && git branch -M main\n'
                            f'git remote add origin git@github.com:<you>/{f.slug}.git && git push -u origin main'),
            DeployStep(text=f'On render.com, choose New → Web Service, connect the repository and name it {f.slug}.'),
            DeployStep(text='Set the build command:', code=build),
            DeployStep(text='Set the start command:', code=f.start),
            _env_step(f, "the service's Environment tab", host=True),
            DeployStep(text=f'Set the health check path to {f.health}, then press Deploy.'),
            DeployStep(text=f'Open the https://{f.slug}.onrender.com address the dashboard shows and try every page.'),
        ],
    )  # fmt: skip


def _vps(f: _Facts) -> DeployPath:
    volume = f' -v ~/{f.slug}/data:/app/data' if f.data_dir else ''
    env_file = ' --env-file .env' if f.env else ''
    return DeployPath(
        key='vps',
        name='A single container on a small VPS (Hetzner, DigitalOcean or similar)',
        cost='$4–12/month for the server',
        difficulty='Medium',
        tradeoffs=[
            'The cheapest always-on option, and the files the app saves stay on the server.',
            'You look after the server: updates, backups and restarts are yours.',
            'One machine: if it goes down, so does the app.',
        ],
        steps=[
            DeployStep(text='Rent the smallest Ubuntu server and note its IP address; point your domain at it.'),
            DeployStep(text='Add a Dockerfile to the project:', code=f"cat > Dockerfile <<'EOF'\n{_dockerfile(f)}EOF"),
            DeployStep(text='Keep secrets and local clutter out of the image:',
                       code='printf ".env\\n.git\\nnode_modules\\n__pycache__\\n" > .dockerignore'),
            DeployStep(text='Copy the project to the server and install Docker there:',
                       code=f'scp -r . root@<server-ip>:{f.slug}\n'
                            'ssh root@<server-ip> "curl -fsSL https://get.docker.com | sh"'),
            _env_step(f, f'~/{f.slug}/.env on the server'),
            DeployStep(text='Build and start the app (it restarts by itself after a reboot):',
                       code=f'ssh root@<server-ip> "cd ~/{f.slug} && docker build -t {f.slug} . && '
                            f'docker run -d --name {f.slug} --restart unless-stopped -p 127.0.0.1:8000:8000'
                            f'{env_file}{volume} {f.slug}"'),
            DeployStep(text='Serve it over HTTPS with Caddy (it gets the certificate itself):',
                       code='ssh root@<server-ip> "apt-get install -y caddy && printf '
                            "'<your-domain> {\\n  reverse_proxy 127.0.0.1:8000\\n}\\n' > /etc/caddy/Caddyfile && "
                            'systemctl reload caddy"'),
            DeployStep(text=f'Open https://<your-domain>{f.health} and check it answers.'),
        ],
    )  # fmt: skip


def _cloud_run(f: _Facts) -> DeployPath:
    env = ','.join(f'{name}=<value>' for name in f.env)
    flags = f' \\\n  --set-env-vars "{env}"' if env else ''
    return DeployPath(
        key='managed',
        name='A managed container platform (Google Cloud Run)',
        cost='$0–10/month at low traffic (pay per request, generous free tier)',
        difficulty='Medium',
        tradeoffs=[
            'Scales up with traffic and down to zero when nobody visits, so a quiet app costs almost nothing.',
            'A cold start can add a second or two to the first visit.',
            'Needs a Google Cloud account with billing, and the gcloud command line.',
            *_storage_note(f),
        ],
        steps=[
            DeployStep(text='Install the gcloud CLI, sign in and pick a project:',
                       code='gcloud auth login\ngcloud config set project <your-project-id>'),
            DeployStep(text='Add a Dockerfile to the project:', code=f"cat > Dockerfile <<'EOF'\n{_dockerfile(f)}EOF"),
            DeployStep(text=f'Deploy {f.title} from the project folder:',
                       code=f'gcloud run deploy {f.slug} --source . --region europe-west1 --allow-unauthenticated '
                            f'--port 8000{flags}'),
            DeployStep(text=f'Open the service URL gcloud prints and check {f.health} answers.'),
        ],
    )  # fmt: skip


def _static_host(f: _Facts) -> DeployPath:
    return DeployPath(
        key='static',
        name='A static host (Netlify, Cloudflare Pages or GitHub Pages)',
        cost='Free for a small site',
        difficulty='Easy',
        tradeoffs=[
            'No server to run: fast worldwide and free at this size.',
            'Pages only: anything that must run on a server needs another path.',
        ],
        steps=[
            DeployStep(text='Install the Netlify command line and sign in:',
                       code='npm install -g netlify-cli\nnetlify login'),
            DeployStep(text=f'Publish {f.title} from the project folder:',
                       code=f'netlify deploy --prod --dir . --site-name {f.slug}'),
            DeployStep(text=f'Open https://{f.slug}.netlify.app and try every page.'),
        ],
    )  # fmt: skip


def deploy_paths(
    project: _Project, *, title: str, start: _Start, env: list[str], health: str | None, reads_host: bool = False
) -> list[DeployPath]:
    code = '\n'.join(t for p, t in project.code() if not _is_test_file(p))
    facts = _Facts(
        title=title,
        slug=slug(title),
        kind=start.kind,
        start=start.command or 'python3 app.py',
        install=_install_command(project),
        env=env,
        health=health or '/',
        writes_files=bool(_WRITES_FILES.search(code)),
        data_dir=bool(re.search(r"""['"]data['"]|['"]\./data""", code)),
        reads_host=reads_host,
        requirements='requirements.txt' in project.names,
        build='npm run build' if start.kind == 'node' and _scripts(project).get('build', '').strip() else None,
    )
    if start.kind == 'static':
        return [_static_host(facts), _paas(facts), _vps(facts)]
    return [_paas(facts), _vps(facts), _cloud_run(facts)]


# ── the report ────────────────────────────────────────────────────────────────────────────────


def assess(
    files: Mapping[str, bytes],
    *,
    title: str,
    start_command: str | None,
    home_answers: bool | None,
    verified: tuple[int, int] | None = None,
) -> ReadinessReport:
    """The readiness of a project from its files (path → content); see the module docstring."""
    project = _project(files)
    start = _start(project, start_command)
    all_reads = env_reads({p: t for p, t in project.texts.items() if not _is_test_file(p)}, platform=True)
    reads = {n: p for n, p in all_reads.items() if n not in PLATFORM_VARS}
    secrets = find_secrets(project.texts)
    secret_names = [f.name for f in secrets if f.name and f.name not in PLATFORM_VARS]
    health = health_path(project)
    checks = [
        _check_readme(project, title, start, _install_command(project)),
        _check_env(project, all_reads, secret_names),
        _check_start(start),
        _check_secrets(project, secrets),
        _check_pinned(project),
        _check_health(health, home_answers, start),
        _check_debug(project, start),
        _check_tests(project, start),
    ]
    if verified is not None:
        checks.insert(0, _check_features(*verified))
    _, listed = _env_example(project)
    env = sorted((set(reads) | set(secret_names) | listed) - PLATFORM_VARS)
    return ReadinessReport(
        title=title,
        verdict=verdict_of(checks),
        start_command=start.command,
        checks=checks,
        deploy_paths=deploy_paths(
            project, title=title, start=start, env=env, health=health, reads_host='HOST' in all_reads
        ),
    )


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r'`+', text)), default=0)
    return '`' * max(3, longest + 1)


def _block(text: str, indent: str = '') -> str:
    fence = _fence(text)
    body = '\n'.join(indent + line if line else line for line in text.split('\n'))
    return f'{indent}{fence}\n{body}\n{indent}{fence}'


def report_markdown(report: ReadinessReport) -> str:
    """The report as one Markdown document (the founder's download)."""
    version = f' ({report.build_version})' if report.build_version else ''
    out = [
        f'# Deploy readiness: {report.title}{version}',
        f'**Verdict: {report.verdict.capitalize()}: {report.verdict_label}.**',
    ]
    if report.start_command:
        out.append(f'Start command: `{report.start_command}`')
    out.append('## Checks')
    out.append('\n'.join(f'- **{STATUS_LABELS[c.status]}**: {c.title}. {c.detail}' for c in report.checks))
    for heading, checks in (('Blockers: fix these first', report.blockers), ('Warnings', report.warnings)):
        if checks:
            out.append(f'## {heading}')
            for c in checks:
                out.append(
                    f'### {c.title}\n\n{c.detail}\n\n{_block(c.fix)}' if c.fix else f'### {c.title}\n\n{c.detail}'
                )
    out.append('## Ways to deploy')
    for n, path in enumerate(report.deploy_paths, 1):
        lines = [f'### {n}. {path.name}', f'- Cost: {path.cost}', f'- Difficulty: {path.difficulty}']
        lines += [f'- {t}' for t in path.tradeoffs]
        lines.append('')
        for i, step in enumerate(path.steps, 1):
            lines.append(f'{i}. {step.text}')
            if step.code:
                lines.append(_block(step.code, indent='   '))
        out.append('\n'.join(lines))
    return '\n\n'.join(out) + '\n'


# ── stored with the build ─────────────────────────────────────────────────────────────────────

_SKIP_READ = BINARY_EXTENSIONS


async def read_workspace(sandbox: Sandbox) -> dict[str, bytes]:
    """The workspace's files for `assess`; binary files by name only (empty), files over 1 MB likewise."""
    files: dict[str, bytes] = {}
    for name in (await sandbox.list_files('.', recursive=True))[:MAX_FILES]:
        if name.endswith('/') or _skipped_dir(_clean_path(name)):
            continue
        if posixpath.splitext(name)[1].lower() in _SKIP_READ:
            files[name] = b''
            continue
        try:
            data = await sandbox.read_file(name)
        except SandboxError:  # a symlink out of the workspace, a file gone meanwhile: not part of the report
            continue
        files[name] = data if len(data) <= MAX_FILE_BYTES else b''
    return files


async def store_report(
    session: AsyncSession, *, project_id: uuid.UUID, build_version: str | None, report: ReadinessReport
) -> Artifact:
    """The next deploy_report version of the project (added to the caller's transaction)."""
    current = await session.exec(
        select(func.max(Artifact.version)).where(Artifact.project_id == project_id, Artifact.kind == KIND)
    )
    report = report.model_copy(update={'build_version': build_version})
    artifact = Artifact(
        project_id=project_id,
        kind=KIND,
        version=(current.one() or 0) + 1,
        content=report.model_dump(mode='json'),
        source='platform',
        note=f'Deploy readiness of {build_version or "the build"}: {report.verdict}',
        build_version=build_version,
    )
    session.add(artifact)
    await session.flush()
    return artifact


def _check_features(verified: int, scoped: int) -> Check:
    """The acceptance checks' pass rate: a feature that does not work in a browser blocks a deploy."""
    title = 'Features work in a browser'
    if scoped == 0:
        return Check(key='features', title=title, status='warn', detail='No feature of the brief was checked.',
                     fix='Build again so every feature gets an acceptance check.')  # fmt: skip
    detail = f'{verified} of {scoped} features passed their acceptance check.'
    if verified >= scoped:
        return Check(key='features', title=title, status='pass', detail=detail)
    fix = 'Ask for a change that fixes the features that failed, or leave them out of the scope.'
    return Check(key='features', title=title, status='fail', detail=detail, fix=fix)


async def record_readiness(
    sessions: SessionFactory,
    sandbox: Sandbox | None,
    *,
    project_id: uuid.UUID,
    build_version: str | None,
    verified: tuple[int, int] | None = None,
) -> Artifact | None:
    """Assess a READY build's workspace and store the report; logs and returns None on any problem."""
    if sandbox is None:
        return None
    try:
        files = await read_workspace(sandbox)
        async with sessions() as session:
            project = await session.get(Project, project_id)
        title = project.title if project else 'Your app'
        # READY: the home page answered; `verified` is the acceptance checks' (passed, scoped)
        report = assess(files, title=title, start_command=None, home_answers=True, verified=verified)
        async with transaction(sessions) as session:
            return await store_report(session, project_id=project_id, build_version=build_version, report=report)
    except Exception:  # noqa: BLE001 - the report is a convenience: it never fails the build
        logger.warning('could not produce the deploy readiness report of project %s', project_id, exc_info=True)
        return None


def report_of(artifact: Artifact) -> ReadinessReport | None:
    """The report stored in a deploy_report artifact (None, logged, when it cannot be read)."""
    try:
        return ReadinessReport.model_validate(artifact.content)
    except ValidationError:
        logger.warning('deploy report %s could not be read', artifact.id, exc_info=True)
        return None


async def latest_report(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> Artifact | None:
    """The project's newest deploy_report for its owner (another founder's project is NotFound), or None."""
    await load_project(session, user=user, project_id=project_id)
    rows = await session.exec(
        select(Artifact)
        .where(Artifact.project_id == project_id, Artifact.kind == KIND)
        .order_by(col(Artifact.version).desc())
        .limit(1)
    )
    return rows.first()
