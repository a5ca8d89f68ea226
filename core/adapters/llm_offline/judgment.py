"""The offline model's judgment on a brief (JD-1): deterministic rules over length, feature count and known
impossible asks (stdlib only).

- Too vague: the idea or the answers carry too few words to know who it is for, what problem it solves or what
  it does → open questions, and the brief says it is a draft.
- Too big: asks no first version can hold (an operating system, "everything") and features past the fifth go to
  `left_out`, each with why; the founder's order is their priority.
- Unrealistic goal or deadline (a billion users, launch tomorrow, "everyone") → a risk with a suggestion.

English, French and Japanese sentences; other languages get the English ones around the founder's words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_FEATURES = 5  # a first version holds 3-5 features
_WORD = re.compile(r'\w+')

_T: dict[str, dict[str, str]] = {
    'en': {
        'q_idea': 'What do you want to build, in a sentence or two? What would someone do with it?',
        'q_target_user': 'Who will use it first? Name one group of people you could talk to this week.',
        'q_problem': 'What problem does it solve for them today?',
        'q_must_have': 'Which 2 or 3 things must the first version do?',
        'unclear': 'Not clear yet: see the questions below.',
        'draft': 'This is a draft, not a brief I can stand behind: I do not know enough yet about {missing}. Answer '
        'the questions below and I will write it properly (or write it anyway if you prefer).',
        'm_idea': 'what it does', 'm_target_user': 'who it is for', 'm_problem': 'the problem it solves',
        'm_must_have': 'what the first version must do',
        'r_vague': 'Everything here is a guess until the open questions are answered',
        'later': 'Not needed to learn whether the first users come back; add it once the first version works',
        'someone': 'its first users',
        'r_users': '“{goal}” is not a goal a first version can be judged by. Suggestion: aim for 10 to 50 people '
        'who use it every week, then grow from what they tell you',
        'r_deadline': '“{goal}” leaves no time to try it with real people. Suggestion: put the first version '
        '({features}) in front of 5 people this week, then launch',
        'r_everyone': '“Everyone” is not a first user. Suggestion: pick one group you can reach this week and '
        'build for them first',
        'and': ' and ', 'sep': ', ',
    },
    'fr': {
        'q_idea': 'Que voulez-vous construire, en une ou deux phrases ? Qu’en ferait-on ?',
        'q_target_user': 'Qui l’utilisera en premier ? Nommez un groupe de personnes à qui parler cette semaine.',
        'q_problem': 'Quel problème cela leur résout-il aujourd’hui ?',
        'q_must_have': 'Quelles 2 ou 3 choses la première version doit-elle faire ?',
        'unclear': 'Pas encore clair : voir les questions ci-dessous.',
        'draft': 'Ceci est un brouillon, pas un brief dont je suis sûr : je ne sais pas encore assez {missing}. '
        'Répondez aux questions ci-dessous et je l’écrirai correctement (ou écrivez-le quand même).',
        'm_idea': 'ce que cela fait', 'm_target_user': 'pour qui c’est', 'm_problem': 'le problème résolu',
        'm_must_have': 'ce que doit faire la première version',
        'r_vague': 'Tout ceci reste une supposition tant que les questions ouvertes sont sans réponse',
        'later': 'Pas nécessaire pour savoir si les premiers utilisateurs reviennent ; à ajouter quand la première '
        'version marche',
        'someone': 'ses premiers utilisateurs',
        'r_users': '« {goal} » n’est pas un objectif pour juger une première version. Suggestion : viser 10 à 50 '
        'personnes qui l’utilisent chaque semaine, puis grandir',
        'r_deadline': '« {goal} » ne laisse pas le temps d’essayer avec de vraies personnes. Suggestion : montrer la '
        'première version ({features}) à 5 personnes cette semaine, puis lancer',
        'r_everyone': '« Tout le monde » n’est pas un premier utilisateur. Suggestion : choisir un groupe à '
        'joindre cette semaine',
        'and': ' et ', 'sep': ', ',
    },
    'ja': {
        'q_idea': '何を作りたいですか?1〜2 文で、使う人がそれで何をするのかを教えてください。',
        'q_target_user': '最初に使うのは誰ですか?今週話を聞ける人たちを 1 つ挙げてください。',
        'q_problem': 'その人たちの今の困りごとは何ですか?',
        'q_must_have': '最初の版で必ずできるべきことを 2〜3 個挙げてください。',
        'unclear': 'まだはっきりしません:下の質問を見てください。',
        'draft': 'これは下書きで、自信を持って出せる企画書ではありません。{missing}がまだ分かりません。'
        '下の質問に答えてもらえれば、きちんと書き直します(このまま進めることもできます)。',
        'm_idea': '何をするものか', 'm_target_user': '誰のためのものか', 'm_problem': 'どんな困りごとを解決するか',
        'm_must_have': '最初の版で何ができるべきか',
        'r_vague': '未回答の質問に答えるまで、ここに書いたことは推測です',
        'later': '最初の利用者が使い続けるかを確かめるのには不要です。最初の版が動いてから追加しましょう',
        'someone': '最初の利用者',
        'r_users': '「{goal}」は最初の版を評価する目標になりません。提案:まず毎週使う 10〜50 人を目指し、'
        'その声から広げましょう',
        'r_deadline': '「{goal}」では実際の人に試してもらう時間がありません。提案:今週まず 5 人に最初の版'
                      '({features})を試してもらい、それから公開しましょう',
        'r_everyone': '「みんな」は最初の利用者になりません。提案:今週連絡できる 1 つのグループに絞って'
        '作りましょう',
        'and': '、', 'sep': '、',
    },
}  # fmt: skip

# Asks no first version can hold, with why (matched on the folded idea, answers and features).
_IMPOSSIBLE: tuple[tuple[str, dict[str, str]], ...] = (
    (r'\boperating system|\bown os\b|\bsysteme d.exploitation|オペレーティングシステム|\bos\b(?=\s*(?:を|も|$))',
     {'en': 'An operating system is years of work for a large team, not part of a web app’s first version',
      'fr': 'Un système d’exploitation, ce sont des années de travail pour une grande équipe, pas une première '
            'version',
      'ja': 'OS は大きなチームで何年もかかる仕事で、ウェブアプリの最初の版には入りません'}),
    (r'\b(?:does|do|doing) everything\b|\beverything\b|\ball the features\b|\btout faire\b|何でもできる|なんでもできる'
     r'|すべての機能|全部の機能',
     {'en': '“Everything” cannot be built or tested; a first version does a few things well',
      'fr': '« Tout » ne se construit ni ne se teste ; une première version fait peu de choses, mais bien',
      'ja': '「何でも」は作ることも確かめることもできません。最初の版は少しのことをきちんとこなします'}),
    (r'\b(?:own|new|custom) (?:phone|smartphone|hardware|device|chip|laptop)s?\b|独自の(?:端末|スマホ|ハードウェア)',
     {'en': 'Hardware is a different business with factories and stock; the first version is software only',
      'fr': 'Le matériel est un autre métier ; la première version est uniquement logicielle',
      'ja': 'ハードウェアは工場や在庫が必要な別の事業です。最初の版はソフトウェアだけにします'}),
    (r'\bsearch engine\b|\bmoteur de recherche\b|検索エンジン',
     {'en': 'A web-wide search engine needs an index of the whole web; search inside the app comes first',
      'fr': 'Un moteur de recherche du web entier demande d’indexer tout le web ; la recherche dans l’appli d’abord',
      'ja': 'ウェブ全体の検索エンジンには全ウェブの索引が必要です。まずはアプリ内の検索から'}),
)  # fmt: skip
_EVERYONE = re.compile(
    r'\b(?:for )?every(?:one|body)\b|\ball (?:people|humans|users)\b|\btout le monde\b|みんな|全員|すべての人'
)
_USERS = re.compile(
    r'(?:\b(?:a|one|1|\d+(?:[.,]\d+)?)\s*(?:billion|bn|million|m)\b[^.,;\n]{0,20}?\b(?:users?|people|customers)\b'
    r'|\bmillions of (?:users|people|customers)\b|\b(?:un|des|\d+) milliards? d.utilisateurs\b'
    r'|\d+(?:億|千万|百万)人)',
    re.I,
)
_DEADLINE = re.compile(
    r'(?:\b(?:launch\w*|ship\w*|releas\w*|go(?:ing)? live|live|ready|done|finished|deadline(?: is)?|due)\s+'
    r'(?:by\s+|in\s+|on\s+)?(?:tomorrow|today|tonight|(?:one|a|1|2|two|24|48)\s*(?:day|hour)s?)\b'
    r'|\b(?:lanc\w*|pr[eê]t\w*|en ligne)\s+(?:d[eè]s\s+)?demain\b'
    r'|明日(?:まで)?に?(?:公開|リリース|ローンチ|完成)|(?:公開|リリース|ローンチ)は明日)',
    re.I,
)


@dataclass
class Judgment:
    features: list[str]
    open_questions: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what a vague brief does not know: idea, target_user…
    left_out: list[dict[str, str]] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)

    @property
    def vague(self) -> bool:
        return bool(self.open_questions)


def _fold(text: str) -> str:
    return ''.join(c for c in unicodedata.normalize('NFKD', text.lower()) if not unicodedata.combining(c))


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in 'WF'


def substance(text: object) -> int:
    """How much a text says: its words' length (a CJK character counts two), junk words ("xxxx") not counted."""
    total = 0
    for word in _WORD.findall(str(text or '')):
        if len(set(word.casefold())) < 2:  # "x", "xxxxxxxx", "ああああ": a key held down
            continue
        total += sum(2 if _wide(ch) else 1 for ch in word)
    return total


