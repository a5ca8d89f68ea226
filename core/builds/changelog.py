"""What changed between two versions (IT-3): files added, changed and removed, with unified diffs a
founder can expand, and a plain summary. The previous version is its READY snapshot (kept for good)."""

from __future__ import annotations

import difflib
import io
import tarfile

from sqlmodel import col, select

from core.db import SessionFactory
from core.models import BuildJob, ProjectSnapshot
from core.ports import BlobStore, Sandbox

MAX_FILE_BYTES = 200_000
MAX_DIFF_LINES = 400
MAX_DIFF_CHARS = 60_000
SKIPPED = ('data/', '.', '__pycache__/', 'node_modules/')


def _kept(path: str) -> bool:
    return not path.startswith(SKIPPED) and '/__pycache__/' not in path


def files_in_archive(archive: bytes) -> dict[str, str]:
    """The text files of a snapshot (tar.gz of the workspace)."""
    files: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode='r:gz') as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix('./')
            if member.isfile() and member.size <= MAX_FILE_BYTES and _kept(name):
                data = tar.extractfile(member)
                if data is not None:
                    files[name] = data.read().decode('utf-8', 'replace')
    return files


def raw_files_in_archive(archive: bytes) -> dict[str, bytes]:
    """Every file of a snapshot as stored (binary ones included, no size cap), the same paths as the workspace's
    files that a changelog compares (`files_in_sandbox`); sorted by path."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode='r:gz') as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix('./')
            if member.isfile() and _kept(name):
                data = tar.extractfile(member)
                if data is not None:
                    files[name] = data.read()
    return dict(sorted(files.items()))


async def files_in_sandbox(sandbox: Sandbox) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in await sandbox.list_files('.'):
        if _kept(path):
            data = await sandbox.read_file(path)
            if len(data) <= MAX_FILE_BYTES:
                files[path] = data.decode('utf-8', 'replace')
    return files


def compare(old: dict[str, str], new: dict[str, str]) -> dict:
    """Added / changed / removed paths and their unified diffs (each and all capped)."""
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(p for p in set(old) & set(new) if old[p] != new[p])
    diffs: dict[str, str] = {}
    budget = MAX_DIFF_CHARS
    for path in [*added, *changed, *removed]:
        lines = list(difflib.unified_diff(old.get(path, '').splitlines(), new.get(path, '').splitlines(),
                                          f'a/{path}', f'b/{path}', lineterm=''))  # fmt: skip
        text = '\n'.join(lines[:MAX_DIFF_LINES]) + ('\n…' if len(lines) > MAX_DIFF_LINES else '')
        diffs[path], budget = text[: max(budget, 0)], budget - len(text)
    return {'added': added, 'changed': changed, 'removed': removed, 'diffs': diffs}


async def previous_version(sessions: SessionFactory, job: BuildJob) -> tuple[BuildJob, ProjectSnapshot] | None:
    """The project's latest READY build before `job`, with its READY snapshot."""
    async with sessions() as session:
        prev = (await session.exec(select(BuildJob).where(
            BuildJob.project_id == job.project_id, BuildJob.state == 'READY', BuildJob.id != job.id,
        ).order_by(col(BuildJob.version_number).desc()).limit(1))).first()  # fmt: skip
        if prev is None:
            return None
        snap = (await session.exec(select(ProjectSnapshot).where(
            ProjectSnapshot.job_id == prev.id, ProjectSnapshot.reason == 'ready',
        ).order_by(col(ProjectSnapshot.created_at).desc()).limit(1))).first()  # fmt: skip
    return (prev, snap) if snap is not None else None


async def changelog(
    sessions: SessionFactory, blobs: BlobStore, sandbox: Sandbox, job: BuildJob, *, version: str, request: str
) -> dict | None:
    """The changelog of `job` (now `version`) against the previous version; None for a first version."""
    found = await previous_version(sessions, job)
    if found is None:
        return None
    prev, snap = found
    diff = compare(files_in_archive(await blobs.get(snap.blob_key)), await files_in_sandbox(sandbox))
    counts = f'{len(diff["added"])} file(s) added, {len(diff["changed"])} changed, {len(diff["removed"])} removed'
    asked = f' You asked: “{request}”.' if request else ''
    return {'from_version': prev.version_label, 'to_version': version, 'summary': f'{version}: {counts}.{asked}',
            'previous_job_id': str(prev.id), **diff}  # fmt: skip
