"""How pages write times: in UTC to the minute, whatever the machine's zone."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from daybook.pages.render import when


def _strftime(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@given(st.integers(min_value=0, max_value=253_402_300_799_999))
def test_a_time_is_written_as_strftime_writes_it(ms: int) -> None:
    assert when(ms) == _strftime(ms)


def test_edges_of_a_minute_and_of_the_range() -> None:
    assert when(0) == "1970-01-01 00:00 UTC"
    assert when(59_999) == "1970-01-01 00:00 UTC"
    assert when(60_000) == "1970-01-01 00:01 UTC"
    assert when(253_402_300_799_999) == "9999-12-31 23:59 UTC"
    assert when(-1) == _strftime(-1)  # before 1970: the slow path, same words
    assert when(None) == "—"
