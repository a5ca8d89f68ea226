"""Verified progress (issue 24): fixture ideas build offline to READY, and every feature the plan built passes
its acceptance check in the host's Chromium, with a screenshot as evidence.

Three ideas go through the whole build here (a consumer app, an internal tool, one in French); all eight are
held to their checks on the generated app by tests/integration/test_generated_app_checks.py, which costs a
fraction of a build each (the two together took 2 × 8 builds of CI time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.acceptance.runs import results_of
from core.builds import jobs as builds
from core.models import BuildJob
from jobs import worker
from jobs.demo import founder_flow
from tests.builds.conftest import events_until_done

ALL = json.loads((Path(__file__).parents[1] / 'fixtures' / 'ideas.json').read_text())['ideas']
IDEAS = [ALL[0], ALL[3], ALL[6]]  # dog groomers, the bakery's internal tool, the French football team


@pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)
@pytest.mark.parametrize('idea', IDEAS, ids=[i['idea'][:24] for i in IDEAS])
async def test_each_fixture_idea_builds_with_every_feature_verified(services, idea: dict) -> None:  # type: ignore[no-untyped-def]
    user, project_id = await founder_flow(services, idea['idea'], idea['answers']['must_have'])
    await worker.start(services)
    async with services.sessions() as session:
        job = await builds.start_build(
            session, user=user, project_id=project_id, queue=services.queue, events=services.events
        )
    await events_until_done(services, job.id)

    async with services.sessions() as session:
        job = await session.get(BuildJob, job.id)
        results = await results_of(session, job.id)
    assert job.state == 'READY', job.error_summary
    assert results and all(r.ran and r.passed for r in results), [(r.feature, r.step, r.problem) for r in results]
    checks = job.summary['checks']
    assert checks['verified'] == checks['scoped'] == len(results) and checks['failed'] == []
    for r in results:
        assert r.screenshot_key and await services.blobs.exists(r.screenshot_key)
