"""How numbers read on every page and in every message: one rule, so a value looks the same
wherever it appears."""

from __future__ import annotations

import math

_MLFLOW_INF = 1.7976931348623157e308


def format_number(value: float | int | None) -> str:
    """Numbers for people: 4 significant digits, NaN and infinities said in words."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value) or abs(value) >= _MLFLOW_INF:  # MLflow stores ±inf as ±max float
        return "∞" if value > 0 else "−∞"
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-4:
        return f"{value:.4g}"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.6g}"
