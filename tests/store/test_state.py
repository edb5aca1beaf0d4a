"""The morning review's reference point: --since, the previous build, or 24 hours."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from daybook.core.errors import DaybookError
from daybook.store.state import ENV_SINCE, last_build, parse_since, record_build, resolve_reference

NOW = 1_764_000_000_000  # 2025-11-24 16:00 UTC


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
    monkeypatch.delenv(ENV_SINCE, raising=False)
    ref = resolve_reference(tmp_path, None, NOW)
    assert (ref.since_ms, ref.source, ref.label) == (NOW - 86_400_000, "default",
                                                     "24 hours before this build")  # fmt: skip
    record_build(tmp_path, NOW - 5_000, "https://user:secret@mlflow.example/")
    state = json.loads((tmp_path / ".daybook" / "state.json").read_text())
    assert "secret" not in json.dumps(state) and last_build(tmp_path) == NOW - 5_000
    ref = resolve_reference(tmp_path, None, NOW)
    assert (ref.since_ms, ref.source, ref.label) == (NOW - 5_000, "previous build",
                                                     "the previous build")  # fmt: skip
    monkeypatch.setenv(ENV_SINCE, "2h")  # what `daybook serve --since` hands the gen script
    assert resolve_reference(tmp_path, None, NOW).since_ms == NOW - 7_200_000
    ref = resolve_reference(tmp_path, "1h", NOW)  # the option beats the environment
    assert (ref.since_ms, ref.label) == (NOW - 3_600_000, "set with --since 1h")


def test_a_broken_state_file_counts_as_none(tmp_path) -> None:
    (tmp_path / ".daybook").mkdir()
    (tmp_path / ".daybook" / "state.json").write_text("{not json")
    assert last_build(tmp_path) is None
    assert resolve_reference(tmp_path, None, NOW, default_hours=6).since_ms == NOW - 6 * 3_600_000
