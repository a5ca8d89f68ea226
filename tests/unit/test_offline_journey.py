"""The offline model's journey answers: deterministic, built from the founder's own words, valid."""

from __future__ import annotations

import pytest

from core.adapters.llm_offline import journey
from core.journey import structured
from tests.fixtures import ideas as fixture_ideas

IDEAS = fixture_ideas()
GROOMER = IDEAS[0]
FOOT = next(i for i in IDEAS if i['idea'].startswith('Équipe'))


def ask(tool: str, **payload) -> dict:  # type: ignore[no-untyped-def]
    """Through the real message format the journey sends (structured.input_message)."""
    return journey.structured_reply(tool, structured.SYSTEM, [structured.input_message(tool, payload)])


def brief_for(idea: dict, **extra) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return ask('write_brief', title='T', idea=idea['idea'], answers=idea['answers'], **extra)


def test_the_journey_tools_are_exported() -> None:
    assert journey.TOOLS == set(structured.TOOLS) == {'propose_questions', 'write_brief', 'propose_plans'}
    with pytest.raises(KeyError):
        journey.structured_reply('write_code', '', [])


@pytest.mark.parametrize(
    ('text', 'items'),
    [
        ('online booking calendar, deposit payment, SMS reminders, client pet profiles',
         ['online booking calendar', 'deposit payment', 'SMS reminders', 'client pet profiles']),
        ('convocations, réponses présent/absent, covoiturage, suivi des cotisations',
         ['convocations', 'réponses présent/absent', 'covoiturage', 'suivi des cotisations']),
        ('booking and payments', ['booking', 'payments']),
        ('convocations et covoiturage', ['convocations', 'covoiturage']),
        ('- plot map\n- watering rota; harvest log', ['plot map', 'watering rota', 'harvest log']),
        ('profiles with languages and levels, matching, messaging',
         ['profiles with languages and levels', 'matching', 'messaging']),
        ('lists, receipts and settle up', ['lists', 'receipts', 'settle up']),
        ('', []),
    ],
)  # fmt: skip
def test_feature_lists_split_the_way_founders_write(text: str, items: list[str]) -> None:
    assert journey.split_items(text) == items


def test_title_case_keeps_acronyms_and_small_words() -> None:
    assert journey.title_case('SMS reminders') == 'SMS Reminders'
    assert journey.title_case('production plan per product') == 'Production Plan per Product'
    assert journey.title_case('suivi des cotisations') == 'Suivi des Cotisations'
    assert journey.title_case('réponses présent/absent') == 'Réponses Présent/Absent'


def test_questions_are_few_short_and_follow_the_idea() -> None:
    for idea in IDEAS:
        out = structured.QuestionsOutput.model_validate(ask('propose_questions', idea=idea['idea']))
        assert 3 <= len(out.questions) <= 6 and all(len(q.text) <= 120 for q in out.questions)
    groomer = [q['text'] for q in ask('propose_questions', idea=GROOMER['idea'])['questions']]
    assert any('money' in q for q in groomer) and groomer[0].startswith('Who')
    phone = [q['text'] for q in ask('propose_questions', idea='A mobile app for phone repair shops')['questions']]
    assert any('devices' in q for q in phone)
    french = ask('propose_questions', idea=FOOT['idea'])['questions']
    assert french[0]['text'].startswith('Qui') and any('argent' in q['text'] for q in french)


def test_brief_uses_the_founders_words() -> None:
    out = brief_for(GROOMER)
    structured.BriefOutput.model_validate(out)
    b = out['idea_brief']
    assert [f['name'] for f in b['core_features']] == [
        'Online Booking Calendar', 'Deposit Payment', 'SMS Reminders', 'Client Pet Profiles',
    ]  # fmt: skip
    assert all(f['description'] and '\n' not in f['description'] for f in b['core_features'])
    assert b['problem'] == GROOMER['answers']['problem'] and b['title'] == 'T'
    assert b['target_users'] == GROOMER['answers']['target_user']
    assert (
        b['success_measure'] == GROOMER['answers']['success'] and b['constraints'] == GROOMER['answers']['constraints']
    )
    assert 'phone tag' in b['value_proposition'] and b['non_goals'] and b['risks']
    assert [f['priority'] for f in out['mvp_scope']['features']] == ['must', 'must', 'must', 'should']
    assert out == brief_for(GROOMER)  # deterministic


def test_french_brief_stays_french() -> None:
    out = brief_for(FOOT)
    names = [f['name'] for f in out['idea_brief']['core_features']]
    assert names == ['Convocations', 'Réponses Présent/Absent', 'Covoiturage', 'Suivi des Cotisations']
    assert out['idea_brief']['value_proposition'].startswith('Pour ')
    assert 'pensé pour' in out['idea_brief']['core_features'][0]['description']


def test_narrow_keeps_fewer_features_and_pivot_rewords() -> None:
    narrow = brief_for(GROOMER, mode='narrow', guidance='Only booking and deposits; drop the SMS reminders')
    names = [f['name'] for f in narrow['idea_brief']['core_features']]
    assert names == ['Online Booking Calendar', 'Deposit Payment']
    assert 'Not in this version: SMS Reminders' in narrow['idea_brief']['non_goals']
    vague = brief_for(GROOMER, mode='narrow', guidance='Smaller please')
    assert len(vague['idea_brief']['core_features']) == 2
    pivot = brief_for(GROOMER, mode='pivot', guidance='Pivot to a marketplace where groomers find assistants')
    assert pivot['idea_brief']['core_features'][0]['name'] == 'Marketplace'
    assert pivot['idea_brief']['value_proposition'].startswith('New direction: Pivot to a marketplace')
    listed = brief_for(FOOT, mode='pivot', guidance='covoiturage, paiement des cotisations')
    assert [f['name'] for f in listed['idea_brief']['core_features']] == ['Covoiturage', 'Paiement des Cotisations']


def test_plans_name_the_features_of_the_scope() -> None:
    scoped = brief_for(GROOMER)
    out = ask('propose_plans', idea=GROOMER['idea'], answers=GROOMER['answers'], brief=scoped['idea_brief'],
              scope=scoped['mvp_scope'])  # fmt: skip
    plans = structured.PlansOutput.model_validate(out).plans
    assert [p.key for p in plans] == ['fast', 'balanced', 'robust']
    assert 'Build SMS Reminders' in plans[0].phases and 'Build Client Pet Profiles' not in plans[0].phases
    assert 'Build Client Pet Profiles' in plans[1].phases and 'phones' in plans[1].summary
    assert all(p.tradeoffs and p.time and p.cost and p.risk and p.stack for p in plans)


def test_plain_text_without_the_block_still_answers() -> None:
    messages = [{'role': 'user', 'content': [{'type': 'text', 'text': 'A booking tool for dog groomers'}]}]
    out = journey.structured_reply('propose_questions', '', messages)
    assert 3 <= len(out['questions']) <= 6
    assert journey.parse_input('', [structured.input_message('write_brief', {'idea': 'x'})])['tool'] == 'write_brief'
