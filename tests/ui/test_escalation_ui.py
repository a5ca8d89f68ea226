"""When things go wrong (AG-7, AG-8, UI-3, UI-4, UI-7, J-7), as the founder sees it, reached through the producers:
a real offline build led into a failure by OFFLINE_SCENARIO (the workspace cannot download a package), which the
pipeline heals or escalates. The page, the Kanban, the dashboard and the admin page are checked in NiceGUI's
simulated browser; the founder's answer goes through the page to `answer_escalation`."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import aclosing

import pytest
from nicegui import app, ui
from nicegui.testing import User
from sqlmodel import select

from core.builds import jobs as builds
from core.builds.escalations import SKIP, STOP
from core.events import BuildEvent, Escalated, Sleeping
from core.models import BuildJob, Escalation, Tier
from core.models import User as Account
from core.services import Services
from jobs.demo import founder_flow
from tests.services import require_chromium
from tests.ui.conftest import log_in, log_out, sign_up
from ui.components.activity_feed import ActivityFeed
from ui.components.agent_card import AgentCard
from ui.components.kanban import Kanban

IDEA = 'A booking tool for dog groomers so owners can book a grooming slot online'
MUST_HAVE = 'online booking, a groomer dashboard'
PROBLEM = 'A step needs something downloaded from the internet, and the workspace has no internet access.'
HEALING = f"Something went wrong: {PROBLEM} I'm trying a different approach (attempt {{}} of 3)."
FIRST_PHASE = 'Plan the app'  # where the offline model's download fails


@pytest.fixture(autouse=True)
def escalate(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set before the `user` fixture starts the app: its offline model fails three times and asks the founder.
    monkeypatch.setenv('OFFLINE_SCENARIO', 'escalate')


def services() -> Services:
    return app.state.services


async def founder(email: str) -> Account:
    async with services().sessions() as session:
        return (await session.exec(select(Account).where(Account.email == email))).one()


async def build_until(email: str, stop: type[BuildEvent], timeout: float = 60) -> tuple[uuid.UUID, BuildJob]:
    """The founder's idea taken to a selected plan, a build started, and followed until a `stop` event."""
    svc = services()
    owner, project_id = await founder_flow(svc, IDEA, MUST_HAVE, user=await founder(email))
    async with svc.sessions() as session:
        job = await builds.start_build(session, user=owner, project_id=project_id, queue=svc.queue, events=svc.events)
    async with asyncio.timeout(timeout), aclosing(svc.events.follow(job.id)) as stream:
        async for event in stream:
            if isinstance(event, stop):
                break
            assert event.type != 'build.done', f'the build ended before {stop.__name__}: {event}'
    async with svc.sessions() as session:
        row = await session.get(BuildJob, job.id)
    assert row is not None
    return project_id, row


async def asked_build(user: User, email: str) -> tuple[uuid.UUID, BuildJob]:
    await sign_up(user, email)
    project_id, job = await build_until(email, Escalated)
    assert job.state == 'NEEDS_INPUT'
    return project_id, job


async def question_of(job_id: uuid.UUID) -> Escalation:
    async with services().sessions() as session:
        return (await session.exec(select(Escalation).where(Escalation.job_id == job_id))).one()


async def test_the_founder_is_asked_on_the_page_and_the_recommended_answer_finishes_the_build(user: User) -> None:
    require_chromium()  # the build's checks take a screenshot on the way to READY
    project_id, job = await asked_build(user, 'ada@example.com')

    # The dashboard shows the pending decision; it leads to the build page.
    await user.open('/')
    await user.should_see('The agent needs your decision')
    await user.should_see('Agent: Needs your input')
    user.find(marker='build-decision').click()
    await user.should_see(marker='agent-card')
    assert user.back_history[-1] == f'/projects/{project_id}/build'

    # The card, drawn from the replayed Escalated event: problem, what was tried, the recommendation, real buttons.
    with user.scope(marker='agent-card'):
        await user.should_see('Needs your input')
        await user.should_see(f'While working on “{FIRST_PHASE}”: a step needs something downloaded')
        await user.should_see('What I tried:')
        for n in (1, 2, 3):
            await user.should_see(f'Attempt {n}: ')
        await user.should_see(f'I recommend: {SKIP}')
    options = [b.text for b in sorted(user.find(marker='escalation-option').elements, key=lambda b: b.id)]
    assert options == [SKIP, 'Simplify this part', STOP]  # the recommended one first
    assert [b.text for b in user.find(marker='recommended-option').elements] == [SKIP]
    recommended = user.find(marker='recommended-option').elements.pop()
    assert recommended.props.get('color') == 'primary' and recommended.props.get('unelevated') is True

    # The feed says in plain words what went wrong and what the agent tried instead; no signature anywhere.
    feed = user.find(marker='activity-feed').elements.pop()
    assert isinstance(feed, ActivityFeed)
    texts = [entry['text'] for entry in feed.entries]
    assert HEALING.format(2) in texts and HEALING.format(3) in texts
    assert not [text for text in texts if 'network:' in text]
    await user.should_not_see(marker='healing')  # the stage changed to waiting: the auto-fix line went
    await user.should_see('Waiting for your answer')

    # The Kanban shows the phase as Blocked.
    kanban = user.find(marker='kanban').elements.pop()
    assert isinstance(kanban, Kanban)
    assert kanban.column_of(FIRST_PHASE) == 'blocked'
    with user.scope(marker='kanban-blocked'):
        await user.should_see(FIRST_PHASE)

    # The answer: stored, the build resumes and finishes on this page.
    user.find(marker='recommended-option').click()
    await user.should_see('Thanks — continuing with your decision', retries=50)
    await user.should_see('Your app is ready — v0.1', retries=600)
    question = await question_of(job.id)
    assert (question.status, question.decision) == ('resolved', SKIP)
    assert kanban.column_of(FIRST_PHASE) == 'done'
    await user.should_not_see(marker='escalation-option')
    await user.open('/')
    await user.should_see('Agent: Idle')
    await user.should_not_see('The agent needs your decision')


