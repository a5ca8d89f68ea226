"""The offline model's build brain: a fixed, deterministic build script shaped by the brief.

It keeps no state of its own. Every call re-reads the conversation: each of its tool calls carries
the script step in its id (`toolu_07_pages0-app`), the tool results say which steps failed, and
`script()` yields the steps in order, choosing a different approach after a failure. The next
step is the first one not done yet; when none is left, the turn ends with a summary.

Each feature gets a page of its own shape (shapes.py: photos, dates, money, reviews, reports, a
directory, a login, or the generic form) and an acceptance check that exercises it (checks.py); the
text it writes and says follows the idea's language (words.py, app_text.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from core.adapters.llm_offline import app_fastapi, app_vite
from core.adapters.llm_offline.app_template import (
    ENV_EXAMPLE,
    PAGES_MARKER,
    REQUIREMENTS,
    Page,
    clean,
    page_entry,
    render_app,
    render_css,
    render_readme,
    slugify,
)
from core.adapters.llm_offline.checks import check_for
from core.adapters.llm_offline.shapes import LOGIN, choose_shape, plan_promises_login
from core.adapters.llm_offline.words import join, quote, say
from core.language import JAPANESE, detect
from core.stacks import FASTAPI, STDLIB, VITE_REACT, stack_of

MAX_PAGES = 8
NAME_LIMIT = 120  # a feature's name is kept whole: the home page must show it and its check must name it
COMPILE = 'python3 -m py_compile app.py'
# The self-healing scenarios' download: `.invalid` never resolves, so it fails the same way every time.
SHARE_FETCH = (
    'python3 -c "import urllib.request as u; u.urlopen(\'http://packages.invalid/qr-share/{variant}\', timeout=5)"'
)
SHARE_VARIANTS = ('latest', 'stable', 'mirror')
SHARE_MODULE = """\"\"\"Share links for the app's pages (standard library only).\"\"\"
import urllib.parse


def share_link(base_url: str, path: str) -> str:
    return urllib.parse.urljoin(base_url, path)
"""
PAINTED_DOOR = 'painted-door'  # scenario: the first page is written without its form, so its check fails
_CURRENCY_SIGNS = (('€', 'EUR'), ('£', 'GBP'), ('円', 'JPY'), ('¥', 'JPY'), ('$', 'USD'))


@dataclass(frozen=True)
class Step:
    key: str
    tool: str
    input: dict[str, Any]


@dataclass
class Plan:
    """What the script builds, derived once from the build spec."""

    title: str
    tagline: str
    problem: str
    audience: str
    pages: list[Page]
    lang: str = 'en'
    currency: str = 'USD'
    change: dict[str, Any] | None = None
    new_page: Page | None = None
    phases: list[str] = field(default_factory=list)
    stack: str = STDLIB  # the plan's stack (core/stacks.py); the other stacks give every page the generic shape

    @property
    def all_pages(self) -> list[Page]:
        return self.pages + ([self.new_page] if self.new_page else [])


@dataclass
class Decision:
    """The next move: a tool call, or the closing summary (step is None)."""

    step: Step | None
    summary: str = ''


def make_plan(spec: dict[str, Any]) -> Plan:
    brief = spec.get('brief') or {}
    title = clean(brief.get('title') or spec.get('title') or 'Your app', 80)
    audience = clean(brief.get('target_users'), 200)
    features = [f for f in brief.get('core_features') or [] if isinstance(f, dict)]
    lang = 'ja' if detect(*_brief_texts(brief, features)) == JAPANESE else 'en'
    plan_data = spec.get('plan') if isinstance(spec.get('plan'), dict) else None
    login_ok = plan_data is None or wants_accounts(plan_data)
    taken: set[str] = set()
    pages: list[Page] = []
    for i, feature in enumerate(features):
        name = clean(feature.get('name'), NAME_LIMIT)
        if name and len(pages) < MAX_PAGES:
            pages.append(_page(name, clean(feature.get('description'), 300), audience, taken, f'page-{i + 1}',
                               login=login_ok))  # fmt: skip
    if wants_accounts(plan_data) and not any(p.shape == LOGIN for p in pages):
        name = say(lang, 'account_page')
        pages.append(Page(slugify('account', taken, 'account'), name, '', LOGIN))
    plan = Plan(
        title=title,
        tagline=clean(brief.get('value_proposition') or brief.get('problem') or title, 300),
        problem=clean(brief.get('problem'), 400),
        audience=audience,
        pages=pages,
        lang=lang,
        currency=_currency(brief, lang),
        change=spec.get('change_request') or None,
        stack=stack_of((plan_data or {}).get('stack')),
    )
    if plan.stack != STDLIB:
        plan.pages = [replace(p, shape='generic') for p in plan.pages]
    if plan.change:
        name = clean(plan.change.get('summary') or 'Your change', NAME_LIMIT)
        details = '; '.join(clean(c, 200) for c in plan.change.get('changes') or []) or name
        plan.new_page = _page(name, clean(details, 300), audience, taken, 'new-page', login=login_ok)
        if plan.stack != STDLIB:
            plan.new_page = replace(plan.new_page, shape='generic')
        plan.phases = [say(lang, 'phase_understand'), say(lang, 'phase_make'), say(lang, 'phase_check')]
    else:
        groups = [_group_phase(lang, g) for g in page_groups(pages)]
        plan.phases = [say(lang, 'phase_plan'), *groups, say(lang, 'phase_style'), say(lang, 'phase_check')]
    return plan


def wants_accounts(plan: dict[str, Any] | None) -> bool:
    """The plan's recorded `accounts` (core/journey/plans.py stamps it), else what its words promise."""
    if plan and isinstance(plan.get('accounts'), bool):
        return bool(plan['accounts'])
    return plan_promises_login(plan)


