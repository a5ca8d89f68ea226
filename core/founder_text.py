"""Founder text at the boundary: one place that makes typed or pasted text safe to keep, or says why not.

Text is kept verbatim except for what no database or page should hold: NUL and other control characters
(newline and tab stay). Text that cannot be stored (an unpaired surrogate from a broken paste) or that is
too long is refused with a message that says what to do, instead of a database error or a misleading one.
"""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidInput

IDEA_MAX = 2000
ANSWER_MAX = 4000
TEXT_MAX = 20_000  # any other free text (a change request, a decision's note)
_CONTROL = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')


def founder_text(value: object, *, what: str = 'This text', limit: int = TEXT_MAX) -> str:
    """The text as it will be kept (control characters other than newline and tab removed), or InvalidInput."""
    text = '' if value is None else str(value)
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise InvalidInput(
            f'{what} contains characters that could not be read (a broken copy and paste?). '
            'Please type or paste it again.'
        ) from None
    text = _CONTROL.sub('', text.replace('\r\n', '\n').replace('\r', '\n'))
    if len(text) > limit:
        raise InvalidInput(f'{what} is {len(text):,} characters long; please keep it under {limit:,}.')
    return text


def measure(text: str) -> int:
    """Length that counts meaning, not letters: a CJK character says about as much as two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(ch) in 'WF' else 1 for ch in text)
