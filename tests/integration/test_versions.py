"""Gate 2 (IT-1), versions, their files and zip, restore (B-8, IT-3, IT-5) and the Markdown bundle, on SQLite
and Postgres. Versions here are READY build rows with their READY snapshots written by the test; whole builds
(restore included) run in tests/builds/test_versions_build.py."""

from __future__ import annotations

import asyncio
import io
import tarfile
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.notify_memory import MemoryNotifier
from core.adapters.queue_inprocess import InProcessQueue
from core.builds import versions
from core.errors import Conflict, InvalidInput, NotFound
from core.event_log import EventLog
from core.events import DocumentationUpdated
from core.journey import bundle, change_requests, flow, gate2, gates, plans, projects
from core.models import BlobRecord, BuildJob, DecisionGate, Project, ProjectSnapshot, User, utcnow
from tests.integration.test_journey import journey_llm, make_founder, project_at_gate

V1 = {'app.py': b'print("v1")\n', 'README.md': b'# Booking\n', 'static/logo.png': b'\x89PNG\x00\x01binary'}
V2 = {
    'app.py': b'print("v2 with a waiting list")\n',
    'README.md': b'# Booking\n',
    'static/logo.png': V1['static/logo.png'],
}


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for path, data in {**files, 'data/app.db': b'runtime', '.cache/x': b'hidden'}.items():
            info = tarfile.TarInfo(f'./{path}')
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def add_version(
    session, blobs: FileBlobStore, user: User, project: Project, number: int, files: dict[str, bytes], **fields
) -> BuildJob:  # type: ignore[no-untyped-def]
    """A READY build of the project with its READY snapshot and a screenshot, as the pipeline leaves them."""
    finished = utcnow()
    job = BuildJob(project_id=project.id, user_id=user.id, state='READY', version_number=number,
                   version_label=f'v0.{number}', finished_at=finished, started_at=finished - timedelta(minutes=2),
                   summary={'files': sorted(files), 'file_count': len(files), 'features': ['Online Booking']},
                   **fields)  # fmt: skip
    session.add(job)
    await session.flush()
    key = f'projects/{project.id}/snapshots/{uuid.uuid4().hex}.tar.gz'
    await blobs.put(key, tar_gz(files), content_type='application/gzip')
    session.add(
        ProjectSnapshot(project_id=project.id, job_id=job.id, blob_key=key, reason='ready', created_at=finished)
    )
    shot = f'projects/{project.id}/screenshots/{job.id}/{uuid.uuid4()}.png'
    await blobs.put(shot, b'\x89PNG shot', content_type='image/png')
    session.add(BlobRecord(key=shot, owner_id=user.id, project_id=project.id, job_id=job.id, kind='screenshot'))
    await session.commit()
    await session.refresh(job)
    return job


async def built_project(session, blobs: FileBlobStore) -> tuple[User, Project, BuildJob]:  # type: ignore[no-untyped-def]
    """A founder's project past Gate 1 with a plan chosen and v0.1 ready."""
    llm = journey_llm()
    user = await make_founder(session)
    project = await project_at_gate(session, user, llm)
    gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
    await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', llm=llm)
    chosen = (await plans.list_plans(session, user=user, project_id=project.id))[0]
    await plans.select_plan(session, user=user, project_id=project.id, plan_id=chosen.id)
    v1 = await add_version(session, blobs, user, project, 1, V1)
    project = await projects.get_project(session, user=user, project_id=project.id)
    project.stage = 'mvp_built'
    await session.commit()
    return user, project, v1


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / 'blobs')


async def _solidification(session, project_id) -> list[DecisionGate]:  # type: ignore[no-untyped-def]
    rows = await session.exec(
        select(DecisionGate).where(DecisionGate.project_id == project_id, DecisionGate.gate_type == 'solidification')
    )
    return list(rows.all())


async def test_gate_2_opens_once_for_the_current_version_and_only_for_its_owner(session_factory, blobs) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        user, project, v1 = await built_project(session, blobs)
        stranger = await make_founder(session)
        assert await gate2.offer_gate2(session, user=stranger, job=v1) is None
        first = await gate2.offer_gate2(session, user=user, job=v1)
        again = await gate2.offer_gate2(session, user=user, job=v1)
        assert first is not None and again is not None and again.id == first.id
        assert first.options == ['iterate', 'ship', 'park']

    async def view():  # type: ignore[no-untyped-def]
        async with session_factory() as s:
            gate = await gate2.offer_gate2(s, user=user, job=v1)
            return gate.id if gate else None

    assert set(await asyncio.gather(*(view() for _ in range(5)))) == {first.id}  # concurrent views: one gate
    async with session_factory() as session:
        assert len(await _solidification(session, project.id)) == 1
        kinds = [e.kind for e in await projects.list_timeline(session, user=user, project_id=project.id)]
        assert kinds.count('gate.opened') == 2  # Gate 1, then Gate 2 once

        # Decided: looking at the same version again opens nothing new; an older version never offers it.
        await gate2.decide_gate2(session, user=user, gate_id=first.id, decision='iterate')
        assert await gate2.offer_gate2(session, user=user, job=v1) is None
        v2 = await add_version(session, blobs, user, project, 2, V2, kind='iteration')
        assert await gate2.offer_gate2(session, user=user, job=v1) is None
        second = await gate2.offer_gate2(session, user=user, job=v2)
        assert second is not None and second.id != first.id
        assert len(await _solidification(session, project.id)) == 2


