"""The acceptance check the offline model writes for each page: steps that exercise the page's shape.

Fields are found by the labels the app really shows (app_text.py), buttons by role and name. A check
may run again on every later version against the same app data, so each one passes however often it
ran before: it looks for what its own steps added (a subject's own average, the report it just filed,
a search match) rather than for totals or positions that earlier runs would change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.adapters.llm_offline.app_template import Page
from core.adapters.llm_offline.app_text import app_text, label, star_label

# What a check types, per language: readable sample data a founder would recognise in their preview.
_SAMPLES: dict[str, dict[str, str]] = {
    'en': {
        'entry': 'Example entry', 'entry_details': 'Written by the acceptance check',
        'photo': 'Two-person tent', 'later': 'Later booking', 'earlier': 'Earlier booking',
        'money': 'Deposit', 'amount': '1234.5', 'currency': 'EUR', 'formatted': '€1,234.50',
        'subject': 'Sunday visit', 'report': 'Leaking tap', 'report_details': 'It drips all night',
        'person': 'Rex the poodle', 'other_person': 'Bella the beagle', 'query': 'poodle',
        'user': 'Ada Lovelace', 'email': 'ada@example.com',
    },
    'ja': {
        'entry': 'サンプルの記録', 'entry_details': '受け入れチェックが書きました',
        'photo': '2人用テント', 'later': '後の予約', 'earlier': '先の予約',
        'money': 'デポジット', 'amount': '4500', 'currency': 'JPY', 'formatted': '¥4,500',
        'subject': '日曜日の利用', 'report': '蛇口の水漏れ', 'report_details': '一晩中ポタポタ落ちる',
        'person': 'ポチ（柴犬）', 'other_person': 'モモ（プードル）', 'query': '柴犬',
        'user': '山田花子', 'email': 'hanako@example.com',
    },
}  # fmt: skip
PASSWORD = 'correct-horse-battery'
WRONG_PASSWORD = 'not-the-password'
LATER, EARLIER, EARLIER_END = '2001-03-20', '2001-03-10', '2001-03-12'


def check_for(page: Page, lang: str) -> dict[str, Any]:
    """The acceptance_check tool's input for one page: its feature name, exactly, and its steps."""
    lang = lang if lang in _SAMPLES else 'en'
    steps = _STEPS.get(page.shape, _generic)(f'/{page.slug}', lang, _SAMPLES[lang])
    return {'feature': page.name, 'steps': steps}


def _fill(key: str, lang: str, value: str) -> dict[str, Any]:
    return {'fill': {'label': label(lang, key), 'value': value}}


def _press(lang: str, key: str, role: str = 'button') -> dict[str, Any]:
    return {'click': {'role': role, 'name': label(lang, key)}}


def _generic(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {'open': path},
        _fill('title', lang, s['entry']),
        _fill('details', lang, s['entry_details']),
        _press(lang, 'save'),
        {'expect_text': s['entry']},
    ]


def _photos(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {'open': path},
        _fill('title', lang, s['photo']),
        {'upload': {'label': label(lang, 'photo'), 'fixture': 'photo.png'}},
        _press(lang, 'save'),
        {'expect_element': {'role': 'img', 'name': s['photo']}},
    ]


def _calendar(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    text = app_text(lang)
    first = str(text['first_date']) % (s['earlier'], f'{_date(lang, EARLIER)} – {_date(lang, EARLIER_END)}')
    return [
        {'open': path},
        _fill('title', lang, s['later']),
        _fill('start', lang, LATER),
        _press(lang, 'save'),
        _fill('title', lang, s['earlier']),
        _fill('start', lang, EARLIER),
        _fill('end', lang, EARLIER_END),
        _press(lang, 'save'),
        {'expect_text': first},
    ]


def _money(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {'open': path},
        _fill('what_for', lang, s['money']),
        _fill('amount', lang, s['amount']),
        {'select': {'label': label(lang, 'currency'), 'value': s['currency']}},
        _press(lang, 'save'),
        {'expect_text': s['formatted']},
    ]


def _reviews(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    average = str(app_text(lang)['average_of']) % (s['subject'], '4.5')
    return [
        {'open': path},
        _fill('review_of', lang, s['subject']),
        {'click': {'role': 'radio', 'name': star_label(lang, 5)}},
        _press(lang, 'save'),
        _fill('review_of', lang, s['subject']),
        {'click': {'role': 'radio', 'name': star_label(lang, 4)}},
        _press(lang, 'save'),
        {'expect_text': average},
    ]


def _report(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    text = app_text(lang)
    return [
        {'open': path},
        _fill('title', lang, s['report']),
        _fill('details', lang, s['report_details']),
        _press(lang, 'save'),
        {'expect_text': str(text['status_is']) % text['status_open']},
        {'select': {'label': label(lang, 'status'), 'value': label(lang, 'status_progress')}},
        _press(lang, 'update_status'),
        {'expect_text': str(text['status_is']) % text['status_progress']},
    ]


def _directory(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    text = app_text(lang)
    heading = str(text['matches']).split('(')[0].split('（')[0].strip() % s['query']
    return [
        {'open': path},
        _fill('name', lang, s['person']),
        _press(lang, 'save'),
        _fill('name', lang, s['other_person']),
        _press(lang, 'save'),
        _fill('search', lang, s['query']),
        _press(lang, 'search'),
        {'expect_text': heading},
        {'expect_text': s['person']},
    ]


def _login(path: str, lang: str, s: dict[str, str]) -> list[dict[str, Any]]:
    signed_in = str(app_text(lang)['signed_in_as']) % s['user']
    return [
        {'open': f'{path}/signup'},
        _fill('name', lang, s['user']),
        _fill('email', lang, s['email']),
        _fill('password', lang, PASSWORD),
        _press(lang, 'sign_up'),
        {'expect_text': signed_in},
        _press(lang, 'sign_out'),
        _fill('email', lang, s['email']),
        _fill('password', lang, WRONG_PASSWORD),
        _press(lang, 'sign_in'),
        {'expect_text': label(lang, 'bad_login')},
        _fill('email', lang, s['email']),
        _fill('password', lang, PASSWORD),
        _press(lang, 'sign_in'),
        {'expect_text': signed_in},
    ]


def _date(lang: str, iso: str) -> str:
    """The app's own date format (app_source.fmt_date), for the dates a check picks."""
    day, text = date.fromisoformat(iso), app_text(lang)
    weekdays, months = list(text['weekdays']), list(text['months'])  # type: ignore[call-overload]
    return str(text['date_format']).format(
        wd=weekdays[day.weekday()], d=day.day, m=months[day.month - 1], mn=day.month, y=day.year
    )


_STEPS = {
    'generic': _generic,
    'photos': _photos,
    'calendar': _calendar,
    'money': _money,
    'reviews': _reviews,
    'report': _report,
    'directory': _directory,
    'login': _login,
}
