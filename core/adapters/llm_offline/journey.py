"""The offline model's structured answers for the founder journey (deterministic, stdlib only).

OfflineLLM calls `structured_reply(tool_name, system, messages)` for any tool in TOOLS. The
answers are built from the founder's OWN words, found in the JSON block that
core/journey/structured.py puts between `<journey-input>` and `</journey-input>` (keys: title,
idea, onboarding, answers, mode, guidance, previous, brief, scope). Keep the two in sync.
English and French ideas get answers in their language; splitting never assumes English.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

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
    return any(re.search(r'\b' + re.escape(s), folded) for s in stems)


def language(payload: dict[str, Any]) -> str:
    sample = ' '.join([str(payload.get('idea', '')), *map(str, (payload.get('answers') or {}).values())])
    return 'fr' if len(_FRENCH.findall(sample)) >= 2 else 'en'


def _clean_item(item: str) -> str:
    item = re.sub(r'^\s*(?:[-*•·]|\d+[.)])\s*', '', item)  # list bullets the founder typed
    item = re.sub(r'^(?:and|et|or|ou)\s+', '', item.strip(), flags=re.I)
    return item.strip(' .!;:')


def split_items(text: str) -> list[str]:
    """Split a founder's list: newlines, semicolons, commas, and a final 'and' / 'et'."""
    parts = [_clean_item(p) for p in re.split(r'[\n;,]+', text or '')]
    parts = [p for p in parts if p]
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


def _sentence(text: str) -> str:
    text = ' '.join((text or '').split()).rstrip('.!')
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    text = ' '.join((text or '').split()).rstrip('.!')
    if len(text) > 1 and text[1].isupper():  # "SMS…", "UK…"
        return text
    return text[:1].lower() + text[1:]


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return ''.join(items)
    return ', '.join(items[:-1]) + (' et ' if lang == 'fr' else ' and ') + items[-1]


def _short_title(text: str, max_chars: int = 60) -> str:
    clause = re.split(r'[.:;!?,(\n]', text.strip(), maxsplit=1)[0].strip() or text.strip()
    clause = re.sub(
        r'^(?:pivot(?:ing)?\s+to|focus(?:ing)?\s+on|se\s+recentrer\s+sur|pivoter\s+vers)\s+', '', clause, flags=re.I
    )
    title = ''
    for word in clause.split():
        if len(title) + len(word) + 1 > max_chars:
            break
        title = f'{title} {word}'.strip()
    return _sentence(title or clause[:max_chars])


# ── propose_questions ────────────────────────────────────────────────────────────────────────

_Q: dict[str, dict[str, Any]] = {
    'en': {
        'who': ('Who exactly will use it first?', 'e.g. solo dog groomers with a van'),
        'why': ('What do they do today instead, and what goes wrong?', 'e.g. phone tag and no-shows'),
        'what': ('What is the one thing it must do on day one?', 'e.g. let clients book a slot'),
        'pay': ('How should money move: deposits, subscriptions or one-off payments?', 'e.g. a 20% deposit'),
        'device': ('Which devices will people use it on?', 'e.g. mostly phones'),
        'time': ('How far ahead do people plan, and can they change their minds?', 'e.g. a week ahead'),
        'people': ('Who else is involved, and what should each person see?', 'e.g. flatmates see all balances'),
        'msg': ('How should people be notified: email, SMS or in the app?', 'e.g. an SMS the day before'),
    },
    'fr': {
        'who': ('Qui l’utilisera en premier, exactement ?', 'ex. : les entraîneurs bénévoles'),
        'why': ('Comment font-ils aujourd’hui, et qu’est-ce qui coince ?', 'ex. : trop de messages'),
        'what': ('Quelle est la seule chose indispensable dès le premier jour ?', 'ex. : envoyer les convocations'),
        'pay': ('Comment l’argent circule-t-il : acompte, abonnement, cotisation ?', 'ex. : une cotisation annuelle'),
        'device': ('Sur quels appareils sera-t-il utilisé ?', 'ex. : surtout sur mobile'),
        'time': ('Combien de temps à l’avance s’organise-t-on ?', 'ex. : une semaine avant'),
        'people': ('Qui d’autre participe, et que doit voir chacun ?', 'ex. : les joueurs voient le covoiturage'),
        'msg': ('Comment prévenir les gens : e-mail, SMS ou dans l’appli ?', 'ex. : un rappel la veille'),
    },
}
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
    """3-6 short questions: always who / why / what, then one per keyword rule that fires."""
    lang = language(payload)
    idea = str(payload.get('idea', ''))
    keys = ['who', 'why', 'what'] + [key for key, stems in _RULES if _has(idea, *stems)]
    keys = keys[:6]
    return {'questions': [{'text': _Q[lang][k][0], 'hint': _Q[lang][k][1]} for k in keys]}


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
}  # fmt: skip


