"""The Vite + React version of the offline model's app (the plan's stack says Vite or React).

Every feature gets the generic page (a title and details form); entries are kept in the browser's
localStorage, so no server of its own is needed. index.html carries the home page and navigation as
plain HTML too, so a fetch of the page (the platform's home-page check) sees every feature's name
before React takes over. Links and routing start from Vite's base (`%BASE_URL%`, `import.meta.env.BASE_URL`):
'/' once deployed, the preview's own path while the founder tries it. Founder text enters the source only
as one JSON literal; React escapes it.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict

from core.adapters.llm_offline.app_template import Page
from core.adapters.llm_offline.app_text import app_text

# Pinned (exact versions) so a rebuild installs the same packages; deploy readiness asks for pins too.
PACKAGES = {'react': '19.3.1', 'react-dom': '19.3.1'}
DEV_PACKAGES = {'vite': '7.3.8'}
MAIN_FILE = 'src/App.jsx'
START = 'npm run dev'

VITE_CONFIG = """import { defineConfig } from 'vite'

// JSX through esbuild (no Babel plugin to install); any host may reach the dev server because the
// platform's preview proxy forwards to it.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  server: { allowedHosts: true },
  preview: { allowedHosts: true },
})
"""

MAIN_JSX = """import { createRoot } from 'react-dom/client'
import App from './App.jsx'
import './style.css'

createRoot(document.getElementById('root')).render(<App />)
"""

_APP = """// %(title)s: the pages, routed by the address; entries saved in this browser (localStorage).
import { useState } from 'react'

const DATA = JSON.parse(%(data)s)
const { app: APP, text: TEXT, pages: PAGES } = DATA
// Where the app lives: '/' once deployed, the preview's own path while the founder tries it.
const BASE = import.meta.env.BASE_URL

function load(slug) {
  try { return JSON.parse(localStorage.getItem('entries:' + slug) || '[]') } catch { return [] }
}

function Layout({ children }) {
  return (
    <>
      <header className="top">
        <a className="brand" href={BASE}>{APP.title}</a>
        <nav>{PAGES.map((p) => <a key={p.slug} href={BASE + p.slug}>{p.name}</a>)}</nav>
      </header>
      <main>{children}</main>
    </>
  )
}

function Home() {
  return (
    <Layout>
      <section className="hero"><h1>{APP.title}</h1><p className="lead">{APP.tagline}</p></section>
      <section>
        <h2>{TEXT.what_you_can_do}</h2>
        <ul className="cards">
          {PAGES.map((p) => <li key={p.slug}><a href={BASE + p.slug}><strong>{p.name}</strong></a><p>{p.description}</p></li>)}
        </ul>
      </section>
    </Layout>
  )
}

function FeaturePage({ page }) {
  const [entries, setEntries] = useState(() => load(page.slug))
  const [error, setError] = useState('')
  function save(event) {
    event.preventDefault()
    const form = new FormData(event.target)
    const title = String(form.get('title') || '').trim().slice(0, 200)
    if (!title) { setError(TEXT.need_title); return }
    const next = [{ title, details: String(form.get('details') || '').slice(0, 2000) }, ...entries]
    localStorage.setItem('entries:' + page.slug, JSON.stringify(next))
    setEntries(next)
    setError('')
    event.target.reset()
  }
  return (
    <Layout>
      <h1>{page.name}</h1>
      {page.description && <p className="lead">{page.description}</p>}
      {error && <p className="error">{error}</p>}
      <form className="card" onSubmit={save}>
        <div className="field"><label htmlFor="f-title">{TEXT.title}</label><input id="f-title" name="title" required /></div>
        <div className="field"><label htmlFor="f-details">{TEXT.details}</label><textarea id="f-details" name="details" /></div>
        <button type="submit">{TEXT.save}</button>
      </form>
      <h2>{TEXT.saved_count.replace('%%d', String(entries.length))}</h2>
      <ul className="entries">
        {entries.length ? entries.map((e, i) => <li key={i}><strong>{e.title}</strong><p>{e.details}</p></li>) : <li>{TEXT.empty}</li>}
      </ul>
    </Layout>
  )
}

export default function App() {
  const path = window.location.pathname
  const slug = (path.startsWith(BASE) ? path.slice(BASE.length) : path).replace(/^\\/+|\\/+$/g, '')
  const page = PAGES.find((p) => p.slug === slug)
  if (slug && !page) return <Layout><h1>Not found</h1></Layout>
  return page ? <FeaturePage page={page} /> : <Home />
}
"""

_INDEX = """<!doctype html>
<html lang="%(lang)s">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>%(title)s</title>
  </head>
  <body>
    <div id="root"><header class="top"><a class="brand" href="%%BASE_URL%%">%(title)s</a><nav>%(nav)s</nav></header></div>
    <script type="module" src="/src/main.jsx"></script>
  </body>
</html>
"""


def _data(*, title: str, tagline: str, pages: list[Page], lang: str) -> str:
    text = app_text(lang)
    keys = ('what_you_can_do', 'title', 'details', 'save', 'saved_count', 'empty', 'need_title')
    return json.dumps(
        {'app': {'title': title, 'tagline': tagline}, 'text': {k: text[k] for k in keys},
         'pages': [asdict(p) for p in pages]},
        ensure_ascii=True,
    )  # fmt: skip


def render_vite_app(*, title: str, tagline: str, pages: list[Page], lang: str = 'en') -> str:
    """src/App.jsx: home page naming every feature, one generic page per feature."""
    data = _data(title=title, tagline=tagline, pages=pages, lang=lang)
    # The JSON goes in as a JS string literal (json.dumps of the JSON), so no founder text is code.
    return _APP % {'title': title.replace('\n', ' ').replace('*/', '* /'), 'data': json.dumps(data)}


def render_index(*, title: str, pages: list[Page], lang: str = 'en') -> str:
    """index.html: the React mount point, with the navigation as plain HTML until React renders."""
    nav = ''.join(f'<a href="%BASE_URL%{html.escape(p.slug)}">{html.escape(p.name)}</a>' for p in pages)
    return _INDEX % {'lang': html.escape(lang), 'title': html.escape(title), 'nav': nav}


def render_package_json(title: str) -> str:
    """package.json with exact versions: `dev` runs the Vite dev server (hot reload), `build`/`start` a build."""
    package = {
        'name': 'app',
        'private': True,
        'version': '0.1.0',
        'description': title,
        'type': 'module',
        'scripts': {'dev': 'vite', 'build': 'vite build', 'start': 'vite preview --host 0.0.0.0 --port $PORT'},
        'dependencies': PACKAGES,
        'devDependencies': DEV_PACKAGES,
    }
    return json.dumps(package, indent=2, ensure_ascii=False) + '\n'
