"""The offline model's structured answers for the founder journey (deterministic, stdlib only).

OfflineLLM calls `structured_reply(tool_name, system, messages)` for any tool in TOOLS. The
answers are built from the founder's OWN words, found in the JSON block that
core/journey/structured.py puts between `<journey-input>` and `</journey-input>` (keys: title,
idea, onboarding, answers, mode, guidance, previous, brief, scope). Keep the two in sync.
English, French and Japanese ideas get answers in their language (Japanese sentences: journey_ja.py); other
languages get English frames around the founder's words, kept verbatim. Splitting never assumes English.
The co-founder's judgment on a brief (too vague, too big, an unrealistic goal) is judgment.py.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from core.adapters.llm_offline import assume, journey_ja, judgment, plans
from core.language import JAPANESE, detect

TOOLS: set[str] = {'propose_questions', 'write_brief', 'propose_plans'}

_BLOCK = re.compile(r'<journey-input>\s*(.*?)\s*</journey-input>', re.S)
_FRENCH = re.compile(r'[àâçéèêëîïôûùœ]|\b(?:le|la|les|des|une|pour|et|avec|sur|du|qui)\b', re.I)
_SMALL = {
    'a', 'an', 'and', 'as', 'at', 'by', 'for', 'from', 'in', 'of', 'on', 'or', 'per', 'the', 'to', 'with', 'via',
    'à', 'au', 'aux', 'avec', 'de', 'des', 'du', 'en', 'et', 'la', 'le', 'les', 'ou', 'par', 'pour', 'sur', "d'", "l'",
}  # fmt: skip
_NEGATIVE = re.compile(r'\b(drop|remove|without|skip|no|not|cut|later|sans|retire\w*|supprim\w*|pas|plus tard)\b')


# ── reading the input ────────────────────────────────────────────────────────────────────────


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for msg in messages:
        content = msg.get('content')
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out += [b.get('text', '') for b in content if isinstance(b, dict) and b.get('type') == 'text']
    return out


def parse_input(system: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The journey payload: the last JSON block found; else the last user text as the idea."""
    texts = [system or '', *_texts(messages)]
    for text in reversed(texts):
        for block in reversed(_BLOCK.findall(text)):
            try:
                data = json.loads(block)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                return data
    users = [t for t in _texts([m for m in messages if m.get('role') == 'user']) if t.strip()]
    return {'idea': users[-1].strip() if users else ''}


# ── words ────────────────────────────────────────────────────────────────────────────────────


def _fold(text: str) -> str:
    """Lower case without accents, for keyword rules."""
    return ''.join(c for c in unicodedata.normalize('NFKD', text.lower()) if not unicodedata.combining(c))


def _has(text: str, *stems: str) -> bool:
    folded = _fold(text)
    return any(s in folded if not s.isascii() else re.search(r'\b' + re.escape(s), folded) for s in stems)


def language(payload: dict[str, Any]) -> str:
    if detect(str(payload.get('idea', ''))) == JAPANESE:
        return 'ja'
    sample = ' '.join([str(payload.get('idea', '')), *map(str, (payload.get('answers') or {}).values())])
    return 'fr' if len(_FRENCH.findall(sample)) >= 2 else 'en'


def _clean_item(item: str) -> str:
    item = re.sub(r'^\s*(?:[-*•·]|\d+[.)])\s*', '', item)  # list bullets the founder typed
    item = re.sub(r'^(?:and|et|or|ou)\s+', '', item.strip(), flags=re.I)
    return item.strip(' .!;:。')


# Separators of a list in the languages founders write: Latin commas and semicolons, Japanese 、 and ・,
# full-width (Chinese and Japanese) ,and ;.
_SEPARATORS = re.compile(r'[\n;,、・,;]+')


def split_items(text: str) -> list[str]:
    """Split a founder's list: newlines, semicolons, commas (in any script), and a final 'and' / 'et'.
    Fragments without a word ("'", "-") are never items."""
    parts = [_clean_item(p) for p in _SEPARATORS.split(text or '')]
    parts = [p for p in parts if p and judgment.words_of(p)]
    if not parts:
        return []
    # "a, b and c" / "a et b": split the last item; inner items keep their 'and' ("x with a and b").
    last = re.split(r'\s+(?:and|et|&)\s+', parts[-1], flags=re.I)
    if len(parts) == 1 or all(len(piece.split()) <= 4 for piece in last):
        parts = parts[:-1] + [p.strip() for p in last if p.strip()]
    seen: dict[str, str] = {}
    for p in parts:
        seen.setdefault(_fold(p), p)
    return list(seen.values())[:8]


