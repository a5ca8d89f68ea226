"""UI-9: the offline model answers the common questions from a prepared project's real state, in English and
Japanese, streamed, and every chat call is accounted with the role 'chat'."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, select

from core.builds.readiness import latest_report, report_of
from core.chat.assistant import ask, deps_of
from core.chat.words import when
from core.models import UsageRecord, utcnow
from core.services import Services
from tests.integration import chat_support
from tests.integration.chat_support import (
    CHANGE,
    V1,
    V2,
    escalated,
    founder,
    ready_version,
    running,
    sleeping,
    start,
)

services = chat_support.services  # the fixture: a migrated database and the app's Services


async def _ask(svc: Services, user, project_id, question: str):  # type: ignore[no-untyped-def]
    return await ask(deps_of(svc), user=user, project_id=project_id, question=question, stream_pause=0)


async def test_why_is_it_sleeping_gives_the_real_wake_time_and_reason(services: Services) -> None:
    user, project_id = await founder(services)
    job, wake_at = await sleeping(services, user, project_id)
    assert job.state == 'SLEEPING' and job.wake_at is not None

    reply = await _ask(services, user, project_id, 'Why is it sleeping?')
    assert when(wake_at) in reply.text and "Today's budget is spent." in reply.text
    assert 'Done so far: Online Booking Calendar.' in reply.text and reply.proposal is None

    japanese = await _ask(services, user, project_id, 'なぜ休止しているの？')
    assert when(wake_at) in japanese.text and '休止中' in japanese.text and japanese.lang == 'ja'


async def test_whats_blocking_my_deploy_lists_the_readiness_blockers(services: Services) -> None:
    user, project_id = await founder(services)
    job = await running(services, await start(services, user, project_id))
    await ready_version(services, job, V1, passed=(True, False))
    async with services.sessions() as session:
        report = report_of(await latest_report(session, user=user, project_id=project_id))  # type: ignore[arg-type]
    assert report is not None and report.blockers  # a hard-coded secret, no README, a failing feature

    reply = await _ask(services, user, project_id, "What's blocking my deploy?")
    for blocker in report.blockers:
        assert blocker.title in reply.text and blocker.fix.splitlines()[0] in reply.text
    assert report.verdict_label in reply.text and 'Deposit Payment' in reply.text  # the feature that failed

    japanese = await _ask(services, user, project_id, 'デプロイを妨げているものは？')
    assert 'デプロイを妨げているもの' in japanese.text and report.blockers[0].title in japanese.text


async def test_what_changed_in_v0_2_names_the_files_and_the_request(services: Services) -> None:
    user, project_id = await founder(services)
    await ready_version(services, await running(services, await start(services, user, project_id)), V1)
    await ready_version(services, await running(services, await start(services, user, project_id)), V2, request=CHANGE)

    reply = await _ask(services, user, project_id, 'What did you change in v0.2?')
    assert 'v0.2' in reply.text and 'v0.1' in reply.text and CHANGE in reply.text
    assert 'waiting_list.py' in reply.text and 'app.py' in reply.text  # added, changed
    first = await _ask(services, user, project_id, 'what changed in v0.1?')
    assert 'first version' in first.text
    missing = await _ask(services, user, project_id, 'What did you change in v0.9?')
    assert 'There is no v0.9' in missing.text
    japanese = await _ask(services, user, project_id, 'v0.2で何を変えたの？')
    assert '変更点' in japanese.text and 'waiting_list.py' in japanese.text


async def test_how_much_have_i_spent_this_week_counts_the_founders_calls(services: Services) -> None:
    user, project_id = await founder(services)
    async with services.sessions() as session:
        week = (await session.exec(select(
            func.sum(col(UsageRecord.input_tokens) + col(UsageRecord.output_tokens))).where(
            UsageRecord.user_id == user.id, col(UsageRecord.at) >= utcnow() - timedelta(days=7)))).one()  # fmt: skip
    assert week and week > 0  # the journey's calls (onboarding, brief, plans)

    reply = await _ask(services, user, project_id, 'How much have I spent this week?')
    assert f'{week:,} tokens' in reply.text and 'renews on' in reply.text
    async with services.sessions() as session:
        chat_calls = (await session.exec(select(UsageRecord).where(UsageRecord.role == 'chat'))).all()
    assert len(chat_calls) == 1 and chat_calls[0].model == 'offline-1' and chat_calls[0].project_id == project_id
    assert chat_calls[0].input_tokens > 0 and chat_calls[0].output_tokens > 0


async def test_status_is_streamed_in_pieces_and_names_the_stage_and_the_build(services: Services) -> None:
    user, project_id = await founder(services)
    await running(services, await start(services, user, project_id))
    pieces: list[str] = []
    deps = deps_of(services)
    reply = await ask(deps, user=user, project_id=project_id, question="What's the status?", on_text=pieces.append,
                      stream_pause=0)  # fmt: skip
    assert len(pieces) > 3 and ''.join(pieces) == reply.text
    assert 'Building' in reply.text and 'writing the code' in reply.text and 'Spent today' in reply.text
    assert '状況' not in reply.text
    japanese = await _ask(services, user, project_id, '状況は？')
    assert 'コードを書いている最中' in japanese.text


async def test_a_waiting_question_is_explained_with_its_options(services: Services) -> None:
    user, project_id = await founder(services)
    await escalated(services, user, project_id)
    reply = await _ask(services, user, project_id, 'What decision do you need from me?')
    assert 'Payments' in reply.text and 'Simplify this part' in reply.text and 'option 1' in reply.text


async def test_the_chat_says_when_it_does_not_understand_and_offers_what_it_can_do(services: Services) -> None:
    user, project_id = await founder(services)
    reply = await _ask(services, user, project_id, 'Blorp the flux capacitor.')
    assert reply.text.startswith('Sorry, I did not understand that.') and reply.proposal is None
    for action in ('start or retry a build', 'cancel it', 'ask for a change', 'open a', 'download the docs'):
        assert action in reply.text
    japanese = await _ask(services, user, project_id, 'フラックスキャパシター')
    assert japanese.text.startswith('すみません') and 'キャンセル' in japanese.text


async def test_the_dashboard_chat_knows_every_project_of_the_founder(services: Services) -> None:
    user, first = await founder(services)
    _, second = await founder(services)  # another founder's project never shows
    reply = await _ask(services, user, None, "What's the status?")
    async with services.sessions() as session:
        from core.models import Project

        mine, theirs = await session.get(Project, first), await session.get(Project, second)
    assert mine is not None and theirs is not None and mine.title in reply.text
    assert reply.text.count('is at the stage') == 1  # one project: this founder's only