async def test_gate_2_decisions_iterate_ship_park_once_each(session_factory, blobs) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        user, project, v1 = await built_project(session, blobs)
        gate = await gate2.offer_gate2(session, user=user, job=v1)
        with pytest.raises(InvalidInput, match='Tell us why you chose to ship'):
            await gate2.decide_gate2(session, user=user, gate_id=gate.id, decision='ship', reason=' ')
        with pytest.raises(InvalidInput, match='Choose one of: iterate, ship, park'):
            await gate2.decide_gate2(session, user=user, gate_id=gate.id, decision='proceed')
        stranger = await make_founder(session)
        with pytest.raises(NotFound):
            await gate2.decide_gate2(session, user=stranger, gate_id=gate.id, decision='iterate')
        decided = await gate2.decide_gate2(session, user=user, gate_id=gate.id, decision='Iterate')  # no reason needed
        assert decided.decision == 'iterate' and decided.pending_key is None
        with pytest.raises(Conflict, match='already been made'):
            await gate2.decide_gate2(session, user=user, gate_id=gate.id, decision='ship', reason='changed my mind')
        with pytest.raises(Conflict, match='already been made'):  # the same decision again: still once
            await flow.decide_gate(session, user=user, gate_id=gate.id, decision='iterate')
        assert (await projects.get_project(session, user=user, project_id=project.id)).stage == 'iterating'

        v2 = await add_version(session, blobs, user, project, 2, V2, kind='iteration')
        ship = await gate2.offer_gate2(session, user=user, job=v2)
        await flow.decide_gate(session, user=user, gate_id=ship.id, decision='ship', reason='First clients are happy')
        shipped = await projects.get_project(session, user=user, project_id=project.id)
        assert shipped.stage == 'shipped' and not shipped.parked
        events = await projects.list_timeline(session, user=user, project_id=project.id)
        assert [(e.title, e.detail) for e in events if e.kind == 'project.shipped'] == [
            ('Shipped v0.2', 'First clients are happy')
        ]
        decided_titles = [e.title for e in events if e.kind == 'gate.decided']
        assert decided_titles[-2:] == [
            'Gate 2 — solidification: iterate (v0.1)',
            'Gate 2 — solidification: ship (v0.2)',
        ]

        v3 = await add_version(session, blobs, user, project, 3, V1, kind='restore', restore_of=v1.id)
        park = await gate2.offer_gate2(session, user=user, job=v3)
        await gate2.decide_gate2(session, user=user, gate_id=park.id, decision='park', reason='Season is over')
        assert (await projects.get_project(session, user=user, project_id=project.id)).parked
        assert await gate2.offer_gate2(session, user=user, job=v3) is None  # parked: nothing offered


async def test_versions_newest_first_with_files_zip_and_changelog_for_the_owner_only(session_factory, blobs) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        user, project, v1 = await built_project(session, blobs)
        log = {'from_version': 'v0.1', 'to_version': 'v0.2', 'summary': 'v0.2: 0 file(s) added, 1 changed, 0 removed.',
               'previous_job_id': str(v1.id), 'added': [], 'changed': ['app.py'], 'removed': [],
               'diffs': {'app.py': '--- a/app.py\n+++ b/app.py\n-print("v1")\n+print("v2 waiting list")'}}  # fmt: skip
        v2 = await add_version(session, blobs, user, project, 2, V2, kind='iteration')
        v2.summary = {**v2.summary, 'changelog': log}
        session.add(v2)
        await session.commit()

        listed = await versions.list_versions(session, user=user, project_id=project.id)
        assert [v.label for v in listed] == ['v0.2', 'v0.1'] and [v.current for v in listed] == [True, False]
        assert listed[0].summary == log['summary'] and listed[0].has_changelog and not listed[1].has_changelog
        assert listed[1].summary == 'First version: 3 files with Online Booking.'
        assert all(v.screenshot_key and v.date for v in listed)

        files = await versions.version_files(session, blobs, user=user, job_id=v1.id)
        assert files == dict(sorted(V1.items()))  # binary kept byte for byte; runtime data and dotfiles left out
        archive = zipfile.ZipFile(io.BytesIO(await versions.zip_of_version(session, blobs, user=user, job_id=v2.id)))
        assert {name: archive.read(name) for name in archive.namelist()} == V2
        changes = await versions.changes_of(session, user=user, job_id=v2.id)
        assert changes.changed == ['app.py'] and changes.from_label == 'v0.1' and changes.previous_job_id == v1.id
        assert changes.screenshot_key == listed[0].screenshot_key
        assert changes.previous_screenshot_key == listed[1].screenshot_key
        with pytest.raises(NotFound):
            await versions.changes_of(session, user=user, job_id=v1.id)  # a first version has no changelog

        stranger = await make_founder(session)
        for call in (
            lambda: versions.list_versions(session, user=stranger, project_id=project.id),
            lambda: versions.version_files(session, blobs, user=stranger, job_id=v1.id),
            lambda: versions.zip_of_version(session, blobs, user=stranger, job_id=v1.id),
            lambda: versions.changes_of(session, user=stranger, job_id=v2.id),
        ):
            with pytest.raises(NotFound):
                await call()


