"""Deploy readiness (IT-4): the checks over a project's files, the verdict, the fixes and the deploy paths."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from core.adapters.llm_offline.builder import build_script, make_plan
from core.builds.readiness import (
    MARK,
    Check,
    ReadinessReport,
    assess,
    env_reads,
    find_secrets,
    report_markdown,
    verdict_of,
)

PLANTED = 'sk-live-4eC39HqLyjWDarjtT1zdp7dc'
README = (
    b"# Invoice Chaser\n\nReminds freelancers' clients about unpaid invoices, politely and on time.\n\n"
    b'## Run it\n\n    pip install -r requirements.txt\n    PORT=8000 python3 app.py\n'
)
BROKEN_APP = f'''import os

from fastapi import FastAPI

API_KEY = "{PLANTED}"
app = FastAPI()


@app.get("/healthz")
def health():
    return {{"ok": True}}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ["PORT"]))
'''
TESTS = (
    b'from fastapi.testclient import TestClient\n\nfrom app import app\n\n\n'
    b'def test_health():\n    assert TestClient(app).get("/healthz").status_code == 200\n'
)


def broken_project() -> dict[str, bytes]:
    """A planted secret, no .env.example and an unpinned dependency; everything else in order."""
    return {
        'README.md': README,
        'app.py': BROKEN_APP.encode(),
        'requirements.txt': b'fastapi\nuvicorn==0.30.6\n',
        'tests/test_app.py': TESTS,
    }


def run(files: dict[str, bytes], **kwargs: object) -> ReadinessReport:
    options: dict = {'title': 'Invoice Chaser', 'start_command': None, 'home_answers': True, **kwargs}
    return assess(files, **options)


def by_key(report: ReadinessReport) -> dict[str, Check]:
    return {c.key: c for c in report.checks}


def apply_shell_fix(fix: str, files: dict[str, bytes], tmp_path: Path) -> dict[str, bytes]:
    """Run a fix as a founder would paste it into a terminal in the project folder; the files afterwards."""
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    subprocess.run(['sh', '-c', fix], cwd=tmp_path, check=True, capture_output=True, timeout=30)
    return {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob('*') if p.is_file()}


# ── the scenario ──


def test_secret_missing_env_example_and_unpinned_dependency_are_three_blockers(tmp_path: Path) -> None:
    report = run(broken_project())

    assert report.verdict == 'red'
    assert {c.key for c in report.blockers} == {'secrets', 'env_example', 'pinned'}
    assert all(c.fix.strip() for c in report.blockers)
    checks = by_key(report)
    assert PLANTED not in checks['secrets'].detail and PLANTED not in checks['secrets'].fix  # never shown again
    assert 'app.py line 5' in checks['secrets'].detail and MARK in checks['secrets'].detail
    assert 'API_KEY = os.environ["API_KEY"]' in checks['secrets'].fix
    assert 'API_KEY' in checks['env_example'].detail and 'fastapi' in checks['pinned'].detail
    assert 'pip freeze -r requirements.txt' in checks['pinned'].fix
    # The env fix is a command to paste: it writes a .env.example that names the variable.
    written = apply_shell_fix(checks['env_example'].fix, broken_project(), tmp_path)
    assert 'API_KEY=' in written['.env.example'].decode()
    assert json.loads(report.model_dump_json())['blockers'][0]['key'] == 'env_example'  # stored with the report


def test_fixing_the_three_blockers_turns_the_report_green() -> None:
    files = broken_project()
    files['app.py'] = BROKEN_APP.replace(f'"{PLANTED}"', 'os.environ["API_KEY"]').encode()
    files['.env.example'] = b'# Real values go in the host settings.\nAPI_KEY=\n'
    files['requirements.txt'] = b'fastapi==0.115.0\nuvicorn==0.30.6\n'

    report = run(files)

    assert report.verdict == 'green', [(c.key, c.status, c.detail) for c in report.checks]
    assert report.blockers == [] and report.warnings == []
    assert report.start_command == 'python3 app.py'
    assert 'API_KEY' in by_key(report)['env_example'].detail


def test_verdict_is_red_on_any_fail_yellow_on_any_warn_else_green() -> None:
    def check(status: str) -> Check:
        return Check(key=status, title=status, status=status, detail='')  # type: ignore[arg-type]

    assert verdict_of([check('pass'), check('warn'), check('fail')]) == 'red'
    assert verdict_of([check('pass'), check('warn')]) == 'yellow'
    assert verdict_of([check('pass')]) == 'green'


# ── the offline model's app ──


def offline_app_files(title: str = 'PawBook') -> dict[str, bytes]:
    """Every file the offline builder writes for a first build (no step failing)."""
    spec = {
        'brief': {
            'title': title,
            'value_proposition': 'Dog groomers take bookings and deposits online.',
            'core_features': [
                {'name': 'Online booking', 'description': 'Clients pick a free slot.'},
                {'name': 'Deposit payment', 'description': 'A deposit secures the slot.'},
            ],
        }
    }
    return {
        s.input['path']: s.input['content'].encode()
        for s in build_script(make_plan(spec), {})
        if s.tool == 'write_file'
    }


def test_the_offline_app_is_deployable_with_one_warning_its_missing_tests() -> None:
    files = offline_app_files()
    report = assess(files, title='PawBook', start_command=None, home_answers=True)

    assert report.verdict == 'yellow'
    statuses = {c.key: c.status for c in report.checks}
    assert statuses == {
        'readme': 'pass',
        'env_example': 'pass',
        'start': 'pass',
        'secrets': 'pass',
        'pinned': 'pass',
        'health': 'pass',
        'debug': 'pass',
        'tests': 'warn',
    }
    checks = by_key(report)
    assert 'HOST, PORT' in checks['env_example'].detail  # read, but provided by the host
    assert '/healthz' in checks['health'].detail
    assert report.start_command == 'python3 app.py'
    assert 'tests/test_smoke.py' in checks['tests'].fix and "'python3 app.py'" in checks['tests'].fix


def test_deploy_paths_are_filled_in_for_the_project() -> None:
    report = assess(offline_app_files('PawBook'), title='PawBook', start_command=None, home_answers=True)

    assert [p.key for p in report.deploy_paths] == ['paas', 'vps', 'managed']
    for path in report.deploy_paths:
        assert path.cost and path.difficulty and path.tradeoffs and len(path.steps) >= 3
        text = '\n'.join(f'{s.text}\n{s.code}' for s in path.steps)
        assert 'pawbook' in text
    paas, vps, managed = report.deploy_paths
    assert any(s.code == 'python3 app.py' for s in paas.steps)  # the start command, as the host asks for it
    assert any('HOST=0.0.0.0' in s.code for s in paas.steps)  # the app binds $HOST: a PaaS must open it up
    assert any('/healthz' in s.text for s in paas.steps)
    assert any('CMD ["sh", "-c", "python3 app.py"]' in s.code for s in vps.steps)
    assert any('-v ~/pawbook/data:/app/data' in s.code for s in vps.steps)  # entries saved in data/ survive
    assert any('lost at each deploy' in t for t in paas.tradeoffs + managed.tradeoffs)


def test_a_vite_app_is_built_before_it_is_served_on_every_deploy_path() -> None:
    from core.adapters.llm_offline import app_vite

    files = {'package.json': app_vite.render_package_json('Camp').encode(), 'index.html': b'<div id=root></div>',
             'src/main.jsx': b'import React from "react"\n', 'README.md': README}  # fmt: skip
    report = run(files)
    assert report.start_command == 'npm start'  # `vite preview`: it serves dist/, which only a build makes
    paas, vps, _ = report.deploy_paths
    assert any(s.code == 'npm install && npm run build' for s in paas.steps)
    dockerfile = next(s.code for s in vps.steps if 'FROM node' in s.code)
    assert 'RUN npm install\n' in dockerfile and 'RUN npm run build' in dockerfile  # vite is a dev dependency
    assert '--omit=dev' not in dockerfile


def test_a_static_site_gets_a_static_host_first() -> None:
    files = {'index.html': b'<!doctype html><title>Hi</title><h1>Hello</h1>', 'README.md': README}
    report = run(files)
    assert report.deploy_paths[0].key == 'static'
    assert report.start_command is not None and 'http.server' in report.start_command


# ── .env.example completeness ──

PY_READS = b"""import os
from os import environ, getenv