def title_case(phrase: str) -> str:
    """'client pet profiles' → 'Client Pet Profiles'; acronyms and small words are respected."""
    words = phrase.split()
    out = []
    for i, word in enumerate(words):
        if i > 0 and word.lower() in _SMALL:
            out.append(word.lower())
        else:
            out.append('/'.join(_cap(w) for w in word.split('/')))
    return ' '.join(out)


def _cap(word: str) -> str:
    if any(c.isupper() for c in word[1:]):  # SMS, iPhone, WhatsApp: keep as typed
        return word
    return word[:1].upper() + word[1:]


_END_MARKS = '.!。!'  # a set of characters to trim, in both scripts
_QUESTION_MARKS = '??'


def _sentence(text: str) -> str:
    text = ' '.join((text or '').split()).rstrip(_END_MARKS)
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    text = ' '.join((text or '').split()).rstrip(_END_MARKS)
    if len(text) > 1 and text[1].isupper():  # "SMS…", "UK…"
        return text
    return text[:1].lower() + text[1:]


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return ''.join(items)
    if lang == 'ja':
        return '、'.join(items)
    return ', '.join(items[:-1]) + (' et ' if lang == 'fr' else ' and ') + items[-1]


_MARKUP = re.compile(r'<(script|style)\b[^>]*>.*?</\1\s*>|<[^>]*>', re.I | re.S)


def _short_title(text: str, max_chars: int = 60) -> str:
    """A title from the text's words: tag-like markup is not words (the text itself stays verbatim elsewhere)."""
    text = _MARKUP.sub(' ', text)
    clause = re.split(r'[.:;!?,(\n。!?:;、]', text.strip(), maxsplit=1)[0].strip() or text.strip()
    clause = re.sub(
        r'^(?:pivot(?:ing)?\s+to|focus(?:ing)?\s+on|se\s+recentrer\s+sur|pivoter\s+vers)\s+', '', clause, flags=re.I
    )
    title = ''
    for word in (w for w in clause.split() if any(c.isalnum() for c in w)):
        if len(title) + len(word) + 1 > max_chars:
            break
        title = f'{title} {word}'.strip()
    return _sentence(title or clause[:max_chars])


# ── propose_questions ────────────────────────────────────────────────────────────────────────