async def test_restore_starts_a_restore_build_of_an_earlier_version_only(session_factory, blobs) -> None:  # type: ignore[no-untyped-def]
    notifier = MemoryNotifier()
    queue, events = InProcessQueue(dispatch=False), EventLog(session_factory, notifier)
    async with session_factory() as session:
        user, project, v1 = await built_project(session, blobs)
        v2 = await add_version(session, blobs, user, project, 2, V2, kind='iteration')
        with pytest.raises(Conflict, match='v0.2 is already your current version'):
            await versions.restore_version(session, user=user, job_id=v2.id, queue=queue, events=events)
        stranger = await make_founder(session)
        with pytest.raises(NotFound):
            await versions.restore_version(session, user=stranger, job_id=v1.id, queue=queue, events=events)
        job = await versions.restore_version(session, user=user, job_id=v1.id, queue=queue, events=events)
        assert (job.kind, job.restore_of, job.state) == ('restore', v1.id, 'QUEUED')
        with pytest.raises(Conflict, match='already under way'):
            await versions.restore_version(session, user=user, job_id=v1.id, queue=queue, events=events)
        events_seen = await projects.list_timeline(session, user=user, project_id=project.id)
        assert [e.title for e in events_seen][-2:] == ['Restore build started', 'Restoring v0.1 as the next version']
        # Both versions' files are still there.
        assert await versions.version_files(session, blobs, user=user, job_id=v2.id) == dict(sorted(V2.items()))


async def test_a_version_whose_snapshot_is_gone_says_so(session_factory, blobs) -> None:  # type: ignore[no-untyped-def]
    notifier = MemoryNotifier()
    queue, events = InProcessQueue(dispatch=False), EventLog(session_factory, notifier)
    async with session_factory() as session:
        user, project, v1 = await built_project(session, blobs)
        await add_version(session, blobs, user, project, 2, V2)
        snapshot = (await session.exec(select(ProjectSnapshot).where(ProjectSnapshot.job_id == v1.id))).one()
        await blobs.delete(snapshot.blob_key)
        with pytest.raises(NotFound, match='The files of v0.1 are no longer stored'):
            await versions.version_files(session, blobs, user=user, job_id=v1.id)
        await session.delete(snapshot)
        await session.commit()
        with pytest.raises(Conflict, match='no longer stored. It cannot be restored'):
            await versions.restore_version(session, user=user, job_id=v1.id, queue=queue, events=events)


async def test_the_bundle_holds_brief_plan_change_requests_docs_and_escapes_founder_text(
    session_factory, blobs
) -> None:  # type: ignore[no-untyped-def]
    events = EventLog(session_factory, MemoryNotifier())
    async with session_factory() as session:
        user, project, v1 = await built_project(session, blobs)
        request = 'Add a <script>alert(1)</script> waiting list page # for booked days'
        await change_requests.start_change(session, user=user, project_id=project.id, request=request)
        draft = await change_requests.draft_change(session, user=user, project_id=project.id)
        docs = '# PawBook\n\nBook a <b>slot</b>.\n\n```html\n<b>x</b>\n```'
        await events.append(DocumentationUpdated(job_id=v1.id, section='overview', title='Overview', content=docs))
        text = await bundle.project_bundle(session, events, user=user, project_id=project.id)
        plan = next(p for p in await plans.list_plans(session, user=user, project_id=project.id) if p.selected)
        stranger = await make_founder(session)
        with pytest.raises(NotFound):
            await bundle.project_bundle(session, events, user=stranger, project_id=project.id)
    assert text.startswith(f'# {project.title}\n') and 'current version v0.1' in text
    for heading in ('## Idea Brief (v1)', '## MVP scope (v1)', f'## Execution plan: {plan.title}', '## Change requests',
                    '### Change request 1 — changes v0.1', '## Documentation (v0.1)', '### Overview',
                    '## Deploy readiness'):  # fmt: skip
        assert heading in text, heading
    assert draft.note in text and f'{draft.content["alignment"]["score"]}/100' in text
    assert '<script>' not in text and '&lt;script&gt;' in text  # founder text is text
    assert '#### PawBook' in text and 'Book a &lt;b&gt;slot&lt;/b&gt;.' in text  # docs under the bundle's headings
    assert '```html\n<b>x</b>\n```' in text  # code blocks stay as they are
