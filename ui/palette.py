"""The app's colours and dark mode, shared by the framed pages (`ui.theme`) and the sign-in pages (`ui.auth`)."""

from __future__ import annotations

from nicegui import app, ui

PRIMARY = '#4f46e5'  # indigo-600: white text on it passes WCAG AA
# A contrast floor (WCAG AA, checked by axe-core in tests/e2e/test_layout_a11y.py) for the text colours the pages
# use: the light greys and greens are too pale on white, the mid greys too dark on a dark card. Text in the primary
# colour (links, flat and outline buttons) gets a lighter indigo on a dark page (the negative red and the beta
# purple get lighter tints too), while filled buttons keep the indigo-600 background under their white text.
# Quasar's `.text-primary` is an !important rule in NiceGUI's `quasar_importants` layer: only a more specific rule
# of that same layer overrides it.
CSS = """
@layer overrides {
  .nicegui-link { color: var(--q-primary); }
  body.body--light .text-slate-400 { color: #64748b; }
  body.body--light .text-emerald-600, body.body--light .text-green-600 { color: #047857; }
  body.body--light .text-amber-600 { color: #b45309; }
  body.body--dark .text-slate-500, body.body--dark .text-slate-600 { color: #94a3b8; }
  body.body--dark .text-slate-700, body.body--dark .text-slate-800 { color: #e2e8f0; }
  body.body--dark .text-emerald-600, body.body--dark .text-green-600 { color: #34d399; }
  body.body--dark .text-amber-600, body.body--dark .text-amber-700 { color: #fbbf24; }
  body.body--dark .nicegui-link { color: #a5b4fc; }
}
@layer quasar_importants {
  body.body--dark .text-primary { color: #a5b4fc !important; }
  body.body--dark .text-negative { color: #fca5a5 !important; }
  body.body--dark .text-purple { color: #d8b4fe !important; }
}
"""


def apply() -> ui.dark_mode:
    """Colours and the founder's dark-mode choice on this page; returns the switch to toggle it."""
    ui.colors(primary=PRIMARY, dark='#1e293b', dark_page='#0f172a')  # slate-800 cards on a slate-900 page
    ui.add_css(CSS)
    ui.query('body').classes('bg-slate-50 text-slate-900 dark:bg-slate-900 dark:text-slate-100')
    return ui.dark_mode(app.storage.user.get('dark_mode', False))
