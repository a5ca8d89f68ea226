"""Honest completion (AG-7): before READY the running app must answer, and its home page must show every
feature of the brief's MVP scope by name (the prompt tells the agent so)."""

from __future__ import annotations

import asyncio
import html
import re
import urllib.error
import urllib.request

FETCH_TIMEOUT_S = 10
_TAGS = re.compile(r'<[^>]+>')


async def home_page_problem(url: str, features: list[str]) -> str | None:
    """What is wrong with the app at `url` (for the agent to fix), or None when it passes."""
    try:
        status, body = await asyncio.to_thread(_fetch, url)
    except (OSError, urllib.error.URLError) as error:
        return f'The app does not answer at its home page: {type(error).__name__}: {error}'
    if status >= 400:
        return f'The app answers its home page with HTTP {status}.'
    text = ' '.join(html.unescape(_TAGS.sub(' ', body)).split()).casefold()
    missing = [name for name in features if ' '.join(name.split()).casefold() not in text]
    if missing:
        return 'The home page does not show these features of the brief by name: ' + ', '.join(missing) + '.'
    return None


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310 - the sandboxed app
            return response.status, response.read(2_000_000).decode('utf-8', 'replace')
    except urllib.error.HTTPError as error:
        return error.code, ''
