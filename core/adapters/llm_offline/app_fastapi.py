"""The FastAPI + SQLite version of the offline model's app (the plan's stack says FastAPI).

Smaller than the standard-library app: every feature gets the generic page (a title and details
form whose entries are saved in SQLite), so its acceptance check is the generic one. Founder text
enters the source only as one JSON literal and every value is HTML-escaped when shown.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from core.adapters.llm_offline.app_template import Page
from core.adapters.llm_offline.app_text import app_text

# Pinned so a rebuild installs the same packages (deploy readiness asks for pins too).
FASTAPI_REQUIREMENTS = 'fastapi==0.165.0\nuvicorn==0.55.0\n'
START = 'uvicorn app:app --host 127.0.0.1 --port "$PORT"'
PROCFILE = 'web: uvicorn app:app --host 0.0.0.0 --port $PORT\n'

_SOURCE = '''"""%(title)s: a FastAPI app, data saved in SQLite (data/app.db). Start: uvicorn app:app --port $PORT"""
import html
import json
import os
import sqlite3
import urllib.parse

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

_DATA = json.loads(%(data)r)
APP, TEXT, PAGES = _DATA["app"], _DATA["text"], _DATA["pages"]
DB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "app.db")

app = FastAPI(title=APP["title"])
app.mount("/static", StaticFiles(directory=os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")),
          name="static")


def db():
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    conn = sqlite3.connect(DB)
    conn.execute("CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, page TEXT, title TEXT, details TEXT)")
    return conn


def esc(value):
    return html.escape(str(value or ""))


def layout(title, body):
    nav = "".join('<a href="/%%s">%%s</a>' %% (esc(p["slug"]), esc(p["name"])) for p in PAGES)
    return HTMLResponse(
        '<!doctype html><html lang="%%s"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>%%s · %%s</title><link rel="stylesheet" href="/static/style.css"></head><body>'
        '<header class="top"><a class="brand" href="/">%%s</a><nav>%%s</nav></header>'
        '<main>%%s</main></body></html>'
        %% (esc(APP["lang"]), esc(title), esc(APP["title"]), esc(APP["title"]), nav, body)
    )


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.get("/", response_class=HTMLResponse)
def home():
    cards = "".join('<li><a href="/%%s"><strong>%%s</strong></a><p>%%s</p></li>'
                    %% (esc(p["slug"]), esc(p["name"]), esc(p["description"])) for p in PAGES)
    body = ('<section class="hero"><h1>%%s</h1><p class="lead">%%s</p></section>'
            '<section><h2>%%s</h2><ul class="cards">%%s</ul></section>'
            %% (esc(APP["title"]), esc(APP["tagline"]), esc(TEXT["what_you_can_do"]), cards))
    return layout(TEXT["home"], body)


def page_of(slug):
    return next((p for p in PAGES if p["slug"] == slug), None)


def page_body(page, error=""):
    with db() as conn:
        rows = conn.execute("SELECT title, details FROM entries WHERE page = ? ORDER BY id DESC",
                            (page["slug"],)).fetchall()
    items = "".join("<li><strong>%%s</strong><p>%%s</p></li>" %% (esc(t), esc(d)) for t, d in rows)
    return (
        '<h1>%%s</h1><p class="lead">%%s</p>%%s'
        '<form method="post" action="/%%s" class="card">'
        '<div class="field"><label for="f-title">%%s</label><input id="f-title" name="title" required></div>'
        '<div class="field"><label for="f-details">%%s</label><textarea id="f-details" name="details"></textarea>'
        '</div><button type="submit">%%s</button></form>'
        '<h2>%%s</h2><ul class="entries">%%s</ul>'
        %% (esc(page["name"]), esc(page["description"]), '<p class="error">%%s</p>' %% esc(error) if error else "",
           esc(page["slug"]), esc(TEXT["title"]), esc(TEXT["details"]), esc(TEXT["save"]),
           esc(TEXT["saved_count"] %% len(rows)), items or "<li>%%s</li>" %% esc(TEXT["empty"]))
    )


@app.get("/{slug}", response_class=HTMLResponse)
def show(slug: str):
    page = page_of(slug)
    if page is None:
        return HTMLResponse("Not found", status_code=404)
    return layout(page["name"], page_body(page))


@app.post("/{slug}")
async def save(slug: str, request: Request):
    page = page_of(slug)
    if page is None:
        return HTMLResponse("Not found", status_code=404)
    form = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
    title = (form.get("title") or [""])[0].strip()[:200]
    if not title:
        return HTMLResponse(layout(page["name"], page_body(page, TEXT["need_title"])).body, status_code=400)
    with db() as conn:
        conn.execute("INSERT INTO entries (page, title, details) VALUES (?, ?, ?)",
                     (slug, title, (form.get("details") or [""])[0][:2000]))
    return RedirectResponse("/%%s?saved=1" %% slug, status_code=303)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
'''


def render_fastapi_app(*, title: str, tagline: str, pages: list[Page], lang: str = 'en') -> str:
    """app.py for FastAPI: home page naming every feature, one generic page per feature, SQLite storage."""
    text = app_text(lang)
    keys = ('home', 'what_you_can_do', 'title', 'details', 'save', 'saved_count', 'empty', 'need_title')
    data = {
        'app': {'title': title, 'tagline': tagline, 'lang': lang},
        'text': {k: text[k] for k in keys},
        'pages': [asdict(p) for p in pages],
    }
    return _SOURCE % {'title': title.replace('"', "'").replace('\\', '/'), 'data': json.dumps(data, ensure_ascii=False)}
