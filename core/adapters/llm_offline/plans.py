"""The offline model's plans (J-6): what its build script really does, said plainly (stdlib only).

Core sends, under `build` (core/journey/plans.py), each plan's features, what it leaves out, whether it has
accounts, and the time and cost estimated for it; the words here say exactly that and no more: the Fast MVP
builds the must-haves, Balanced every feature, Robust every feature with sign-up and sign-in (builder.py adds
the accounts page), all as one Python standard-library app. Each plan says it is built by the offline model.
English and Japanese; other languages get English frames around the founder's own words.
"""

from __future__ import annotations

import re
from typing import Any

from core.language import JAPANESE, detect
from core.stacks import STACK_TEXT, STDLIB

_T: dict[str, dict[str, Any]] = {
    'en': {
        'offline': ' Built by the offline model: a fixed script, not an AI, that writes one simple page per feature.',
        'fast': ('Fast MVP', 'Only the must-haves: {musts}, one page each, with no sign-in, so {target} can try it as '
                 'soon as it is built.'),
        'left': ' Left for a later version: {left}.',
        'balanced': ('Balanced', 'Every feature of the scope: {all}, one page each, laid out for {device}, with no '
                     'sign-in yet.'),
        'same': ' The same pages as the Fast MVP: every feature is a must-have.',
        'robust': ('Robust', 'Every feature: {all}, plus sign-up and sign-in, so each person has an account with a '
                   'password.'),
        'risk_fast': 'No sign-in: everyone who opens the app sees and changes the same data',
        'risk_balanced': 'More pages to check before the first feedback',
        'risk_same': 'Shared data: no sign-in, as in the Fast MVP',
        'risk_robust': 'Slowest to the first feedback: one more page to build and check',
        'to_fast': ['The quickest build to try', 'No accounts: everyone with the link shares the data'],
        'waits': 'The should-haves wait for the next version',
        'nothing_waits': 'Every feature of the scope is a must-have, so nothing waits',
        'to_balanced': ['A complete first version', 'No accounts yet (the Robust plan has them)'],
        'to_robust': ['Accounts from the start', 'One more page (sign-up and sign-in) to build and check',
                      'The offline model writes no automated tests or backups'],
        'setup': 'Set up the app', 'build': 'Build {feature}', 'style': 'Style the pages',
        'layout': 'Lay the pages out for {device}', 'accounts': 'Add sign-up and sign-in',
        'check': 'Check every page in a browser',
        'device': 'phones and laptops', 'phones': 'phones', 'tablets': 'tablets', 'users': 'its first users',
        'time': 'Minutes: the offline model runs a short script', 'cost': '$0: the offline model is free',
        'stack': STACK_TEXT[STDLIB],  # the words core/stacks.py reads back
        'sep': ', ', 'and': ' and ',
    },
    'ja': {
        'offline': ' オフラインモデルが作ります(AI ではなく決まった手順で、'
                   '機能ごとにシンプルなページを 1 つ書きます)。',
        'fast': ('Fast MVP', '必須の機能だけ:{musts}。機能ごとに 1 ページ、ログインなしで、'
                 'できあがったらすぐ{target}に試してもらえます。'),
        'left': '後の版に回すもの:{left}。',
        'balanced': ('バランス', 'スコープのすべての機能:{all}。機能ごとに 1 ページ、'
                     '{device}向けのレイアウトで、ログインはまだありません。'),
        'same': 'すべて必須の機能なので、Fast MVP と同じページです。',
        'robust': ('しっかり', 'すべての機能:{all}。さらに新規登録とログインで、'
                   '一人ひとりがパスワード付きのアカウントを持てます。'),
        'risk_fast': 'ログインなし:アプリを開いた全員が同じデータを見て変更できます',
        'risk_balanced': '最初のフィードバックまでに確認するページが増えます',
        'risk_same': 'Fast MVP と同じく、ログインなしでデータは共有です',
        'risk_robust': '最初のフィードバックまでが一番遅い:作って確認するページが 1 つ増えます',
        'to_fast': ['一番早く試せます', 'アカウントなし:リンクを知っている全員でデータを共有します'],
        'waits': 'あったらよい機能は次の版で',
        'nothing_waits': 'スコープの機能はすべて必須なので、後回しはありません',
        'to_balanced': ['最初の版として完全', 'アカウントはまだありません(「しっかり」プランにはあります)'],
        'to_robust': ['最初からアカウントがあります', '新規登録とログインのページが 1 つ増えます',
                      'オフラインモデルは自動テストやバックアップを書きません'],
        'setup': 'アプリの土台を作る', 'build': '{feature}を作る', 'style': 'ページの見た目を整える',
        'layout': '{device}向けにページを整える', 'accounts': '新規登録とログインを追加する',
        'check': 'すべてのページをブラウザで確認する',
        'device': 'スマホとパソコン', 'phones': 'スマホ', 'tablets': 'タブレット', 'users': '最初の利用者',
        'time': '数分:オフラインモデルの短い手順です', 'cost': '$0(オフラインモデルは無料)',
        'stack': 'Python 標準ライブラリのみ(app.py ひとつ、データは JSON ファイルに保存、インストール不要)',
        'sep': '、', 'and': '、',
    },
}  # fmt: skip
RULES = {'fast': ('must', False), 'balanced': ('all', False), 'robust': ('all', True)}  # as core/journey/plans.py


