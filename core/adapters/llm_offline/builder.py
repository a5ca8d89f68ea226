"""The offline model's build brain: a fixed, deterministic build script shaped by the brief.

It keeps no state of its own. Every call re-reads the conversation: each of its tool calls carries
the script step in its id (`toolu_07_pages0-app`), the tool results say which steps failed, and
`script()` yields the steps in order, choosing a different approach after a failure. The next
step is the first one not done yet; when none is left, the turn ends with a summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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

MAX_PAGES = 8
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
    change: dict[str, Any] | None = None
    new_page: Page | None = None
    phases: list[str] = field(default_factory=list)

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
    taken: set[str] = set()
    pages: list[Page] = []
    for i, feature in enumerate(f for f in brief.get('core_features') or [] if isinstance(f, dict)):
        name = clean(feature.get('name'), 60)
        if name and len(pages) < MAX_PAGES:
            pages.append(Page(slugify(name, taken, f'page-{i + 1}'), name, clean(feature.get('description'), 300)))
    plan = Plan(
        title=title,
        tagline=clean(brief.get('value_proposition') or brief.get('problem') or title, 300),
        problem=clean(brief.get('problem'), 400),
        audience=clean(brief.get('target_users'), 200),
        pages=pages,
        change=spec.get('change_request') or None,
    )
    if plan.change:
        name = clean(plan.change.get('summary') or 'Your change', 60)
        details = '; '.join(clean(c, 200) for c in plan.change.get('changes') or []) or name
        plan.new_page = Page(slugify(name, taken, 'new-page'), name, clean(details, 300))
        plan.phases = ['Understand the change', 'Make the change', 'Check and launch']
    else:
        plan.phases = ['Plan the app', *[_group_phase(g) for g in page_groups(pages)], 'Styling', 'Check and launch']
    return plan


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


def _group_phase(group: list[Page]) -> str:
    if not group:
        return 'Home page'
    names = [p.name if len(p.name) <= 28 else p.name[:27].rstrip() + '…' for p in group]
    joined = names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]
    return f'Pages for {joined}'[:80]


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
    """The first build: plan → pages → styling → check → screenshot → docs."""
    phases = plan.phases
    yield _phase('plan-start', 'start', phases[0], plan=phases)
    yield _say('plan-say', f"I'm setting up the project structure for {_noun(plan.title)}.")
    yield _write('plan-readme', 'README.md', render_readme(title=plan.title, tagline=plan.tagline, pages=plan.pages))
    yield _write('plan-requirements', 'requirements.txt', REQUIREMENTS)
    yield _write('plan-env', '.env.example', ENV_EXAMPLE)
    if scenario in {'heal', 'escalate'}:
        yield from _sharing_package(plan, results, tries=1 if scenario == 'heal' else 3, decision=decision)
    yield _phase('plan-done', 'complete', phases[0])
    groups = page_groups(plan.pages)
    for g, group in enumerate(groups):
        yield _phase(f'pages{g}-start', 'start', phases[1 + g])
        yield _say(f'pages{g}-say', _pages_sentence(plan, group))
        so_far = [p for grp in groups[: g + 1] for p in grp]
        if g == 0:
            yield _write('pages0-app', 'app.py', _app(plan, so_far))
            if results.get('pages0-app') is False:
                yield _say('pages0-retry-say', "Saving that didn't work, so I'm trying again in a simpler form.")
                yield _write('pages0-retry', 'app.py', _app(plan, so_far, simple=True))
        else:
            yield _edit(f'pages{g}-edit', 'app.py', PAGES_MARKER, ''.join(page_entry(p) for p in group) + PAGES_MARKER)
            if results.get(f'pages{g}-edit') is False:
                yield _write(f'pages{g}-rewrite', 'app.py', _app(plan, so_far))
        yield _phase(f'pages{g}-done', 'complete', phases[1 + g])
    yield _phase('style-start', 'start', 'Styling')
    yield _say('style-say', "I'm giving your app a clean, friendly look that also works on a phone.")
    yield _write('style-css', 'static/style.css', render_css(plan.title))
    yield _phase('style-done', 'complete', 'Styling')
    yield from _check_and_launch(plan, results)


def _sharing_package(plan: Plan, results: dict[str, bool], *, tries: int, decision: str) -> Iterator[Step]:
    """A real failure to heal from: a QR-code package for sharing pages, downloaded from a host the isolated
    workspace cannot reach. `tries` downloads are attempted (the same failure each time) before the fallback;
    with three, the platform asks the founder first, and their decision picks the way on."""
    yield _say('share-say', "I'm adding a QR code to each page so it can be shared from a phone; that needs a package.")
    for n in range(1, tries + 1):
        yield Step(f'share-fetch{n}', 'bash', {'command': SHARE_FETCH.format(variant=SHARE_VARIANTS[n - 1])})
        if results.get(f'share-fetch{n}'):
            return
    if decision.startswith('Skip'):
        yield _say(
            'share-skip-say', "As you decided, I'm leaving the QR codes out of this version and finishing the rest."
        )
        return
    yield _say('share-heal-say', "The package can't be downloaded in the workspace, so I'm making the sharing links "
               "with Python's own tools instead.")  # fmt: skip
    yield _write('share-stdlib', 'share.py', SHARE_MODULE)


def change_script(plan: Plan, results: dict[str, bool]) -> Iterator[Step]:
    """An iteration: read the app, add the requested page with an exact edit, check, show, document."""
    assert plan.new_page is not None
    phases, page = plan.phases, plan.new_page
    yield _phase('it-start', 'start', phases[0], plan=phases)
    yield _say('it-say', f"I'm reading your app to see where “{page.name}” fits best.")
    yield Step('it-read', 'read_file', {'path': 'app.py'})
    yield _phase('it-read-done', 'complete', phases[0])
    yield _phase('it-make', 'start', phases[1])
    yield _say('it-make-say', f"I'm adding “{page.name}” as a new page, as you asked.")
    if results.get('it-read') is False:
        yield _say('it-rebuild-say', "I couldn't find the app, so I'm rebuilding it with your change included.")
        yield _write('it-rebuild', 'app.py', _app(plan, plan.all_pages))
        yield _write('it-rebuild-css', 'static/style.css', render_css(plan.title))
    else:
        yield _edit('it-edit', 'app.py', PAGES_MARKER, page_entry(page) + PAGES_MARKER)
        if results.get('it-edit') is False:
            yield _say(
                'it-edit-retry-say', "The app's layout wasn't what I expected, so I'm rewriting it with the change."
            )
            yield _write('it-rewrite', 'app.py', _app(plan, plan.all_pages))
    yield _phase('it-make-done', 'complete', phases[1])
    yield from _check_and_launch(plan, results)


def _check_and_launch(plan: Plan, results: dict[str, bool]) -> Iterator[Step]:
    yield _phase('check-start', 'start', 'Check and launch')
    yield _say('check-say', "I'm checking that everything works before I show you.")
    yield Step('check-compile', 'bash', {'command': COMPILE})
    if results.get('check-compile') is False:
        yield _say('check-fix-say', "I found a mistake in the code, so I'm rewriting it in a simpler way.")
        yield _write('check-rewrite', 'app.py', _app(plan, plan.all_pages, simple=True))
        yield Step('check-recompile', 'bash', {'command': f'{COMPILE} && echo ok'})
        if results.get('check-recompile') is False:
            yield _say(
                'check-giveup-say', "The check still complains; I'll note it and keep going so you can try the app."
            )
    yield Step('check-shot', 'take_screenshot', {})
    if results.get('check-shot') is False:
        yield _say(
            'check-shot-say',
            "I couldn't take a picture of the app just yet; I'll carry on and you'll see it in "
            'the preview when the build is ready.',
        )
    else:
        yield _say('check-shot-ok', 'Here is your app running: every feature has its own page.')
    for section, content in _docs(plan).items():
        yield Step(f'doc-{section}', 'document', {'section': section, 'content': content})
    yield _phase('check-done', 'complete', 'Check and launch')


# ── pieces ────────────────────────────────────────────────────────────────────────────────────


def _app(plan: Plan, pages: list[Page], *, simple: bool = False) -> str:
    return render_app(
        title=plan.title, tagline=plan.tagline, problem=plan.problem, audience=plan.audience, pages=pages, simple=simple
    )


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


def _names(pages: list[Page]) -> str:
    names = [f'“{p.name}”' for p in pages]
    return names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]


def _pages_sentence(plan: Plan, group: list[Page]) -> str:
    if not group:
        return "I'm building the home page that explains your idea."
    if len(group) == 1:
        return f"I'm building the {_names(group)} page, with a form that saves entries and a list of them."
    return f"I'm building the {_names(group)} pages, each with a form that saves entries and a list of them."


def _docs(plan: Plan) -> dict[str, str]:
    pages = plan.all_pages
    feature_lines = (
        '\n'.join(
            f'- **{p.name}**: {p.description or "its own page"}. Fill in the form and press Save; everything saved '
            'is listed below it.'
            for p in pages
        )
        or '- A home page that explains the idea.'
    )
    who = f' It is made for {plan.audience}.' if plan.audience else ''
    problem = f'\n\nThe problem it tackles: {plan.problem}' if plan.problem else ''
    first = pages[0].name if pages else 'Home'
    change = f'\n\nLatest change: {plan.new_page.name}.' if plan.new_page else ''
    return {
        'overview': f'**{plan.title}**: {plan.tagline.rstrip(".!")}.{who}{problem}{change}',
        'features': f'Every feature has its own page, reachable from the menu at the top.\n\n{feature_lines}',
        'getting_started': (
            '1. Open the preview of your app.\n'
            f'2. Use the menu at the top to open a page, for example “{first}”.\n'
            '3. Fill in the title and the details, then press Save.\n'
            '4. Your entry appears in the list below the form, and stays there when you come back.'
        ),
        'faq': (
            '**Where is what I type kept?**\nIn the app itself, on the server it runs on. '
            'Nothing is sent elsewhere.\n\n'
            '**Can I change a page or add one?**\nYes: ask for a change and I will build the next version.\n\n'
            '**Is it ready for real customers?**\nIt is a first version to try the idea. Before sharing it widely, '
            'check the deploy-readiness report.'
        ),
    }


def _summary(plan: Plan, results: dict[str, bool]) -> str:
    if plan.new_page:
        return f'I added “{plan.new_page.name}” to {plan.title}, checked the app and updated the documentation.'
    pages = f' and {len(plan.pages)} pages: {_names(plan.pages)}' if plan.pages else ''
    checked = 'checked it' if results.get('check-compile') or results.get('check-recompile') else 'tried to check it'
    return f'{plan.title} is ready: a home page{pages}. Every form saves what you type. I {checked} and wrote the docs.'
