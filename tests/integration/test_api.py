"""The JSON API (OPS-4) against real Services (SQLite, offline model), through FastAPI in this process.

Streams of finished builds are read whole here; a live build's stream, with a reconnect in the middle, is
followed over real HTTP in tests/e2e/test_api_sse.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from core import accounts, api_tokens
from core.admin_settings import set_setting
from core.api_tokens import RateLimiter
from core.builds.jobs import KILL_SWITCH_MESSAGE
from core.config import Settings
from core.events import Narration
from core.models import ApiToken, User
from core.services import Services, build_services
from jobs.demo import founder_flow
from migrations import upgrade
from ui.api import add_openapi, api_router
from ui.api.events import SESSIONS_ENDED, event_stream
from ui.auth import until_ended

IDEA = 'A booking tool for dog groomers so owners can book a grooming slot online'
PASSWORD = 'correct horse battery'


class Clock:
    """The rate limiter's time, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(
        _env_file=None,
        ENV='test',
        DATA_DIR=tmp_path / 'data',
        OFFLINE_PACE_SECONDS=0,
        STORAGE_SECRET='api-test-secret-0123456789',
    )
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    services = build_services(settings)
    await services.start()
    yield services
    await services.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(svc: Services, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(openapi_url=None)  # as NiceGUI's app: the schema is ours
    router = api_router(svc, limiter=RateLimiter(rate=1.0, burst=1000, clock=clock), heartbeat_s=0.01)
    app.include_router(router)
    add_openapi(app, router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://cofounder') as http:
        yield http


async def token_for(svc: Services, user: User, name: str = 'CI') -> str:
    async with svc.sessions() as session:
        return (await api_tokens.create_token(session, user=user, name=name)).secret


def auth(secret: str) -> dict[str, str]:
    return {'Authorization': f'Bearer {secret}'}


def sse(body: str) -> list[dict[str, Any]]:
    """The events of an SSE body: id, event and the JSON data of each."""
    found = []
    for block in body.split('\n\n'):
        fields = dict(line.split(': ', 1) for line in block.splitlines() if line and not line.startswith(':'))
        if 'data' in fields:
            found.append({'id': int(fields['id']), 'event': fields['event'], **json.loads(fields['data'])})
    return found


async def test_token_lifecycle_created_listed_used_revoked(svc: Services, client: httpx.AsyncClient) -> None:
    async with svc.sessions() as session:
        ada = await accounts.sign_up(session, email='ada@example.com', password=PASSWORD)
        with pytest.raises(Exception, match='Give the token a name'):
            await api_tokens.create_token(session, user=ada, name='   ')
        new = await api_tokens.create_token(session, user=ada, name='  Deploy   bot ')
        listed = await api_tokens.list_tokens(session, user=ada)
        stored = (await session.exec(select(ApiToken))).all()
    assert [t.name for t in listed] == ['Deploy bot'] and listed[0].last_used_at is None
    assert new.secret.startswith('cf_') and listed[0].prefix == new.secret[:10]
    assert all(new.secret not in (row.token_hash, row.prefix, row.name) for row in stored)  # only its hash is kept

    response = await client.get('/api/v1/projects', headers=auth(new.secret))
    assert response.status_code == 200 and response.json() == []
    async with svc.sessions() as session:
        (used,) = await api_tokens.list_tokens(session, user=ada)
        assert used.last_used_at is not None
        await api_tokens.revoke_token(session, user=ada, token_id=used.id)
        assert await api_tokens.list_tokens(session, user=ada) == []

    refused = await client.get('/api/v1/projects', headers=auth(new.secret))
    assert refused.status_code == 401 and refused.json() == {'detail': 'This API token was revoked.'}
    assert refused.headers['WWW-Authenticate'] == 'Bearer'
    for headers in ({}, auth('cf_not-a-token'), {'Authorization': f'Basic {new.secret}'}):
        assert (await client.get('/api/v1/projects', headers=headers)).status_code == 401


async def test_a_suspended_founders_token_is_refused(svc: Services, client: httpx.AsyncClient) -> None:
    async with svc.sessions() as session:
        ada = await accounts.sign_up(session, email='ada@example.com', password=PASSWORD)
    secret = await token_for(svc, ada)
    async with svc.sessions() as session:
        (await session.get(User, ada.id)).suspended = True  # type: ignore[union-attr]
        await session.commit()
    response = await client.get('/api/v1/projects', headers=auth(secret))
    assert response.status_code == 403 and response.json() == {'detail': 'This account is suspended.'}


async def test_another_founders_ids_are_404_on_every_route(svc: Services, client: httpx.AsyncClient) -> None:
    ada, project_id = await founder_flow(svc, IDEA)
    async with svc.sessions() as session:
        bob = await accounts.sign_up(session, email='bob@example.com', password=PASSWORD)
    ada_token, bob_token = await token_for(svc, ada), await token_for(svc, bob)
    started = await client.post(f'/api/v1/projects/{project_id}/builds', headers=auth(ada_token))
    assert started.status_code == 201, started.text
    ids = {'project_id': str(project_id), 'build_id': started.json()['id'], 'kind': 'idea_brief'}

    schema = (await client.get('/openapi.json')).json()
    calls = [
        (method, re.sub(r'\{(\w+)\}', lambda m: ids[m.group(1)], path))
        for path, item in schema['paths'].items()
        if '{' in path
        for method in item
    ]
    assert len(calls) >= 9
    for method, path in calls:
        theirs = await client.request(method, path, headers=auth(bob_token))
        assert theirs.status_code == 404, (method, path, theirs.status_code, theirs.text)
        assert 'not found' in theirs.json()['detail']
        mine = await client.request(method, path, headers=auth(ada_token), params={'after': 10**6})
        assert mine.status_code != 404 or path.endswith('/zip'), (method, path, mine.text)  # served to the owner
    assert (await client.get('/api/v1/projects', headers=auth(bob_token))).json() == []
    assert (await client.get(f'/api/v1/builds/{uuid.uuid4()}', headers=auth(ada_token))).status_code == 404
    assert (await client.get('/api/v1/projects/not-an-id', headers=auth(ada_token))).status_code == 404


async def test_start_status_cancel_and_events_of_a_build(svc: Services, client: httpx.AsyncClient) -> None:
    ada, project_id = await founder_flow(svc, IDEA)
    headers = auth(await token_for(svc, ada))
    projects = (await client.get('/api/v1/projects', headers=headers)).json()
    assert [p['id'] for p in projects] == [str(project_id)] and projects[0]['idea'] == IDEA

    started = await client.post(f'/api/v1/projects/{project_id}/builds', headers=headers)
    build = started.json()
    assert started.status_code == 201 and build['state'] == 'QUEUED' and build['queue_position'] == 1
    again = await client.post(f'/api/v1/projects/{project_id}/builds', headers=headers)
    assert again.status_code == 409 and again.json()['detail'] == 'A build of this project is already under way.'
    status = (await client.get(f'/api/v1/builds/{build["id"]}', headers=headers)).json()
    assert status['stage'] == 'Waiting in the queue' or status['state'] == 'QUEUED'
    listed = (await client.get(f'/api/v1/projects/{project_id}/builds', headers=headers)).json()
    assert [b['id'] for b in listed] == [build['id']]

    await svc.events.append(Narration(job_id=uuid.UUID(build['id']), text='<b>not markup</b>'))
    cancelled = await client.post(f'/api/v1/builds/{build["id"]}/cancel', headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()['state'] == 'CANCELLED'
    twice = await client.post(f'/api/v1/builds/{build["id"]}/cancel', headers=headers)
    assert twice.status_code == 409 and twice.json()['detail'] == 'This build has already finished.'

    stream = await client.get(f'/api/v1/builds/{build["id"]}/events', headers=headers)
    assert stream.headers['content-type'].startswith('text/event-stream')
    events = sse(stream.text)
    assert [e['id'] for e in events] == list(range(1, len(events) + 1))  # every seq once, in order
    assert events[-1]['event'] == 'build.done' and events[-1]['payload']['state'] == 'CANCELLED'
    assert {'event': 'agent.narration', 'text': '<b>not markup</b>'}.items() <= {
        'event': events[0]['event'],
        **events[0]['payload'],
    }.items()
    resumed = sse(
        (
            await client.get(
                f'/api/v1/builds/{build["id"]}/events', headers={**headers, 'Last-Event-ID': '1'}, params={'after': 0}
            )
        ).text
    )
    assert resumed == events[1:]  # Last-Event-ID wins over ?after=
    assert sse((await client.get(f'/api/v1/builds/{build["id"]}/events?after=1', headers=headers)).text) == events[1:]
    past_the_end = await client.get(f'/api/v1/builds/{build["id"]}/events', headers={**headers, 'Last-Event-ID': '99'})
    assert past_the_end.status_code == 200 and sse(past_the_end.text) == []  # ends at once, no waiting
    bad = await client.get(f'/api/v1/builds/{build["id"]}/events', headers={**headers, 'Last-Event-ID': 'x'})
    assert bad.status_code == 422

    async with svc.sessions() as session:
        admin = await accounts.create_admin(session, email='root@example.com', password=PASSWORD)
        await set_setting(session, actor=admin, key='autonomous_builds', value={'enabled': False})
    off = await client.post(f'/api/v1/projects/{project_id}/builds', headers=headers)
    assert off.status_code == 409 and off.json()['detail'] == KILL_SWITCH_MESSAGE


async def test_a_quiet_stream_sends_heartbeats_and_ends_with_the_build(
    svc: Services, client: httpx.AsyncClient
) -> None:
    ada, project_id = await founder_flow(svc, IDEA)
    headers = auth(await token_for(svc, ada))
    build = (await client.post(f'/api/v1/projects/{project_id}/builds', headers=headers)).json()
    reading = asyncio.create_task(client.get(f'/api/v1/builds/{build["id"]}/events', headers=headers))
    await asyncio.sleep(0.2)  # twenty heartbeat periods (0.01 s here) with nothing happening
    await client.post(f'/api/v1/builds/{build["id"]}/cancel', headers=headers)
    body = (await asyncio.wait_for(reading, 10)).text
    assert body.count(': heartbeat\n\n') >= 3
    assert sse(body)[-1]['event'] == 'build.done'


async def test_documents_as_markdown_and_the_zip_only_of_a_version(svc: Services, client: httpx.AsyncClient) -> None:
    ada, project_id = await founder_flow(svc, IDEA)
    headers = auth(await token_for(svc, ada))
    docs = await client.get(f'/api/v1/projects/{project_id}/docs.md', headers=headers)
    assert docs.status_code == 200 and docs.headers['content-type'].startswith('text/markdown')
    assert '## The idea' in docs.text
    kinds = {
        a['kind']: a for a in (await client.get(f'/api/v1/projects/{project_id}/artifacts', headers=headers)).json()
    }
    assert {'idea_brief', 'mvp_scope'} <= kinds.keys()
    brief = await client.get(kinds['idea_brief']['markdown_url'], headers=headers)
    assert brief.status_code == 200 and '## Idea Brief' in brief.text
    assert (await client.get(f'/api/v1/projects/{project_id}/artifacts/nothing.md', headers=headers)).status_code == 404
    build = (await client.post(f'/api/v1/projects/{project_id}/builds', headers=headers)).json()
    not_yet = await client.get(f'/api/v1/builds/{build["id"]}/zip', headers=headers)
    assert not_yet.status_code == 404  # not a version (READY) yet


async def test_each_token_is_rate_limited_with_retry_after(svc: Services, clock: Clock) -> None:
    app = FastAPI(openapi_url=None)  # as NiceGUI's app: the schema is ours
    app.include_router(api_router(svc, limiter=RateLimiter(rate=0.5, burst=3, clock=clock)))
    async with svc.sessions() as session:
        ada = await accounts.sign_up(session, email='ada@example.com', password=PASSWORD)
    first, second = await token_for(svc, ada, 'one'), await token_for(svc, ada, 'two')
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://cofounder') as http:
        codes = [(await http.get('/api/v1/projects', headers=auth(first))).status_code for _ in range(3)]
        limited = await http.get('/api/v1/projects', headers=auth(first))
        other = await http.get('/api/v1/projects', headers=auth(second))  # a bucket per token
        clock.now += 2.0  # one request's worth at 0.5 a second
        after_wait = await http.get('/api/v1/projects', headers=auth(first))
    assert codes == [200, 200, 200] and limited.status_code == 429 and limited.headers['Retry-After'] == '2'
    assert 'slow down' in limited.json()['detail']
    assert other.status_code == 200 and after_wait.status_code == 200


async def test_the_schema_lists_the_api_routes_only(client: httpx.AsyncClient) -> None:
    schema = (await client.get('/openapi.json')).json()
    assert schema['info']['title'] == 'Cofounder API'
    assert schema['paths'] and all(path.startswith('/api/v1/') for path in schema['paths'])
    assert '/api/v1/builds/{build_id}/events' in schema['paths']
    assert schema['components']['securitySchemes']['HTTPBearer']['scheme'] == 'bearer'


async def test_an_open_stream_ends_when_its_founder_is_suspended_and_cannot_reconnect(
    svc: Services, client: httpx.AsyncClient
) -> None:
    accounts.set_announcer(svc.events.announce)  # what the serving process registers (ui/auth.py)
    try:
        ada, project_id = await founder_flow(svc, IDEA)
        secret = await token_for(svc, ada)
        build = (await client.post(f'/api/v1/projects/{project_id}/builds', headers=auth(secret))).json()
        job_id = uuid.UUID(build['id'])
        stream = event_stream(svc.events, job_id, 0, 0.01, ended=partial(until_ended, svc, ada.id))
        chunks = [await anext(stream)]
        while chunks[-1] != b': heartbeat\n\n':  # the queued build's events, then quiet: the stream is open
            chunks.append(await asyncio.wait_for(anext(stream), 10))
        async with svc.sessions() as session:
            admin = await accounts.create_admin(session, email='root@example.com', password=PASSWORD)
            await accounts.update_user(session, actor=admin, user_id=ada.id, suspended=True)
        async with asyncio.timeout(10):
            rest = [chunk async for chunk in stream if chunk != b': heartbeat\n\n']
        assert rest == [SESSIONS_ENDED]  # ended at once, without a build.done
        again = await client.get(f'/api/v1/builds/{job_id}/events', headers=auth(secret))
        assert again.status_code in (401, 403)  # its token was revoked with the suspension
    finally:
        accounts.set_announcer(None)
