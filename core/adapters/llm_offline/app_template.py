"""The files of the app the offline model writes: app.py, its stylesheet, README and settings.

Founder text enters the generated Python only as `repr()` literals (any quote, newline or script
tag is data, never code) and the app HTML-escapes every value it renders, entries included.
Everything here is a pure function of its inputs, so the same brief gives byte-identical files.
The app's source is app_source.py; its fixed text, in the idea's language, app_text.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass

from core.adapters.llm_offline.app_source import APP_SOURCE
from core.adapters.llm_offline.app_text import app_text

PAGES_MARKER = '    # -- new pages go above this line --\n'
RESERVED_SLUGS = {'', 'static', 'healthz', 'data', 'index', 'uploads'}


@dataclass(frozen=True)
class Page:
    slug: str
    name: str
    description: str
    shape: str = 'generic'


def clean(text: object, limit: int = 600) -> str:
    """Founder text made safe to embed: a str, valid UTF-8, one line, bounded."""
    value = str(text or '').encode('utf-8', 'replace').decode('utf-8')
    return re.sub(r'\s+', ' ', value).strip()[:limit]


def slugify(name: str, taken: set[str], fallback: str) -> str:
    """An ASCII URL path for a page name ("Réponses présent/absent" → "reponses-present-absent"), unique."""
    ascii_name = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode()
    slug = re.sub(r'[^a-z0-9]+', '-', ascii_name.lower()).strip('-')[:40].strip('-') or fallback
    candidate, n = slug, 2
    while candidate in taken or candidate in RESERVED_SLUGS:
        candidate, n = f'{slug}-{n}', n + 1
    taken.add(candidate)
    return candidate


def page_entry(page: Page) -> str:
    """One line of the PAGES list in app.py."""
    return (
        f'    {{"slug": {page.slug!r}, "name": {page.name!r}, "description": {page.description!r}, '
        f'"shape": {page.shape!r}}},\n'
    )


def render_app(
    *,
    title: str,
    tagline: str,
    problem: str,
    audience: str,
    pages: list[Page],
    lang: str = 'en',
    currency: str = 'USD',
    simple: bool = False,
) -> str:
    """app.py: home page, one page per feature shaped for it (app_source.py), shared navigation.

    `simple` writes the same app with its data decoded from one JSON literal (the fallback after a
    failed check: fewer moving parts in the source).
    """
    info = {'title': title, 'tagline': tagline, 'problem': problem, 'audience': audience, 'currency': currency}
    text = app_text(lang)
    if simple:
        data = json.dumps({'app': info, 'text': text, 'pages': [asdict(p) for p in pages]}, ensure_ascii=False)
        head = f'_DATA = json.loads({data!r})\nAPP = _DATA["app"]\nTEXT = _DATA["text"]\nPAGES = _DATA["pages"]\n'
    else:
        app_lines = ''.join(f'    {key!r}: {value!r},\n' for key, value in info.items())
        text_lines = ''.join(f'    {key!r}: {value!r},\n' for key, value in text.items())
        head = (
            f'APP = {{\n{app_lines}}}\n\nTEXT = {{\n{text_lines}}}\n\nPAGES = [\n'
            + ''.join(page_entry(p) for p in pages)
            + PAGES_MARKER
            + ']\n'
        )
    return APP_SOURCE.replace('@@DATA@@', head, 1)


def render_css(title: str) -> str:
    """static/style.css with an accent colour of its own (derived from the title, so stable)."""
    hue = int(hashlib.sha256(title.encode()).hexdigest()[:4], 16) % 360
    return _CSS.replace('@@HUE@@', str(hue))


_README = {
    'en': ('Pages', 'Home', 'Run it', 'Then open http://127.0.0.1:8000. Python 3.8+ only, no packages to install. '
           'Entries are saved as JSON files in `data/`, uploaded photos in `data/uploads/`.'),
    'ja': ('ページ', 'ホーム', '起動のしかた', 'そのあと http://127.0.0.1:8000 を開きます。Python 3.8 以上だけで動き、'
           'インストールするパッケージはありません。入力した内容は `data/` に JSON で、'
           '写真は `data/uploads/` に保存されます。'),
}  # fmt: skip


def render_readme(*, title: str, tagline: str, pages: list[Page], lang: str = 'en') -> str:
    heading, home, run, then = _README.get(lang, _README['en'])
    listed = '\n'.join(f'- **{p.name}** (`/{p.slug}`): {p.description or app_text(lang)["hint_" + p.shape]}'
                       for p in pages)  # fmt: skip
    return (
        f'# {title}\n\n{tagline}\n\n## {heading}\n\n- **{home}** (`/`)\n{listed}\n\n'
        f'## {run}\n\n```\nPORT=8000 python3 app.py\n```\n\n{then}\n'
    )


ENV_EXAMPLE = (
    '# Settings for the app. No secrets are needed yet; put real values in .env, never in the code.\nPORT=8000\n'
)
REQUIREMENTS = '# Python standard library only: nothing to install.\n'

_CSS = """:root { --accent: hsl(@@HUE@@, 55%, 36%); --bg: #f7f7f8; --card: #fff; --line: #e4e4e8; --text: #1d1d1f;
  --muted: #5f5f6b; }
@media (prefers-color-scheme: dark) { :root { --accent: hsl(@@HUE@@, 55%, 36%); --bg: #16161a; --card: #202026;
  --line: #34343c; --text: #ececf1; --muted: #a9a9b6; } }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Hiragino Sans", "Noto Sans JP",
  "Yu Gothic", Meiryo, sans-serif; color: var(--text); background: var(--bg); }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 12px; top: 12px; padding: 8px 12px; background: var(--card); color: var(--text); z-index: 10; }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; padding: 14px 24px;
  background: var(--accent); color: #fff; }
.brand { font-weight: 700; font-size: 1.15rem; }
nav { display: flex; flex-wrap: wrap; gap: 6px; }
nav a { color: #fff; text-decoration: none; padding: 6px 12px; border-radius: 999px; }
nav a:hover, nav a[aria-current] { background: rgba(255, 255, 255, .22); }
.who { display: flex; gap: 10px; align-items: center; margin-left: auto; }
.who form { margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 28px 20px 48px; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 8px; overflow-wrap: anywhere; }
h2 { margin-top: 28px; }
.lead { font-size: 1.15rem; color: var(--muted); }
.hero { padding: 28px 0 12px; }
.muted, .hint { color: var(--muted); }
.hint { margin: -6px 0 0; font-size: .9rem; }
.cards { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
  gap: 14px; }
.card { display: block; height: 100%; padding: 18px; background: var(--card); border-radius: 12px; color: inherit;
  text-decoration: none; border: 1px solid var(--line); }
.card:hover { border-color: var(--accent); }
.card h3 { margin: 0 0 6px; color: var(--accent); }
@media (prefers-color-scheme: dark) { .card h3 { color: var(--text); } }
.panel { display: grid; gap: 12px; padding: 20px; background: var(--card); border: 1px solid var(--line);
  border-radius: 12px; }
.field { display: grid; gap: 4px; margin: 0; padding: 0; border: 0; }
label, legend { font-weight: 600; }
input, textarea, select { font: inherit; color: inherit; background: var(--card); padding: 10px 12px;
  border: 1px solid #8e8e99; border-radius: 8px; max-width: 100%; }
.stars { display: flex; flex-wrap: wrap; gap: 8px 16px; }
.star { display: inline-flex; gap: 6px; align-items: center; }
.star label { font-weight: 400; }
button { justify-self: start; font: inherit; font-weight: 600; padding: 10px 22px; border: 0; border-radius: 8px;
  background: var(--accent); color: #fff; cursor: pointer; }
button.quiet { padding: 6px 12px; background: rgba(255, 255, 255, .2); }
.search { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 16px 0; }
.search .field { flex: 1 1 220px; }
.notice { padding: 8px 12px; background: #e8f6ec; border-radius: 8px; color: #1e6b34; }
.error { padding: 8px 12px; background: #fdecea; border-radius: 8px; color: #8a1c12; }
.summary { font-size: 1.1rem; font-weight: 600; }
.entries, .gallery, .averages { list-style: none; padding: 0; display: grid; gap: 10px; }
.entries li, .averages li { padding: 12px 16px; background: var(--card); border: 1px solid var(--line);
  border-radius: 10px; overflow-wrap: anywhere; }
.entries p { margin: 4px 0 0; color: var(--muted); white-space: pre-wrap; }
.when { margin: 0 0 4px; font-weight: 600; color: var(--accent); }
@media (prefers-color-scheme: dark) { .when { color: var(--text); } }
.amount { float: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.rated { color: #b7791f; letter-spacing: 2px; }
.gallery { grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); }
.gallery figure, .photo { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  overflow: hidden; }
.gallery img { display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: cover; }
.photo img { display: block; max-width: 100%; }
.gallery figcaption { padding: 10px 12px; overflow-wrap: anywhere; }
.gallery figcaption p { margin: 4px 0 0; color: var(--muted); }
.badge, .status { display: inline-block; padding: 2px 10px; border-radius: 999px; background: #fdf3d8; color: #6b4e00;
  font-weight: 600; }
.status-progress { background: #e3eefc; color: #1d4f91; }
.status-done { background: #e8f6ec; color: #1e6b34; }
.empty { color: var(--muted); }
footer { text-align: center; padding: 24px; color: var(--muted); font-size: .9rem; }
@media (max-width: 600px) { h1 { font-size: 1.6rem; } header { padding: 12px 16px; } main { padding: 20px 14px; } }
"""
