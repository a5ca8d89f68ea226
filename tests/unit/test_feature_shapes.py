"""The offline model's feature-shaped pages: which shape a feature gets, the checks it writes, and the
generated source (founder text only as repr() literals, the same bytes for the same brief, the idea's language)."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from core.acceptance.spec import parse_check
from core.adapters.llm_offline.app_template import Page, render_app
from core.adapters.llm_offline.builder import build_script, decide, make_plan, step_id
from core.adapters.llm_offline.checks import check_for
from core.adapters.llm_offline.shapes import ALL_SHAPES, choose_shape, plan_promises_login

ENGLISH = [
    ('Listings with photos', 'photos'),
    ('Photo gallery', 'photos'),
    ('Online booking calendar', 'calendar'),
    ('Availability', 'calendar'),
    ('Watering rota', 'calendar'),
    ('Calendar of shoots', 'calendar'),
    ('Deposit payment', 'money'),
    ('Split balances', 'money'),
    ('Cost report per property', 'money'),
    ('Monthly dues', 'money'),
    ('Reviews and ratings', 'reviews'),
    ('Damage report with photos', 'report'),
    ('Tenant request form', 'report'),
    ('Maintenance', 'report'),
    ('Weekly report', 'generic'),
    ('Client pet profiles', 'directory'),
    ('Contractor contacts', 'directory'),
    ('Member directory', 'directory'),
    ('Login and accounts', 'login'),
    ('Sign up', 'login'),
    ('SMS reminders', 'generic'),
    ('Shared list', 'generic'),
]
JAPANESE = [
    ('写真付きの出品', 'photos'),
    ('画像ギャラリー', 'photos'),
    ('予約カレンダー', 'calendar'),
    ('撮影の日程', 'calendar'),
    ('会費の支払い', 'money'),
    ('デポジット', 'money'),
    ('料金表', 'money'),
    ('レビューと評価', 'reviews'),
    ('故障の報告', 'report'),
    ('問題の連絡', 'report'),
    ('会員名簿', 'directory'),
    ('プロフィール', 'directory'),
    ('ログイン', 'login'),
    ('お知らせ', 'generic'),
]
FRENCH = [
    ('Suivi des cotisations', 'money'),
    ('Convocations', 'calendar'),
    ('Réservation des créneaux', 'calendar'),
    ('Galerie de photos', 'photos'),
    ('Annuaire des membres', 'directory'),
    ('Signalement de panne', 'report'),
    ('Avis des clients', 'reviews'),
    ('Covoiturage', 'generic'),
]


@pytest.mark.parametrize(('name', 'shape'), ENGLISH + JAPANESE + FRENCH)
def test_a_feature_gets_the_shape_its_name_calls_for(name: str, shape: str) -> None:
    assert choose_shape(name) == shape


def test_the_description_decides_only_when_the_name_says_nothing_and_never_through_the_audience() -> None:
    assert choose_shape('Stock', 'Pictures of every item') == 'photos'
    assert choose_shape('Deposit payment', 'with photos of the receipt') == 'money'
    audience = 'Freelance wedding photographers'
    assert choose_shape('Lead pipeline', f'Lead pipeline — built for {audience}.', audience=audience) == 'generic'


def test_a_login_is_built_only_where_the_plan_promises_one() -> None:
    balanced = {'title': 'Balanced', 'summary': 'Every feature of the scope with a simple login, polished for phones.'}
    fast = {'title': 'Fast MVP', 'summary': 'Only the must-haves.', 'tradeoffs': ['No accounts or admin screens yet']}
    assert plan_promises_login(balanced) and not plan_promises_login(fast) and not plan_promises_login(None)
    assert plan_promises_login({'summary': 'Every feature with accounts and roles'})
    assert plan_promises_login({'phases': ['ログインを追加する']}) and not plan_promises_login(
        {'summary': 'ログインなし'}
    )
    assert choose_shape('Accounts', login=False) == 'generic'

    brief = {'title': 'Camp', 'core_features': [{'name': 'Listings with photos', 'description': ''}]}
    with_login = make_plan({'brief': brief, 'plan': balanced})
    assert [(p.name, p.shape) for p in with_login.pages] == [('Listings with photos', 'photos'), ('Account', 'login')]
    assert [p.shape for p in make_plan({'brief': brief, 'plan': fast}).pages] == ['photos']
    named = {**brief, 'core_features': [{'name': 'Login', 'description': ''}]}
    assert [p.shape for p in make_plan({'brief': named, 'plan': fast}).pages] == ['generic']
    assert [p.shape for p in make_plan({'brief': named, 'plan': balanced}).pages] == ['login']  # no second one


@pytest.mark.parametrize('shape', ALL_SHAPES)
@pytest.mark.parametrize('lang', ['en', 'ja'])
def test_every_shape_has_a_valid_check_that_names_its_feature_exactly(shape: str, lang: str) -> None:
    page = Page('gear', 'Two-person  tents & <more>', '', shape)
    check = parse_check(check_for(page, lang))
    assert check.feature == page.name
    assert check.steps[0].open in {'/gear', '/gear/signup'}
    kinds = {step.kind for step in check.steps}
    assert kinds & {'expect_text', 'expect_element'}  # it looks for what it did
    if shape in {'photos'}:
        assert 'upload' in kinds
    if shape in {'money', 'report'}:
        assert 'select' in kinds


def test_checks_pick_up_the_labels_the_app_shows() -> None:
    photos = check_for(Page('listings', 'Listings with photos', '', 'photos'), 'en')
    assert {'upload': {'label': 'Photo', 'fixture': 'photo.png'}} in photos['steps']
    assert {'expect_element': {'role': 'img', 'name': 'Two-person tent'}} in photos['steps']
    money = check_for(Page('fees', '会費', '', 'money'), 'ja')
    assert {'fill': {'label': '金額', 'value': '4500'}} in money['steps'] and {'expect_text': '¥4,500'} in money[
        'steps'
    ]
    dates = check_for(Page('cal', 'Calendar', '', 'calendar'), 'en')
    assert {'expect_text': 'First on the calendar: Earlier booking, Sat 10 Mar 2001 – Mon 12 Mar 2001'} in dates[
        'steps'
    ]
    ja_dates = check_for(Page('cal', '予約', '', 'calendar'), 'ja')
    assert {'expect_text': '最初の予定：先の予約（2001年3月10日（土） – 2001年3月12日（月））'} in ja_dates['steps']


HOSTILE = {
    'title': 'Evil """ \\ app\'s',
    'value_proposition': '<script>alert("x")</script> & more',
    'problem': "'; DROP TABLE x; --",
    'target_users': '\\x00 users',
    'core_features': [
        {'name': '<img src=x onerror=alert(1)> photos', 'description': '")]; import os; os.system("x") #'},
        {'name': "Fees' + __import__('os').name + '", 'description': '{{ 7*7 }}'},
    ],
}


