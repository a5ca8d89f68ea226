"""The agent's system prompt (AG-2): how to work, and what to build.

It ends with a machine-readable build spec (JSON between markers) that the offline model parses.
The JSON is ASCII-escaped, so the start marker (which holds non-ASCII brackets) can never occur
inside it, and the last marker in the prompt is always the real one whatever the founder typed.
"""

from __future__ import annotations

import json
from typing import Any

from core.stacks import SANDBOX_STACKS

SPEC_START = '⟦BUILD SPEC⟧'
SPEC_END = '⟦END BUILD SPEC⟧'

_INSTRUCTIONS = """You are the engineer co-founder of a non-technical founder. You build their MVP, on your own, \
inside a private workspace, while they watch a live feed of what you do.

How you work
- Tools: read_file, write_file, edit_file (exact old_text → new_text; it must match exactly once), bash (runs in \
the workspace root), grep, glob, take_screenshot, narrate, document, phase. All paths are relative to the \
workspace root; you cannot reach anything outside it.
- Phases: first call phase(action="start", name=..., plan=[all phase names]) with 4 to 6 short phases in plain \
words (e.g. "Plan the app", "Pages for bookings", "Styling", "Check and launch"). Start and complete each phase \
as you go: the founder sees them move on a board.
- Narrate: before each meaningful step, call narrate with one short first-person sentence for the founder \
("I'm adding the booking page so clients can pick a slot"). Plain words only: never code, file names, paths, \
commands, error messages or technical terms.
- Document: write all four documentation sections with document: overview (what the app is and for whom), \
features (each feature by name and what it does for the user), getting_started (numbered steps a founder can \
follow in the preview, no commands), faq (questions a founder would ask). Same plain-language rule.
- Screenshot: call take_screenshot once the first pages exist, and again after visible changes.
- When a step fails, read the error, change your approach (do not repeat the same call), and carry on. \
Check your code before finishing (for Python: bash "python3 -m py_compile app.py").
- Finish with a short summary of what you built, then end your turn.

What to build
- A small, runnable web app the founder can try at once, focused on the core features below: one page per \
core feature, a home page with the value proposition, a shared navigation, simple forms that really save data.
- The home page names every core feature exactly as the brief does (for example in the navigation): before \
the build is ready the platform starts the app and checks that its home page answers and shows each name.
- Complete every phase you planned before you end your turn; a step that keeps failing is counted, and after \
three failures of the same kind the founder is asked to decide.
- Build with the stack the chosen plan names (its "Stack" line below), one of: {stacks}. With no plan or \
no stack, write a Python standard-library server with no third-party packages and keep data in JSON files \
under data/.
- Packages: the workspace reaches only the package registries (npm and PyPI) through a proxy; pin exact \
versions (requirements.txt with ==, package.json without ^ or ~) and install them yourself with bash \
("python3 -m pip install --user --break-system-packages -r requirements.txt", "npm install") before you try \
the app; the platform installs them again before its checks.
- The platform starts the app by detection, in this order: (1) package.json with a "dev" (or "start") script \
(a Vite dev server gets --port, --host and --base flags: build every link and route from \
import.meta.env.BASE_URL, never from "/"; other servers must read PORT); (2) app.py, main.py or \
server.py that listens on 127.0.0.1 at the port in the PORT environment variable (default 8000), for example \
by calling uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"])) under `if __name__ == "__main__"` \
(NiceGUI: ui.run(host="127.0.0.1", port=int(os.environ["PORT"]), reload=False, show=False)); \
(3) a static index.html. For deployment, a Procfile "web:" line names the production start command.
- The founder's preview runs the app in a sandboxed frame: the browser refuses cookies and localStorage \
there, so keep data on the server (or fall back to memory when storage throws).
- Escape everything you show in HTML. Keep secrets out of the code: read them from environment variables and \
list their names in .env.example with empty values. Include a README.md.""".replace(
    '{stacks}', '; '.join(SANDBOX_STACKS)
)


