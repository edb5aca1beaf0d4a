"""The alias history file: appended, never rewritten, read back exactly, bad lines reported."""

from __future__ import annotations

import json
from pathlib import Path

from daybook.core.snapshot import AliasEvent
from daybook.store.history import append_history, format_event, read_history, to_second

E1 = AliasEvent(to_second(1_764_000_000_123), "a", "champion", None, 1, "baseline")
E2 = AliasEvent(1_764_000_360_000, "a", "champion", 1, 2, "moved")
E3 = AliasEvent(1_764_000_360_000, "b|x", "prod\n", 2, None, "removed")


def test_events_read_back_exactly_as_written(tmp_path: Path) -> None:
    path = tmp_path / "history" / "aliases.jsonl"
    append_history(path, [E1])
    append_history(path, [E2, E3])
    events, problems = read_history(path, "history/aliases.jsonl")
    assert events == (E1, E2, E3)
    assert problems == ()
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {
        "observed_at": "2025-11-24T16:00:00Z",
        "model": "a",
        "alias": "champion",
        "from": None,
        "to": 1,
        "event": "baseline",
    }


def test_appending_never_rewrites_earlier_lines(tmp_path: Path) -> None:
    path = tmp_path / "aliases.jsonl"
    append_history(path, [E1])
    before = path.read_bytes()
    append_history(path, [E2])
    assert path.read_bytes().startswith(before)
    append_history(path, [])
    assert path.read_bytes() == before + (format_event(E2) + "\n").encode()


def test_a_last_line_without_newline_gets_one_before_the_append(tmp_path: Path) -> None:
    path = tmp_path / "aliases.jsonl"
    path.write_text(format_event(E1))  # an editor dropped the final newline
    append_history(path, [E2])
    events, problems = read_history(path, "aliases.jsonl")
    assert events == (E1, E2) and problems == ()


def test_bad_lines_are_skipped_and_reported_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "aliases.jsonl"
    lines = [
        format_event(E1),
        "not json",
        '{"observed_at": "yesterday", "model": "a", "alias": "x", "from": 1, "to": 2, '
        '"event": "moved"}',
        '{"observed_at": "2025-11-24T16:00:00Z", "model": "a", "alias": "x"}',
        "",
        format_event(E2),
        '{"observed_at": "2025-11-24T16:00:00Z", "model": "a", "alias": "x", "from": "1", '
        '"to": 2, "event": "moved"}',
    ]
    path.write_text("\n".join(lines) + "\n")
    events, problems = read_history(path, "history/aliases.jsonl")
    assert events == (E1, E2)
    assert [(p.line, p.level) for p in problems] == [
        (2, "error"),
        (3, "error"),
        (4, "error"),
        (7, "error"),
    ]
    assert str(problems[0]).startswith("history/aliases.jsonl:2: not a JSON object")
    assert "missing from, to, event" in problems[2].message


def test_a_missing_file_is_an_empty_history(tmp_path: Path) -> None:
    assert read_history(tmp_path / "nope.jsonl", "nope.jsonl") == ((), ())