def words_of(item: str) -> bool:
    """Whether a fragment can be a feature: a word of two letters or more (one CJK character is enough)."""
    return any(sum(2 if _wide(ch) else 1 for ch in w) >= 2 and len(set(w.casefold())) >= 2 or _wide(w[0])
               for w in _WORD.findall(item))  # fmt: skip


def _vague(payload: dict[str, Any], features: list[str]) -> list[str]:
    """The keys the brief cannot be confident about ('idea', 'target_user', 'problem', 'must_have')."""
    answers = payload.get('answers') or {}
    idea = str(payload.get('idea') or '')
    if substance(idea) < 12:
        return ['idea', *(k for k in ('target_user', 'problem', 'must_have') if substance(answers.get(k)) < 4)]
    missing = [k for k in ('target_user', 'problem', 'must_have') if substance(answers.get(k)) < 4]
    if payload.get('assume') or not answers:
        return []  # the fast path assumes; an idea alone with words is enough to start from
    return missing if len(missing) >= 2 and substance(idea) < 40 else []


def _impossible(text: str, lang: str) -> list[tuple[str, str]]:
    folded = _fold(text)
    return [(pattern, why.get(lang, why['en'])) for pattern, why in _IMPOSSIBLE if re.search(pattern, folded)]


def _ask_name(pattern: str, text: str) -> str:
    match = re.search(pattern, _fold(text))
    if not match:
        return ''
    start, end = match.span()  # the founder's own words, as typed (folding keeps positions for these scripts)
    return text[start:end].strip() if len(_fold(text)) == len(text) else match.group(0).strip()


