"""How a preview's URLs move under the founder's capability prefix (ui/preview_rebase.py)."""

from __future__ import annotations

from core.builds.devserver import PREVIEW_BASE
from ui.preview_rebase import Rebase, base_path, upstream_url

PREFIX = '/preview/j/t/tok/'


def test_an_app_at_the_root_has_its_absolute_html_and_css_links_rewritten_and_its_scripts_streamed() -> None:
    rebase = Rebase(PREFIX, base_path('http://127.0.0.1:5000'))
    html = b'<a href="/gear">x</a><a href="//cdn.example/x">y</a><form action="/save">'
    assert rebase.body(html, 'text/html; charset=utf-8') == (
        b'<a href="/preview/j/t/tok/gear">x</a><a href="//cdn.example/x">y</a><form action="/preview/j/t/tok/save">'
    )
    assert (
        rebase.body(b'a { background: url("/bg.png") }', 'text/css')
        == b'a { background: url("/preview/j/t/tok/bg.png") }'
    )
    assert not rebase.rewrites('text/javascript') and rebase.rewrites('text/html')
    assert rebase.location('/next?a=1') == '/preview/j/t/tok/next?a=1'
    assert rebase.location('https://example.com/') == 'https://example.com/'


def test_a_vite_dev_server_has_its_base_replaced_everywhere_and_nothing_else_touched() -> None:
    upstream = f'http://127.0.0.1:5173{PREVIEW_BASE}'
    rebase = Rebase(PREFIX, base_path(upstream))
    assert rebase.base == PREVIEW_BASE and rebase.rewrites('text/javascript')
    module = f'import App from "{PREVIEW_BASE}src/App.jsx"; fetch("/api/slots")'.encode()
    assert (
        rebase.body(module, 'text/javascript') == b'import App from "/preview/j/t/tok/src/App.jsx"; fetch("/api/slots")'
    )
    assert rebase.body(f'<a href="{PREVIEW_BASE}gear">'.encode(), 'text/html') == b'<a href="/preview/j/t/tok/gear">'
    assert rebase.location(f'{PREVIEW_BASE}gear') == '/preview/j/t/tok/gear'
    message = f'{{"type":"update","updates":[{{"path":"{PREVIEW_BASE}src/style.css"}}]}}'
    assert rebase.to_app(rebase.to_browser(message)) == message and PREFIX in rebase.to_browser(message)
    assert upstream_url(upstream, 'src/main.jsx') == f'http://127.0.0.1:5173{PREVIEW_BASE}src/main.jsx'
