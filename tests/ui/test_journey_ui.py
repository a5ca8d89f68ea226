"""The founder journey as a founder sees it: idea → onboarding → interview → brief → Gate 1 → plan → Build.

The app runs main.py with the offline model (pace 0). Builds are only queued here (WORKER_CONCURRENCY=0):
the build page and the pipeline are tested by their own files.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core import admin_settings
from core.builds.jobs import KILL_SWITCH_MESSAGE
from core.journey import brief, flow, interview, onboarding, projects
from core.models import BuildJob, Project
from core.models import User as Account
from core.ports import LLMError, LLMReply
from core.services import Services
from tests.ui.conftest import sign_up

IDEA = 'A booking tool for independent dog groomers so clients can pick a slot and pay a deposit.'
ANSWERS = {
    'target_user': 'Solo dog groomers working from a van — “toiletteurs” in Lyon too 🐶',
    'problem': 'They lose hours a week on phone tag and no-shows',
    'must_have': 'online booking calendar, deposit payment, SMS reminders, client pet profiles',
    'constraints': 'Must work on a phone, cheap to run',
    'success': 'Fewer than 5% no-shows after a month',
}
WAIT = 80  # retries of 0.1 s while the model or the database works (a wait, not a timing assertion)


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')


def services() -> Services:
    return app.state.services


class DownModel:
    """The LLM port of a provider that is down (the network edge)."""

    name, offline, default_model = 'down', False, 'down-1'

    async def complete(self, **kwargs: Any) -> LLMReply:
        raise LLMError('upstream 529 overloaded', retryable=True, status=529)

    async def healthy(self) -> bool:
        return False


class model_down:  # noqa: N801 - reads as a sentence: `with model_down():`
    def __enter__(self) -> None:
        self.saved = services().llm
        services().llm = DownModel()  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        services().llm = self.saved


def project_id_from(user: User) -> str:
    path = user.back_history[-1]
    return path.split('/')[2]


def texts(user: User, marker: str) -> list[str]:
    out = []
    for element in user.find(marker=marker).elements:
        out.append(getattr(element, 'text', '') or str(getattr(element, 'value', '') or ''))
    return out


async def lands_on(user: User, path: str) -> None:
    """Wait until a navigation has opened `path` (fails with where the founder is instead)."""
    for _ in range(WAIT):
        if user.back_history[-1] == path:
            return
        await asyncio.sleep(0.1)
    assert user.back_history[-1] == path, texts(user, 'build-error')


async def answer_screen(user: User, text: str, *, button: str = 'next') -> None:
    user.find(marker='answer').clear().type(text)
    user.find(marker=button).click()


async def walk_onboarding(user: User) -> tuple[int, int]:
    """Answer onboarding's questions (its last screen says Finish); returns (asked, total of the conversation)."""
    await user.should_see('Question 1 of', retries=WAIT)
    total = int(texts(user, 'question-progress')[0].split(' of ')[1])
    for number in range(1, total + 1):
        await user.should_see(f'Question {number} of {total}', retries=WAIT)
        last = _has(user, 'finish')
        await answer_screen(user, f'Onboarding answer {number}, é à ü', button='finish' if last else 'next')
        if last:
            assert 3 <= number <= 6
            return number, total
    raise AssertionError('onboarding never offered Finish')


def _has(user: User, marker: str) -> bool:
    try:
        user.find(marker=marker)
    except AssertionError:
        return False
    return True


async def founder(email: str) -> Account:
    async with services().sessions() as session:
        return (await session.exec(select(Account).where(Account.email == email))).one()


async def arrange_brief(email: str, idea: str = IDEA, answers: dict[str, str] = ANSWERS) -> Project:
    """A project of `email` with the interview done and a first brief (Gate 1 pending), via the core."""
    owner, llm = await founder(email), services().llm
    async with services().sessions() as session:
        project = await projects.create_project(session, user=owner, idea=idea)
        row = await onboarding.start_onboarding(session, user=owner, project_id=project.id, llm=llm)
        for q in row.questions:
            await interview.save_answer(
                session, user=owner, project_id=project.id, kind='onboarding', key=q['key'], text='Yes'
            )
        await onboarding.complete_onboarding(session, user=owner, project_id=project.id)
        for key, text in answers.items():
            await interview.save_answer(
                session, user=owner, project_id=project.id, kind='understanding', key=key, text=text
            )
        await interview.complete_interview(session, user=owner, project_id=project.id)
        await flow.generate_brief(session, user=owner, project_id=project.id, llm=llm)
    return project