def _base_features(payload: dict[str, Any]) -> list[str]:
    """Feature phrases from the must-have answer, else from the idea's list, else its first clause."""
    answers = payload.get('answers') or {}
    items = split_items(str(answers.get('must_have', '')))
    if items:
        return items
    idea = str(payload.get('idea', ''))
    if ':' in idea:
        items = split_items(idea.split(':', 1)[1])
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
    if _has(text, 'pay', 'deposit', 'paie', 'payer', 'cotis', 'acompte', 'bill', 'invoice', 'split'):
        risks.append(t['r_pay'])
    if _has(text, 'sms', 'text message'):
        risks.append(t['r_sms'])
    if _has(text, 'mobile', 'phone', 'tablet', 'telephone', 'tablette'):
        risks.append(t['r_mobile'])
    if _has(text, 'safety', 'privacy', 'tenant', 'profile', 'locataire', 'securit', 'donnees'):
        risks.append(t['r_data'])
    risks.append(t['r_adopt'].format(target=_lower_first(target) or 'users'))
    if len(features) > 4:
        risks.append(t['r_scope'].format(n=len(features)))
    return risks


def write_brief(payload: dict[str, Any]) -> dict[str, Any]:
    """Idea Brief + MVP scope from the founder's words; honours narrow / pivot guidance."""
    lang, t = language(payload), _B[language(payload)]
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
    names = [title_case(f) for f in features]
    value = t['value'].format(
        target=_lower_first(target),
        idea=_lower_first(idea),
        problem=_sentence(problem),
        features=_join([_lower_first(f) for f in features], lang),
    )
    if mode == 'narrow' and guidance:
        value += t['focus'].format(guidance=_lower_first(guidance))
    elif mode == 'pivot' and guidance:
        value = t['pivot'].format(
            guidance=_sentence(guidance),
            target=_lower_first(target),
            features=_join([_lower_first(f) for f in features], lang),
        )
    dropped = [t['dropped'].format(feature=title_case(f)) for f in base if f not in features]
    non_goals = dropped + [g.format(first=names[0]) for g in t['ng']]
    core = [
        {'name': n, 'description': t['desc'].format(feature=_sentence(f), target=_lower_first(target))}
        for n, f in zip(names, features, strict=True)
    ]
    success = str(answers.get('success') or '').strip()
    brief = {
        'title': title, 'problem': _sentence(problem), 'target_users': _sentence(target), 'value_proposition': value,
        'core_features': core, 'non_goals': non_goals, 'risks': _risks(payload, features, lang, target),
        'success_measure': success, 'constraints': str(answers.get('constraints') or '').strip(),
    }  # fmt: skip
    scope = {
        'features': [{**f, 'priority': 'must' if i < 3 else 'should'} for i, f in enumerate(core)],
        'out_of_scope': non_goals,
        'acceptance': [t['accept'].format(feature=n) for n in names]
        + ([t['success'].format(success=success)] if success else []),
    }
    return {'idea_brief': brief, 'mvp_scope': scope}


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
    return _HANDLERS[tool_name](parse_input(system, messages))
