"""Run a workspace's acceptance checks and keep what they showed (verified progress).

The checks live with the app's files (`checks/*.json`), so every later version re-runs every earlier
feature's check: a change that breaks one is caught, and named against the version where it last passed.
Results are stored per build and feature (the latest run wins) with a screenshot of the page at the end.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.acceptance.spec import CHECKS_DIR, AcceptanceCheck, CheckError, CheckRun, parse_check, same_feature
from core.db import SessionFactory, transaction
from core.events import CheckResult, ChecksRun
from core.models import AcceptanceResult, BlobRecord, BuildJob
from core.ports import BlobStore, Sandbox, SandboxError, Screenshotter

log = logging.getLogger(__name__)
CONTENT_TYPE = 'image/png'


@dataclass(frozen=True)
class Outcome:
    """One run of all the checks: what the founder sees (event) and what the agent must fix (text or None)."""

    event: ChecksRun
    failures: str | None


async def load_checks(sandbox: Sandbox) -> tuple[list[AcceptanceCheck], list[str]]:
    """The workspace's checks, and a plain problem for each file that is not a valid check."""
    try:
        names = sorted(n for n in await sandbox.list_files(CHECKS_DIR) if n.endswith('.json'))
    except SandboxError:
        return [], []
    checks, problems = [], []
    for name in names:
        path = name if name.startswith(f'{CHECKS_DIR}/') else f'{CHECKS_DIR}/{name}'
        try:
            checks.append(parse_check(json.loads((await sandbox.read_file(path)).decode('utf-8', 'replace'))))
        except (CheckError, ValueError, SandboxError) as error:
            problems.append(f'{path}: {error}')
    return checks, problems


async def run_all(
    checker: Screenshotter, url: str, checks: list[AcceptanceCheck], scope: list[str]
) -> list[tuple[CheckRun, bool]]:
    """Each check run against `url`, with whether its feature is in the MVP scope; one after another, since
    they share the app's data and the browser."""
    runs = []
    for check in checks:
        run = await checker.run_check(url, check)
        runs.append((run, any(same_feature(check.feature, f) for f in scope)))
    return runs


async def record(
    *,
    sessions: SessionFactory,
    blobs: BlobStore,
    job: BuildJob,
    runs: list[tuple[CheckRun, bool]],
    scope: list[str],
    problems: list[str],
) -> Outcome:
    """Store this run's results and evidence (replacing the build's earlier run) and say what failed."""
    previous = await _last_passes(sessions, job)
    results = []
    async with transaction(sessions) as session:
        await _forget_earlier_run(session, blobs, job.id)
        for run, in_scope in runs:
            key = await _store_evidence(session, blobs, job, run)
            url = blobs.url(key) if key else None
            regressed = None if run.passed or not run.ran else previous.get(run.feature.casefold())
            session.add(AcceptanceResult(job_id=job.id, project_id=job.project_id, feature=run.feature,
                                         in_scope=in_scope, passed=run.passed, ran=run.ran,
                                         failed_step=run.failed_step, step=run.step, problem=run.problem,
                                         screenshot_key=key, seconds=run.seconds))  # fmt: skip
            results.append(CheckResult(feature=run.feature, passed=run.passed, ran=run.ran, in_scope=in_scope,
                                       step=run.step, problem=run.problem, screenshot_url=url,
                                       regressed_from=regressed))  # fmt: skip
    checked = {r.feature.casefold() for r in results}
    missing = [f for f in scope if f.casefold() not in checked]
    verified = sum(1 for r in results if r.passed and r.in_scope)
    event = ChecksRun(job_id=job.id, results=results, verified=verified, scoped=len(scope))
    return Outcome(event, _failures_for_the_agent(runs, results, missing, problems))


def _failures_for_the_agent(
    runs: list[tuple[CheckRun, bool]], results: list[CheckResult], missing: list[str], problems: list[str]
) -> str | None:
    lines = []
    for (run, _), result in zip(runs, results, strict=True):
        if run.ran and not run.passed:
            broke = f' (it passed in {result.regressed_from}; this change broke it)' if result.regressed_from else ''
            lines.append(f'- {run.sentence()}{broke}')
    lines += [f'- {feature}: no acceptance check was written for it' for feature in missing]
    lines += [f'- {problem}' for problem in problems]
    if not lines:
        return None
    return (
        'Acceptance checks failed. Fix the app (or a check that does not match the feature) and run the check '
        'again with the acceptance_check tool:\n' + '\n'.join(lines)
    )


async def _store_evidence(session: AsyncSession, blobs: BlobStore, job: BuildJob, run: CheckRun) -> str | None:
    if not run.screenshot:
        return None
    key = f'projects/{job.project_id}/checks/{job.id}/{uuid.uuid4()}.png'
    try:
        await blobs.put(key, run.screenshot, content_type=CONTENT_TYPE)
    except Exception:  # noqa: BLE001 - evidence is shown when stored; a blob store hiccup must not fail the build
        log.exception('storing the evidence of check %r failed', run.feature)
        return None
    session.add(BlobRecord(key=key, owner_id=job.user_id, project_id=job.project_id, job_id=job.id, kind='check',
                           content_type=CONTENT_TYPE, size=len(run.screenshot)))  # fmt: skip
    return key


async def _forget_earlier_run(session: AsyncSession, blobs: BlobStore, job_id: uuid.UUID) -> None:
    keys = (await session.exec(select(AcceptanceResult.screenshot_key).where(AcceptanceResult.job_id == job_id))).all()
    await session.exec(delete(AcceptanceResult).where(col(AcceptanceResult.job_id) == job_id))  # type: ignore[call-overload]
    for key in filter(None, keys):
        await session.exec(delete(BlobRecord).where(col(BlobRecord.key) == key))  # type: ignore[call-overload]
        try:
            await blobs.delete(key)
        except Exception:  # noqa: BLE001 - an orphaned file is swept by retention later
            log.warning('could not delete the old evidence %s', key)


async def _last_passes(sessions: SessionFactory, job: BuildJob) -> dict[str, str]:
    """feature (casefolded) → version, for the checks that passed in the project's latest earlier version."""
    async with sessions() as session:
        earlier = (
            await session.exec(
                select(BuildJob)
                .where(
                    BuildJob.project_id == job.project_id,
                    col(BuildJob.version_number).is_not(None),
                    BuildJob.id != job.id,
                )
                .order_by(col(BuildJob.version_number).desc())
                .limit(1)
            )
        ).first()
        if earlier is None:
            return {}
        rows = (
            await session.exec(
                select(AcceptanceResult).where(AcceptanceResult.job_id == earlier.id, AcceptanceResult.passed)
            )
        ).all()
    return {row.feature.casefold(): str(earlier.version_label) for row in rows}


async def results_of(session: AsyncSession, job_id: uuid.UUID) -> list[AcceptanceResult]:
    rows = await session.exec(select(AcceptanceResult).where(AcceptanceResult.job_id == job_id))
    return sorted(rows.all(), key=lambda r: r.id or 0)