def _names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


def _literal_strings(source: str) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)
            and isinstance(node.value, str)}  # fmt: skip


@pytest.mark.parametrize('simple', [False, True])
def test_founder_text_enters_the_source_only_as_literals(simple: bool) -> None:
    plan = make_plan({'brief': HOSTILE})
    pages = plan.pages
    source = render_app(title=plan.title, tagline=plan.tagline, problem=plan.problem, audience=plan.audience,
                        pages=pages, simple=simple)  # fmt: skip
    benign = render_app(title='T', tagline='t', problem='p', audience='a', pages=[], simple=simple)
    assert _names(source) == _names(benign)  # it compiles, and no founder text became code
    if simple:
        assert '_DATA = json.loads(' in source
    else:
        literals = _literal_strings(source)
        for text in (HOSTILE['value_proposition'], HOSTILE['problem'], *[p.name for p in pages]):
            assert text in literals
    assert [p.shape for p in pages] == ['photos', 'money']


def test_the_same_brief_gives_the_same_bytes_and_another_brief_other_bytes() -> None:
    spec = {'brief': HOSTILE}
    first, second = _files(spec), _files(spec)
    assert first == second
    other = _files({'brief': {**HOSTILE, 'title': 'Another'}})
    assert other['app.py'] != first['app.py'] and other['static/style.css'] != first['static/style.css']


def _files(spec: dict[str, Any]) -> dict[str, str]:
    plan = make_plan(spec)
    steps = list(build_script(plan, {}))
    return {s.input['path']: s.input['content'] for s in steps if s.tool == 'write_file'}


JA_BRIEF = {
    'title': 'キャンプ用品レンタル',
    'problem': '道具を買うと高くつき、使うのは年に数回だけ',
    'target_users': '週末にキャンプをする家族',
    'value_proposition': '近所の人からキャンプ用品を借りられる',
    'core_features': [
        {'name': '写真付きの出品', 'description': '貸したい道具を写真で紹介する'},
        {'name': '予約カレンダー', 'description': ''},
        {'name': 'デポジットの支払い', 'description': ''},
        {'name': 'レビュー', 'description': ''},
    ],
}


def test_a_japanese_brief_gets_japanese_phases_narration_docs_and_app_text() -> None:
    plan = make_plan({'brief': JA_BRIEF})
    assert plan.lang == 'ja' and plan.currency == 'JPY'
    assert plan.phases[0] == 'アプリの計画' and plan.phases[-1] == '確認と公開'
    steps = list(build_script(plan, {}))
    said = [s.input['text'] for s in steps if s.tool == 'narrate']
    assert said[0] == 'キャンプ用品レンタルの土台を用意しています。'
    assert all(not any(w in text for w in ("I'm", 'the ', 'page')) for text in said)
    assert (
        '2つのページを作っています：「写真付きの出品」（写真のアップロードとギャラリー）、「予約カレンダー」（日付の入力と日付順の一覧）。'
        in said
    )
    docs = {s.input['section']: s.input['content'] for s in steps if s.tool == 'document'}
    assert (
        docs['features'].startswith('機能ごとにページがあり')
        and '**写真付きの出品**：貸したい道具を写真で紹介する。' in docs['features']
    )
    app = next(s.input['content'] for s in steps if s.input.get('path') == 'app.py')
    assert "'lang': 'ja'" in app and "'save': '保存'" in app and "'currency': 'JPY'" in app
    checks = [s for s in steps if s.tool == 'acceptance_check']
    assert [c.input['feature'] for c in checks] == [f['name'] for f in JA_BRIEF['core_features']]


