"""One number format: a value alone has 4 significant digits; a column of one metric shares its
decimals, and a difference never shows more digits than the values it is a difference of."""

from __future__ import annotations

import math

import pytest

from daybook.core.numbers import decimals_for, format_delta, format_number, plural


def test_a_value_alone_reads_with_four_significant_digits() -> None:
    assert format_number(0.99691234) == "0.9969"
    assert format_number(1234.5678) == "1234.57"
    assert format_number(3.0) == "3"
    assert format_number(1e-7) == "1e-07"
    assert format_number(None) == "—"
    assert format_number(math.nan) == "NaN"
    assert format_number(-math.inf) == "−∞"


@pytest.mark.parametrize(
    ("values", "decimals"),
    [
        ([0.9969, 0.9967, 0.981], 4),  # 4 significant digits of the largest
        ([0.91, 0.91004], 6),  # close values stay apart: 2 significant digits of the spread
        ([1234.5678, 1100.25], 0),
        ([1234.5678, 1234.1], 2),
        ([0.05, 2.3], 3),
        ([1, 2, 30], 0),  # whole numbers stay whole
        ([0.0, 0.0], 0),
        ([1e-6, 2e-6], None),  # needs an exponent: each value by the plain rule
        ([2e7], None),
        ([None, math.nan, math.inf], None),
        ([0.5, 0.5 + 1e-15], 8),  # at most MAX_DECIMALS
    ],
)
def test_a_column_gets_its_decimals_from_its_size_and_spread(
    values: list[float], decimals: int | None
) -> None:
    assert decimals_for(values) == decimals


def test_every_cell_of_a_column_has_the_same_decimals() -> None:
    d = decimals_for([0.9969, 0.95, 0.9])
    assert [format_number(v, d) for v in (0.9969, 0.95, 0.9)] == ["0.9969", "0.9500", "0.9000"]
    assert format_number(math.nan, d) == "NaN"


def test_a_delta_takes_the_precision_of_its_value() -> None:
    # The issue's own example: `0.9969 ▲ +0.0002921` next to `−0.02 (−2.1%)`.
    assert format_delta(0.0002921, value=0.9969) == "+0.0003"
    assert format_delta(-0.02, value=0.9768) == "−0.0200"
    assert format_delta(0.0002921, 4) == "+0.0003"
    assert format_delta(0.0, 4) == "±0.0000"
    assert format_delta(0.00001, 4) == "±0.0000"  # rounds to zero: no sign to claim


def test_a_delta_never_shows_more_significant_digits_than_its_value() -> None:
    value = 0.01
    text = format_delta(-4.99123, 4, value)
    assert text == "−4.99"  # the value reads 0.0100: 3 significant digits
    assert format_delta(12.6, 0, 3.0) == "+13"


def test_a_delta_without_a_finite_value_reads_as_the_value_does() -> None:
    assert format_delta(None) == "—"
    assert format_delta(math.nan) == "NaN"
    assert format_delta(0.0123456) == "+0.01235"


def test_plurals() -> None:
    assert plural(1, "run") == "1 run"
    assert plural(0, "run") == "0 runs"
    assert plural(2, "failed or killed run") == "2 failed or killed runs"
    assert plural(1, "new model version") == "1 new model version"
    assert plural(3, "match", "matches") == "3 matches"