_Q: dict[str, dict[str, Any]] = {
    'en': {
        'who': ('Who will use “{title}” first? Be as specific as you can.', 'e.g. solo dog groomers with a van'),
        'why': ('What problem does it solve for them today?', 'e.g. they lose hours a week on phone tag'),
        'what': ('Which features must the first version have? Separate them with commas.', 'e.g. booking, reminders'),
        'pay': ('How should money move: deposits, subscriptions or one-off payments?', 'e.g. a 20% deposit'),
        'device': ('Which devices will people use it on?', 'e.g. mostly phones'),
        'time': ('How far ahead do people plan, and can they change their minds?', 'e.g. a week ahead'),
        'people': ('Who else is involved, and what should each person see?', 'e.g. flatmates see all balances'),
        'msg': ('How should people be notified: email, SMS or in the app?', 'e.g. an SMS the day before'),
    },
    'fr': {
        'who': ('Qui utilisera « {title} » en premier ? Soyez précis.', 'ex. : les entraîneurs bénévoles'),
        'why': ('Quel problème cela leur résout-il aujourd’hui ?', 'ex. : trop de messages sans réponse'),
        'what': ('Quelles fonctions sont indispensables ? Séparez-les par des virgules.', 'ex. : convocations'),
        'pay': ('Comment l’argent circule-t-il : acompte, abonnement, cotisation ?', 'ex. : une cotisation annuelle'),
        'device': ('Sur quels appareils sera-t-il utilisé ?', 'ex. : surtout sur mobile'),
        'time': ('Combien de temps à l’avance s’organise-t-on ?', 'ex. : une semaine avant'),
        'people': ('Qui d’autre participe, et que doit voir chacun ?', 'ex. : les joueurs voient le covoiturage'),
        'msg': ('Comment prévenir les gens : e-mail, SMS ou dans l’appli ?', 'ex. : un rappel la veille'),
    },
    'ja': journey_ja.QUESTIONS,
}
# The onboarding questions that ask an interview question (the interview then skips it): one conversation.
COVERS = {'who': 'target_user', 'why': 'problem', 'what': 'must_have'}
_TOPIC_LABELS = {
    'en': {'pay': 'Money', 'device': 'Devices', 'time': 'Timing', 'people': 'People involved', 'msg': 'Notifications'},
    'fr': {'pay': 'Argent', 'device': 'Appareils', 'time': 'Calendrier', 'people': 'Personnes impliquées',
           'msg': 'Notifications'},
    'ja': journey_ja.BRIEF['topics'],
}  # fmt: skip
_RULES = (
    ('pay', ('pay', 'deposit', 'price', 'bill', 'invoice', 'subscri', 'cost', 'paie', 'payer', 'cotis', 'prix',
             'factur', 'acompte')),
    ('device', ('mobile', 'phone', 'tablet', 'smartphone', 'ipad', 'android', 'iphone', 'telephone', 'tablette')),
    ('time', ('book', 'slot', 'calendar', 'schedul', 'rota', 'appointment', 'reserv', 'calendrier', 'planning',
              'creneau', 'convocation')),
    ('people', ('team', 'share', 'flatmate', 'club', 'community', 'group', 'equipe', 'partag', 'benevole',
                'volunteer', 'tenant', 'locataire')),
    ('msg', ('remind', 'sms', 'notif', 'message', 'email', 'rappel', 'announce')),
)  # fmt: skip


def propose_questions(payload: dict[str, Any]) -> dict[str, Any]:
    """3-6 short questions: always who / why / what (the interview's own, marked as covering it), then one per
    keyword rule that fires."""
    lang = language(payload)
    idea = str(payload.get('idea', ''))
    stems = dict(_RULES) if lang != 'ja' else journey_ja.STEMS
    keys = ['who', 'why', 'what'] + [key for key, _ in _RULES if _has(idea, *stems[key])]
    title = str(payload.get('title') or '').strip() or _short_title(idea, 40)
    return {'questions': [{'text': _Q[lang][k][0].format(title=title), 'hint': _Q[lang][k][1],
                           'covers': COVERS.get(k, '')} for k in keys[:6]]}  # fmt: skip


def _topic(question: str) -> str:
    """Which of this model's own onboarding questions `question` is ('' for another model's)."""
    for texts in _Q.values():
        for key, (text, _) in texts.items():
            if key not in COVERS and text == question:
                return key
    return ''


def told_details(payload: dict[str, Any], lang: str) -> list[str]:
    """The onboarding answers no interview key holds (money, devices, timing…), as 'Topic: answer' lines."""
    covered = {text.format(title=payload.get('title') or '') for texts in _Q.values()
               for key, (text, _) in texts.items() if key in COVERS}  # fmt: skip
    lines = []
    for pair in payload.get('onboarding') or []:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        question, answer = str(pair[0]), ' '.join(str(pair[1] or '').split())
        if question in covered or judgment.substance(answer) < 4:
            continue
        topic = _topic(question)
        label = _TOPIC_LABELS[lang if lang in _TOPIC_LABELS else 'en'].get(topic) or question.rstrip(_QUESTION_MARKS)
        lines.append(f'{label}: {answer}' if lang != 'ja' else f'{label}:{answer}')
    return lines


# ── write_brief ──────────────────────────────────────────────────────────────────────────────

