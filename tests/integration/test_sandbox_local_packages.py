"""Issue 30 (2): package caches shared by the local sandboxes. The host fills them from the manifest alone (wheels
only, npm without scripts); a second sandbox then installs the same packages without any registry, and no
sandbox can change what the next one gets. These need the registries (these machines and CI reach them)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.adapters.egress_proxy import EgressProxy
from core.adapters.llm_offline import app_vite
from core.adapters.sandbox_local import LocalSandbox, LocalSandboxProvider
from core.adapters.sandbox_local_packages import WHEELS_INSIDE, npm_dependencies, pip_requirements
from core.admin_settings import EGRESS_DEFAULT_HOSTS
from core.config import Settings
from tests.integration.test_egress_proxy import hosts_source
from tests.services import require_bubblewrap, require_npm

PIP = 'python3 -m pip install --user --break-system-packages --no-input -q -r requirements.txt'
NPM = 'npm install --no-audit --no-fund --silent'
OFFLINE = 'npm install --no-audit --no-fund --offline --loglevel=error'  # npm fails if anything is not cached
REQUIREMENTS = 'six==1.16.0\nidna>=3.4,<4  # plain ranges are fine\n'


def test_only_plain_registry_requirements_are_filled_by_the_host() -> None:
    assert pip_requirements(REQUIREMENTS) == ['six==1.16.0', 'idna>=3.4,<4']
    for hostile in ('--index-url http://10.0.0.1/simple\nsix', 'six @ https://example.com/six.whl', '-e .',
                    'git+https://example.com/x.git', './local-package', '-r other.txt'):  # fmt: skip
        assert pip_requirements(hostile) is None, hostile
    assert npm_dependencies('{"dependencies": {"react": "^18.3.1", "@vitejs/plugin-react": "4.3.1"}}')
    for hostile in ('{"dependencies": {"x": "git+https://example.com/x.git"}}', '{"dependencies": {"x": "file:.."}}',
                    '{"dependencies": {"x": "https://example.com/x.tgz"}}', '{"dependencies": {"x": "user/repo"}}',
                    'not json', '{"dependencies": {}}'):  # fmt: skip
        assert npm_dependencies(hostile) is None, hostile


@pytest.fixture
def provider(tmp_path: Path) -> LocalSandboxProvider:
    require_bubblewrap()
    settings = Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', SANDBOX_NETWORK='isolated')
    return LocalSandboxProvider(settings, use_bwrap=True, egress=EgressProxy(hosts_source(list(EGRESS_DEFAULT_HOSTS))))


@pytest.fixture
async def boxes(provider: LocalSandboxProvider) -> AsyncIterator[list[LocalSandbox]]:
    made = [await provider.create(key=f'cache-{uuid.uuid4().hex}') for _ in range(2)]
    yield made
    for box in made:
        await box.destroy()


def digest(root: Path) -> str:
    files = sorted(p for p in root.rglob('*') if p.is_file())
    return hashlib.sha256(b''.join(p.relative_to(root).as_posix().encode() + p.read_bytes() for p in files)).hexdigest()


async def install(box: LocalSandbox, name: str, manifest: str, command: str) -> str:
    await box.write_file(name, manifest)
    warmed = await box.warm_packages({name: manifest})
    env = ' '.join(f'{key}={value}' for key, value in warmed.env.items())
    result = await box.run(f'{env} {command}', timeout=300)
    assert result.ok, warmed.note + result.stdout[-2000:] + result.stderr[-2000:]
    return warmed.note


async def test_the_second_sandbox_installs_wheels_from_the_cache_without_an_index(boxes: list[LocalSandbox]) -> None:
    first, second = boxes
    assert 'downloaded once' in await install(first, 'requirements.txt', REQUIREMENTS, PIP)
    note = await install(second, 'requirements.txt', REQUIREMENTS, PIP)  # with PIP_NO_INDEX=1: no registry
    assert 'cached already' in note
    listed = await second.run(f'ls {WHEELS_INSIDE}; touch {WHEELS_INSIDE}/six-9.9.9-py3-none-any.whl')
    assert 'six-1.16.0-py2.py3-none-any.whl' in listed.stdout
    assert not listed.ok and 'Read-only file system' in listed.stderr  # no sandbox can add or change a wheel


async def test_the_second_sandbox_installs_npm_packages_offline_and_cannot_poison_the_shared_cache(
    boxes: list[LocalSandbox], provider: LocalSandboxProvider
) -> None:
    require_npm()
    first, second = boxes
    manifest = app_vite.render_package_json('Cache')
    assert 'downloaded once' in await install(first, 'package.json', manifest, NPM)
    shared = provider.package_cache
    assert shared is not None
    before = digest(shared.npm_cache)
    poison = await first.run('find .npm/_cacache/content-v2 -type f | head -n 1 | xargs -I{} sh -c "echo x > {}"')
    assert poison.ok  # the sandbox may write to its own copy…
    # …the next sandbox still installs, with the registry forbidden (npm's --offline), from the shared copy
    assert 'cached already' in await install(second, 'package.json', manifest, OFFLINE)
    assert digest(shared.npm_cache) == before
    listed = await second.run('ls node_modules/react/package.json node_modules/vite/package.json')
    assert listed.ok
