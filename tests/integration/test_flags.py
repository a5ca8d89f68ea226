"""Feature flags (AD-3) in core: declared defaults, the global switch, one founder's override, the refusal the
pages and the API show, iteration builds gated in core/journey/change_requests.py, and the audit of each change."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from core import accounts, audit, flags
from core.budget import ensure_default_tiers
from core.errors import Forbidden, InvalidInput, NotFound
from core.journey import change_requests
from core.models import User

PASSWORD = 'correct horse battery'


async def three(session: AsyncSession) -> tuple[User, User, User]:
    await ensure_default_tiers(session)
    admin = await accounts.sign_up(session, email='admin@example.com', password=PASSWORD)
    ada = await accounts.sign_up(session, email='ada@example.com', password=PASSWORD)
    bob = await accounts.sign_up(session, email='bob@example.com', password=PASSWORD)
    return admin, ada, bob


def test_the_declared_flags_are_the_features_with_code_behind_them() -> None:
    assert {'fast_path', 'iterations'} <= set(flags.FLAGS)  # and 'chat', declared by the chat's own code
    assert all(spec.beta for spec in flags.FLAGS.values())
    assert flags.FLAGS['iterations'].default and flags.FLAGS['fast_path'].default  # on until an admin says otherwise


async def test_a_flag_off_is_refused_with_one_clear_message_and_an_override_turns_it_on_for_one_founder(
    session_factory,  # type: ignore[no-untyped-def]
) -> None:
    async with session_factory() as session:
        admin, ada, bob = await three(session)
        assert await flags.is_enabled(session, ada, 'iterations')  # the declared default, no row yet
        await flags.set_global(session, actor=admin, key='iterations', enabled=False)
        with pytest.raises(flags.FeatureOff) as refused:
            await flags.require_enabled(session, ada, 'iterations')
        assert (
            str(refused.value)
            == flags.refusal('iterations')
            == (
                'Iteration builds is a beta feature that is turned off for your account. '
                'Ask an administrator to turn it on.'
            )
        )
        assert isinstance(refused.value, Forbidden)  # the API answers 403 with the same message
        await flags.set_override(session, actor=admin, key='iterations', email='ADA@example.com ', enabled=True)
        assert await flags.is_enabled(session, ada, 'iterations')
        assert not await flags.is_enabled(session, bob, 'iterations')  # one founder only
        await flags.set_override(session, actor=admin, key='iterations', email='ada@example.com', enabled=None)
        assert not await flags.is_enabled(session, ada, 'iterations')  # the override removed: the global value
        listed = {state.spec.key: state for state in await flags.list_flags(session, actor=admin)}
        logged = await audit.recent(session, actor=admin, area='flags')
    assert listed['iterations'].enabled is False and listed['iterations'].overrides == []
    assert listed['fast_path'].enabled is True
    assert [(e.action, e.target, e.before, e.after) for e in reversed(logged)] == [
        ('flag.global', 'iterations', {'enabled': True}, {'enabled': False}),
        ('flag.override', 'iterations for ada@example.com', {'enabled': None}, {'enabled': True}),
        ('flag.override', 'iterations for ada@example.com', {'enabled': True}, {'enabled': None}),
    ]


async def test_flag_changes_refuse_founders_unknown_flags_and_unknown_people(session_factory) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        admin, ada, _ = await three(session)
        with pytest.raises(Forbidden):
            await flags.set_global(session, actor=ada, key='iterations', enabled=False)
        with pytest.raises(Forbidden):
            await flags.set_override(session, actor=ada, key='iterations', email='ada@example.com', enabled=True)
        with pytest.raises(InvalidInput, match="no feature flag called 'teleport'"):
            await flags.set_global(session, actor=admin, key='teleport', enabled=True)
        with pytest.raises(NotFound, match='nobody@example.com'):
            await flags.set_override(session, actor=admin, key='iterations', email='nobody@example.com', enabled=True)
        assert await flags.is_enabled(session, ada, 'iterations')
        assert await audit.recent(session, actor=admin) == []


async def test_iteration_builds_are_refused_in_core_when_the_flag_is_off(session_factory) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        admin, ada, _ = await three(session)
        await flags.set_global(session, actor=admin, key='iterations', enabled=False)
        project = await _project(session, ada)
        for step in (
            change_requests.start_change(session, user=ada, project_id=project, request='Add a waiting list page'),
            change_requests.draft_change(session, user=ada, project_id=project),
        ):
            with pytest.raises(flags.FeatureOff, match='Iteration builds is a beta feature'):
                await step


async def _project(session: AsyncSession, user: User):  # type: ignore[no-untyped-def]
    from core.journey import projects

    project = await projects.create_project(session, user=user, idea='A booking tool for dog groomers online')
    return project.id
