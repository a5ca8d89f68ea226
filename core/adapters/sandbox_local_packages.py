"""Package caches shared by every local sandbox (issue 30, item 2): pip wheels and npm's content cache.

A sandbox must not be able to poison what another one installs, so sandboxes never write here. The host fills
the caches itself, as a trusted step before a build's install, from the manifest alone and without running any
package code:

- pip: `pip download --only-binary=:all:` of the requirements (wheels only: an sdist would run its build on the
  host), into a directory every sandbox sees read-only as `PIP_FIND_LINKS`; once the whole set is there the
  install runs with no index at all.
- npm: `npm install --ignore-scripts` of the dependencies in a scratch directory with `--cache` pointing here
  (the tarballs land in the cache; the scratch tree is thrown away). npm cannot read a read-only cache, so each
  sandbox gets a private copy of it in its own `.npm` (a dependency dir: never snapshotted) and installs with
  `prefer-offline`.

Only plain registry requirements are filled (a name and version ranges); a manifest naming URLs, paths, git
repositories or pip options is left to the sandbox, which installs through the egress proxy as before. A fill is
keyed by the manifest's content, so a second build with the same packages skips it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

WHEELS_INSIDE = '/run/cofounder/wheels'  # where a sandbox sees the wheel cache, read-only
NPM_REGISTRY = 'https://registry.npmjs.org/'
FILL_TIMEOUT_S = 600.0
_PIP_LINE = re.compile(
    r'^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?\s*((===?|>=|<=|~=|!=|<|>)\s*[A-Za-z0-9.*+!]+\s*,?\s*)*$'
)
_NPM_NAME = re.compile(r'^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$')
_NPM_RANGE = re.compile(r'^[\w\s.^~<>=|*+-]*$')  # semver ranges and dist-tags; no ':' or '/' (URLs, git, files)


@dataclass(frozen=True)
class Warmed:
    """What the cache did for one install: its line for the build log, and how the install may run."""

    note: str
    offline: bool = False  # every package is in the cache: the install needs no registry


def pip_requirements(text: str) -> list[str] | None:
    """The requirement lines when each is a plain registry requirement, else None (nothing filled)."""
    lines = [line.split('#', 1)[0].strip() for line in text.splitlines()]
    wanted = [line for line in lines if line]
    return wanted if wanted and all(_PIP_LINE.match(line) for line in wanted) else None


def npm_dependencies(package_json: str) -> dict[str, dict[str, str]] | None:
    """The registry dependencies of a package.json (both kinds), else None when one is not from the registry."""
    try:
        manifest = json.loads(package_json)
    except ValueError:
        return None
    found: dict[str, dict[str, str]] = {}
    for kind in ('dependencies', 'devDependencies'):
        deps = manifest.get(kind) or {} if isinstance(manifest, dict) else None
        if not isinstance(deps, dict):
            return None
        for name, spec in deps.items():
            if not (isinstance(spec, str) and _NPM_NAME.match(str(name)) and _NPM_RANGE.match(spec)):
                return None
        found[kind] = {str(name): str(spec) for name, spec in deps.items()}
    return found if any(found.values()) else None


class PackageCache:
    """The host's package caches under `root` (DATA_DIR/package-cache)."""

    def __init__(self, root: Path, *, python: str = '/usr/bin/python3', npm: str | None = None) -> None:
        self.root = root
        self.wheels, self.npm_cache, self.filled = root / 'wheels', root / 'npm', root / 'filled'
        self.python = python if Path(python).exists() else sys.executable
        self.npm = npm or shutil.which('npm')
        self._locks: dict[str, asyncio.Lock] = {}
        for path in (self.wheels, self.npm_cache, self.filled):
            path.mkdir(parents=True, exist_ok=True)

    def sandbox_binds(self) -> dict[str, str]:
        """Host directories every sandbox sees read-only (path inside → host path)."""
        return {WHEELS_INSIDE: str(self.wheels)}

    def sandbox_env(self) -> dict[str, str]:
        return {'PIP_FIND_LINKS': WHEELS_INSIDE}  # pip looks here first, for the agent's own installs too

    async def warm(self, files: dict[str, str], *, home: Path, owner: tuple[int, int] | None) -> Warmed:
        """Fill the cache for the manifest in `files` (package.json or requirements.txt), then, for npm, give
        the sandbox whose home is `home` its own copy. Never raises: a cache is a shortcut, not a requirement."""
        try:
            if 'package.json' in files:
                return await self._warm_npm(files['package.json'], home, owner)
            if 'requirements.txt' in files:
                return await self._warm_pip(files['requirements.txt'])
        except Exception as error:  # noqa: BLE001 - the install still runs, through the proxy
            logger.warning('package cache: %s', error, exc_info=True)
            return Warmed(f'Package cache unavailable ({error}); installing from the registry.\n')
        return Warmed('')

    async def _warm_pip(self, text: str) -> Warmed:
        wanted = pip_requirements(text)
        if wanted is None:
            return Warmed('Package cache: these requirements are not plain registry packages; not cached.\n')
        key = _key('pip', wanted)
        state = await self._fill(key, lambda: self._download_wheels(wanted))
        return Warmed(_said('pip', state), offline=state != 'failed')

    async def _warm_npm(self, text: str, home: Path, owner: tuple[int, int] | None) -> Warmed:
        deps = npm_dependencies(text)
        if deps is None or self.npm is None:
            return Warmed('Package cache: these dependencies are not all from the npm registry; not cached.\n')
        state = await self._fill(_key('npm', deps), lambda: self._fill_npm(deps))
        if state != 'failed':
            # npm keeps its content cache in <cache>/_cacache, and the sandbox's cache is its ~/.npm
            await asyncio.to_thread(_private_copy, self.npm_cache / '_cacache', home / '.npm' / '_cacache', owner)
        return Warmed(_said('npm', state), offline=state != 'failed')

    async def _fill(self, key: str, fill: Callable[[], Awaitable[bool]]) -> str:
        """'warm' when this manifest was filled before, 'filled' now, or 'failed'."""
        marker = self.filled / key
        async with self._locks.setdefault(key, asyncio.Lock()):
            if marker.exists():
                return 'warm'
            started = time.monotonic()
            ok = await fill()
            if not ok:
                return 'failed'
            marker.write_text(f'{time.monotonic() - started:.1f}s\n')
            return 'filled'

    async def _download_wheels(self, wanted: list[str]) -> bool:
        with tempfile.TemporaryDirectory(dir=self.root) as scratch:
            listed = Path(scratch) / 'requirements.txt'
            listed.write_text('\n'.join(wanted) + '\n')
            ok = await _quiet([self.python, '-m', 'pip', 'download', '--only-binary=:all:', '--no-input', '-q',
                               '--disable-pip-version-check', '--dest', scratch, '-r', str(listed)])  # fmt: skip
            await asyncio.to_thread(_publish_wheels, Path(scratch), self.wheels)
            return ok

    async def _fill_npm(self, deps: dict[str, dict[str, str]]) -> bool:
        assert self.npm is not None
        with tempfile.TemporaryDirectory(dir=self.root) as scratch:
            manifest = {'name': 'cofounder-cache-fill', 'private': True, **deps}
            (Path(scratch) / 'package.json').write_text(json.dumps(manifest))
            return await _quiet([self.npm, 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--silent',
                                 '--cache', str(self.npm_cache), '--registry', NPM_REGISTRY,
                                 '--userconfig', os.devnull], cwd=scratch)  # fmt: skip