def _page(name: str, description: str, audience: str, taken: set[str], fallback: str, *, login: bool) -> Page:
    shape = choose_shape(name, description, audience=audience, login=login)
    return Page(slugify(name, taken, fallback), name, _useful(description, name, audience), shape)


def _useful(description: str, name: str, audience: str) -> str:
    """The founder's description, unless it only repeats the name for the audience ("X — built for Y")."""
    folded = description.casefold()
    if not description or folded.startswith(name.casefold()) or (audience and audience.casefold() in folded):
        return ''
    return description


def _brief_texts(brief: dict[str, Any], features: list[dict[str, Any]]) -> list[str]:
    texts = [str(brief.get(k) or '') for k in ('title', 'value_proposition', 'problem', 'target_users')]
    return texts + [str(f.get(k) or '') for f in features for k in ('name', 'description')]


def _currency(brief: dict[str, Any], lang: str) -> str:
    """The currency the money pages offer first: the one the founder's words show, else the language's."""
    text = ' '.join(str(v) for v in brief.values() if isinstance(v, str))
    text += ' '.join(str(f.get('description', '')) for f in brief.get('core_features') or [] if isinstance(f, dict))
    for sign, code in _CURRENCY_SIGNS:
        if sign in text:
            return code
    return 'JPY' if lang == 'ja' else 'USD'


def page_groups(pages: list[Page]) -> list[list[Page]]:
    """Pages split into 1-3 phases (so the board has 4-6 cards)."""
    if not pages:
        return [[]]
    count = min(3, len(pages))
    size, extra = divmod(len(pages), count)
    groups, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        groups.append(pages[start:end])
        start = end
    return groups


def _group_phase(lang: str, group: list[Page]) -> str:
    if not group:
        return say(lang, 'phase_home')
    names = [p.name if len(p.name) <= 28 else p.name[:27].rstrip() + '…' for p in group]
    return say(lang, 'phase_pages', names=join(lang, names))[:80]


def decide(spec: dict[str, Any], messages: list[dict[str, Any]], *, scenario: str = '') -> Decision:
    """The next step of the script given what the conversation shows was done."""
    plan = make_plan(spec)
    results = past_results(messages)
    if plan.change:
        steps = change_script(plan, results)
    else:
        steps = build_script(plan, results, scenario=scenario, decision=founder_decision(messages))
    for step in steps:
        if id_key(step.key) not in results:
            return Decision(step)
    return Decision(None, summary=_summary(plan, results))