def test_a_french_brief_keeps_english_frames_around_its_own_words() -> None:
    brief = {'title': 'Équipe de foot', 'value_proposition': 'Convocations et cotisations au même endroit',
             'core_features': [{'name': 'Suivi des cotisations', 'description': ''}]}  # fmt: skip
    plan = make_plan({'brief': brief})
    assert plan.lang == 'en' and plan.phases[1] == 'Pages for Suivi des cotisations'
    said = [s.input['text'] for s in build_script(plan, {}) if s.tool == 'narrate']
    assert "I'm building the “Suivi des cotisations” page with amounts, currencies and totals." in said


def test_cards_and_docs_skip_descriptions_that_only_repeat_the_name_for_the_audience() -> None:
    brief = {'title': 'Paw', 'target_users': 'Solo dog groomers', 'core_features': [
        {'name': 'Online Booking Calendar', 'description': 'Online booking calendar — built for solo dog groomers.'},
        {'name': 'Deposit', 'description': 'A deposit secures the slot'}]}  # fmt: skip
    plan = make_plan({'brief': brief})
    assert [p.description for p in plan.pages] == ['', 'A deposit secures the slot']
    steps = list(build_script(plan, {}))
    app = next(s.input['content'] for s in steps if s.input.get('path') == 'app.py')
    assert 'built for' not in app


def _call(step: Any, n: int, ok: bool = True) -> list[dict[str, Any]]:
    use = {'type': 'tool_use', 'id': step_id(n, step.key), 'name': step.tool, 'input': step.input}
    result = {'type': 'tool_result', 'tool_use_id': use['id'], 'content': 'x', 'is_error': not ok}
    return [{'role': 'assistant', 'content': [use]}, {'role': 'user', 'content': [result]}]


def _run(spec: dict[str, Any], fail: set[str], scenario: str = '') -> tuple[list[Any], str]:
    """Drive the script to its end, failing the steps named in `fail`."""
    messages: list[dict[str, Any]] = []
    steps = []
    for n in range(300):
        decision = decide(spec, messages, scenario=scenario)
        if decision.step is None:
            return steps, decision.summary
        steps.append(decision.step)
        messages += _call(decision.step, n, ok=decision.step.key not in fail)
    raise AssertionError('the script did not end')


def test_checks_follow_the_screenshot_and_a_failed_one_gets_a_rewrite_and_one_retry() -> None:
    spec = {'brief': JA_BRIEF}
    steps, summary = _run(spec, fail={'accept-2', 'accept-2-retry', 'accept-3'})
    keys = [s.key for s in steps]
    assert keys.index('check-shot') < keys.index('accept-1') < keys.index('doc-overview') < keys.index('check-done')
    assert [k for k in keys if k.startswith('accept-') and not k.endswith('say')] == [
        'accept-1', 'accept-2', 'accept-2-rewrite', 'accept-2-retry', 'accept-3', 'accept-3-rewrite',
        'accept-3-retry', 'accept-4']  # fmt: skip
    rewrite = next(s for s in steps if s.key == 'accept-2-rewrite')
    assert rewrite.input['path'] == 'app.py' and '_DATA = json.loads(' in rewrite.input['content']
    retry = next(s for s in steps if s.key == 'accept-2-retry')
    assert retry.input == next(s for s in steps if s.key == 'accept-2').input
    assert '「予約カレンダー」はまだ確認に通りません' in ' '.join(s.input.get('text', '') for s in steps)
    assert '（「予約カレンダー」はまだ確認に通っていません）' in summary


def test_the_painted_door_scenario_writes_the_first_page_without_its_form() -> None:
    steps, _ = _run({'brief': JA_BRIEF}, fail={'accept-1'}, scenario='painted-door')
    first = next(s for s in steps if s.key == 'pages0-app').input['content']
    assert '"shape": \'none\'' in first
    assert '"shape": \'none\'' not in next(s for s in steps if s.key == 'accept-1-rewrite').input['content']


def test_an_iteration_writes_a_check_for_its_new_page_only() -> None:
    change = {'summary': 'Photo gallery', 'changes': ['Guests can share photos of the trip'], 'build_version': 'v0.1'}
    steps, summary = _run({'brief': JA_BRIEF, 'change_request': change}, fail=set())
    checks = [s for s in steps if s.tool == 'acceptance_check']
    assert [c.input['feature'] for c in checks] == ['Photo gallery'] and checks[0].key == 'accept-5'
    assert {'upload': {'label': '写真', 'fixture': 'photo.png'}} in checks[0].input['steps']
    assert summary.startswith('キャンプ用品レンタルに「Photo gallery」を追加し')
