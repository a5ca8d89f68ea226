"""JD-1 on the brief page: the co-founder pushes back on a vague idea (its questions, answered in place, then a new
version) and on one too big for a first version (what it leaves out and why); the founder may insist, and that
decision is on the timeline. Founder text stays text."""

from __future__ import annotations

from nicegui.testing import User

from tests.ui.test_journey_ui import WAIT, arrange_brief, feature_names, sign_up, texts

VAGUE_IDEA = 'xxxxxxxx xxxxxxxx xxxxxxxx'
VAGUE = {'target_user': 'x', 'problem': 'x', 'must_have': 'x', 'constraints': 'x', 'success': 'x'}
HUGE_IDEA = 'An app for everyone that does everything, plus an operating system, a billion users, launch tomorrow'
HUGE = {
    'target_user': 'Everyone',
    'problem': 'People use too many apps',
    'must_have': 'chat, payments, maps, video calls, email, calendar, photo sharing, an operating system',
    'constraints': 'Launch tomorrow',
    'success': 'A billion users',
}


async def test_a_vague_idea_gets_questions_and_the_answers_write_the_next_version(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com', VAGUE_IDEA, VAGUE)
    await user.open(f'/projects/{project.id}/brief')
    await user.should_see(marker='pushback-vague', retries=WAIT)
    assert any(q.startswith('Who will use it first') for q in texts(user, 'open-question'))
    areas = user.find(marker='clarify-answer').elements  # a set: each field is named by its question
    who = next(a for a in areas if str(a.props.get('aria-label', '')).startswith('Who will use it first'))
    who.set_value('<b>Dog groomers</b> who work from a van in Lyon')
    user.find(marker='clarify-submit').click()
    await user.should_see('Idea Brief v2', retries=WAIT)
    await user.should_see(marker='brief-target_users', content='<b>Dog groomers</b> who work')  # verbatim, as text
    assert not any(q.startswith('Who will use it first') for q in texts(user, 'open-question'))  # asked once


async def test_a_vague_idea_can_be_written_anyway(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com', VAGUE_IDEA, VAGUE)
    await user.open(f'/projects/{project.id}/brief')
    await user.should_see(marker='pushback-vague', retries=WAIT)
    user.find(marker='insist').click()
    await user.should_see('Idea Brief v2', retries=WAIT)
    await user.should_not_see(marker='pushback')
    await user.open(f'/projects/{project.id}')
    await user.should_see('You insisted: write the brief without the answers', retries=WAIT)


async def test_a_huge_idea_gets_a_first_version_and_keeping_everything_is_a_recorded_decision(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    project = await arrange_brief('ada@example.com', HUGE_IDEA, HUGE)
    await user.open(f'/projects/{project.id}/brief')
    await user.should_see(marker='pushback-scope', retries=WAIT)
    kept = await feature_names(project.id)
    assert 3 <= len(kept) <= 5
    left = texts(user, 'left-out-name')
    assert left and all(why.startswith('— ') for why in texts(user, 'left-out-why'))
    user.find(marker='insist').click()
    await user.should_see('Idea Brief v2', retries=WAIT)
    now = await feature_names(project.id)
    added = [name for name in left if name in now]
    assert set(kept) < set(now) and added  # the features it had left out are in the first version now
    await user.open(f'/projects/{project.id}')
    await user.should_see('You insisted: keep', retries=WAIT)
    decision = next(t for t in texts(user, 'timeline-title') if t.startswith('You insisted'))
    assert all(name in decision for name in added), decision
