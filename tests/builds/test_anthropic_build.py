"""A build driven by the real anthropic SDK against a local server speaking the Messages API stream."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from core.builds import jobs as builds
from core.models import BuildJob
from core.services import build_services
from core.stacks import SANDBOX_STACKS
from jobs import worker
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, events_until_done, make_settings
from tests.fakes.messages_api import MessagesAPI, status, text, tool_use
from tests.services import require_chromium

KEY = 'sk-ant-test-0123456789abcdef'
PAGE = (
    '<!doctype html><html><head><title>Groomer bookings</title></head><body style="background:#fde68a">'
    '<h1>Book a grooming slot</h1><nav><a href="/">Online Booking</a></nav><p>Pick a time and pay a deposit.</p>'
    '</body></html>'
)


def booking_check():  # type: ignore[no-untyped-def]
    """The acceptance check of the brief's one feature: without it the build is sent back to write it."""
    return tool_use(
        'acceptance_check',
        {'feature': 'Online Booking', 'steps': [{'open': '/'}, {'expect_text': 'Book a grooming slot'}]},
    )


@pytest.fixture
async def claude(tmp_path: Path):  # type: ignore[no-untyped-def]
    require_chromium()
    with MessagesAPI() as api:
        settings = make_settings(tmp_path / 'data', ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=api.url)
        await asyncio.to_thread(upgrade, settings.sync_database_url)
        svc = build_services(settings)
        await svc.start()
        yield svc, api
        await svc.queue.stop()
        await svc.close()


async def build(svc) -> BuildJob:  # type: ignore[no-untyped-def]
    """Take an idea to a plan (the journey's structured outputs come from the same fake server)."""
    user, project_id = await founder_flow(svc, IDEA, MUST_HAVE)
    await worker.start(svc)
    async with svc.sessions() as session:
        job = await builds.start_build(session, user=user, project_id=project_id, queue=svc.queue, events=svc.events)
    await events_until_done(svc, job.id)
    async with svc.sessions() as session:
        return await session.get(BuildJob, job.id)  # type: ignore[return-value]


def journey_replies() -> list:  # type: ignore[type-arg]
    return [
        tool_use(
            'propose_questions',
            {
                'questions': [
                    {'key': 'q1', 'text': 'Who books today?'},
                    {'key': 'q2', 'text': 'Do they pay online?'},
                    {'key': 'q3', 'text': 'Phone or laptop?'},
                ]
            },
        ),
        tool_use(
            'write_brief',
            {
                'idea_brief': {
                    'title': 'Groomer bookings',
                    'problem': 'Phone tag',
                    'target_users': 'Dog groomers',
                    'value_proposition': 'Clients book themselves',
                    'core_features': [{'name': 'Online Booking', 'description': 'Pick a slot'}],
                    'non_goals': ['Payroll'],
                    'risks': ['Adoption'],
                    'success_measure': 'Fewer no-shows',
                    'constraints': 'Phone first',
                },
                'mvp_scope': {
                    'features': [{'name': 'Online Booking', 'description': 'Pick a slot', 'priority': 'must'}],
                    'out_of_scope': ['Payroll'],
                    'acceptance': ['A client books a slot'],
                },
            },
        ),
        tool_use(
            'propose_plans',
            {
                'plans': [
                    {
                        'key': key,
                        'title': key.title(),
                        'summary': 'A plan',
                        'time': '1 day',
                        'cost': 'low',
                        'risk': 'low',
                        'stack': 'static',
                        'tradeoffs': ['small'],
                        'phases': ['Landing page'],
                    }
                    for key in ('fast', 'balanced', 'robust')
                ]
            },
        ),
    ]


async def test_claude_builds_a_static_site_to_ready(claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = claude
    api.script(
        *journey_replies(),
        tool_use('narrate', {'text': "I'm writing your booking page."}),
        tool_use('write_file', {'path': 'index.html', 'content': PAGE}),
        booking_check(),
        tool_use('document', {'section': 'overview', 'title': 'Overview', 'content': 'Clients book online.'}),
        text('Your booking page is ready.'),
    )
    job = await build(svc)
    assert job.state == 'READY', job.error_detail
    home = await asyncio.to_thread(lambda: urllib.request.urlopen(job.preview_url, timeout=5).read().decode())
    assert 'Book a grooming slot' in home
    build_request = api.message_requests[-1]
    assert 'Who books today?' in build_request.body['system'] or 'Dog groomers' in build_request.body['system']
    assert {t['name'] for t in build_request.body['tools']} >= {'write_file', 'bash', 'narrate', 'phase'}
    assert job.input_tokens > 0 and job.cost_microdollars > 0  # priced from the table, not free like offline
    # The plans were asked to name a stack the workspace can build; the agent is told the same list
    plans_request = next(r for r in api.message_requests if 'propose_plans' in json.dumps(r.body.get('tools', [])))
    assert all(stack in json.dumps(plans_request.body['messages']) for stack in SANDBOX_STACKS)
    assert 'NiceGUI' in build_request.body['system'] and 'import.meta.env.BASE_URL' in build_request.body['system']


async def test_refused_key_fails_the_build_with_a_plain_reason_and_no_secret(claude) -> None:  # type: ignore[no-untyped-def]
    svc, api = claude
    api.script(*journey_replies(), tool_use('narrate', {'text': 'Starting.'}), status(401))
    job = await build(svc)
    assert job.state == 'FAILED'
    assert job.error_summary == (
        'The model key was refused, so the build stopped. An administrator needs to check the key.'
    )
    assert 'API key was refused' in job.error_detail  # the technical detail, behind an expander
    assert KEY not in job.error_summary and KEY not in job.error_detail
