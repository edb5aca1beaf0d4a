"""The morning review's reference point: --since, review.since, the last published build, or
24 hours; and the published-builds log that `daybook build --publish` appends to."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from daybook.core.config import Review
from daybook.core.errors import DaybookError
from daybook.store.published import last_published, read_published, record_published
from daybook.store.state import (
    ENV_SINCE,
    daily_cut,
    last_build,
    parse_since,
    record_build,
    resolve_reference,
)

NOW = 1_764_000_000_000  # 2025-11-24 16:00 UTC
PUBLISHED = "history/published.jsonl"


def _utc(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - 24 * 3_600_000),
        ("90m", NOW - 90 * 60_000),
        ("1.5d", NOW - 36 * 3_600_000),
        ("1w", NOW - 7 * 86_400_000),
        ("2025-11-24", _utc(2025, 11, 24)),
        ("2025-11-24T06:30", _utc(2025, 11, 24, 6, 30)),
        ("2025-11-24 06:30Z", _utc(2025, 11, 24, 6, 30)),
        ("2025-11-24T07:30:00+01:00", _utc(2025, 11, 24, 6, 30)),
    ],
)
def test_parse_since(text: str, expected: int) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "24", "-3d", "2025-13-01"])
def test_parse_since_refuses_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(DaybookError, match="24h, 3d or 1w"):
        parse_since(text, NOW)


def test_reference_order(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--since > review.since > the last published build > 24 hours; a local build never counts."""
    monkeypatch.delenv(ENV_SINCE, raising=False)
    ref = resolve_reference(tmp_path, None, NOW)
    assert (ref.since_ms, ref.source, ref.now_ms) == (NOW - 86_400_000, "default", NOW)
    assert ref.label == "24 hours before this build; no published build yet"
    record_build(tmp_path, NOW - 5_000, "https://user:secret@mlflow.example/")
    state = json.loads((tmp_path / ".daybook" / "state.json").read_text())
    assert "secret" not in json.dumps(state) and last_build(tmp_path) == NOW - 5_000
    assert resolve_reference(tmp_path, None, NOW).source == "default"  # a local build: no move
    record_published(tmp_path / PUBLISHED, NOW - 3 * 3_600_000, "https://u:secret@x.example/")
    ref = resolve_reference(tmp_path, None, NOW)
    assert (ref.since_ms, ref.source) == (NOW - 3 * 3_600_000, "published")
    assert ref.window == "since the published build of 2025-11-24 13:00 UTC"
    daily = Review(since="09:00")
    ref = resolve_reference(tmp_path, None, NOW, daily)
    assert (ref.since_ms, ref.source) == (_utc(2025, 11, 24, 9), "review.since")
    assert ref.window == "since 09:00 UTC today (review.since: 2025-11-24 09:00 UTC)"
    monkeypatch.setenv(ENV_SINCE, "2h")  # what `daybook serve --since` hands the gen script
    assert resolve_reference(tmp_path, None, NOW, daily).since_ms == NOW - 7_200_000
    ref = resolve_reference(tmp_path, "1h", NOW)  # the option beats the environment
    assert (ref.since_ms, ref.label) == (NOW - 3_600_000, "set with --since 1h")


def test_a_broken_state_file_counts_as_none(tmp_path) -> None:
    (tmp_path / ".daybook").mkdir()
    (tmp_path / ".daybook" / "state.json").write_text("{not json")
    assert last_build(tmp_path) is None
    ref = resolve_reference(tmp_path, None, NOW, Review(default_hours=6))
    assert ref.since_ms == NOW - 6 * 3_600_000


@pytest.mark.parametrize(
    ("zone", "now", "cut", "said"),
    [
        ("UTC", _utc(2025, 11, 24, 16), _utc(2025, 11, 24, 9), "09:00 UTC today"),
        ("UTC", _utc(2025, 11, 24, 8, 59), _utc(2025, 11, 23, 9), "09:00 UTC yesterday"),
        (
            "Europe/Berlin",
            _utc(2025, 11, 24, 8, 30),
            _utc(2025, 11, 24, 8),
            "09:00 Europe/Berlin today",
        ),
        # The day after the clocks went back: still 09:00 on the wall, now UTC+1 (was +2).
        (
            "Europe/Berlin",
            _utc(2025, 10, 27, 7),
            _utc(2025, 10, 26, 8),
            "09:00 Europe/Berlin yesterday",
        ),
    ],
)
def test_daily_cut_is_the_latest_one_before_now(zone: str, now: int, cut: int, said: str) -> None:
    assert daily_cut("09:00", zone, now) == (cut, said)


def test_published_log_keeps_whole_lines_and_skips_bad_ones(tmp_path) -> None:
    log = tmp_path / "history" / "published.jsonl"
    record_published(log, NOW - 86_400_000, "sqlite:///mlflow.db")
    with log.open("a", encoding="utf-8") as fh:
        fh.write('not json\n{"published_at": "2025-11-24T15:')  # a bad line, a torn one
    record_published(log, NOW, "sqlite:///mlflow.db")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and lines[1] == "not json"  # the torn tail was dropped
    assert read_published(log) == [NOW - 86_400_000, NOW]
    assert last_published(log, NOW - 1) == NOW - 86_400_000  # a log from the future is ignored


def test_review_settings_are_validated() -> None:
    assert Review(since=630).since == "10:30"  # YAML 1.1 reads an unquoted 10:30 as 630
    for bad in ({"since": "25:00"}, {"timezone": "Mars/Olympus"}, {"stuck_after": "soon"},
                {"published_log": "/etc/published.jsonl"}):  # fmt: skip
        with pytest.raises(ValidationError):
            Review(**bad)
    assert Review(stuck_after="90m").stuck_ms == 90 * 60_000


def test_a_rolling_window_prints_no_clock_time(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two generations a minute apart on an unchanged store give the same bytes: the default
    window's start moves with the clock, so the page names the span, not the minute."""
    monkeypatch.delenv(ENV_SINCE, raising=False)
    a = resolve_reference(tmp_path, None, NOW)
    b = resolve_reference(tmp_path, None, NOW + 61_000)
    assert a.since_ms != b.since_ms
    assert a.window == b.window == "in the 24 hours before this build, no published build yet"