def past_results(messages: list[dict[str, Any]]) -> dict[str, bool]:
    """Script step → succeeded?, read from this model's own tool calls and their results."""
    keys: dict[str, str] = {}
    results: dict[str, bool] = {}
    for message in messages:
        content = message.get('content')
        for block in content if isinstance(content, list) else []:
            if block.get('type') == 'tool_use' and str(block.get('id', '')).startswith('toolu_'):
                parts = str(block['id']).split('_', 2)
                if len(parts) == 3:
                    keys[block['id']] = parts[2]
            elif block.get('type') == 'tool_result' and block.get('tool_use_id') in keys:
                results[keys[block['tool_use_id']]] = not block.get('is_error', False)
    return results


def founder_decision(messages: list[dict[str, Any]]) -> str:
    """The founder's answer to an escalation, as the platform adds it to the conversation ('' when none)."""
    for message in reversed(messages):
        content = message.get('content')
        for block in content if isinstance(content, list) else []:
            text = str(block.get('text', '')) if block.get('type') == 'text' else ''
            if text.startswith('[Decision from the founder: '):
                return text.split(']', 1)[0].removeprefix('[Decision from the founder: ')
    return ''


def id_key(key: str) -> str:
    """A step key as it survives in a tool-use id (providers allow only letters, digits, - and _)."""
    return re.sub(r'[^a-zA-Z0-9-]', '-', key)


def step_id(index: int, key: str) -> str:
    return f'toolu_{index:02d}_{id_key(key)}'


# ── scripts ───────────────────────────────────────────────────────────────────────────────────


def build_script(plan: Plan, results: dict[str, bool], *, scenario: str = '', decision: str = '') -> Iterator[Step]:
    """The first build: plan → pages → styling → check → screenshot → acceptance checks → docs."""
    phases, lang = plan.phases, plan.lang
    yield _phase('plan-start', 'start', phases[0], plan=phases)
    yield _say('plan-say', say(lang, 'plan_say', noun=_noun(plan.title) if lang == 'en' else plan.title))
    yield _write('plan-readme', 'README.md', _readme(plan))
    yield from _manifest(plan)
    yield _write('plan-env', '.env.example', ENV_EXAMPLE)
    if scenario in {'heal', 'escalate'}:
        yield from _sharing_package(plan, results, tries=1 if scenario == 'heal' else 3, decision=decision)
    yield _phase('plan-done', 'complete', phases[0])
    groups = page_groups(plan.pages)
    for g, group in enumerate(groups):
        yield _phase(f'pages{g}-start', 'start', phases[1 + g])
        yield _say(f'pages{g}-say', _pages_sentence(lang, group))
        so_far = [p for grp in groups[: g + 1] for p in grp]
        main = _main_file(plan)
        if g == 0:
            yield _write('pages0-app', main, _app(plan, _painted(so_far) if scenario == PAINTED_DOOR else so_far))
            if results.get('pages0-app') is False:
                yield _say('pages0-retry-say', say(lang, 'retry_say'))
                yield _write('pages0-retry', main, _app(plan, so_far, simple=True))
        elif plan.stack != STDLIB:  # no pages marker in these templates: the file is written again, whole
            yield _write(f'pages{g}-app', main, _app(plan, so_far))
            if plan.stack == VITE_REACT:
                yield _write(f'pages{g}-index', 'index.html', app_vite.render_index(title=plan.title, pages=so_far,
                                                                                  lang=lang))  # fmt: skip
        else:
            yield _edit(f'pages{g}-edit', 'app.py', PAGES_MARKER, ''.join(page_entry(p) for p in group) + PAGES_MARKER)
            if results.get(f'pages{g}-edit') is False:
                yield _write(f'pages{g}-rewrite', 'app.py', _app(plan, so_far))
        yield _phase(f'pages{g}-done', 'complete', phases[1 + g])
    style = say(lang, 'phase_style')
    yield _phase('style-start', 'start', style)
    yield _say('style-say', say(lang, 'style_say'))
    yield _write('style-css', 'src/style.css' if plan.stack == VITE_REACT else 'static/style.css',
                 render_css(plan.title))  # fmt: skip
    yield _phase('style-done', 'complete', style)
    yield from _check_and_launch(plan, results, plan.pages)


