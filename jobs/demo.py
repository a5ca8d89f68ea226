"""`python main.py demo --idea "…"`: the whole founder flow and a build, headless (OPS-2).

A throwaway founder signs up, answers the interview, gets a brief, proceeds at Gate 1, picks the
fastest plan and builds. The summary is what a founder would have seen, as JSON.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
import urllib.request
import uuid
from contextlib import aclosing
from typing import Any

from core import accounts
from core.acceptance.runs import results_of
from core.builds import jobs as builds
from core.builds import readiness
from core.builds.escalations import answer_escalation
from core.builds.states import stage_durations
from core.events import BuildEvent, DocumentationUpdated, Escalated, Healing, Sleeping, SnapshotUpdated, Waking
from core.journey import change_requests as changes
from core.journey import fast_path, flow, gates, interview, onboarding, plans, projects
from core.journey.brief import latest
from core.language import JAPANESE, detect
from core.models import BuildJob, Tier, User
from core.services import Services
from core.stacks import STACK_TEXT, STDLIB
from jobs import worker


def default_answers(idea: str, must_have: str | None = None) -> dict[str, str]:
    """Plausible interview answers built from the idea itself (the demo has no founder to ask), in its language."""
    if detect(idea) == JAPANESE:
        return {
            'target_user': '小さなチーム',
            'problem': '今は手作業で、毎週何時間も失っている',
            'must_have': must_have or f'{projects.derive_title(idea)}、顧客リスト、リマインダー',
            'constraints': 'スマホで使えて、安く運用できる',
            'success': '1か月後に毎週10人が使っている',
        }
    text = idea.strip().rstrip('.')
    parts = re.split(r'\s+(?:for|pour)\s+', text, maxsplit=1)
    core = re.sub(r'^(?:an?|the|un|une|le|la)\s+', '', parts[0], flags=re.IGNORECASE)
    audience = re.split(r'\s+(?:so|that|to|who|qui|afin)\s+', parts[1])[0] if len(parts) > 1 else 'small teams'
    return {
        'target_user': audience[:1].upper() + audience[1:],
        'problem': f'{audience[:1].upper() + audience[1:]} do this by hand today and lose hours every week',
        'must_have': must_have or f'{core}, customer list, reminders',
        'constraints': 'Works on a phone, cheap to run',
        'success': 'Ten people use it every week after a month',
    }


async def run_demo(
    services: Services,
    *,
    idea: str,
    must_have: str | None = None,
    timeout: float = 600,
    daily_tokens: int | None = None,
    day_seconds: int = 5,
    change: str | None = None,
    fast: bool = False,
    stack: str = STDLIB,
) -> dict[str, Any]:
    """The founder flow and a build. `daily_tokens` puts the founder on a tier whose pacing day lasts
    `day_seconds` with that many tokens a day, so the build sleeps and wakes on its own (BU-4, BU-5);
    `change` then asks for that change and builds the next version (IT-2, IT-3); `fast` skips the questions
    (the fast path: the brief's assumptions are listed in the summary); `stack` is the stack chosen for the
    selected plan (core/stacks.py), which the build then follows."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    await services.start()
    await worker.start(services)
    try:
        user = await _paced_founder(services, daily_tokens, day_seconds) if daily_tokens else None
        user, project_id = await founder_flow(services, idea, must_have, timings, user, fast=fast)
        if stack != STDLIB:
            await choose_stack(services, project_id, stack)
        t0 = time.perf_counter()
        async with services.sessions() as session:
            job = await builds.start_build(
                session, user=user, project_id=project_id, queue=services.queue, events=services.events
            )
        shots, docs, holds = await _watch(services, user, job.id, timeout)
        timings['build'] = round(time.perf_counter() - t0, 3)
        async with services.sessions() as session:
            final = await session.get(BuildJob, job.id)
        assert final is not None
        timings['total'] = round(time.perf_counter() - started, 3)
        # In a thread: the preview may be served through this very event loop (the sandbox's bridge).
        preview_ok = await asyncio.to_thread(_preview_answers, final.preview_url)
        summary = {**_summary(services, user.id, project_id, final, shots, docs, timings, preview_ok), **holds}
        summary['brief'] = await _brief_summary(services, project_id)
        summary['assumptions'] = summary['brief']['assumptions']
        if change and final.state == 'READY':
            summary['iteration'] = iteration = await _iterate(services, user, project_id, change, timeout)
            # the contract's plain keys at the top too (the first version's own figures stay as they are)
            summary['alignment'], summary['changelog'] = iteration.get('alignment'), iteration.get('changelog')
        summary['readiness'] = await _readiness(services, user, project_id)
        summary['checks'] = await _checks(services, final.id)
        summary['stack'] = stack
        summary['packages'] = await _packages(services, final)
        return summary
    finally:
        await worker.stop(services)


async def founder_flow(
    services: Services,
    idea: str,
    must_have: str | None = None,
    timings: dict[str, float] | None = None,
    user: User | None = None,
    *,
    fast: bool = False,
):  # type: ignore[no-untyped-def]
    """Sign up a throwaway founder and take their idea to a selected plan; returns (user, project_id). With
    `fast` the questions are skipped: the brief is assumed and proceeding chooses the Fast MVP."""
    t0 = time.perf_counter()
    async with services.sessions() as session:
        user = user or await accounts.sign_up(
            session, email=f'demo-{uuid.uuid4().hex[:8]}@demo.invalid', password=secrets.token_urlsafe(18)
        )
        project = await projects.create_project(session, user=user, idea=idea)
        llm = services.llm_for(user.id, project.id)
        if fast:
            await fast_path.assume_brief(session, user=user, project_id=project.id, llm=llm)
        else:
            await _answer_questions(session, user, project.id, llm, idea, must_have)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        assert gate is not None
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', reason='Demo', llm=llm)
        options = await plans.list_plans(session, user=user, project_id=project.id)
        if not any(o.selected for o in options):
            await plans.select_plan(session, user=user, project_id=project.id, plan_id=options[0].id)
    if timings is not None:
        timings['founder_flow'] = round(time.perf_counter() - t0, 3)
    return user, project.id


async def choose_stack(services: Services, project_id: uuid.UUID, stack: str) -> None:
    """The founder picks another stack for the chosen plan: its stack words change and the build follows them
    (the prompt shows them to a real model; the offline model reads them back)."""
    async with services.sessions() as session:
        options = await plans.existing(session, project_id)
        chosen = next((o for o in options if o.selected), None)
        assert chosen is not None, 'the demo selects a plan before it builds'
        chosen.details = {**chosen.details, 'stack': STACK_TEXT[stack]}
        session.add(chosen)
        await session.commit()


async def _packages(services: Services, job: BuildJob) -> dict[str, str]:
    """The packages installed in the build's workspace, name → version (empty for the standard library)."""
    sandbox = await services.sandboxes.connect(job.sandbox_id) if job.sandbox_id else None
    if sandbox is None:
        return {}
    found: dict[str, str] = {}
    for command in _LIST_PACKAGES:
        result = await sandbox.run(command, timeout=60)
        found.update(_parse_packages(result.stdout) if result.ok else {})
    return found


# The packages requirements.txt installed (pip, user site) and package.json's direct dependencies (npm), as JSON.
_LIST_PACKAGES = (
    'test -f requirements.txt && python3 -m pip list --user --format=json --disable-pip-version-check || echo []',
    'test -f package.json && npm ls --json --depth=0 2>/dev/null || echo {}',
)


def _parse_packages(text: str) -> dict[str, str]:
    try:
        data = json.loads(text or 'null')
    except ValueError:
        return {}
    if isinstance(data, list):  # pip list
        return {str(p.get('name')): str(p.get('version')) for p in data if isinstance(p, dict)}
    deps = data.get('dependencies') if isinstance(data, dict) else None
    return {str(k): str(v.get('version')) for k, v in (deps or {}).items() if isinstance(v, dict)}


async def _answer_questions(session, user: User, project_id: uuid.UUID, llm, idea: str, must_have: str | None) -> None:  # type: ignore[no-untyped-def]
    """The recommended path: onboarding and interview answered plainly, then the brief written from them."""
    first = await onboarding.start_onboarding(session, user=user, project_id=project_id, llm=llm)
    for question in first.questions:
        text = 'Yes — keep it simple for the first version.'
        await interview.save_answer(session, user=user, project_id=project_id, kind='onboarding',
                                    key=question['key'], text=text)  # fmt: skip
    await onboarding.complete_onboarding(session, user=user, project_id=project_id)
    for key, text in default_answers(idea, must_have).items():
        await interview.save_answer(session, user=user, project_id=project_id, kind='understanding', key=key, text=text)
    await interview.complete_interview(session, user=user, project_id=project_id)
    await flow.generate_brief(session, user=user, project_id=project_id, llm=llm)


async def _brief_summary(services: Services, project_id: uuid.UUID) -> dict[str, Any]:
    """The brief the build worked from: its MVP features, what it left out and why, its risks and what it
    assumed instead of asking (the fast path; empty after the interview) and what it still asks."""
    async with services.sessions() as session:
        row = await latest(session, project_id=project_id, kind='idea_brief')
    content = row.content if row else {}
    return {
        'title': content.get('title', ''),
        'features': [f.get('name', '') for f in content.get('core_features') or []],
        'left_out': [{'name': i.get('name', ''), 'why': i.get('why', '')} for i in content.get('left_out') or []],
        'risks': list(content.get('risks') or []),
        'assumptions': list(content.get('assumptions') or []),
        'open_questions': list(content.get('open_questions') or []),
    }


async def _iterate(services: Services, user: User, project_id: uuid.UUID, change: str, timeout: float) -> dict:
    """Ask for `change` (answering any clarifying question plainly), confirm it, build the next version."""
    async with services.sessions() as session:
        talk = await changes.start_change(session, user=user, project_id=project_id, request=change)
        for question in talk.questions[1:]:
            await interview.save_answer(session, user=user, project_id=project_id, kind='change',
                                        key=question['key'], text=f'Exactly as asked: {change}')  # fmt: skip
        draft = await changes.draft_change(session, user=user, project_id=project_id)
        job = await changes.confirm_change(session, user=user, project_id=project_id, artifact_id=draft.id,
                                           queue=services.queue, events=services.events)  # fmt: skip
    await _watch(services, user, job.id, timeout)
    async with services.sessions() as session:
        final = await session.get(BuildJob, job.id)
    assert final is not None
    log = final.summary.get('changelog') or {}
    return {
        'job_id': str(job.id), 'state': final.state, 'version': final.version_label,
        'questions': [q['text'] for q in talk.questions[1:]], 'alignment': draft.content['alignment'],
        'iteration': draft.note, 'changelog': {k: log.get(k) for k in ('summary', 'added', 'changed', 'removed')},
    }  # fmt: skip


async def _readiness(services: Services, user: User, project_id: uuid.UUID) -> dict | None:
    """The latest version's deploy readiness: verdict, version and each blocker with its fix (IT-4)."""
    async with services.sessions() as session:
        artifact = await readiness.latest_report(session, user=user, project_id=project_id)
    report = readiness.report_of(artifact) if artifact else None
    if report is None:
        return None
    return {
        'verdict': report.verdict, 'version': report.build_version,
        'blockers': [{'check': c.title, 'detail': c.detail, 'fix': c.fix} for c in report.blockers],
        'warnings': [c.title for c in report.warnings],
    }  # fmt: skip


async def _paced_founder(services: Services, daily_tokens: int, day_seconds: int) -> User:
    """A throwaway founder on a tier of their own: `daily_tokens` a day, days of `day_seconds`."""
    async with services.sessions() as session:
        tier = Tier(name=f'demo-{uuid.uuid4().hex[:8]}', label='Demo (paced)', token_allowance=daily_tokens * 30,
                    daily_token_cap=daily_tokens, day_seconds=day_seconds)  # fmt: skip
        session.add(tier)
        await session.commit()
        user = await accounts.sign_up(
            session, email=f'demo-{uuid.uuid4().hex[:8]}@demo.invalid', password=secrets.token_urlsafe(18)
        )
        user.tier = tier.name
        session.add(user)
        await session.commit()
        await session.refresh(user)
        return user


async def _watch(
    services: Services, user: User, job_id: uuid.UUID, timeout: float
) -> tuple[list[str], list[str], dict]:
    """Follow the build to its end, as the founder's page would; an escalation is answered with the
    option the agent recommends (the demo has no founder to ask)."""
    shots: list[str] = []
    docs: list[str] = []
    seen: dict[str, list] = {'sleeps': [], 'wakes': [], 'attempts': [], 'escalations': []}  # type: ignore[type-arg]
    async with asyncio.timeout(timeout), aclosing(services.events.follow(job_id, until_done=True)) as stream:
        async for event in stream:
            if isinstance(event, SnapshotUpdated):
                shots.append(event.key)
            elif isinstance(event, DocumentationUpdated) and event.section not in docs:
                docs.append(event.section)
            else:
                await _note_hold(services, user, event, seen)
    return shots, docs, _holds_summary(seen)


async def _note_hold(services: Services, user: User, event: BuildEvent, seen: dict[str, list]) -> None:  # type: ignore[type-arg]
    if isinstance(event, Sleeping):
        seen['sleeps'].append(
            {'at': event.at.isoformat(), 'wake_at': event.wake_at.isoformat(), 'reason': event.reason}
        )
    elif isinstance(event, Waking):
        seen['wakes'].append(event.at.isoformat())
    elif isinstance(event, Healing):
        seen['attempts'].append({'signature': event.signature, 'attempt': event.attempt, 'problem': event.problem})
    elif isinstance(event, Escalated):
        asked = {'problem': event.problem, 'tried': event.tried, 'options': event.options,
                 'recommendation': event.recommendation, 'answer': event.recommendation}  # fmt: skip
        seen['escalations'].append(asked)
        async with services.sessions() as session:
            await answer_escalation(
                session, user=user, job_id=event.job_id, choice=event.recommendation, queue=services.queue,
                events=services.events, sessions=services.sessions,
            )  # fmt: skip


def _holds_summary(seen: dict[str, list]) -> dict:  # type: ignore[type-arg]
    return {
        'sleeps': len(seen['sleeps']),
        'wakes': len(seen['wakes']),
        'sleep_times': seen['sleeps'],
        'wake_times': seen['wakes'],
        'attempts': seen['attempts'],
        'escalation': seen['escalations'][-1] if seen['escalations'] else None,
        'escalations': len(seen['escalations']),
    }


def _summary(
    services: Services,
    user_id: uuid.UUID,
    project_id: uuid.UUID,
    job: BuildJob,
    shots: list[str],
    docs: list[str],
    timings: dict[str, float],
    preview_ok: bool,
) -> dict[str, Any]:
    return {
        'user_id': str(user_id),
        'project_id': str(project_id),
        'job_id': str(job.id),
        'state': job.state,
        'version': job.version_label,
        'model': services.model,
        'offline_model': services.offline_model,
        'preview_url': job.preview_url,
        'preview_ok': preview_ok,
        'screenshot': shots[-1] if shots else None,
        'screenshots': len(shots),
        'screenshot_file': str(services.settings.data_dir / 'blobs' / 'data' / shots[-1])
        if shots and not services.settings.S3_BUCKET
        else None,
        'docs_sections': docs,
        'stage_timings': stage_durations(job),
        'timings': timings,
        'tokens': {'input': job.input_tokens, 'output': job.output_tokens, 'cost_microdollars': job.cost_microdollars},
        'model_used': job.model,
        'error': job.error_summary or None,
        'files': job.summary.get('files', []),
    }


async def _checks(services: Services, job_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each feature's acceptance check in the build: passed, the failing step and the evidence's blob key."""
    async with services.sessions() as session:
        rows = await results_of(session, job_id)
    return [
        {'feature': r.feature, 'passed': r.passed, 'ran': r.ran, 'failing_step': r.step or None,
         'problem': r.problem or None, 'evidence': r.screenshot_key}
        for r in rows
    ]  # fmt: skip


def _preview_answers(url: str | None) -> bool:
    if not url:
        return False
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own sandboxed app on 127.0.0.1
            return response.status == 200
    except OSError:
        return False