DB = os.environ["DATABASE_URL"]
MAIL = os.environ.get("SMTP_HOST", "localhost")
KEY = os.getenv('STRIPE_KEY')
DEBUG_LEVEL = environ.get("LOG_LEVEL")
PORT = int(os.environ.get("PORT", "8000"))
"""
JS_READS = b"""const url = process.env.REDIS_URL;
const key = process.env["SENDGRID_KEY"];
const { S3_BUCKET, S3_REGION: region = "eu" } = process.env;
const api = import.meta.env.VITE_API_URL;
const port = process.env.PORT || 3000;
"""


def test_every_variable_the_code_reads_is_found_in_python_and_javascript() -> None:
    reads = env_reads({'app.py': PY_READS.decode(), 'server.js': JS_READS.decode()})
    assert set(reads) == {
        'DATABASE_URL',
        'SMTP_HOST',
        'STRIPE_KEY',
        'LOG_LEVEL',
        'REDIS_URL',
        'SENDGRID_KEY',
        'S3_BUCKET',
        'S3_REGION',
        'VITE_API_URL',
    }  # PORT is the host's
    assert reads['DATABASE_URL'] == 'app.py' and reads['REDIS_URL'] == 'server.js'


def test_an_incomplete_env_example_names_what_is_missing_and_the_fix_completes_it(tmp_path: Path) -> None:
    files = {
        'README.md': README,
        'app.py': PY_READS,
        'server.js': JS_READS,
        '.env.example': b'DATABASE_URL=postgres://localhost/app\n# SMTP_HOST=\nexport STRIPE_KEY=\n',
    }
    check = by_key(run(files))['env_example']
    assert check.status == 'fail'
    for name in ('LOG_LEVEL', 'REDIS_URL', 'SENDGRID_KEY', 'S3_BUCKET', 'S3_REGION', 'VITE_API_URL'):
        assert name in check.detail
    for listed in ('DATABASE_URL', 'SMTP_HOST', 'STRIPE_KEY', 'PORT'):  # commented and exported lines count
        assert f'{listed} (' not in check.detail
    assert check.fix.startswith('cat >> .env.example')
    fixed = apply_shell_fix(check.fix, files, tmp_path)
    assert by_key(run(fixed))['env_example'].status == 'pass'


def test_no_env_example_is_needed_when_the_code_reads_only_what_the_host_provides() -> None:
    files = {'app.py': b'import os\nPORT = int(os.environ["PORT"])\n'}
    check = by_key(run(files))['env_example']
    assert check.status == 'pass' and 'PORT' in check.detail


# ── secrets ──


def test_names_expressions_and_placeholders_are_not_secrets() -> None:
    texts = {
        'app.py': 'token = request.headers.get("X-Token")\npassword = form["password"]\n'
        'API_KEY = os.environ["API_KEY"]\nsecret_key = settings.secret_key\n',
        'web.js': 'const apiKey = process.env.API_KEY;\nheaders: { Authorization: `Bearer ${token}` }\n',
        'README.md': 'Set a password: at least 8 characters.\nexport OPENAI_API_KEY=sk-...\n',
        '.env.example': 'API_KEY=your-key-here\nSECRET_KEY=\n',
        'package-lock.json': '{"integrity": "sha512-abcdefABCDEF0123456789abcdefABCDEF0123456789"}',
        '.env': f'API_KEY={PLANTED}\n',  # the place real values belong
    }
    assert find_secrets(texts) == []


def test_secret_shapes_and_random_values_are_found_without_showing_them() -> None:
    github = 'ghp_' + 'R7x' * 12
    texts = {
        'config.py': f'SECRET_KEY = "{"a8f5f167f44f4964e6c998dee827110c"}"\n',
        'server.js': f"const client = new Stripe('sk_live_{'Q4f' * 8}');\nconst opts = {{ apiKey: '{github}' }};\n",
        'settings.yml': 'database:\n  password: hunter2-but-longer\n',
        'db.py': 'DATABASE_URL = "postgres://app:s3cretPassw0rd@db.example.com/app"\n',
        '.env.example': f'STRIPE_KEY={PLANTED}\n',
    }
    found = {(f.path, f.line): f for f in find_secrets(texts)}
    assert set(found) == {
        ('config.py', 1),
        ('server.js', 1),
        ('server.js', 2),
        ('settings.yml', 2),
        ('db.py', 1),
        ('.env.example', 1),
    }
    assert found[('server.js', 2)].name == 'API_KEY' and found[('db.py', 1)].name == 'DATABASE_URL'
    for finding in found.values():
        assert MARK in finding.shown and PLANTED not in finding.shown and github not in finding.shown
    check = by_key(run({k: v.encode() for k, v in texts.items()}))['secrets']
    assert check.status == 'fail' and 'const opts = { apiKey: process.env.API_KEY };' in check.fix
    assert 'DATABASE_URL = os.environ["DATABASE_URL"]' in check.fix
    assert 'new Stripe(process.env.STRIPE_SECRET_KEY);' in check.fix


def test_test_fixtures_only_count_when_they_look_like_real_keys() -> None:
    texts = {
        'tests/test_login.py': 'password = "correct horse"\n',
        'tests/test_billing.py': f'STRIPE = "{PLANTED}"\n',
    }
    assert [f.path for f in find_secrets(texts)] == ['tests/test_billing.py']


def test_large_and_binary_files_are_skipped() -> None:
    big = b'# data\n' + b'x' * 1_000_001 + f'\nAPI_KEY = "{PLANTED}"\n'.encode()
    binary = b'\x89PNG\r\n\x1a\n\0\0' + f'API_KEY = "{PLANTED}"'.encode()
    files = {'README.md': README, 'app.py': b'print("hi")\n', 'dump.sql': big, 'logo.bin': binary}
    assert by_key(run(files))['secrets'].status == 'pass'


# ── dependencies ──


def test_npm_ranges_and_a_missing_lockfile_fail_with_an_exact_install() -> None:
    package = {
        'scripts': {'start': 'node server.js'},
        'dependencies': {'express': '^4.19.2', 'dotenv': '16.4.5'},
        'devDependencies': {'eslint': '~9.0.0'},
    }
    files = {'package.json': json.dumps(package).encode(), 'server.js': b'require("express")().listen(3000)\n'}
    check = by_key(run(files))['pinned']
    assert check.status == 'fail'
    assert "npm install --save-exact 'express@^4.19.2'" in check.fix
    assert "npm install --save-exact --save-dev 'eslint@~9.0.0'" in check.fix
    assert 'package-lock.json' in check.detail

    package['dependencies'] = {'express': '4.19.2', 'dotenv': '16.4.5'}
    package['devDependencies'] = {'eslint': '9.0.0'}
    files['package.json'] = json.dumps(package).encode()
    files['package-lock.json'] = b'{}'
    assert by_key(run(files))['pinned'].status == 'pass'


@pytest.mark.parametrize(
    ('line', 'pinned'),
    [
        ('flask==3.0.3', True),
        ('flask==3.0.3 ; python_version >= "3.9"', True),
        ('flask>=3.0', False),
        ('flask~=3.0', False),
        ('flask', False),
        ('flask==3.*', False),
        ('mylib @ git+https://github.com/me/mylib@main', False),
        ('mylib @ git+https://github.com/me/mylib@3f2a9c1d', True),
    ],
)
def test_requirement_lines(line: str, pinned: bool) -> None:
    files = {'requirements.txt': f'# deps\n-r base.txt\n{line}\n'.encode(), 'app.py': b'print(1)\n'}
    assert (by_key(run(files))['pinned'].status == 'pass') is pinned


# ── debug mode, start command, health, README ──


def test_debug_mode_in_code_is_a_blocker_with_the_corrected_line() -> None:
    app = (
        b'import os\nfrom flask import Flask\napp = Flask(__name__)\n# app.run(debug=True) for local work\n'
        b'app.run(host="0.0.0.0", port=int(os.environ["PORT"]), debug=True)\n'
    )
    check = by_key(run({'README.md': README, 'app.py': app}))['debug']
    assert check.status == 'fail'
    assert 'app.py line 5' in check.detail and 'line 4' not in check.detail  # comments are not code
    assert 'app.run(host="0.0.0.0", port=int(os.environ["PORT"]), debug=False)' in check.fix


def test_debug_mode_in_the_start_command_is_found() -> None:
    app = b'import os\nPORT = os.environ["PORT"]\n'
    procfile = by_key(run({'app.py': app, 'Procfile': b'web: FLASK_DEBUG=1 uvicorn app:app --reload\n'}))['debug']
    assert procfile.status == 'fail' and "echo 'web: uvicorn app:app' > Procfile" in procfile.fix

    package = {'scripts': {'start': 'NODE_ENV=development nodemon server.js'}}
    npm = by_key(run({'package.json': json.dumps(package).encode()}))['debug']
    assert npm.status == 'fail' and 'NODE_ENV=production node server.js' in npm.fix

    vite = {'scripts': {'dev': 'vite'}, 'dependencies': {}}
    dev = run({'package.json': json.dumps(vite).encode(), 'index.html': b'<div id=app></div>'})
    assert dev.start_command == 'npm run dev'
    assert by_key(dev)['debug'].status == 'fail' and 'vite preview' in by_key(dev)['debug'].fix

    given = by_key(run({'app.py': app}, start_command='uvicorn app:app --reload --port $PORT'))['debug']
    assert given.status == 'fail' and given.fix == 'uvicorn app:app --port $PORT'


def test_no_start_command_fails_and_a_python_entry_without_port_says_why() -> None:
    nothing = by_key(run({'README.md': README, 'notes.txt': b'hello'}))['start']
    assert nothing.status == 'fail' and 'Procfile' in nothing.fix
    no_port = by_key(run({'app.py': b'from flask import Flask\napp = Flask(__name__)\napp.run()\n'}))['start']
    assert no_port.status == 'fail' and 'PORT' in no_port.detail and 'os.environ.get("PORT"' in no_port.fix


def test_health_depends_on_the_home_page_or_a_health_route() -> None:
    files = offline_app_files()
    assert by_key(assess(files, title='P', start_command=None, home_answers=False))['health'].status == 'fail'
    assert by_key(assess(files, title='P', start_command=None, home_answers=None))['health'].status == 'pass'
    bare = {'app.py': b'import os\nPORT = os.environ["PORT"]\n'}
    assert by_key(assess(bare, title='P', start_command=None, home_answers=None))['health'].status == 'warn'


def test_a_missing_or_trivial_readme_is_a_warning_with_one_to_paste() -> None:
    check = by_key(run({'app.py': b'import os\nPORT = os.environ["PORT"]\n', 'readme.md': b'# x\n'}))['readme']
    assert check.status == 'warn' and '# Invoice Chaser' in check.fix and 'python3 app.py' in check.fix


# ── the download ──


def test_the_markdown_report_lists_the_verdict_blockers_and_numbered_steps() -> None:
    report = run(broken_project()).model_copy(update={'build_version': 'v0.3'})
    text = report_markdown(report)
    assert text.startswith('# Deploy readiness: Invoice Chaser (v0.3)')
    assert '**Verdict: Red: Not ready: fix the blockers first.**' in text
    assert '## Blockers: fix these first' in text and 'API_KEY = os.environ["API_KEY"]' in text
    assert '### 1. A PaaS' in text and '\n1. Put Invoice Chaser in a GitHub repository' in text
    assert PLANTED not in text


def test_a_fence_inside_a_fix_cannot_close_the_block() -> None:
    files = broken_project()
    files['README.md'] = b'tiny'
    report = run(files, title='Hack ``` <script>alert(1)</script>')
    text = report_markdown(report)
    readme_fix = by_key(report)['readme'].fix
    assert '```' in readme_fix  # the README it offers has a fenced block of its own
    assert '````\ncat > README.md' in text  # so the report fences it with four