def _key(name: object) -> str:
    return ' '.join(str(name or '').split()).casefold()


def _join(items: list[str], t: dict[str, Any]) -> str:
    if len(items) <= 1:
        return ''.join(items)
    return t['sep'].join(items[:-1]) + t['and'] + items[-1]


def _features(payload: dict[str, Any], rule: str) -> list[str]:
    """Feature names a rule builds, read from the brief and scope when core sent no `build` facts."""
    brief, scope = payload.get('brief') or {}, payload.get('scope') or {}
    names = [str(f['name']) for f in brief.get('core_features') or [] if isinstance(f, dict) and f.get('name')]
    names = names or [str(f['name']) for f in scope.get('features') or [] if isinstance(f, dict) and f.get('name')]
    if rule != 'must':
        return names
    shoulds = {_key(f.get('name')) for f in scope.get('features') or []
               if isinstance(f, dict) and f.get('priority') == 'should'}  # fmt: skip
    return [n for n in names if _key(n) not in shoulds] or names


def _facts(payload: dict[str, Any], key: str, t: dict[str, Any]) -> dict[str, Any]:
    given = ((payload.get('build') or {}).get('plans') or {}).get(key) or {}
    rule, accounts = RULES[key]
    features = [str(n) for n in given.get('features') or _features(payload, rule)]
    every = _features(payload, 'all')
    left = given.get('left_out') or [n for n in every if n not in features]
    return {
        'features': features, 'left': [str(n) for n in left],
        'accounts': bool(given.get('accounts', accounts)), 'time': str(given.get('time') or t['time']),
        'cost': str(given.get('cost') or t['cost']),
    }  # fmt: skip


def _device(payload: dict[str, Any], t: dict[str, Any]) -> str:
    answers, brief = payload.get('answers') or {}, payload.get('brief') or {}
    text = f'{answers.get("constraints") or ""} {brief.get("constraints") or ""}'.lower()
    if re.search(r'laptop|desktop|computer|パソコン', text):  # every device: the default words
        return t['device']
    if re.search(r'phone|mobile|smartphone|スマホ|携帯|モバイル', text):
        return t['phones']
    if re.search(r'tablet|ipad|タブレット', text):
        return t['tablets']
    return t['device']


def propose_plans(payload: dict[str, Any]) -> dict[str, Any]:
    """Fast MVP, Balanced and Robust, each saying what the offline build script will make of it."""
    brief = payload.get('brief') or {}
    lang = 'ja' if detect(str(payload.get('idea') or ''), str(brief.get('title') or '')) == JAPANESE else 'en'
    t = _T[lang]
    answers = payload.get('answers') or {}
    target = str(answers.get('target_user') or brief.get('target_users') or t['users']).strip().rstrip('.。')
    if lang == 'en' and len(target) > 1 and not target[1:2].isupper():
        target = target[:1].lower() + target[1:]
    device = _device(payload, t)
    stack = str((payload.get('build') or {}).get('stack') or t['stack'])
    facts = {key: _facts(payload, key, t) for key in RULES}
    return {'plans': [_plan(key, facts[key], facts['fast'], t, stack=stack, target=target, device=device)
                      for key in RULES]}  # fmt: skip


def _plan(key: str, f: dict[str, Any], fast: dict[str, Any], t: dict[str, Any], **fmt: str) -> dict[str, Any]:
    names = _join(f['features'], t)
    title, summary = t[key]
    summary = summary.format(musts=names, all=names, target=fmt['target'], device=fmt['device'])
    build = [t['build'].format(feature=n) for n in f['features']]
    same = key == 'balanced' and f['features'] == fast['features']
    if key == 'fast':
        summary += t['left'].format(left=_join(f['left'], t)) if f['left'] else ''
        tradeoffs = [*t['to_fast'], t['waits'] if f['left'] else t['nothing_waits']]
        phases, risk = [t['setup'], *build, t['style'], t['check']], t['risk_fast']
    elif key == 'balanced':
        summary += t['same'] if same else ''
        tradeoffs, risk = list(t['to_balanced']), t['risk_same'] if same else t['risk_balanced']
        phases = [t['setup'], *build, t['layout'].format(device=fmt['device']), t['check']]
    else:
        tradeoffs, risk = list(t['to_robust']), t['risk_robust']
        phases = [t['setup'], t['accounts'], *build, t['style'], t['check']]
    return {'key': key, 'title': title, 'summary': summary + t['offline'], 'time': f['time'], 'cost': f['cost'],
            'risk': risk, 'stack': fmt['stack'], 'tradeoffs': tradeoffs, 'phases': phases[:12]}  # fmt: skip
