"""Which metric ranks an experiment's runs, in which direction, and who leads."""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from daybook.core.config import DaybookConfig, Direction, guess_direction
from daybook.core.snapshot import Experiment, Run

_PREFERRED_PREFIXES = ("val", "valid", "test", "eval")


@dataclass(frozen=True, slots=True)
class Primary:
    metric: str
    direction: Direction
    configured: bool  # False: guessed, and the page says so


def primary_metric(
    config: DaybookConfig, experiment: Experiment, runs: Sequence[Run]
) -> Primary | None:
    """The configured primary metric, else a guess: the metric most runs log, preferring
    validation/test metrics, then the alphabetically first."""
    pm = config.primary_for(experiment.name)
    if pm is not None:
        return Primary(pm.metric, pm.direction or guess_direction(pm.metric), True)
    counts: Counter[str] = Counter(k for r in runs for k in r.metrics)
    if not counts:
        return None

    def rank(key: str) -> tuple[int, int, str]:
        preferred = key.lower().startswith(_PREFERRED_PREFIXES)
        return (-counts[key], 0 if preferred else 1, key)

    best = min(counts, key=rank)
    return Primary(best, guess_direction(best), False)


def _score(run: Run, primary: Primary) -> float | None:
    value = run.metric(primary.metric)
    # Not finite: NaN, ±inf, and ±max float (how MLflow's SQL stores keep an infinity).
    if value is None or not math.isfinite(value) or abs(value) >= sys.float_info.max:
        return None
    return value


def leaderboard(runs: Sequence[Run], primary: Primary | None, size: int) -> list[Run]:
    """The best `size` runs by the primary metric; runs without a finite value never lead.
    Ties are broken by start time then run id, so the order is stable."""
    if primary is None:
        return []
    scored = [(r, _score(r, primary)) for r in runs]
    ranked = [(r, s) for r, s in scored if s is not None]
    sign = 1 if primary.direction == "minimize" else -1
    ranked.sort(key=lambda rs: (sign * rs[1], rs[0].start_time or 0, rs[0].run_id))
    return [r for r, _ in ranked[:size]]


def key_columns(
    runs: Sequence[Run], limit: int, *, params: bool, first: str | None = None
) -> list[str]:
    """The params (or metrics) worth a column: the ones most runs have, and that vary."""
    counts: Counter[str] = Counter()
    values: dict[str, set[str]] = {}
    for r in runs:
        items = r.params if params else {k: str(m.value) for k, m in r.metrics.items()}
        for k, v in items.items():
            counts[k] += 1
            values.setdefault(k, set()).add(v)
    keys = sorted(counts, key=lambda k: (-(len(values[k]) > 1), -counts[k], k))
    if first and first in counts:
        keys.remove(first)
        keys.insert(0, first)
    return keys[:limit]
