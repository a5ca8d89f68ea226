"""How a preview's URLs move under the founder's capability prefix (`/preview/{job}/t/{token}/`).

Most generated apps serve from `/`: the absolute links of their HTML and CSS are rewritten to the prefix,
except those the app already wrote under it (NiceGUI and others honour the `X-Forwarded-Prefix` header the
proxy sends).
A Vite dev server serves from `PREVIEW_BASE` (core/builds/devserver.py) and writes that base into every
module URL, its hot-reload socket's path and `import.meta.env.BASE_URL`; replacing that one exact string in
its HTML, CSS and JavaScript (and in the socket's messages) moves the whole app, with no parsing of code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

ABSOLUTE_REF = re.compile(rb"""((?:href|src|action)\s*=\s*["'])/(?!/)""", re.IGNORECASE)
CSS_URL = re.compile(rb"""(url\(\s*["']?)/(?!/)""", re.IGNORECASE)


def base_path(upstream: str) -> str:
    """The path the app serves from, with its trailing slash ('/' for an app at the root)."""
    path = urlsplit(upstream).path
    return path.rstrip('/') + '/' if path.strip('/') else '/'


def upstream_url(upstream: str, path: str) -> str:
    """The app's URL for a path the browser asked for under the prefix."""
    return f'{upstream.rstrip("/")}/{path}'


@dataclass(frozen=True)
class Rebase:
    prefix: str  # '/preview/{job}/t/{token}/'
    base: str = '/'

    @property
    def based(self) -> bool:
        return self.base != '/'

    def rewrites(self, content_type: str) -> bool:
        """Whether a body of this type is read whole and rewritten (everything else streams untouched)."""
        kind = content_type.lower()
        return 'text/html' in kind or 'text/css' in kind or (self.based and 'javascript' in kind)

    def body(self, data: bytes, content_type: str) -> bytes:
        if self.based:
            return data.replace(self.base.encode(), self.prefix.encode())
        prefix = self.prefix.encode()
        rest = prefix[1:]

        def moved(match: re.Match[bytes]) -> bytes:  # a link the app already wrote under the prefix stays
            return match.group(0) if data.startswith(rest, match.end()) else match.group(1) + prefix

        if 'text/html' in content_type.lower():
            data = ABSOLUTE_REF.sub(moved, data)
        return CSS_URL.sub(moved, data)

    def location(self, target: str) -> str:
        """A redirect's target: a path of the app becomes the same path under the prefix."""
        if self.based and target.startswith(self.base):
            return self.prefix + target[len(self.base) :]
        if target.startswith('/') and not target.startswith('//'):
            return self.prefix + target.lstrip('/')
        return target

    def to_browser(self, message: str) -> str:
        """A hot-reload message from the app's dev server, with its paths under the prefix."""
        return message.replace(self.base, self.prefix) if self.based else message

    def to_app(self, message: str) -> str:
        """A message from the page to the dev server, with the prefix back to the app's base."""
        return message.replace(self.prefix, self.base) if self.based else message
