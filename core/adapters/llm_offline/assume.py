"""The offline model on the fast path: the interview's answers guessed from the idea, then listed (stdlib only).

When core sends `assume: true` (core/journey/fast_path.py), the founder skipped the questions. The answers the
idea does not give are assumed here (who it is for, the must-haves, devices, success), the brief is written
from them as usual (journey.py), and each assumption is listed in `idea_brief.assumptions` for the founder to
correct on the brief page. English and Japanese; other languages get English frames.
"""

from __future__ import annotations

import re
from typing import Any

from core.language import JAPANESE, detect

_T = {
    'en': {
        'who': 'It is for {who}',
        'who_unknown': 'It is for the people your idea describes; the first ones are people you can ask directly',
        'musts': 'The first version does: {musts}',
        'shoulds': 'These wait for a later version: {shoulds}',
        'constraints': 'Works in a web browser on phones and laptops',
        'device': 'People use it in a web browser, on phones and laptops',
        'success': 'Ten {who} use it every week after a month',
        'success_line': 'Success means: {success}',
        'success_unknown': 'Ten people use it every week after a month',
    },
    'ja': {
        'who': '対象は{who}です',
        'who_unknown': '対象はアイデアに書かれた人たちで、まずは直接話を聞ける人から始めます',
        'musts': '最初の版でできること:{musts}',
        'shoulds': '後の版に回すもの:{shoulds}',
        'constraints': 'スマホとパソコンのブラウザで使えること',
        'device': 'スマホとパソコンのブラウザで使います',
        'success': '1 か月後、{who}のうち 10 人が毎週使っている',
        'success_line': '成功の目安:{success}',
        'success_unknown': '1 か月後、10 人が毎週使っている',
    },
}
_FOR = re.compile(r'\bfor\s+(.+?)(?=\s+(?:so|that|to|who|which|where|with|when|because)\b|[.,;:!?(]|$)', re.I)
_CAN = re.compile(r'\b(?:so(?:\s+that)?|where|to help)\s+(?:\w+\s+){0,3}?(?:can|could|may)\s+(.+?)(?=[.;:!?]|$)', re.I)
_JA_FOR = re.compile(r'([^、。\s]{2,30}?)(?:向け|のための|のために)')


def _lang(payload: dict[str, Any]) -> str:
    return 'ja' if detect(str(payload.get('idea') or '')) == JAPANESE else 'en'


def _who(idea: str, lang: str) -> str:
    match = (_JA_FOR if lang == 'ja' else _FOR).search(idea)
    who = match.group(1).strip() if match else ''
    return re.sub(r'^(?:the|a|an)\s+', '', who, flags=re.I)[:120]


def _musts(idea: str, lang: str) -> str:
    """What the idea says people can do ("so clients can pick a slot and pay a deposit"); '' when it does not."""
    if lang == 'ja' or ':' in idea:
        return ''  # a listed idea ("…: a, b, c") or Japanese: journey.py reads the features from the idea itself
    match = _CAN.search(idea)
    if not match:
        return ''
    parts = re.split(r',\s*|\s+and\s+', match.group(1).strip())
    return ', '.join(p.strip() for p in parts if len(p.strip()) > 2)


def assumed_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the unanswered questions answered by assumption (the founder's answers win)."""
    lang, idea = _lang(payload), str(payload.get('idea') or '')
    t, given = _T[lang], {k: v for k, v in (payload.get('answers') or {}).items() if str(v or '').strip()}
    who = _who(idea, lang)
    guessed = {
        'target_user': who[:1].upper() + who[1:] if lang == 'en' else who,
        'must_have': _musts(idea, lang),
        'constraints': t['constraints'],
        'success': t['success'].format(who=who) if who else t['success_unknown'],
    }
    answers = {k: v for k, v in guessed.items() if v}
    return {**payload, 'answers': {**answers, **given}, '_assumed': sorted(set(answers) - set(given))}


def listed(payload: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """The brief's assumptions, each one a sentence the founder can check and correct."""
    lang, t = _lang(payload), _T[_lang(payload)]
    answers, assumed = payload.get('answers') or {}, set(payload.get('_assumed') or [])
    scope = reply.get('mvp_scope') or {}
    musts = [str(f['name']) for f in scope.get('features') or [] if f.get('priority', 'must') == 'must']
    shoulds = [str(f['name']) for f in scope.get('features') or [] if f.get('priority') == 'should']
    sep = '、' if lang == 'ja' else ', '
    who = str(answers.get('target_user') or '')
    if lang == 'en' and who[1:2].islower():  # "Independent dog groomers" inside a sentence
        who = who[:1].lower() + who[1:]
    out = [t['who'].format(who=who) if 'target_user' in assumed else t['who_unknown']]
    out.append(t['musts'].format(musts=sep.join(musts)))
    if shoulds:
        out.append(t['shoulds'].format(shoulds=sep.join(shoulds)))
    if 'constraints' in assumed:
        out.append(t['device'])
    if 'success' in assumed:
        out.append(t['success_line'].format(success=answers['success']))
    brief = {**(reply.get('idea_brief') or {}), 'assumptions': out}
    return {**reply, 'idea_brief': brief}