def _key(kind: str, manifest: object) -> str:
    return f'{kind}-' + hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:32]


def _said(kind: str, state: str) -> str:
    return {
        'warm': f'Package cache: every {kind} package is cached already; installing without the registry.\n',
        'filled': f'Package cache: the {kind} packages were downloaded once for every build; installing from it.\n',
        'failed': 'Package cache: could not fill it; installing from the registry.\n',
    }[state]


def _publish_wheels(scratch: Path, wheels: Path) -> None:
    """Whole files only, moved in: a sandbox reading the cache never sees a half-downloaded wheel."""
    for wheel in scratch.glob('*.whl'):
        os.replace(wheel, wheels / wheel.name)
        (wheels / wheel.name).chmod(0o644)


def _private_copy(source: Path, target: Path, owner: tuple[int, int] | None) -> None:
    """The shared npm cache copied into one sandbox (npm writes to its cache; the shared one stays as it is)."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    if owner is not None:
        for top in (target.parent, target):
            os.chown(top, *owner)
        for path in target.rglob('*'):
            os.chown(path, *owner, follow_symlinks=False)


async def _quiet(argv: list[str], cwd: str | None = None) -> bool:
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(FILL_TIMEOUT_S):
            _, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return False
    if process.returncode != 0:
        logger.warning('package cache fill failed (%s): %s', argv[:3], err.decode(errors='replace')[-500:])
    return process.returncode == 0