def _painted(pages: list[Page]) -> list[Page]:
    """The painted-door test hook: the first page looks right but has no form (shape "none")."""
    return [replace(p, shape='none') if i == 0 else p for i, p in enumerate(pages)]


def _sharing_package(plan: Plan, results: dict[str, bool], *, tries: int, decision: str) -> Iterator[Step]:
    """A real failure to heal from: a QR-code package for sharing pages, downloaded from a host the isolated
    workspace cannot reach. `tries` downloads are attempted (the same failure each time) before the fallback;
    with three, the platform asks the founder first, and their decision picks the way on."""
    yield _say('share-say', say(plan.lang, 'share_say'))
    for n in range(1, tries + 1):
        yield Step(f'share-fetch{n}', 'bash', {'command': SHARE_FETCH.format(variant=SHARE_VARIANTS[n - 1])})
        if results.get(f'share-fetch{n}'):
            return
    if decision.startswith('Skip'):
        yield _say('share-skip-say', say(plan.lang, 'share_skip_say'))
        return
    yield _say('share-heal-say', say(plan.lang, 'share_heal_say'))
    yield _write('share-stdlib', 'share.py', SHARE_MODULE)


def change_script(plan: Plan, results: dict[str, bool]) -> Iterator[Step]:
    """An iteration: read the app, add the requested page with an exact edit, check, show, document."""
    assert plan.new_page is not None
    phases, page, lang = plan.phases, plan.new_page, plan.lang
    yield _phase('it-start', 'start', phases[0], plan=phases)
    yield _say('it-say', say(lang, 'it_say', name=quote(lang, page.name)))
    yield Step('it-read', 'read_file', {'path': _main_file(plan)})
    yield _phase('it-read-done', 'complete', phases[0])
    yield _phase('it-make', 'start', phases[1])
    yield _say('it-make-say', say(lang, 'it_make_say', name=quote(lang, page.name)))
    if plan.stack != STDLIB:  # these templates have no pages marker: the file is written again, whole
        yield _write('it-rewrite', _main_file(plan), _app(plan, plan.all_pages))
        if plan.stack == VITE_REACT:
            yield _write('it-index', 'index.html', app_vite.render_index(title=plan.title, pages=plan.all_pages,
                                                                         lang=lang))  # fmt: skip
    elif results.get('it-read') is False:
        yield _say('it-rebuild-say', say(lang, 'it_rebuild_say'))
        yield _write('it-rebuild', 'app.py', _app(plan, plan.all_pages))
        yield _write('it-rebuild-css', 'static/style.css', render_css(plan.title))
    else:
        yield _edit('it-edit', 'app.py', PAGES_MARKER, page_entry(page) + PAGES_MARKER)
        if results.get('it-edit') is False:
            yield _say('it-edit-retry-say', say(lang, 'it_edit_retry_say'))
            yield _write('it-rewrite', 'app.py', _app(plan, plan.all_pages))
    yield _phase('it-make-done', 'complete', phases[1])
    yield from _check_and_launch(plan, results, [page])


def _check_and_launch(plan: Plan, results: dict[str, bool], checked: list[Page]) -> Iterator[Step]:
    """Compile, screenshot, then one acceptance check per page in `checked` (the new page of an iteration:
    the platform re-runs the earlier ones), then the docs."""
    lang, name = plan.lang, plan.phases[-1]
    yield _phase('check-start', 'start', name)
    yield _say('check-say', say(lang, 'check_say'))
    yield Step('check-compile', 'bash', {'command': _compile(plan)})
    if results.get('check-compile') is False:
        yield _say('check-fix-say', say(lang, 'check_fix_say'))
        yield _write('check-rewrite', _main_file(plan), _app(plan, plan.all_pages, simple=True))
        yield Step('check-recompile', 'bash', {'command': f'{_compile(plan)} && echo ok'})
        if results.get('check-recompile') is False:
            yield _say('check-giveup-say', say(lang, 'check_giveup_say'))
    yield Step('check-shot', 'take_screenshot', {})
    if results.get('check-shot') is False:
        yield _say('check-shot-say', say(lang, 'shot_fail_say'))
    else:
        yield _say('check-shot-ok', say(lang, 'shot_ok_say'))
    for page in checked:
        yield from _acceptance(plan, results, page)
    for section, content in _docs(plan).items():
        yield Step(f'doc-{section}', 'document', {'section': section, 'content': content})
    yield _phase('check-done', 'complete', name)


