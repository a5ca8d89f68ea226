"""The plan's stack honoured: offline builds with FastAPI + SQLite and Vite + React reach READY (issue 30).

Their packages come from PyPI and npm through the sandbox's egress proxy, so these need the registries
(these machines and CI reach them).
"""

from __future__ import annotations

import asyncio
import urllib.request

import pytest

from core.acceptance.runs import results_of
from core.builds import jobs as builds
from core.builds.context import built_features
from core.events import LogLines, StageChanged
from core.models import BuildJob
from core.stacks import FASTAPI, VITE_REACT
from jobs import worker
from jobs.demo import _packages, choose_stack, founder_flow
from tests.builds.conftest import SQLITE_ONLY, events_until_done
from tests.services import require_npm

IDEA = 'A booking tool for independent dog groomers so clients can pick a slot.'
MUST_HAVE = 'online booking, client notes'


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the sandboxed app
        return response.read().decode()


@SQLITE_ONLY  # the stack is the sandbox's business, not the database's
@pytest.mark.parametrize(
    ('stack', 'packages'), [(FASTAPI, {'fastapi', 'uvicorn'}), (VITE_REACT, {'react', 'react-dom', 'vite'})]
)
async def test_offline_build_with_the_plans_stack_reaches_ready(services, stack, packages) -> None:  # type: ignore[no-untyped-def]
    if stack == VITE_REACT:
        require_npm()
    user, project_id = await founder_flow(services, IDEA, MUST_HAVE)
    await choose_stack(services, project_id, stack)
    await worker.start(services)
    async with services.sessions() as session:
        job = await builds.start_build(
            session, user=user, project_id=project_id, queue=services.queue, events=services.events
        )
    events = await events_until_done(services, job.id, timeout=300)
    log = ''.join(line for e in events if isinstance(e, LogLines) for line in e.lines)
    async with services.sessions() as session:
        job = await session.get(BuildJob, job.id)
        built = await built_features(session, job)
        checks = await results_of(session, job.id)
    assert job.state == 'READY', (job.error_summary, log[-3000:])
    assert [e.to_state for e in events if isinstance(e, StageChanged)][-1] == 'READY'
    home = await asyncio.to_thread(fetch, job.preview_url)
    assert built and all(name in home for name in built)
    assert checks and all(c.passed for c in checks), [(c.feature, c.step, c.problem) for c in checks]
    installed = await _packages(services, job)
    assert packages <= set(installed), installed
