"""Idea Brief and MVP scope versions (J-4): regenerations and founder edits keep history; export."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotFound
from core.journey import brief, flow, markdown, projects
from tests.integration.test_journey import GROOMER, journey_llm, make_founder, project_at_gate


async def test_every_generation_and_edit_is_a_new_version(session_factory) -> None:
    llm = journey_llm()
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, llm)
        await flow.generate_brief(session, user=user, project_id=project.id, llm=llm)
        first, second = reversed(await brief.history(session, user=user, project_id=project.id, kind='idea_brief'))
        assert (first.version, second.version) == (1, 2) and first.note == second.note == 'generated'

        edited = dict(second.content, title='Groomer Bookings', risks=['Groomers hate new tools'])
        saved = await brief.edit_artifact(session, user=user, project_id=project.id, kind='idea_brief', content=edited)
        assert (saved.version, saved.source, saved.note) == (3, 'founder', 'edited by founder')
        history = await brief.history(session, user=user, project_id=project.id, kind='idea_brief')
        assert [a.version for a in history] == [3, 2, 1]
        assert history[0].content['title'] == 'Groomer Bookings' and history[1].content['title'] != 'Groomer Bookings'
        latest = await brief.latest(session, project_id=project.id, kind='idea_brief')
        assert latest.id == saved.id
        kinds = [e.kind for e in await projects.list_timeline(session, user=user, project_id=project.id)]
        assert kinds.count('brief.generated') == 2 and kinds[-1] == 'brief.edited'


async def test_founder_edits_are_validated_with_clear_messages(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm())
        current = await brief.latest(session, project_id=project.id, kind='idea_brief')
        broken = dict(current.content, title='  ', core_features=[])
        with pytest.raises(InvalidInput, match='Please check: a title, at least one core feature with a name'):
            await brief.edit_artifact(session, user=user, project_id=project.id, kind='idea_brief', content=broken)
        scope = (await brief.latest(session, project_id=project.id, kind='mvp_scope')).content
        bad_priority = dict(scope, features=[{'name': 'Booking', 'description': '', 'priority': 'maybe'}])
        with pytest.raises(InvalidInput, match="a priority of 'must' or 'should'"):
            await brief.edit_artifact(session, user=user, project_id=project.id, kind='mvp_scope', content=bad_priority)
        with pytest.raises(InvalidInput, match='Only the Idea Brief and the MVP scope'):
            await brief.edit_artifact(session, user=user, project_id=project.id, kind='deploy_report', content={})
        assert len(await brief.history(session, user=user, project_id=project.id, kind='idea_brief')) == 1


async def test_editing_before_any_brief_is_not_found(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea=GROOMER['idea'])
        scope = {'features': [{'name': 'Booking', 'priority': 'must'}]}
        with pytest.raises(NotFound):
            await brief.edit_artifact(session, user=user, project_id=project.id, kind='mvp_scope', content=scope)
        with pytest.raises(NotFound):
            await brief.export_markdown(session, user=user, project_id=project.id)


async def test_markdown_export_names_the_features_and_escapes_founder_text(session_factory) -> None:
    async with session_factory() as session:
        user = await make_founder(session)
        project = await project_at_gate(session, user, journey_llm())
        current = await brief.latest(session, project_id=project.id, kind='idea_brief')
        hostile = dict(
            current.content,
            problem='# Not a heading\n- not a list\n```\n<script>alert(1)</script>',
            risks=['*bold* [link](http://x) | pipe'],
        )
        await brief.edit_artifact(session, user=user, project_id=project.id, kind='idea_brief', content=hostile)
        md = await brief.export_markdown(session, user=user, project_id=project.id)
    for name in ('Online Booking Calendar', 'Deposit Payment', 'SMS Reminders', 'Client Pet Profiles'):
        assert f'**{name}**' in md
    assert md.startswith('# ') and '## Core features' in md and '# MVP scope (v1)' in md
    lines = md.splitlines()
    assert '\\# Not a heading' in lines and '\\- not a list' in lines
    assert '<script>' not in md and '&lt;script&gt;' in md and '\n```' not in md
    assert '- \\*bold\\* \\[link\\](http://x) \\| pipe' in lines
    assert sum(1 for line in lines if line.startswith('# ')) == 2  # only our two headings


def test_artifacts_markdown_renders_any_kind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core.models import Artifact

    arts = [
        Artifact(project_id=None, kind='mvp_scope', version=2, note='narrowed: booking only',  # type: ignore[arg-type]
                 content={'features': [{'name': 'Booking', 'description': 'Pick a slot', 'priority': 'must'}],
                          'out_of_scope': ['SMS'], 'acceptance': ['A client books a slot']}),
        Artifact(project_id=None, kind='change_request', version=1,  # type: ignore[arg-type]
                 content={'summary': 'Add # prices', 'items': ['one', 'two']}),
    ]  # fmt: skip
    md = markdown.artifacts_markdown(arts, title='Dog *grooming*')
    assert md.startswith('# Dog \\*grooming\\*')
    assert '## MVP scope (v2)' in md and '### MVP features' in md and '- **Booking** _(must)_ — Pick a slot' in md
    assert '- [ ] A client books a slot' in md and '## Change request (v1)' in md and '- two' in md