async def feature_names(project_id: uuid.UUID) -> list[str]:
    async with services().sessions() as session:
        row = await brief.latest(session, project_id=project_id, kind='idea_brief')
    assert row is not None
    return [f['name'] for f in row.content['core_features']]


async def test_founder_walks_from_idea_to_a_started_build(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    user.find(marker='new-project').click()
    await user.should_see(marker='idea-input')

    user.find(marker='idea-input').type('Dog app')
    await user.should_see(projects.TOO_SHORT)
    await user.should_see('7 / 2000')
    user.find(marker='idea-continue').click()
    await user.should_see(marker='idea-hint', content=projects.TOO_SHORT)
    assert texts(user, 'idea-error') == ['']  # said once, by the live hint, not twice
    await user.should_see(marker='idea-input')  # still on the form: nothing created

    user.find(marker='idea-input').clear().type(IDEA)
    user.find(marker='idea-input').trigger('keydown.enter.exact.prevent')  # Enter continues
    # one conversation: onboarding asks who, what problem and the must-haves (the interview will not ask them
    # again), numbered as one run with the interview's remaining questions
    await user.should_see('Question 1 of 7', retries=WAIT)
    pid = project_id_from(user)
    await answer_screen(user, ANSWERS['target_user'])
    await user.should_see('Question 2 of 7', retries=WAIT)
    await answer_screen(user, ANSWERS['problem'])
    await user.should_see('Question 3 of 7', retries=WAIT)
    user.find(marker='answer').type('online booking calendar, deposit')
    await user.should_see(marker='saved-indicator', content='Saved', retries=WAIT)

    await user.open(f'/projects/{pid}/interview')
    await user.should_see('Question 3 of 7', retries=WAIT)
    await user.should_see(marker='answer', content='online booking calendar, deposit')
    user.find(marker='back').click()
    await user.should_see('Question 2 of 7', retries=WAIT)
    await user.should_see(marker='answer', content=ANSWERS['problem'])
    user.find(marker='next').click()
    await user.should_see('Question 3 of 7', retries=WAIT)
    user.find(marker='answer').type(', SMS reminders, client pet profiles')
    user.find(marker='answer').trigger('keydown.enter.exact.prevent')  # Enter: next question
    await user.should_see('Question 4 of 7', retries=WAIT)
    await answer_screen(user, 'A deposit of 10 EUR per booking')
    await user.should_see('Question 5 of 7', retries=WAIT)
    await answer_screen(user, 'Up to two weeks ahead', button='finish')  # the end of onboarding
    await user.should_see('Question 6 of 7', retries=WAIT)
    await user.should_not_see('Who will use')  # asked once, in onboarding
    await answer_screen(user, ANSWERS['constraints'])
    await user.should_see('Question 7 of 7', retries=WAIT)
    user.find(marker='finish').click()  # the last one is still empty
    await user.should_see('Please answer how you will measure success', retries=WAIT)
    await user.should_see(marker='missing-question')
    await answer_screen(user, ANSWERS['success'], button='finish')

    # the brief is written while the founder watches
    await user.should_see(marker='brief-document', retries=WAIT)
    assert user.back_history[-1] == f'/projects/{pid}/brief'
    names = await feature_names(uuid.UUID(pid))
    for name in names:
        await user.should_see(name)
    await user.should_see('Idea Brief v1')
    await user.should_see(marker='gate-card')

    user.find(marker='gate-proceed').click()
    await user.should_see(marker='plan-fast', retries=WAIT)
    await user.should_see(marker='plan-balanced')
    await user.should_not_see(marker='build-button')
    user.find(marker='choose-balanced').click()
    await user.should_see(marker='plan-chosen', retries=WAIT)
    user.find(marker='build-button').click()
    await lands_on(user, f'/projects/{pid}/build')
    async with services().sessions() as session:
        jobs = (await session.exec(select(BuildJob).where(BuildJob.project_id == uuid.UUID(pid)))).all()
    assert len(jobs) == 1

    # the project page and the dashboard tell the same story
    await user.open(f'/projects/{pid}')
    for title in (
        'Idea captured',
        'Onboarding done',
        'Interview done',
        'Idea Brief v1 generated',
        'Gate 1 — direction: proceed',
        'Plan chosen',
        'Build started',
    ):
        await user.should_see(marker='timeline-title', content=title)
    await user.should_see(marker='continue', content='Watch the build')
    await user.open('/')
    await user.should_see(marker='project-card')
    await user.should_see(marker='stage-label', content='Building')
    await user.should_see(marker='artifact', content='Idea Brief v1')
    await user.should_see(marker='mvp-percent')


async def test_answers_in_another_language_survive_a_reload(user: User) -> None:
    await sign_up(user, 'zoe@example.com')
    await user.open('/projects/new')
    user.find(marker='idea-input').type('Équipe de foot amateur : convocations, covoiturage et buvette pour le club.')
    user.find(marker='idea-continue').click()
    await user.should_see('Qui utilisera', retries=WAIT)  # the questions come in the founder's language
    asked, total = await walk_onboarding(user)
    pid = project_id_from(user)
    await user.should_see(f'Question {asked + 1} of {total}', retries=WAIT)
    await user.should_see('Des contraintes')  # the interview asks only what onboarding did not
    user.find(marker='answer').type('Les entraîneurs bénévoles — « U11 » ⚽')
    user.find(marker='answer').trigger('blur')
    await user.should_see(marker='saved-indicator', content='Saved', retries=WAIT)
    await user.open(f'/projects/{pid}/interview')
    await user.should_see(marker='answer', content='Les entraîneurs bénévoles — « U11 » ⚽', retries=WAIT)


async def test_narrow_makes_a_new_version_visible_in_history_and_export_has_features(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com')
    await user.open(f'/projects/{project.id}/brief')
    await user.should_see('Idea Brief v1', retries=WAIT)

    user.find(marker='export').click()
    download = await user.download.next(timeout=5)
    for name in await feature_names(project.id):
        assert name in download.text

    user.find(marker='gate-reason').type('Focus on booking and deposit only, drop the SMS reminders')
    user.find(marker='gate-narrow').click()
    await user.should_see('Idea Brief v2', retries=WAIT)
    await user.should_see(marker='gate-card')  # Gate 1 is open again for the new version
    user.find(marker='history').click()
    await user.should_see(marker='history-version', content='v2 · narrowed: Focus on booking', retries=WAIT)
    await user.should_see(marker='history-version', content='v1 · generated')
    user.find(marker='view-idea_brief-v1').click()
    await user.should_see(marker='old-version', retries=WAIT)


async def test_founder_edits_the_brief_as_a_new_version(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com')
    await user.open(f'/projects/{project.id}/brief')
    await user.should_see('Idea Brief v1', retries=WAIT)
    user.find(marker='edit-brief').click()
    await user.should_see(marker='edit-idea_brief')
    user.find(marker='edit-core_features').clear()
    user.find(marker='edit-save').click()
    await user.should_see('at least one core feature', retries=WAIT)  # the core's message; the form stays
    user.find(marker='edit-core_features').type('Groomer Calendar — see the day at a glance\nDeposits')
    user.find(marker='edit-title').clear().type('PawBook')
    user.find(marker='edit-save').click()
    await user.should_see('Idea Brief v2', retries=WAIT)
    await user.should_see(marker='brief-title', content='PawBook')
    await user.should_see(marker='core-feature', content='Groomer Calendar')
    user.find(marker='history').click()
    await user.should_see(marker='history-version', content='edited by founder', retries=WAIT)


async def test_park_needs_a_reason_then_unpark_resumes(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com')
    await user.open(f'/projects/{project.id}/brief')
    await user.should_see(marker='gate-card', retries=WAIT)
    user.find(marker='gate-park').click()
    await user.should_see('Tell us why you chose to park', retries=WAIT)
    user.find(marker='gate-reason').type('Waiting for feedback from three groomers')
    user.find(marker='gate-park').click()
    await user.should_see(marker='parked-banner', retries=WAIT)
    assert user.back_history[-1] == f'/projects/{project.id}'
    await user.should_see(marker='timeline-title', content='Project parked')
    await user.should_not_see(marker='continue')

    user.find(marker='unpark').click()
    await user.should_see(marker='continue', content='Decide the direction', retries=WAIT)
    await user.should_not_see(marker='parked-banner')
    await user.should_see(marker='timeline-title', content='Project unparked')


async def test_model_failure_offers_retry_and_keeps_what_was_typed(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com')
    reason = 'Only the booking calendar for now'
    with model_down():
        await user.open(f'/projects/{project.id}/brief')
        await user.should_see(marker='gate-card', retries=WAIT)
        user.find(marker='gate-reason').type(reason)
        user.find(marker='gate-narrow').click()
        await user.should_see(marker='gate-error', content='unavailable right now', retries=WAIT)
        await user.should_see(marker='gate-reason', content=reason)
    user.find(marker='gate-retry').click()
    await user.should_see('Idea Brief v2', retries=WAIT)


async def test_first_brief_failure_shows_retry_that_generates_it(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    owner = await founder('ada@example.com')
    project = await arrange_brief('ada@example.com')
    async with services().sessions() as session:  # a second project that stops right after the interview
        other = await projects.create_project(session, user=owner, idea=IDEA)
        row = await onboarding.start_onboarding(session, user=owner, project_id=other.id, llm=services().llm)
        for q in row.questions:
            await interview.save_answer(
                session, user=owner, project_id=other.id, kind='onboarding', key=q['key'], text='Oui'
            )
        await onboarding.complete_onboarding(session, user=owner, project_id=other.id)
        for key, text in ANSWERS.items():
            await interview.save_answer(
                session, user=owner, project_id=other.id, kind='understanding', key=key, text=text
            )
        await interview.complete_interview(session, user=owner, project_id=other.id)
    assert project.id != other.id
    with model_down():
        await user.open(f'/projects/{other.id}/brief')
        await user.should_see(marker='brief-error', content='unavailable right now', retries=WAIT)
    user.find(marker='brief-retry').click()
    await user.should_see(marker='brief-document', retries=WAIT)
    await user.should_see('Idea Brief v1')


async def test_build_refusal_is_shown_plainly(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com')
    await user.open(f'/projects/{project.id}/brief')
    await user.should_see(marker='gate-card', retries=WAIT)
    user.find(marker='gate-proceed').click()
    await user.should_see(marker='choose-fast', retries=WAIT)
    user.find(marker='choose-fast').click()
    await user.should_see(marker='build-button', retries=WAIT)
    admin = await founder('ada@example.com')  # the first account is the administrator
    async with services().sessions() as session:
        await admin_settings.set_setting(session, actor=admin, key='autonomous_builds', value={'enabled': False})
    user.find(marker='build-button').click()
    await user.should_see(marker='build-error', content=KILL_SWITCH_MESSAGE, retries=WAIT)
    async with services().sessions() as session:
        await admin_settings.set_setting(session, actor=admin, key='autonomous_builds', value={'enabled': True})
    user.find(marker='build-button').click()
    await lands_on(user, f'/projects/{project.id}/build')
    await user.open(f'/projects/{project.id}/plan')  # a second build while the first is queued
    await user.should_see(marker='build-button', retries=WAIT)
    user.find(marker='build-button').click()
    await user.should_see(marker='build-error', content='already under way', retries=WAIT)


async def test_dashboard_cards_show_the_journey_summary(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com')
    await user.open('/')
    await user.should_see(marker='card-title', content=project.title)
    await user.should_see(marker='stage-label', content='Decide the direction')
    await user.should_see(marker='pending-decision', content='Gate 1')
    await user.should_see(marker='artifact', content='MVP scope v1')
    await user.should_see(marker='risk-flag')
    await user.should_see(marker='mvp-percent', content='0%')  # verified features, and nothing is built yet
    await user.should_see(marker='agent-state', content='Idle')
    await user.should_see(marker='build-state', content='No build yet')
    await user.should_not_see(marker='empty-state')


async def test_onboarding_questions_retry_after_a_model_failure_keeps_the_idea(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await user.open('/projects/new')
    with model_down():
        user.find(marker='idea-input').type(IDEA)
        user.find(marker='idea-input').trigger('keydown.enter.ctrl.prevent')  # ctrl+Enter continues too
        await user.should_see(marker='questions-error', content='unavailable right now', retries=WAIT)
    pid = project_id_from(user)
    user.find(marker='questions-retry').click()
    await user.should_see('Question 1 of', retries=WAIT)
    await user.open(f'/projects/{pid}')
    await user.should_see(marker='project-idea', content=IDEA)
    await user.should_see(marker='continue', content='Continue the interview')
