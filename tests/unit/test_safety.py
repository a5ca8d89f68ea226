"""AG-5: what the founder reads never shows traces, paths, code, secrets or internal names."""

from __future__ import annotations

import pytest

from core.agent.safety import GENERIC, founder_safe, founder_safe_markdown

SECRETS = [
    'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv',
    'sk-proj-1234567890abcdefghij',
    'AKIAIOSFODNN7EXAMPLE',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
]


@pytest.mark.parametrize('secret', SECRETS)
def test_secret_shaped_strings_never_survive(secret: str) -> None:
    text = founder_safe(f'I saved the key {secret} for the payment page.')
    assert secret not in text
    assert secret[:8] not in text
    assert 'payment page' in text


def test_python_traceback_is_removed_and_the_human_sentence_survives() -> None:
    text = founder_safe(
        'I fixed the login page.\nTraceback (most recent call last):\n'
        '  File "/workspace/app.py", line 3, in <module>\n    main()\nKeyError: \'user\''
    )
    assert text == 'I fixed the login page.'


def test_traceback_on_one_line_is_cut() -> None:
    text = founder_safe('The booking form broke. Traceback (most recent call last): File "x.py", line 2')
    assert text == 'The booking form broke.'


def test_javascript_stack_frames_are_removed() -> None:
    text = founder_safe(
        'The page failed to load.\nTypeError: x is undefined\n    at render (app.js:10:5)\n'
        '    at main (/srv/www/index.js:1:2)'
    )
    assert text == 'The page failed to load.'


def test_file_paths_become_a_neutral_word() -> None:
    text = founder_safe('I updated /workspace/app/login.py, ./static/style.css and C:\\Users\\me\\app.py today.')
    assert '/' not in text and '\\' not in text and '.py' not in text and '.css' not in text
    assert text.startswith('I updated') and text.endswith('today.')


def test_file_names_with_code_extensions_are_hidden() -> None:
    text = founder_safe('I wrote app.py and index.html so the home page shows your tagline.')
    assert 'app.py' not in text and 'index.html' not in text
    assert 'home page shows your tagline' in text


def test_fenced_and_inline_code_is_dropped() -> None:
    text = founder_safe('I added the booking page.\n```python\ndef book():\n    return 1\n```\nRun `python3 app.py`.')
    assert 'def' not in text and 'python3' not in text and 'return' not in text
    assert 'I added the booking page.' in text


@pytest.mark.parametrize(
    'line',
    [
        'def save_booking(request):',
        'import os',
        'from http.server import HTTPServer',
        'const total = items.reduce((a, b) => a + b, 0);',
        '};',
        'SELECT * FROM bookings WHERE id = 3;',
        'x = compute()',
        '$ npm run dev',
    ],
)
def test_lines_that_look_like_code_are_dropped(line: str) -> None:
    assert founder_safe(f'The calendar now shows free slots.\n{line}') == 'The calendar now shows free slots.'


def test_internal_names_and_env_vars_are_removed() -> None:
    text = founder_safe(
        'I used write_file and edit_file in the sandbox (bwrap) after setting ANTHROPIC_API_KEY '
        'for handleSubmit, job 3fa85f64-5717-4562-b3fc-2c963f66afa6.'
    )
    for word in ('write_file', 'edit_file', 'sandbox', 'bwrap', 'ANTHROPIC_API_KEY', 'handleSubmit', '3fa85f64'):
        assert word not in text
    assert text.startswith('I used')


def test_passwords_in_urls_and_bearer_tokens_are_removed() -> None:
    text = founder_safe(
        'The database is postgres://admin:hunter2@db.internal/prod and the header is '
        'Authorization: Bearer abcdef1234567890abcdef; password=hunter2'
    )
    assert 'hunter2' not in text and 'abcdef1234567890' not in text and 'db.internal' not in text


def test_local_addresses_become_the_preview() -> None:
    assert founder_safe('Your app answers at http://127.0.0.1:8000/bookings now.') == (
        'Your app answers at the preview now.'
    )


def test_plain_human_text_is_kept_as_is_in_any_language() -> None:
    for sentence in (
        "I'm setting up the project structure for your dog groomer booking tool.",
        'Réponses présent/absent et covoiturage sont prêts ✓',
        'It costs $5 a month, runs on Node.js and works on an iPhone.',
        '日本語のページを作っています。',
    ):
        assert founder_safe(sentence) == sentence


def test_nothing_human_left_gives_the_generic_sentence() -> None:
    assert founder_safe('```\nrm -rf /\n```') == GENERIC
    assert founder_safe('{\n  "a": 1\n}') == GENERIC
    assert founder_safe('') == GENERIC
    assert founder_safe('/usr/lib/python3.11/site.py', fallback='') == ''


def test_html_and_script_tags_never_reach_the_founder() -> None:
    text = founder_safe('<script>alert(document.cookie)</script> I built the <b>home</b> page')
    assert '<' not in text and 'alert' not in text and 'cookie' not in text
    assert 'I built the home page' in text


def test_whitespace_is_normalised() -> None:
    assert founder_safe('  I   added \n\n the   FAQ.  ') == 'I added the FAQ.'


def test_markdown_keeps_structure_but_drops_technical_parts() -> None:
    text = founder_safe_markdown(
        '# Getting started\n\n1. Open the preview.\n2. Pick **Bookings** in the menu.\n   - fill the form\n\n'
        '```\npython3 app.py\n```\n- Settings live in /etc/app/config.yaml\n    indented_code = True'
    )
    assert text.splitlines()[:5] == [
        '# Getting started',
        '',
        '1. Open the preview.',
        '2. Pick **Bookings** in the menu.',
        '   - fill the form',
    ]
    assert 'python3' not in text and '/etc' not in text and 'config.yaml' not in text and 'indented' not in text
