"""The alias history file: appended in whole lines, never rewritten, read back exactly, bad lines
reported, an append cut short dropped before the next one."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from daybook.core.errors import DaybookError
from daybook.core.snapshot import AliasEvent, RegisteredModel
from daybook.mkdocs.scaffold import init_site
from daybook.sources.site import load_site
from daybook.store.history import (
    TornLine,
    append_history,
    format_event,
    read_history,
    repair_history,
    to_second,
)
from daybook.store.records import record_aliases

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


def test_an_append_cut_short_is_dropped_before_the_next_append(tmp_path: Path) -> None:
    # A run killed mid-append left half a line: it was never a readable event, so it goes.
    path = tmp_path / "aliases.jsonl"
    path.write_text(format_event(E1) + "\n" + format_event(E2)[:25])
    torn = append_history(path, [E3])
    assert torn == TornLine(2, format_event(E2)[:25])
    assert path.read_text() == format_event(E1) + "\n" + format_event(E3) + "\n"
    assert read_history(path, "aliases.jsonl") == ((E1, E3), ())


def test_repair_keeps_a_whole_last_line_and_drops_only_a_cut_one(tmp_path: Path) -> None:
    path = tmp_path / "aliases.jsonl"
    path.write_text(format_event(E1))  # whole, only its newline is missing: kept
    assert repair_history(path) is None
    assert path.read_text() == format_event(E1) + "\n"
    path.write_text(format_event(E1) + "\n" + '{"observed_at": "2025-11-24T16:0')
    assert repair_history(path) == TornLine(2, '{"observed_at": "2025-11-24T16:0')
    assert path.read_text() == format_event(E1) + "\n"
    assert repair_history(path) is None  # a whole file is left as it is
    assert repair_history(tmp_path / "missing.jsonl") is None


def test_a_torn_line_is_repaired_by_the_next_pull_and_reported(tmp_path: Path) -> None:
    init_site(tmp_path / "site")
    site = load_site(tmp_path / "site")
    history = site.root / "history" / "aliases.jsonl"
    history.parent.mkdir()
    history.write_text(format_event(E1) + "\n" + format_event(E2)[:-3])  # the move, cut short
    model = RegisteredModel("a", "", 0, 0, {}, {"champion": 2}, ())
    records, moved = record_aliases(site, (model,), 1_764_000_360_000)
    assert moved == 1  # recorded again, whole this time
    assert read_history(history, "h") == ((E1, E2), ())
    [problem] = [p for p in records.problems if p.code == "history.torn"]
    assert problem.level == "warning" and problem.line == 2
    assert str(problem).startswith("history/aliases.jsonl:2: dropped an unfinished last line")


def test_a_failed_append_leaves_no_partial_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "aliases.jsonl"
    append_history(path, [E1])
    before = path.read_bytes()
    real_write = os.write

    def disk_full_half_way(fd: int, data: bytes) -> int:
        if len(data) > 1:
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full_half_way)
    with pytest.raises(DaybookError, match=r"cannot append to the alias history.*No space left"):
        append_history(path, [E2, E3])
    assert path.read_bytes() == before
