"""Which kind of page a feature gets, chosen from its words (deterministic, no model).

A feature named "Listings with photos" needs an image upload and a gallery, "Deposit payment" an amount
with its currency: the offline model picks one shape per feature from keywords of its name (English,
Japanese and French), and only when the name says nothing from its description with the audience's
words taken out (so "built for wedding photographers" does not turn every page into a gallery).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

GENERIC = 'generic'
LOGIN = 'login'
# Order is precedence: "Damage deposit" is money, "Damage report with photos" a report, "Cost report" money.
SHAPES = ('login', 'money', 'report', 'reviews', 'calendar', 'directory', 'photos')
ALL_SHAPES = (*SHAPES, GENERIC)

# Latin words: a regex over the folded text (lower case, accents removed), anchored at a word start.
_WORDS: dict[str, str] = {
    'login': r'log ?ins?|log-in|sign[ -]?(?:in|up)s?|accounts?|password|authenticat\w*|connexion|inscription'
    r'|mot de passe|identifiant|compte',
    'money': r'prices?|pricing|deposits?|payments?|pay|pays|paid|fees?|costs?|split\w*|dues|bills?|billing'
    r'|invoic\w*|expenses?|receipts?|budget\w*|settle\w*|balances?|refunds?|prix|tarif\w*|paiements?'
    r'|acomptes?|caution|cotisations?|frais|depenses?|factur\w*|couts?|rembours\w*',
    'report': r'reports?|reporting|issues?|damages?|requests?|maintenance|repairs?|incidents?|complaints?'
    r'|tickets?|faults?|bugs?|signalements?|pannes?|reparations?|demandes?|problemes?',
    'reviews': r'reviews?|ratings?|rate|stars?|feedback|testimonials?|avis|evaluations?',
    'calendar': r'calendars?|availab\w*|bookings?|reserv\w*|schedul\w*|slots?|rotas?|rosters?|shifts?'
    r'|appointments?|agenda|shoots?|dates?|events?|calendrier|planning|rendez-vous|creneaux|creneau'
    r'|convocations?|disponibilit\w*',
    'directory': r'profiles?|director(?:y|ies)|contacts?|members?|membership|people|address book|phonebook'
    r'|profils?|annuaire|membres?|adherents?',
    'photos': r'photos?|pictures?|pics?|images?|gallery|galleries|galerie|photographs?',
}
# Japanese has no spaces: plain substrings.
_KANJI: dict[str, tuple[str, ...]] = {
    'login': ('ログイン', 'アカウント', '会員登録', 'サインイン', 'サインアップ', 'パスワード', '新規登録'),
    'money': ('料金', '支払', '会費', 'デポジット', '価格', '費用', '割り勘', '精算', '代金', '請求', '入金',
              '保証金', '値段', '予算', '経費'),
    'report': ('報告', '問題', '故障', '修理', '不具合', '依頼', '要望', 'トラブル', '点検'),
    'reviews': ('レビュー', '評価', '口コミ', 'クチコミ', '感想'),
    'calendar': ('予約', '予定', 'カレンダー', '日程', 'スケジュール', '当番', 'シフト', '空き状況'),
    'directory': ('プロフィール', '名簿', '連絡先', 'メンバー', '会員', '顧客'),
    'photos': ('写真', '画像', 'ギャラリー', 'フォト'),
}  # fmt: skip
# A periodic report ("weekly report") is a summary, not a problem to follow up.
_PERIODIC = re.compile(r'\b(?:daily|weekly|monthly|annual|yearly|year-end|quarterly|summary)\b')
_COMPILED = {shape: re.compile(r'(?<![a-z0-9])(?:' + words + r')(?![a-z0-9])') for shape, words in _WORDS.items()}
# A plan's promise of a login ("with a simple login"), unless the clause says there is none yet.
_PROMISE = re.compile(r'log ?in|sign[ -]?in|accounts?|connexion|comptes?')
_NEGATION = re.compile(r'\b(?:no|not|without|none|later|pas|sans|aucun\w*)\b|なし|ない|不要')


def fold(text: str) -> str:
    """Lower case without accents, for keyword rules."""
    decomposed = unicodedata.normalize('NFKD', text.lower())
    return ''.join(c for c in decomposed if not unicodedata.combining(c))


def shapes_in(text: str) -> list[str]:
    """Every shape whose keywords appear in `text`, in precedence order."""
    folded = fold(text)
    found = []
    for shape in SHAPES:
        if shape == 'report':
            hit = _is_report(text, folded)
        else:
            hit = bool(_COMPILED[shape].search(folded)) or any(k in text for k in _KANJI[shape])
        if hit:
            found.append(shape)
    return found


def _is_report(text: str, folded: str) -> bool:
    if any(k in text for k in _KANJI['report']):
        return True
    words = {m.group(0) for m in _COMPILED['report'].finditer(folded)}
    if words and words <= {'report', 'reports', 'reporting'} and _PERIODIC.search(folded):
        return False  # "weekly report": a summary, not a problem to follow up
    return bool(words)


def choose_shape(name: str, description: str = '', *, audience: str = '', login: bool = True) -> str:
    """The page shape for a feature. `login` False (a plan that promises no accounts) keeps a feature
    named like a login on the generic form."""
    allowed = [s for s in SHAPES if login or s != LOGIN]
    for text in (name, _without(description, audience)):
        found = [s for s in shapes_in(text) if s in allowed]
        if found:
            return found[0]
    return GENERIC


def plan_promises_login(plan: dict[str, Any] | None) -> bool:
    """Whether the chosen plan says the app has a login (its summary, stack, phases or tradeoffs)."""
    if not plan:
        return False
    texts = [str(plan.get(key) or '') for key in ('title', 'summary', 'stack')]
    texts += [str(item) for key in ('phases', 'tradeoffs') for item in plan.get(key) or []]
    for text in texts:
        for clause in re.split(r'[.;,:—()\n]|、|。', text):
            folded = fold(clause)
            promised = _PROMISE.search(folded) or any(k in clause for k in _KANJI['login'])
            if promised and not _NEGATION.search(folded):
                return True
    return False


def _without(description: str, audience: str) -> str:
    """The description with the audience's words removed ("… — built for wedding photographers")."""
    if audience.strip():
        description = re.sub(re.escape(audience.strip()), ' ', description, flags=re.I)
    return description
