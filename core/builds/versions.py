"""Product versions (B-8, IT-3, IT-5): each READY build gets the next v0.N; the first moves the project to "MVP built".

A version is a READY build and its READY snapshot (kept for good): the founder lists them, reads a version's
files, downloads them as a zip, reads its changelog, and restores an earlier one as the next version (a new
build of kind 'restore' that starts from those files: nothing is lost, the restore is a version of its own).
Everything here is for the build's owner; anyone else gets NotFound.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.changelog import raw_files_in_archive
from core.builds.jobs import get_build, start_build
from core.builds.snapshots import ready_snapshot
from core.errors import Conflict, NotFound
from core.event_log import EventLog
from core.journey import timeline
from core.journey.projects import advance_stage, load_project
from core.models import BlobRecord, BuildJob, Project, User
from core.ports import BlobStore, JobQueue

MISSING_FILES = 'The files of {label} are no longer stored.'


async def assign_version(session: AsyncSession, job: BuildJob) -> str:
    """Number the build (in the caller's transaction) and record the milestone on the timeline."""
    ready = select(func.max(BuildJob.version_number)).where(BuildJob.project_id == job.project_id)
    number = ((await session.exec(ready)).one() or 0) + 1
    job.version_number, job.version_label = number, f'v0.{number}'
    project = await session.get(Project, job.project_id)
    assert project is not None
    timeline.record(
        session, project_id=project.id, kind='build.ready', title=f'Build {job.version_label} is ready', job_id=job.id
    )
    if number == 1:
        advance_stage(project, 'mvp_built')
        timeline.record(session, project_id=project.id, kind='mvp.built', title='MVP built', job_id=job.id)
    return job.version_label


@dataclass(frozen=True)
class Version:
    job_id: uuid.UUID
    label: str
    number: int
    kind: str  # initial | iteration | retry | restore
    date: datetime | None
    summary: str  # plain words: what this version is or changed
    screenshot_key: str | None  # the newest screenshot of the build (a blob served to its owner), if kept
    current: bool  # the newest version
    has_changelog: bool
    restored_from: str | None = None  # the label of the version a restore brought back


@dataclass(frozen=True)
class Changes:
    """A version's changelog against the one before it, with both versions' screenshots."""

    job_id: uuid.UUID
    label: str
    from_label: str
    summary: str
    added: list[str]
    changed: list[str]
    removed: list[str]
    diffs: dict[str, str] = field(default_factory=dict)
    screenshot_key: str | None = None
    previous_job_id: uuid.UUID | None = None
    previous_screenshot_key: str | None = None


def _ready_builds(project_id: uuid.UUID):  # type: ignore[no-untyped-def]
    query = select(BuildJob).where(BuildJob.project_id == project_id, BuildJob.state == 'READY')
    return query.order_by(col(BuildJob.version_number).desc())


async def screenshots(session: AsyncSession, project_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The newest stored screenshot of each of the project's builds (those retention kept)."""
    rows = await session.exec(
        select(BlobRecord)
        .where(BlobRecord.project_id == project_id, BlobRecord.kind == 'screenshot')
        .order_by(col(BlobRecord.created_at), col(BlobRecord.key))
    )
    return {row.job_id: row.key for row in rows.all() if row.job_id is not None}


def _summary(job: BuildJob, restored_from: str | None) -> str:
    summary = job.summary or {}
    log = summary.get('changelog') or {}
    prefix = f'Restored from {restored_from}. ' if restored_from else ''
    if log.get('summary'):
        return prefix + str(log['summary'])
    files = summary.get('file_count', len(summary.get('files') or []))
    features = [str(f) for f in summary.get('features') or []][:4]
    named = f' with {", ".join(features)}' if features else ''
    return prefix + (f'First version: {files} files{named}.' if not restored_from else f'{files} files.')


async def list_versions(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> list[Version]:
    """Every version of the project, newest first, with its date, a plain summary and a screenshot."""
    project = await load_project(session, user=user, project_id=project_id)
    jobs = list((await session.exec(_ready_builds(project.id))).all())
    labels = {job.id: job.version_label for job in jobs}
    shots = await screenshots(session, project.id)
    versions = []
    for n, job in enumerate(jobs):
        restored_from = labels.get(job.restore_of) if job.restore_of else None
        versions.append(
            Version(
                job_id=job.id,
                label=job.version_label or '',
                number=job.version_number or 0,
                kind=job.kind,
                date=job.finished_at,
                summary=_summary(job, restored_from),
                screenshot_key=shots.get(job.id),
                current=n == 0,
                has_changelog=bool((job.summary or {}).get('changelog')),
                restored_from=restored_from,
            )
        )
    return versions


async def _version(session: AsyncSession, user: User, job_id: uuid.UUID | str) -> BuildJob:
    job = await get_build(session, user=user, job_id=job_id)
    if job.state != 'READY' or not job.version_label:
        raise NotFound('That version')
    return job


async def version_files(
    session: AsyncSession, blobs: BlobStore, *, user: User, job_id: uuid.UUID | str
) -> dict[str, bytes]:
    """The files of a version as its READY snapshot holds them (path → bytes, sorted): read-only."""
    job = await _version(session, user, job_id)
    snapshot = await ready_snapshot(session, job.id)
    if snapshot is None:
        raise NotFound(MISSING_FILES.format(label=job.version_label))
    try:
        archive = await blobs.get(snapshot.blob_key)
    except KeyError:
        raise NotFound(MISSING_FILES.format(label=job.version_label)) from None
    return raw_files_in_archive(archive)


def zip_bytes(files: dict[str, bytes], *, date: datetime | None = None) -> bytes:
    """A zip of `files` (path → bytes); every entry dated `date` so the same files give the same zip."""
    stamp = (date.year, date.month, date.day, date.hour, date.minute, date.second) if date else (1980, 1, 1, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()


async def zip_of_version(session: AsyncSession, blobs: BlobStore, *, user: User, job_id: uuid.UUID | str) -> bytes:
    """The files of a version as a zip (IT-5)."""
    files = await version_files(session, blobs, user=user, job_id=job_id)
    job = await get_build(session, user=user, job_id=job_id)
    return zip_bytes(files, date=job.finished_at)


async def changes_of(session: AsyncSession, *, user: User, job_id: uuid.UUID | str) -> Changes:
    """A version's changelog (files added / changed / removed, diffs, summary) and both versions' screenshots."""
    job = await _version(session, user, job_id)
    log = (job.summary or {}).get('changelog')
    if not log:
        raise NotFound('The changelog of that version')
    shots = await screenshots(session, job.project_id)
    try:
        previous: uuid.UUID | None = uuid.UUID(str(log.get('previous_job_id')))
    except ValueError:
        previous = None
    return Changes(
        job_id=job.id,
        label=job.version_label or '',
        from_label=str(log.get('from_version') or ''),
        summary=str(log.get('summary') or ''),
        added=list(log.get('added') or []),
        changed=list(log.get('changed') or []),
        removed=list(log.get('removed') or []),
        diffs=dict(log.get('diffs') or {}),
        screenshot_key=shots.get(job.id),
        previous_job_id=previous,
        previous_screenshot_key=shots.get(previous) if previous else None,
    )


async def restore_version(
    session: AsyncSession, *, user: User, job_id: uuid.UUID | str, queue: JobQueue, events: EventLog
) -> BuildJob:
    """Bring an earlier version back as the next one: a build of kind 'restore' from that version's files, which
    installs and checks them without the agent and becomes v0.(N+1). Every version stays as it was."""
    job = await _version(session, user, job_id)
    current = (await session.exec(_ready_builds(job.project_id).limit(1))).first()
    if current is not None and current.id == job.id:
        raise Conflict(f'{job.version_label} is already your current version.')
    if await ready_snapshot(session, job.id) is None:
        raise Conflict(MISSING_FILES.format(label=job.version_label) + ' It cannot be restored.')
    label = job.version_label
    build = await start_build(session, user=user, project_id=job.project_id, queue=queue, events=events,
                              kind='restore', restore_of=job.id)  # fmt: skip
    timeline.record(session, project_id=build.project_id, kind='version.restored',
                    title=f'Restoring {label} as the next version', job_id=build.id)  # fmt: skip
    await session.commit()
    return build
