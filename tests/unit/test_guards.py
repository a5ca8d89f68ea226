"""AG-4 guards: the cap, the repetition stop, and cutting long results in the middle."""

from __future__ import annotations

from core.agent.guards import cap_reached, fingerprint, remember, repetition, truncate_middle


def test_fingerprint_ignores_argument_order_but_not_values() -> None:
    assert fingerprint('bash', {'command': 'ls', 'timeout': 5}) == fingerprint('bash', {'timeout': 5, 'command': 'ls'})
    assert fingerprint('bash', {'command': 'ls'}) != fingerprint('bash', {'command': 'ls -a'})
    assert fingerprint('bash', {'command': 'ls'}) != fingerprint('grep', {'command': 'ls'})


def test_cap_stops_at_the_limit_with_a_founder_readable_reason() -> None:
    assert cap_reached(9, 10) is None
    reason = cap_reached(10, 10)
    assert reason is not None and '10 steps' in reason


def test_third_identical_call_within_ten_is_stopped() -> None:
    recent: list[str] = []
    call = fingerprint('read_file', {'path': 'app.py'})
    for _ in range(2):
        assert repetition(recent, call) is None
        remember(recent, call)
    reason = repetition(recent, call)
    assert reason is not None and 'repeating' in reason


def test_identical_calls_further_apart_than_ten_are_allowed() -> None:
    recent: list[str] = []
    call = fingerprint('bash', {'command': 'python3 -m py_compile app.py'})
    remember(recent, call)
    for i in range(9):
        remember(recent, fingerprint('write_file', {'path': f'f{i}.py'}))
    remember(recent, call)  # the first one has left the window
    assert repetition(recent, call) is None
    assert len(recent) == 10


def test_short_text_is_not_touched() -> None:
    assert truncate_middle('a\nb\nc', max_tokens=10) == 'a\nb\nc'


def test_long_text_keeps_head_and_tail_with_a_marker() -> None:
    lines = [f'line {i:04d}' for i in range(2000)]
    cut = truncate_middle('\n'.join(lines), max_tokens=1000)
    kept = cut.splitlines()
    assert kept[0] == 'line 0000' and kept[-1] == 'line 1999'
    marker = next(line for line in kept if line.startswith('['))
    omitted = int(marker.strip('[]').split()[0])
    assert marker == f'[{omitted} lines omitted]'
    assert len(kept) - 1 + omitted == 2000
    assert len(cut) <= 1000 * 4 + len(marker) + 1


def test_one_enormous_line_is_cut_by_characters() -> None:
    cut = truncate_middle('x' * 50_000, max_tokens=100)
    assert '[49600 characters omitted]' in cut
    assert cut.startswith('x' * 200) and cut.endswith('x' * 200)
