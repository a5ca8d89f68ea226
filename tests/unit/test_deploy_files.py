"""The Dockerfile, compose.yaml and the reverse proxy's config, checked offline (no image can be built here):
they parse, every command and setting they name exists in the code, and the image installs what bin/setup does."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / 'compose.yaml').read_text())
DOCKERFILE = (ROOT / 'Dockerfile').read_text()
CADDYFILE = (ROOT / 'deploy' / 'Caddyfile').read_text()
SETUP = (ROOT / 'bin' / 'setup').read_text()
SETTINGS = set(Settings.model_fields)
APP_SERVICES = {'web-a', 'web-b', 'worker-a', 'worker-b'}


def main_commands() -> set[str]:
    return set(re.findall(r"add_parser\('([\w-]+)'", (ROOT / 'main.py').read_text()))


def dockerfile_instructions(name: str) -> list[str]:
    """The arguments of every instruction `name`, continuation lines joined."""
    joined = re.sub(r'\\\n\s*', ' ', DOCKERFILE)
    return [line[len(name) :].strip() for line in joined.splitlines() if line.startswith(name + ' ')]


def test_compose_runs_the_scaled_topology() -> None:
    services = COMPOSE['services']
    assert APP_SERVICES | {'proxy', 'postgres', 'redis', 'minio'} <= set(services)
    commands = {name: services[name]['command'] for name in APP_SERVICES}
    assert commands == {
        'web-a': ['python', 'main.py', 'serve'],
        'web-b': ['python', 'main.py', 'serve'],
        'worker-a': ['python', 'main.py', 'worker'],
        'worker-b': ['python', 'main.py', 'worker'],
    }
    assert {command[2] for command in commands.values()} <= main_commands()


def test_every_setting_compose_names_exists_and_the_scaled_ones_are_set() -> None:
    for name in APP_SERVICES:
        env = COMPOSE['services'][name]['environment']
        assert set(env) - SETTINGS == set(), f'{name} names settings the app does not read'
        assert env['WORKERS'] == 'external' and env['REDIS_URL'].startswith('redis://redis:')
        assert env['DATABASE_URL'].startswith('postgresql://') and '@postgres:5432/' in env['DATABASE_URL']
        assert env['S3_BUCKET'] and env['S3_ENDPOINT_URL'] == 'http://minio:9000'
        assert env['DATA_DIR'] in [v.split(':')[1] for v in COMPOSE['services'][name]['volumes']]


def test_the_proxy_sends_a_browser_to_one_web_process() -> None:
    proxy = COMPOSE['services']['proxy']
    assert './deploy/Caddyfile:/etc/caddy/Caddyfile:ro' in proxy['volumes']
    upstreams = re.search(r'reverse_proxy ([^{]+)\{', CADDYFILE)
    assert upstreams is not None and upstreams.group(1).split() == ['web-a:8080', 'web-b:8080']
    assert re.search(r'^\s*lb_policy cookie \w+', CADDYFILE, re.MULTILINE)  # sticky sessions
    assert re.search(r'^\s*health_uri /healthz$', CADDYFILE, re.MULTILINE)


def test_the_image_installs_what_bin_setup_installs() -> None:
    runtime_lines = [line for line in SETUP.splitlines() if 'need+=(' in line and '"$extras" = dev' not in line]
    setup_packages = {re.search(r'need\+=\((\w+)\)', line).group(1) for line in runtime_lines}  # type: ignore[union-attr]
    installs = [i for i in dockerfile_instructions('RUN') if 'apt-get install' in i]
    assert len(installs) == 1
    image_packages = set(re.findall(r'\b(chromium|bubblewrap|npm)\b', installs[0]))
    assert image_packages == setup_packages == {'chromium', 'bubblewrap'}  # npm is for the tests only
    pip_steps = [step.strip() for i in dockerfile_instructions('RUN') for step in i.split('&&')]
    assert 'python3 -m venv .venv' in SETUP and 'python3 -m venv .venv' in pip_steps
    assert '.venv/bin/pip install -q --upgrade pip' in SETUP and '.venv/bin/pip install -q --upgrade pip' in pip_steps
    assert '.venv/bin/pip install -q --no-cache-dir -e .' in pip_steps and '.venv/bin/pip install -q -e ' in SETUP


def test_the_image_runs_as_a_user_with_data_in_a_volume_and_a_health_check() -> None:
    assert dockerfile_instructions('USER') == ['cofounder']
    assert dockerfile_instructions('VOLUME') == ['["/data"]']
    env = dict(re.findall(r'(\w+)=(\S+)', dockerfile_instructions('ENV')[0]))
    assert env['DATA_DIR'] == '/data' and set(env) - {'PATH'} <= SETTINGS
    health = dockerfile_instructions('HEALTHCHECK')[0]
    assert "'http://127.0.0.1:8080/healthz'" in health
    assert "'/healthz'" in (ROOT / 'ui' / 'http.py').read_text()
    command = shlex.split(dockerfile_instructions('CMD')[0].strip('[]').replace(',', ' '))
    assert command[:2] == ['python', 'main.py'] and command[2] in main_commands()
    assert 'user namespaces' in DOCKERFILE and 'BUBBLEWRAP=no' in DOCKERFILE  # the note and its fallback
