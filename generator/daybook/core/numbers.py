"""How numbers read on every page and in every message: one rule, so a value looks the same
wherever it appears.

A value alone gets 4 significant digits. A column of one metric (a leaderboard, a runs table, a
comparison) gets one number of decimals for all its cells, chosen from the values' size and
spread (`decimals_for`), and a difference is written with the decimals of the values it is the
difference of (`format_delta`), never with more significant digits than the value: so
`0.9969 ▲ +0.0003` and `0.9768 ▼ −0.0200`, not `0.9969 ▲ +0.0002921` beside `−0.02`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

_MLFLOW_INF = 1.7976931348623157e308
MAX_DECIMALS = 8


def _finite(value: float | int | None) -> bool:
    return (
        value is not None
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) < _MLFLOW_INF
    )


def decimals_for(values: Iterable[float | int | None], spread: bool = True) -> int | None:
    """Decimals for a column of one metric: enough for 4 significant digits of its largest value
    and (with `spread`) 2 of its spread, so close values stay apart; at most MAX_DECIMALS, 0 when
    every value is whole. None (each value by the plain rule) when there is no finite value or
    the largest needs an exponent (beyond 1e6 or below 1e-4)."""
    values = values if isinstance(values, list) else list(values)
    if set(map(type, values)) == {float}:  # a metric's column: the test without a call a value
        finite = [v for v in values if -_MLFLOW_INF < v < _MLFLOW_INF]  # NaN compares False
    else:
        finite = [float(v) for v in values if _finite(v)]
    if not finite:
        return None
    largest = max(map(abs, finite))
    if largest == 0:
        return 0
    if largest >= 1e6 or largest < 1e-4:
        return None
    if all(map(float.is_integer, finite)):
        return 0
    decimals = 3 - math.floor(math.log10(largest))
    width = max(finite) - min(finite)
    if spread and width > 0:
        decimals = max(decimals, 1 - math.floor(math.log10(width)))
    return min(max(decimals, 0), MAX_DECIMALS)


def format_number(value: float | int | None, decimals: int | None = None) -> str:
    """Numbers for people: 4 significant digits (or the column's `decimals`), NaN and infinities
    said in words."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if math.isinf(value) or abs(value) >= _MLFLOW_INF:  # MLflow stores ±inf as ±max float
        return "∞" if value > 0 else "−∞"
    if decimals is not None:
        return f"{value:.{decimals}f}"
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-4:
        return f"{value:.4g}"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.6g}"


def _significant(text: str) -> int:
    """Significant digits written in a plain decimal number ("0.0200" has 3)."""
    digits = "".join(c for c in text if c.isdigit()).lstrip("0")
    return max(len(digits), 1)


def format_delta(
    delta: float | None, decimals: int | None = None, value: float | int | None = None
) -> str:
    """A signed difference (`+0.0030`, `−1.2`, `±0`) in the decimals of its column (by default
    4 significant digits of `value` and `value - delta`), with no more significant digits than
    `value` has."""
    if delta is None or not _finite(delta):
        return format_number(delta)
    if decimals is None and value is not None and _finite(value):
        decimals = decimals_for([value, value - delta], spread=False)
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    if decimals is None:
        return sign + format_number(abs(delta))
    text = f"{abs(delta):.{decimals}f}"
    if value is not None and _finite(value) and abs(delta) > abs(value) and float(text):
        keep = _significant(f"{abs(value):.{decimals}f}")
        if _significant(text) > keep:  # rounded to the value's significant digits
            magnitude = math.floor(math.log10(abs(delta)))
            text = f"{abs(delta):.{max(0, keep - 1 - magnitude)}f}"
    if float(text) == 0:
        sign = "±"
    return sign + text


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 run`, `2 runs`, `0 runs`; `many` for words whose plural is not word + "s"."""
    return f"{count} {word if count == 1 else many or word + 's'}"
