"""IT-2: a change request's alignment with the brief's MVP features, and when a request needs a question."""

from __future__ import annotations

import pytest

from core.journey.change_requests import alignment, clarifying_questions

BRIEF = {
    'problem': 'Groomers lose hours a week on phone tag and no-shows',
    'target_users': 'Solo dog groomers working from a van',
    'value_proposition': 'Clients book and pay a deposit online',
    'core_features': [
        {'name': 'Online Booking Calendar', 'description': 'Clients pick a slot'},
        {'name': 'Deposit Payment', 'description': 'Pay a deposit to confirm'},
        {'name': 'SMS Reminders', 'description': 'Reminders before the visit'},
        {'name': 'Client Pet Profiles', 'description': 'Each pet and its needs'},
    ],
}


@pytest.mark.parametrize(
    ('request_text', 'band'),
    [
        ('Show the deposit amount next to each slot on the booking calendar', 'green'),  # inside the scope
        ('Rename the pet profiles page to Pets', 'green'),
        ('Let groomers send a thank-you note to clients after the visit', 'yellow'),  # at its edge
        ('Add a loyalty program for returning clients', 'yellow'),
        ('Add a cryptocurrency trading dashboard with AI price predictions', 'scope_creep'),  # far outside
        ('Turn it into an operating system for every business', 'scope_creep'),
    ],
)
def test_alignment_bands_a_change_against_the_mvp(request_text: str, band: str) -> None:
    fit = alignment(request_text, BRIEF)
    assert fit.band == band
    assert (fit.score >= 80) == (band == 'green') and (fit.score < 60) == (band == 'scope_creep')
    if band == 'scope_creep':
        assert fit.reason and fit.suggestion  # why, and how to narrow it


def test_a_vague_request_gets_questions_and_a_precise_one_none() -> None:
    assert 1 <= len(clarifying_questions('make it nicer', BRIEF)) <= 3
    assert clarifying_questions('Show the deposit amount on the booking calendar', BRIEF) == []
    assert clarifying_questions('Rename the pet profiles page', BRIEF) == []  # names a feature: precise enough