@pytest.fixture
def paced(app_env, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # Asked for before `user`: each build step takes half a second, so the page can be watched as it happens.
    monkeypatch.setenv('OFFLINE_PACE_SECONDS', '0.5')


async def test_the_page_shows_the_auto_fix_live_then_asks_and_stop_here_ends_the_build(paced, user: User) -> None:  # type: ignore[no-untyped-def]
    await sign_up(user, 'ada@example.com')
    _, project_id = await founder_flow(services(), IDEA, MUST_HAVE, user=await founder('ada@example.com'))
    await user.open(f'/projects/{project_id}/build')
    user.find(marker='start-build').click()
    await user.should_see('Auto-fixing (attempt 2 of 3)', retries=300)  # from the pipeline's Healing event
    await user.should_see(HEALING.format(2))
    await user.should_see('Auto-fixing (attempt 3 of 3)', retries=100)
    await user.should_see(f'I recommend: {SKIP}', retries=100)  # the card drawn live
    await user.should_not_see(marker='healing')
    with user.scope(marker='kanban-blocked'):
        await user.should_see(FIRST_PHASE)
    user.find(marker='escalation-option', content=STOP).click()
    await user.should_see('This build was cancelled', retries=100)
    await user.should_see('Stopping the build, as you decided.')
    job_id = uuid.UUID(user.back_history[-1].rsplit('/', 1)[1])
    async with services().sessions() as session:
        assert (await session.get(BuildJob, job_id)).state == 'CANCELLED'  # type: ignore[union-attr]
    assert (await question_of(job_id)).decision == STOP


async def test_a_free_text_answer_is_stored_and_the_build_goes_on(user: User) -> None:
    require_chromium()
    _, job = await asked_build(user, 'ada@example.com')
    await user.open(f'/builds/{job.id}')
    await user.should_see(f'I recommend: {SKIP}')
    user.find(marker='escalation-send').click()  # nothing written yet: nothing sent
    await user.should_see('Pick an option, or write your answer first.')
    answer = 'Use plain links instead of QR codes for now.'
    user.find(marker='escalation-answer').type(answer)
    user.find(marker='escalation-send').click()
    await user.should_see('Your app is ready — v0.1', retries=600)
    question = await question_of(job.id)
    assert (question.status, question.decision) == ('resolved', answer)


async def test_a_waiting_build_can_be_cancelled_and_admins_see_the_builds_waiting(user: User) -> None:
    # Ada signs up first, so she is the administrator; Grace's builds get a paced tier whose day is long.
    await sign_up(user, 'ada@example.com')
    await user.open('/admin')
    await user.should_see('Builds waiting')
    await user.should_see(marker='no-builds-waiting')
    _, asked = await build_until('ada@example.com', Escalated)
    await log_out(user)
    await sign_up(user, 'grace@example.com')
    async with services().sessions() as session:
        session.add(Tier(name='paced', label='Paced', token_allowance=1_800_000, daily_token_cap=20_000,
                         day_seconds=3600))  # fmt: skip
        grace = (await session.exec(select(Account).where(Account.email == 'grace@example.com'))).one()
        grace.tier = 'paced'
        await session.commit()
    _, resting = await build_until('grace@example.com', Sleeping)
    assert resting.state == 'SLEEPING' and resting.wake_at is not None

    # Grace cancels her resting build from its page: nothing runs it, so it ends at once.
    await user.open(f'/builds/{resting.id}')
    await user.should_see('Resting')
    user.find(marker='cancel-build').click()
    user.find(marker='confirm-cancel').click()
    await user.should_see('This build was cancelled')
    await user.should_see('Build cancelled.')

    await log_out(user)
    await log_in_again(user, 'ada@example.com')
    await user.open('/admin')
    with user.scope(marker='builds-waiting'):
        await user.should_see('ada@example.com')
        await user.should_see('Waiting for the founder’s decision')
        await user.should_see('since ')
        await user.should_not_see('grace@example.com')  # cancelled: no longer waiting
    assert len(user.find(marker='waiting-build').elements) == 1

    # Ada cancels the build that waits for her decision; its question is closed with it.
    await user.open(f'/builds/{asked.id}')
    await user.should_see(f'I recommend: {SKIP}')
    user.find(marker='cancel-build').click()
    user.find(marker='confirm-cancel').click()
    await user.should_see('This build was cancelled')
    async with services().sessions() as session:
        assert (await session.get(BuildJob, asked.id)).state == 'CANCELLED'  # type: ignore[union-attr]
        assert (await session.get(BuildJob, resting.id)).wake_at is None  # type: ignore[union-attr]
    assert (await question_of(asked.id)).status == 'resolved'
    await user.open('/')
    await user.should_not_see('The agent needs your decision')
    await user.open('/admin')
    await user.should_see(marker='no-builds-waiting')


async def test_the_resting_build_shows_its_wake_time_to_admins(user: User) -> None:
    await sign_up(user, 'ada@example.com')  # the administrator, with a paced tier
    async with services().sessions() as session:
        session.add(Tier(name='paced', label='Paced', token_allowance=1_800_000, daily_token_cap=20_000,
                         day_seconds=3600))  # fmt: skip
        ada = (await session.exec(select(Account).where(Account.email == 'ada@example.com'))).one()
        ada.tier = 'paced'
        await session.commit()
    _, resting = await build_until('ada@example.com', Sleeping)
    await user.open('/admin')
    with user.scope(marker='waiting-build'):
        await user.should_see('Resting')
        await user.should_see('ada@example.com')
        await user.should_see('wakes ')
        await user.should_see(f'{resting.wake_at:%Y-%m-%d %H:%M} UTC (in ')


async def test_founders_other_than_the_owner_get_not_found(user: User) -> None:
    project_id, job = await asked_build(user, 'ada@example.com')
    await log_out(user)
    await sign_up(user, 'mallory@example.com')
    await user.open('/')
    await user.should_not_see('The agent needs your decision')
    for path in (f'/projects/{project_id}/build', f'/builds/{job.id}'):
        await user.open(path)
        await user.should_see('not found')
        await user.should_not_see('Needs your input')
        await user.should_not_see(marker='escalation-option')
    async with services().sessions() as session:
        assert (await session.get(BuildJob, job.id)).state == 'NEEDS_INPUT'  # type: ignore[union-attr]


async def log_in_again(user: User, email: str) -> None:
    await log_in(user, email)
    await user.should_see('Your projects', retries=50)


async def test_the_buttons_wait_while_an_answer_is_sent_and_come_back_when_it_is_not_taken(user: User) -> None:
    """The card on its own, with the Escalated event of a real stuck build and an answer that the test holds."""
    _, job = await asked_build(user, 'ada@example.com')
    (asked,) = [e for e in await services().events.read(job.id) if isinstance(e, Escalated)]
    release = asyncio.Event()
    sent: list[str] = []

    async def answer(choice: str) -> bool:
        sent.append(choice)
        await release.wait()
        return False  # e.g. refused: the founder may try again

    @ui.page('/test/agent-card')
    def card_page() -> None:
        AgentCard(state='NEEDS_INPUT', answer=answer).apply(asked)

    await user.open('/test/agent-card')
    await user.should_see(f'I recommend: {SKIP}')
    user.find(marker='recommended-option').click()
    await user.should_see(marker='escalation-send')
    for _ in range(50):
        if sent:
            break
        await asyncio.sleep(0.02)
    controls = [*user.find(marker='escalation-option').elements, *user.find(marker='escalation-answer').elements]
    assert sent == [SKIP] and controls and not [c for c in controls if c.enabled]  # type: ignore[attr-defined]
    user.find(marker='escalation-option', content=STOP).click()  # disabled: nothing is sent twice
    release.set()
    for _ in range(50):
        if all(c.enabled for c in controls):  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.02)
    assert all(c.enabled for c in controls) and sent == [SKIP]  # type: ignore[attr-defined]