def _join(items: list[str], t: dict[str, str]) -> str:
    return ''.join(items) if len(items) <= 1 else t['sep'].join(items[:-1]) + t['and'] + items[-1]


def judge(payload: dict[str, Any], features: list[str], lang: str, target: str) -> Judgment:
    """The judgment on a brief of `features` (the founder's list, in order); nothing when the founder insists."""
    t = _T.get(lang, _T['en'])
    answers = payload.get('answers') or {}
    idea = str(payload.get('idea') or '')
    text = ' '.join([idea, *map(str, answers.values())])
    out = Judgment(features=[f for f in features if words_of(f)])
    out.risks = _risks(text, out.features, t)
    if payload.get('insist'):
        return out
    out.missing = _vague(payload, out.features)
    out.open_questions = [t[f'q_{key}'] for key in out.missing]
    _size(out, idea, t, lang, target)
    return out


def _size(out: Judgment, idea: str, t: dict[str, str], lang: str, target: str) -> None:
    """Impossible asks and features past the fifth go to `left_out`, each with why."""
    kept: list[str] = []
    for feature in out.features:
        found = _impossible(feature, lang)
        if found:
            out.left_out.append({'name': feature, 'why': found[0][1]})
        else:
            kept.append(feature)
    named = {_fold(item['name']) for item in out.left_out}
    for pattern, why in _impossible(idea, lang):
        name = _ask_name(pattern, idea)
        if name and not any(re.search(pattern, n) for n in named):
            out.left_out.append({'name': name[:1].upper() + name[1:], 'why': why})
    for feature in kept[MAX_FEATURES:]:
        out.left_out.append({'name': feature, 'why': t['later']})
    out.features = kept[:MAX_FEATURES]


def _risks(text: str, features: list[str], t: dict[str, str]) -> list[str]:
    risks = []
    users = _USERS.search(text)
    if users:
        risks.append(t['r_users'].format(goal=_capital(users.group(0).strip())))
    deadline = _DEADLINE.search(text)
    if deadline:
        risks.append(t['r_deadline'].format(goal=_capital(deadline.group(0).strip()), features=_join(features[:3], t)))
    if everyone(text):
        risks.append(t['r_everyone'])
    return risks


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def everyone(text: str) -> bool:
    """Whether the text aims at "everyone" (no first user named)."""
    return bool(_EVERYONE.search(_fold(text)))


def draft_value(missing: list[str], lang: str) -> str:
    """The value proposition of a vague brief: what it does not know, and the way on."""
    t = _T.get(lang, _T['en'])
    return t['draft'].format(missing=_join([t[f'm_{key}'] for key in missing], t))


def words(lang: str) -> dict[str, str]:
    return _T.get(lang, _T['en'])


def clarified_key(question: str) -> str:
    """Which missing fact an open question (as this module phrased it) asks for, or ''."""
    for t in _T.values():
        for key in ('idea', 'target_user', 'problem', 'must_have'):
            if t[f'q_{key}'] == question.strip():
                return key
    return ''