def _acceptance(plan: Plan, results: dict[str, bool], page: Page) -> Iterator[Step]:
    """The page's acceptance check; after a failure the app is rewritten in its simpler form once and the
    check runs again (the platform restarts the app on changed files before a check)."""
    n, lang, name = plan.all_pages.index(page) + 1, plan.lang, quote(plan.lang, page.name)
    check = check_for(page, lang)
    yield _say(f'accept-{n}-say', say(lang, 'accept_say', name=name, how=say(lang, f'how_{page.shape}')))
    yield Step(f'accept-{n}', 'acceptance_check', check)
    if results.get(f'accept-{n}') is False:
        yield _say(f'accept-{n}-fix-say', say(lang, 'accept_fix_say', name=name))
        yield _write(f'accept-{n}-rewrite', _main_file(plan), _app(plan, plan.all_pages, simple=True))
        yield Step(f'accept-{n}-retry', 'acceptance_check', check)
        if results.get(f'accept-{n}-retry') is False:
            yield _say(f'accept-{n}-giveup-say', say(lang, 'accept_giveup_say', name=name))


# ── pieces ────────────────────────────────────────────────────────────────────────────────────


def _app(plan: Plan, pages: list[Page], *, simple: bool = False) -> str:
    if plan.stack == FASTAPI:
        return app_fastapi.render_fastapi_app(title=plan.title, tagline=plan.tagline, pages=pages, lang=plan.lang)
    if plan.stack == VITE_REACT:
        return app_vite.render_vite_app(title=plan.title, tagline=plan.tagline, pages=pages, lang=plan.lang)
    return render_app(
        title=plan.title, tagline=plan.tagline, problem=plan.problem, audience=plan.audience, pages=pages,
        lang=plan.lang, currency=plan.currency, simple=simple,
    )  # fmt: skip


def _main_file(plan: Plan) -> str:
    return app_vite.MAIN_FILE if plan.stack == VITE_REACT else 'app.py'


def _compile(plan: Plan) -> str:
    """The build's own check of its code: Python compiles; a Vite app builds (which parses every JSX file)."""
    return 'npm run build' if plan.stack == VITE_REACT else COMPILE


def _readme(plan: Plan) -> str:
    readme = render_readme(title=plan.title, tagline=plan.tagline, pages=plan.pages, lang=plan.lang)
    if plan.stack == FASTAPI:
        return readme.replace(
            'PORT=8000 python3 app.py', f'pip install -r requirements.txt\nPORT=8000 {app_fastapi.START}'
        )
    if plan.stack == VITE_REACT:
        return readme.replace('PORT=8000 python3 app.py', 'npm install\nnpm run dev -- --port 8000')
    return readme


def _manifest(plan: Plan) -> Iterator[Step]:
    """What the app installs, written and installed the way an engineer would (through the workspace's
    package proxy); the platform installs it again, already satisfied, before its checks."""
    if plan.stack == FASTAPI:
        yield _write('plan-requirements', 'requirements.txt', app_fastapi.FASTAPI_REQUIREMENTS)
        yield _write('plan-procfile', 'Procfile', app_fastapi.PROCFILE)
        yield Step(
            'plan-install',
            'bash',
            {'command': 'python3 -m pip install --user --break-system-packages --no-input -r requirements.txt'},
        )
    elif plan.stack == VITE_REACT:
        yield _write('plan-package', 'package.json', app_vite.render_package_json(plan.title))
        yield _write('plan-vite', 'vite.config.js', app_vite.VITE_CONFIG)
        yield _write('plan-main', 'src/main.jsx', app_vite.MAIN_JSX)
        yield _write('plan-index', 'index.html', app_vite.render_index(title=plan.title, pages=plan.pages,
                                                                       lang=plan.lang))  # fmt: skip
        yield Step('plan-install', 'bash', {'command': 'npm install --no-audit --no-fund'})
    else:
        yield _write('plan-requirements', 'requirements.txt', REQUIREMENTS)


