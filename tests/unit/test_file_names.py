"""Download names keep the project's title in any script (issue 25, item 3), with an ASCII fallback."""

from __future__ import annotations

from core.journey.markdown import ascii_stem, content_disposition, file_stem


def test_a_japanese_title_keeps_its_words_and_falls_back_to_the_default_in_ascii() -> None:
    assert file_stem('病院の予約を簡単にするアプリ') == '病院の予約を簡単にするアプリ'
    assert ascii_stem('病院の予約を簡単にするアプリ') == 'project'
    header = content_disposition(file_stem('病院の予約'), '-idea-brief.md', fallback=ascii_stem('病院の予約'))
    assert header.startswith('attachment; filename="project-idea-brief.md"; filename*=UTF-8\'\'%E7%97%85')


def test_nothing_a_file_system_or_a_header_could_misread_survives() -> None:
    assert file_stem('Café "Crème" / Brûlée.v2\n') == 'café-crème-brûlée-v2'
    assert ascii_stem('Café "Crème" / Brûlée') == 'cafe-creme-brulee'
    assert file_stem('../..', 'idea') == 'idea'
