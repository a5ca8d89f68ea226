"""A founder never sees nor touches another founder's project on any journey page."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from core.journey import brief, gates, plans
from tests.ui.conftest import log_out
from tests.ui.test_journey_ui import WAIT, arrange_brief, founder, services, sign_up

JOURNEY_PAGES = ('', '/interview', '/brief', '/plan')
ACTIONS = (
    'answer',
    'gate-card',
    'gate-proceed',
    'gate-park',
    'export',
    'edit-brief',
    'history',
    'build-button',
    'choose-fast',
    'choose-balanced',
    'continue',
    'unpark',
    'generate-brief',
    'brief-document',
    'timeline',
)


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')


async def test_second_founder_gets_not_found_on_every_journey_page(user: User) -> None:
    await sign_up(user, 'owner@example.com')
    project = await arrange_brief('owner@example.com')
    owner = await founder('owner@example.com')
    await log_out(user)
    await sign_up(user, 'intruder@example.com')

    for suffix in JOURNEY_PAGES:
        await user.open(f'/projects/{project.id}{suffix}')
        await user.should_see('Project not found', retries=WAIT)
        await user.should_not_see(project.title)
        await user.should_not_see('dog groomers')
        for marker in ACTIONS:
            await user.should_not_see(marker=marker)

    async with services().sessions() as session:  # nothing moved: the gate still waits for its owner
        assert await gates.get_pending(session, user=owner, project_id=project.id, gate_type='direction')
        assert len(await brief.history(session, user=owner, project_id=project.id, kind='idea_brief')) == 1
        assert await plans.list_plans(session, user=owner, project_id=project.id) == []


async def test_malformed_and_unknown_project_ids_look_the_same(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    for path in (
        '/projects/not-a-uuid',
        '/projects/00000000-0000-0000-0000-000000000000/brief',
        '/projects/not-a-uuid/interview',
        '/projects/00000000-0000-0000-0000-000000000000/plan',
    ):
        await user.open(path)
        await user.should_see('Project not found', retries=WAIT)
