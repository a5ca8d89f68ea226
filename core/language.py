"""The language of a founder's text, told from its script (no model, no dictionary).

Used wherever generated text must follow the founder's language: the offline model's brief, plans,
narration, docs and app, and the length rules that must count meaning rather than Latin letters.
"""

from __future__ import annotations

import unicodedata

JAPANESE, ENGLISH, OTHER = 'ja', 'en', 'other'


def _is_kana(ch: str) -> bool:
    return '\u3040' <= ch <= '\u30ff' or '\uff66' <= ch <= '\uff9f'


def _is_cjk(ch: str) -> bool:
    return '\u4e00' <= ch <= '\u9fff' or '\u3400' <= ch <= '\u4dbf' or '\uf900' <= ch <= '\ufaff'


def is_wide(ch: str) -> bool:
    """A character that carries a word's worth of meaning on its own (kana, kanji, hangul)."""
    return _is_kana(ch) or _is_cjk(ch) or '\uac00' <= ch <= '\ud7af'


def detect(*texts: str) -> str:
    """'ja' for Japanese (any kana, or mostly kanji), 'en' for Latin-script text that reads as English,
    'other' for anything else (accented Latin text, Chinese without kana, Korean…)."""
    letters = [ch for text in texts for ch in str(text or '') if ch.isalpha()]
    if not letters:
        return ENGLISH
    if any(_is_kana(ch) for ch in letters):
        return JAPANESE
    if any(is_wide(ch) for ch in letters):
        return OTHER
    accented = sum(1 for ch in letters if not ch.isascii() and unicodedata.category(ch).startswith('L'))
    return OTHER if accented / len(letters) > 0.01 else ENGLISH