_B: dict[str, dict[str, Any]] = {
    'en': {
        'desc': '{feature} — built for {target}.',
        'value': 'For {target}: {idea}. It tackles “{problem}” with {features}.',
        'focus': ' Focus now: {guidance}.',
        'pivot': 'New direction: {guidance}. For {target}, starting with {features}.',
        'ng': ['Native iPhone and Android apps — a mobile-friendly web app comes first',
               'Integrations with other tools beyond what {first} needs',
               'Advanced analytics and admin dashboards'],
        'dropped': 'Not in this version: {feature}',
        'r_pay': 'Taking payments needs a trusted payment provider, refunds and clear terms',
        'r_sms': 'Text messages cost money per message and need consent',
        'r_mobile': 'It must be comfortable on a small screen',
        'r_data': 'Personal data must be protected and kept to the minimum',
        'r_adopt': 'Getting the first {target} to try it and keep using it',
        'r_scope': 'Scope: {n} features is a lot for a first version',
        'accept': '{feature} works end to end for a first real user',
        'success': 'Success measure is tracked: {success}',
    },
    'fr': {
        'desc': '{feature} — pensé pour {target}.',
        'value': 'Pour {target} : {idea}. Réponse à « {problem} » avec {features}.',
        'focus': ' Priorité : {guidance}.',
        'pivot': 'Nouvelle direction : {guidance}. Pour {target}, en commençant par {features}.',
        'ng': ['Applications natives iPhone et Android — une application web adaptée au mobile d’abord',
               'Intégrations avec d’autres outils au-delà de ce que {first} exige',
               'Statistiques avancées et tableaux de bord d’administration'],
        'dropped': 'Pas dans cette version : {feature}',
        'r_pay': 'Gérer l’argent demande un prestataire de paiement fiable et des règles claires',
        'r_sms': 'Les SMS coûtent de l’argent à chaque envoi et demandent un consentement',
        'r_mobile': 'L’application doit être confortable sur un petit écran',
        'r_data': 'Les données personnelles doivent être protégées et limitées au strict nécessaire',
        'r_adopt': 'Convaincre les premiers {target} d’essayer et de continuer',
        'r_scope': 'Périmètre : {n} fonctions, c’est beaucoup pour une première version',
        'accept': '{feature} fonctionne de bout en bout pour un premier utilisateur',
        'success': 'La mesure du succès est suivie : {success}',
    },
    'ja': journey_ja.BRIEF,
}  # fmt: skip


def _base_features(payload: dict[str, Any]) -> list[str]:
    """Feature phrases from the must-have answer, else from the idea's list, else its first clause."""
    answers = payload.get('answers') or {}
    items = split_items(str(answers.get('must_have', '')))
    if items:
        return items
    idea = str(payload.get('idea', ''))
    if ':' in idea or ':' in idea:
        items = split_items(re.split('[::]', idea, maxsplit=1)[1])
    return items or [_short_title(idea, 40) or 'Core workflow']


def _mentioned(feature: str, text: str) -> bool:
    words = [w for w in re.findall(r'\w+', _fold(feature)) if len(w) >= 4]
    folded = _fold(text)
    return any(re.search(r'\b' + re.escape(w[:6]), folded) for w in words)


def narrow_features(features: list[str], guidance: str) -> list[str]:
    """Fewer features: keep those the guidance keeps, drop those it drops, else the first half."""
    clauses = re.split(r'[,;.]|\b(?:but|mais)\b', guidance)
    dropped = {f for f in features for c in clauses if _NEGATIVE.search(_fold(c)) and _mentioned(f, c)}
    kept = [f for f in features if f not in dropped and any(_mentioned(f, c) for c in clauses)]
    result = kept or [f for f in features if f not in dropped]
    if len(features) > 1 and len(result) >= len(features):
        result = features[: math.ceil(len(features) / 2)]
    return result or features[:1]


def pivot_features(features: list[str], guidance: str) -> list[str]:
    items = split_items(guidance)
    if len(items) >= 2:
        return items
    return [_feature_from(guidance), *features[:2]]


def _feature_from(text: str) -> str:
    """The head noun phrase of a sentence: 'Pivot to a marketplace where …' → 'marketplace'."""
    phrase = _short_title(text, 60)
    phrase = re.sub(r"^(?:(?:a|an|the|un|une|le|la|les|des)\s+|l['’]\s*)", '', phrase, flags=re.I)
    phrase = re.split(r'\s+(?:where|which|that|who|so|to|for|qui|que|où|pour)\s+', phrase, maxsplit=1)[0]
    return ' '.join(phrase.split()[:5]) or text[:40]