def _phase(key: str, action: str, name: str, plan: list[str] | None = None) -> Step:
    data: dict[str, Any] = {'action': action, 'name': name}
    if plan:
        data['plan'] = list(plan)
    return Step(key, 'phase', data)


def _say(key: str, text: str) -> Step:
    return Step(key, 'narrate', {'text': text})


def _write(key: str, path: str, content: str) -> Step:
    return Step(key, 'write_file', {'path': path, 'content': content})


def _edit(key: str, path: str, old: str, new: str) -> Step:
    return Step(key, 'edit_file', {'path': path, 'old_text': old, 'new_text': new})


def _noun(title: str) -> str:
    """'Dog groomer booking tool' → 'your dog groomer booking tool'; names like 'PawBook' stay as they are."""
    words = title.split()
    if len(words) > 1 and title[:1].isupper() and title[1:2].islower() and not any(w[:1].isupper() for w in words[1:]):
        return 'your ' + title[:1].lower() + title[1:]
    return title


def _names(lang: str, pages: list[Page]) -> str:
    return join(lang, [quote(lang, p.name) for p in pages])


def _pages_sentence(lang: str, group: list[Page]) -> str:
    if not group:
        return say(lang, 'pages_home')
    if len(group) == 1:
        return say(lang, 'page_one', name=quote(lang, group[0].name), what=say(lang, f'what_{group[0].shape}'))
    items = [say(lang, 'page_item', name=quote(lang, p.name), what=say(lang, f'what_{p.shape}')) for p in group]
    return say(lang, 'pages_many', n=len(group), items=say(lang, 'item_sep').join(items))


def _docs(plan: Plan) -> dict[str, str]:
    lang, pages = plan.lang, plan.all_pages
    lines = [
        say(lang, 'doc_feature', name=p.name, about=_about(lang, p.description), usage=say(lang, f'use_{p.shape}'))
        for p in pages
    ]
    who = say(lang, 'doc_who', audience=plan.audience) if plan.audience else ''
    problem = say(lang, 'doc_problem', problem=plan.problem) if plan.problem else ''
    change = say(lang, 'doc_change', name=plan.new_page.name) if plan.new_page else ''
    tagline = plan.tagline.rstrip('.!') if lang == 'en' else plan.tagline
    first = pages[0] if pages else None
    return {
        'overview': say(
            lang, 'doc_overview', title=plan.title, tagline=tagline, who=who, problem=problem, change=change
        ),  # fmt: skip
        'features': say(lang, 'doc_features', lines='\n'.join(lines) or say(lang, 'doc_no_features')),
        'getting_started': say(
            lang,
            'doc_start',
            first=quote(lang, first.name if first else say(lang, 'phase_home')),
            usage=say(lang, f'use_{first.shape if first else "generic"}'),
        ),
        'faq': say(lang, 'doc_faq'),
    }


def _about(lang: str, description: str) -> str:
    if not description:
        return ''
    if lang == 'en':
        return description.rstrip('.!') + '. '
    return description if description.endswith(('。', '！', '？')) else description + '。'


def _summary(plan: Plan, results: dict[str, bool]) -> str:
    lang = plan.lang
    if plan.new_page:
        return say(lang, 'summary_change', name=quote(lang, plan.new_page.name), title=plan.title)
    pages = say(lang, 'summary_pages', n=len(plan.pages), names=_names(lang, plan.pages)) if plan.pages else ''
    done = results.get('check-compile') or results.get('check-recompile')
    failing = [p for n, p in enumerate(plan.pages, 1) if _check_failed(results, n)]
    return say(
        lang,
        'summary',
        title=plan.title,
        pages=pages,
        checked=say(lang, 'summary_checked' if done else 'summary_tried'),
        failing=say(lang, 'summary_failing', names=_names(lang, failing)) if failing else '',
    )


def _check_failed(results: dict[str, bool], n: int) -> bool:
    last = results.get(f'accept-{n}-retry', results.get(f'accept-{n}'))
    return last is False