def build_system_prompt(
    *,
    brief: dict[str, Any],
    qa: list[tuple[str, str]],
    plan: dict[str, Any] | None,
    change_request: dict[str, Any] | None,
    project_title: str,
) -> str:
    """The system prompt for one build: instructions, the founder's context, and the build spec."""
    parts = [_INSTRUCTIONS, f'# The project: {project_title}', _brief_section(brief), _qa_section(qa)]
    if plan:
        parts.append(_plan_section(plan))
    if change_request:
        parts.append(_change_section(change_request))
    parts.append(_spec_block(brief=brief, qa=qa, plan=plan, change_request=change_request, title=project_title))
    return '\n\n'.join(parts)


def _brief_section(brief: dict[str, Any]) -> str:
    features = (
        '\n'.join(f'- {f.get("name", "")}: {f.get("description", "")}' for f in brief.get('core_features') or [])
        or '- (none listed)'
    )
    lines = [
        '## Idea Brief',
        f'Title: {brief.get("title", "")}',
        f'Problem: {brief.get("problem", "")}',
        f'Target users: {brief.get("target_users", "")}',
        f'Value proposition: {brief.get("value_proposition", "")}',
        f'Core features:\n{features}',
        f'Non-goals: {"; ".join(brief.get("non_goals") or []) or "none"}',
        f'Risks: {"; ".join(brief.get("risks") or []) or "none"}',
        f'Success measure: {brief.get("success_measure", "")}',
        f'Constraints: {brief.get("constraints", "")}',
    ]
    return '\n'.join(lines)


def _qa_section(qa: list[tuple[str, str]]) -> str:
    if not qa:
        return '## Interview\n(no interview answers)'
    pairs = '\n\n'.join(f'Q: {question}\nA: {answer}' for question, answer in qa)
    return f"## Interview (the founder's answers, verbatim)\n{pairs}"


def _plan_section(plan: dict[str, Any]) -> str:
    """The plan as `core.builds.context.plan_for_prompt` gives it: title, summary and its details, flat."""
    lines = [f'## Chosen plan: {plan.get("title", "")}', str(plan.get('summary', ''))]
    for key in ('time', 'cost', 'risk', 'stack'):
        if plan.get(key):
            lines.append(f'{key.capitalize()}: {plan[key]}')
    if isinstance(plan.get('accounts'), bool):  # the plan's scope (core/journey/plans.py RULES)
        lines.append('Accounts: ' + ('sign-up and sign-in, one account per person' if plan['accounts']
                                     else 'none: this plan has no sign-in'))  # fmt: skip
    for key in ('tradeoffs', 'phases'):
        if plan.get(key):
            lines.append(f'{key.capitalize()}: ' + '; '.join(str(item) for item in plan[key]))
    return '\n'.join(lines)


def _change_section(change: dict[str, Any]) -> str:
    changes = '\n'.join(f'- {item}' for item in change.get('changes') or [])
    return (
        f'## This is an iteration on {change.get("build_version") or "the current version"}\n'
        'The app already exists in the workspace: read it first, change only what is asked, keep the rest '
        'working, take a new screenshot and update the documentation.\n'
        f'Change request: {change.get("summary", "")}\n{changes}'
    )


def _spec_block(**spec: Any) -> str:
    body = json.dumps(spec, ensure_ascii=True, sort_keys=True, default=str)
    return f'## Build spec (machine-readable)\n{SPEC_START}\n{body}\n{SPEC_END}'


def parse_build_spec(system: str) -> dict[str, Any] | None:
    """The build spec embedded by `build_system_prompt`, or None when the prompt has none."""
    start = system.rfind(SPEC_START)
    if start < 0:
        return None
    try:
        spec, _ = json.JSONDecoder().raw_decode(system, start + len(SPEC_START) + 1)
    except ValueError:
        return None
    return spec if isinstance(spec, dict) else None