def _risks(payload: dict[str, Any], features: list[str], lang: str, target: str) -> list[str]:
    t = _B[lang]
    answers = payload.get('answers') or {}
    text = ' '.join([str(payload.get('idea', '')), *map(str, answers.values()), *features])
    risks = []
    if _has(
        text,
        'pay',
        'deposit',
        'paie',
        'payer',
        'cotis',
        'acompte',
        'bill',
        'invoice',
        'split',
        *journey_ja.STEMS['pay'],
    ):
        risks.append(t['r_pay'])
    if _has(text, 'sms', 'text message'):
        risks.append(t['r_sms'])
    if _has(text, 'mobile', 'phone', 'tablet', 'telephone', 'tablette', *journey_ja.STEMS['device']):
        risks.append(t['r_mobile'])
    if _has(text, 'safety', 'privacy', 'tenant', 'profile', 'locataire', 'securit', 'donnees', '個人情報', '安全'):
        risks.append(t['r_data'])
    if target != judgment.words(lang)['someone']:  # no first user named: the judgment's risk says so already
        risks.append(t['r_adopt'].format(target=_lower_first(target) or 'users'))
    if len(features) > judgment.MAX_FEATURES:
        risks.append(t['r_scope'].format(n=len(features)))
    return risks


def _with_clarified(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the founder's answers to the brief's open questions in place of what was missing."""
    answers = dict(payload.get('answers') or {})
    idea = str(payload.get('idea') or '')
    for pair in payload.get('clarified') or []:
        if not isinstance(pair, list | tuple) or len(pair) != 2 or judgment.substance(pair[1]) < 2:
            continue
        key, text = judgment.clarified_key(str(pair[0])), str(pair[1]).strip()
        if key == 'idea':
            idea = f'{idea}\n{text}'.strip()
        elif key and judgment.substance(answers.get(key)) < 4:
            answers[key] = text
    return {**payload, 'idea': idea, 'answers': answers}


def write_brief(payload: dict[str, Any]) -> dict[str, Any]:
    """Idea Brief + MVP scope from the founder's words (onboarding included); honours narrow / pivot guidance,
    and pushes back (judgment.py) unless the founder insists."""
    payload = _with_clarified(payload)
    lang = language(payload)
    t = {**_B['en'], **_B.get(lang, {})}
    answers = payload.get('answers') or {}
    idea = str(payload.get('idea', '')).strip()
    mode, guidance = str(payload.get('mode') or 'generate'), str(payload.get('guidance') or '').strip()
    target = str(answers.get('target_user') or '').strip() or _short_title(idea)
    problem = str(answers.get('problem') or '').strip() or idea
    base = _base_features(payload)
    features, title = base, str(payload.get('title') or _short_title(idea))
    if mode == 'narrow' and guidance:
        features = narrow_features(base, guidance)
    elif mode == 'pivot' and guidance:
        features, title = pivot_features(base, guidance), _short_title(guidance)
    verdict = judgment.judge(payload, features, lang, _lower_first(target))
    features = verdict.features or [_short_title(idea, 40) or title]
    names = [title_case(f) for f in features]
    value = _value(t, lang, target=target, idea=idea, problem=problem, features=features)
    if mode == 'narrow' and guidance:
        value += t['focus'].format(guidance=_lower_first(guidance))
    elif mode == 'pivot' and guidance:
        value = t['pivot'].format(guidance=_sentence(guidance), target=_lower_first(target),
                                  features=_join([_lower_first(f) for f in features], lang))  # fmt: skip
    said, unclear = judgment.words(lang), judgment.words(lang)['unclear']
    if verdict.vague:  # no confident brief: say what is missing instead of inventing it
        value = judgment.draft_value(verdict.missing, lang)
        problem = problem if 'problem' not in verdict.missing else unclear
    for_whom = said['someone'] if 'target_user' in verdict.missing or judgment.everyone(target) else target
    if 'target_user' in verdict.missing:
        target = unclear
    left = {_fold(item['name']) for item in verdict.left_out}
    dropped = [t['dropped'].format(feature=title_case(f)) for f in base if f not in features and _fold(f) not in left]
    waits = [f'{title_case(item["name"])} — {item["why"]}' for item in verdict.left_out]
    non_goals = dropped + [g.format(first=names[0]) for g in t['ng']]
    core = [
        {'name': n, 'description': t['desc'].format(feature=_sentence(f), target=_lower_first(for_whom))}
        for n, f in zip(names, features, strict=True)
    ]
    success = str(answers.get('success') or '').strip()
    risks = ([judgment.words(lang)['r_vague']] if verdict.vague else []) + verdict.risks
    risks += _risks(payload, base if not verdict.left_out else features, lang, for_whom)
    brief = {
        'title': title, 'problem': _sentence(problem), 'target_users': _sentence(target), 'value_proposition': value,
        'core_features': core, 'non_goals': non_goals, 'risks': risks, 'success_measure': success,
        'constraints': '\n'.join([c for c in [str(answers.get('constraints') or '').strip()] if c]
                                 + told_details(payload, lang)),
        'open_questions': verdict.open_questions,
        'left_out': [{'name': title_case(i['name']), 'why': i['why']} for i in verdict.left_out],
    }  # fmt: skip
    scope = {
        'features': [{**f, 'priority': 'must' if i < 3 else 'should'} for i, f in enumerate(core)],
        'out_of_scope': waits + non_goals,
        'acceptance': [t['accept'].format(feature=n) for n in names]
        + ([t['success'].format(success=success)] if success else []),
    }
    return {'idea_brief': brief, 'mvp_scope': scope}


def _value(t: dict[str, Any], lang: str, *, target: str, idea: str, problem: str, features: list[str]) -> str:
    return t['value'].format(
        target=_lower_first(target),
        idea=_lower_first(idea),
        problem=_sentence(problem),
        features=_join([_lower_first(f) for f in features], lang),
    )


# ── propose_plans ────────────────────────────────────────────────────────────────────────────

_P: dict[str, dict[str, Any]] = {
    'en': {
        'fast': ('Fast MVP', 'Only the must-haves ({musts}) as one simple web app, in front of {target} within days.',
                 'About a day of agent work', 'Lowest: a few dollars of model usage',
                 'Shortcuts to revisit before real growth', 'Python web app (NiceGUI) + SQLite',
                 ['Fastest feedback from real users', 'No accounts or admin screens yet',
                  'Nice-to-haves wait for the next version']),
        'balanced': ('Balanced', 'Every feature of the scope ({all}) with a simple login, polished for {device}.',
                     'Two to three days of agent work', 'Moderate: tens of dollars of model usage',
                     'Medium: more to build before the first feedback', 'Python web app (NiceGUI) + SQLite + login',
                     ['A complete first version', 'Takes a little longer', 'Easy to move to Postgres later']),
        'robust': ('Robust', 'Every feature with accounts and roles, automated tests and backups, ready to grow.',
                   'About a week of agent work', 'Highest: the most model usage',
                   'Slowest to the first feedback; may build what users do not need',
                   'Python web app (NiceGUI) + PostgreSQL + automated tests',
                   ['Solid foundations', 'Slowest to learn from users', 'Highest cost']),
        'skeleton': 'Set up the app skeleton', 'build': 'Build {feature}', 'check': 'Check the app end to end',
        'login': 'Add a simple login', 'polish': 'Polish the screens for {device}',
        'model': 'Design the data model', 'roles': 'Set up accounts and roles',
        'tests': 'Write automated tests for {features}', 'deploy': 'Prepare deployment and backups',
        'device_default': 'phones and laptops',
    },
    'fr': {
        'fast': ('MVP rapide', 'Seulement l’indispensable ({musts}) dans une application web simple, entre les mains '
                 'des {target} en quelques jours.', 'Environ une journée de travail de l’agent',
                 'Le plus bas : quelques dollars d’usage du modèle', 'Des raccourcis à reprendre avant de grandir',
                 'Application web Python (NiceGUI) + SQLite',
                 ['Retours utilisateurs au plus vite', 'Pas encore de comptes ni d’écrans d’administration',
                  'Le reste attend la version suivante']),
        'balanced': ('Équilibré', 'Toutes les fonctions du périmètre ({all}) avec une connexion simple, soignées '
                     'pour {device}.', 'Deux à trois jours de travail de l’agent', 'Modéré',
                     'Moyen : plus à construire avant les premiers retours',
                     'Application web Python (NiceGUI) + SQLite + connexion',
                     ['Une première version complète', 'Un peu plus long', 'Passage à Postgres facile ensuite']),
        'robust': ('Robuste', 'Toutes les fonctions avec comptes et rôles, tests automatisés et sauvegardes.',
                   'Environ une semaine de travail de l’agent', 'Le plus élevé',
                   'Le plus lent avant les premiers retours', 'Application web Python (NiceGUI) + PostgreSQL + tests',
                   ['Des fondations solides', 'Le plus lent pour apprendre des utilisateurs', 'Le plus cher']),
        'skeleton': 'Mettre en place le squelette de l’application', 'build': 'Construire : {feature}',
        'check': 'Vérifier l’application de bout en bout', 'login': 'Ajouter une connexion simple',
        'polish': 'Soigner les écrans pour {device}', 'model': 'Concevoir le modèle de données',
        'roles': 'Mettre en place comptes et rôles', 'tests': 'Écrire des tests automatisés pour {features}',
        'deploy': 'Préparer le déploiement et les sauvegardes', 'device_default': 'mobile et ordinateur',
    },
}  # fmt: skip


def _scope_features(payload: dict[str, Any]) -> tuple[list[str], list[str]]:
    scope = payload.get('scope') or {}
    feats = [f for f in scope.get('features') or [] if isinstance(f, dict) and f.get('name')]
    if not feats:
        brief = payload.get('brief') or {}
        feats = [{'name': f.get('name'), 'priority': 'must'} for f in brief.get('core_features') or [] if f.get('name')]
    if not feats:
        feats = [{'name': title_case(f), 'priority': 'must'} for f in _base_features(payload)]
    names = [str(f['name']) for f in feats]
    musts = [str(f['name']) for f in feats if f.get('priority', 'must') == 'must'] or names[:1]
    return musts, names


def _plan(key: str, p: dict[str, Any], phases: list[str], **fmt: str) -> dict[str, Any]:
    title, summary, time, cost, risk, stack, tradeoffs = p[key]
    return {'key': key, 'title': title, 'summary': summary.format(**fmt), 'time': time, 'cost': cost, 'risk': risk,
            'stack': stack, 'tradeoffs': list(tradeoffs), 'phases': phases}  # fmt: skip


def propose_plans(payload: dict[str, Any]) -> dict[str, Any]:
    """Fast MVP, balanced and robust options whose phases name the brief's features."""
    lang = language(payload)
    p = _P[lang]
    musts, names = _scope_features(payload)
    answers = payload.get('answers') or {}
    brief = payload.get('brief') or {}
    target = _lower_first(str(answers.get('target_user') or brief.get('target_users') or 'users'))
    constraints = str(answers.get('constraints') or brief.get('constraints') or '')
    device = p['device_default']
    if _has(constraints, 'phone', 'mobile', 'telephone'):
        device = 'mobile' if lang == 'fr' else 'phones'
    elif _has(constraints, 'tablet', 'tablette'):
        device = 'tablette' if lang == 'fr' else 'tablets'
    fmt = {'musts': _join(musts, lang), 'all': _join(names, lang), 'target': target, 'device': device}
    build = [p['build'].format(feature=n) for n in names]
    fast = [p['skeleton'], *(p['build'].format(feature=n) for n in musts), p['check']]
    balanced = [p['skeleton'], p['login'], *build, p['polish'].format(device=device), p['check']]
    robust = [p['model'], p['roles'], *build, p['tests'].format(features=_join(musts, lang)), p['deploy']]
    return {'plans': [_plan('fast', p, fast, **fmt), _plan('balanced', p, balanced, **fmt),
                      _plan('robust', p, robust, **fmt)]}  # fmt: skip


# ── the entry point OfflineLLM calls ─────────────────────────────────────────────────────────

_HANDLERS = {'propose_questions': propose_questions, 'write_brief': write_brief, 'propose_plans': propose_plans}


def structured_reply(tool_name: str, system: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The forced tool's input for `tool_name`, deterministic for the same messages."""
    if tool_name not in _HANDLERS:
        raise KeyError(f'the offline journey model does not answer {tool_name!r}')
    payload = parse_input(system, messages)
    if tool_name == 'propose_plans':  # plans that say what the build really does: plans.py
        return plans.propose_plans(payload)
    if tool_name == 'write_brief' and payload.get('assume'):  # the fast path: assume, then list (assume.py)
        payload = assume.assumed_payload(payload)
        return assume.listed(payload, write_brief(payload))
    return _HANDLERS[tool_name](payload)
