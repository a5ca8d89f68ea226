"""Founder text at the boundary: control characters dropped, broken text and oversized text refused clearly."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.founder_text import founder_text


def test_text_is_kept_verbatim_but_nul_and_control_characters() -> None:
    typed = "<script>alert('x')</script>\tQuiz — 病院\n'; DROP TABLE projects; --"
    assert founder_text(typed) == typed
    assert founder_text('a\x00b\x07c\x1bd\r\ne\rf') == 'abcd\ne\nf'


def test_an_unpaired_surrogate_is_refused_with_what_to_do() -> None:
    with pytest.raises(InvalidInput, match='could not be read .* type or paste it again'):
        founder_text('broken \ud800 paste', what='Your idea')


def test_oversized_text_says_its_length_and_the_limit() -> None:
    with pytest.raises(InvalidInput, match=r'Your idea is 2,000,000 characters long; please keep it under 2,000\.'):
        founder_text('x' * 2_000_000, what='Your idea', limit=2000)
