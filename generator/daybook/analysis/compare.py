"""Run comparisons: a run against its parent, its experiment's best run and the champion, and a
sweep's children side by side. Pure functions, no I/O.

Deltas are direction-aware: for a metric that is minimized, a lower value is "better".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from daybook.analysis.ranking import Primary, leaderboard
from daybook.analysis.review import Verdict
from daybook.analysis.series import better, is_finite
from daybook.core.config import Direction, guess_direction
from daybook.core.snapshot import RegisteredModel, Run

MAX_METRICS = 12  # rows of a comparison; the run page's metric table has every metric


@dataclass(frozen=True, slots=True)
class Delta:
    """One metric of this run against one other run."""

    other: float | None
    delta: float | None  # this - other (None when either is missing or not finite)
    verdict: Verdict | None
    relative: float | None  # delta / |other|


@dataclass(frozen=True, slots=True)
class Reference:
    run: Run
    roles: tuple[str, ...]  # "parent", "best", "champion of cancer-detector (v2)" …


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str
    value: float | None
    direction: Direction
    deltas: tuple[Delta, ...]  # one per reference, in order


@dataclass(frozen=True, slots=True)
class ParamRow:
    key: str
    value: str | None  # None: this run does not have the param
    others: tuple[str | None, ...]  # one per reference
    differs: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    run: Run
    references: tuple[Reference, ...]
    metrics: tuple[MetricRow, ...]
    params: tuple[ParamRow, ...]  # only params that differ from at least one reference
    same_params: int  # params equal across this run and every reference


def delta(value: float | None, other: float | None, direction: Direction) -> Delta:
    if value is None or other is None or not is_finite(value) or not is_finite(other):
        return Delta(other, None, None, None)
    d = value - other
    verdict: Verdict = (
        "better" if better(value, other, direction) else "equal" if d == 0 else "worse"
    )
    return Delta(other, d, verdict, d / abs(other) if other else None)


def direction_of(key: str, primary: Primary | None) -> Direction:
    if primary is not None and key == primary.metric:
        return primary.direction
    return guess_direction(key)


_UNSET = object()


def references(
    run: Run,
    runs: Sequence[Run],
    primary: Primary | None,
    models: Sequence[RegisteredModel],
    alias: str = "champion",
    *,
    index: Mapping[str, Run] | None = None,
    best: Run | object | None = _UNSET,
) -> list[Reference]:
    """What a reader compares a run with: its parent, the experiment's best run, and the run
    behind each model's `champion` when that run is in the same experiment. A run is never
    compared with itself; a run in several roles appears once."""
    # Pages pass the experiment's index and leader in, computed once: recomputing them per run
    # page made generate quadratic in the runs per experiment.
    by_id = index if index is not None else {r.run_id: r for r in runs}
    leader = leaderboard(runs, primary, 1) if best is _UNSET else ([best] if best else [])
    found: dict[str, list[str]] = {}
    if run.parent_id and run.parent_id in by_id:
        found.setdefault(run.parent_id, []).append("parent")
    if leader:
        found.setdefault(leader[0].run_id, []).append("best")  # type: ignore[union-attr]
    for m in models:
        version = m.aliases.get(alias)
        v = next((v for v in m.versions if v.version == version), None)
        if v is not None and v.run_id in by_id:
            found.setdefault(v.run_id, []).append(f"@{alias} of {m.name} (v{version})")
    return [Reference(by_id[rid], tuple(roles)) for rid, roles in found.items()
            if rid != run.run_id]  # fmt: skip


def compare(run: Run, refs: Sequence[Reference], primary: Primary | None) -> Comparison:
    keys = [k for k in run.metrics if any(k in ref.run.metrics for ref in refs)]
    keys.sort(key=lambda k: (primary is None or k != primary.metric, k))
    metrics = []
    for key in keys[:MAX_METRICS]:
        direction = direction_of(key, primary)
        value = run.metric(key)
        metrics.append(
            MetricRow(key, value, direction,
                      tuple(delta(value, ref.run.metric(key), direction) for ref in refs))
        )  # fmt: skip
    params = []
    same = 0
    for key in sorted(set(run.params).union(*(ref.run.params for ref in refs))):
        value = run.params.get(key)
        others = tuple(ref.run.params.get(key) for ref in refs)
        differs = tuple(o != value for o in others)
        if any(differs):
            params.append(ParamRow(key, value, others, differs))
        else:
            same += 1
    return Comparison(run, tuple(refs), tuple(metrics), tuple(params), same)


# --- sweeps --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sweep:
    """A parent run and its children, compared side by side."""

    parent: Run
    children: tuple[Run, ...]  # best first by the primary metric, then the rest by start time
    primary: Primary | None
    varying: tuple[str, ...]  # params whose value differs between children
    constant: tuple[tuple[str, str], ...]  # params every child has with the same value
    metrics: tuple[str, ...]  # metric columns: the primary first, then the most common
    best: Run | None
    directions: dict[str, Direction]

    def verdict(self, run: Run, key: str) -> Verdict | None:
        """How a child's value compares with the best child's value of that metric."""
        values = [c.metric(key) for c in self.children]
        finite = [v for v in values if v is not None and is_finite(v)]
        value = run.metric(key)
        if value is None or not is_finite(value) or len(finite) < 2:
            return None
        direction = self.directions[key]
        top = min(finite) if direction == "minimize" else max(finite)
        return "better" if value == top else None


def is_sweep(children: Sequence[Run]) -> bool:
    return len(children) >= 2


def sweep(parent: Run, children: Sequence[Run], primary: Primary | None) -> Sweep:
    ranked = leaderboard(children, primary, len(children))
    rest = sorted((c for c in children if c not in ranked),
                  key=lambda r: (r.start_time or 0, r.run_id))  # fmt: skip
    ordered = tuple(ranked) + tuple(rest)
    keys = sorted({k for c in children for k in c.params})
    varying = []
    constant = []
    for k in keys:
        values = [c.params.get(k) for c in children]
        if len(set(values)) > 1:
            varying.append(k)
        elif values[0] is not None:
            constant.append((k, values[0]))
    counts: Counter[str] = Counter(k for c in children for k in c.metrics)
    metrics = sorted(counts, key=lambda k: (primary is None or k != primary.metric, -counts[k], k))
    metrics = metrics[:MAX_METRICS]
    return Sweep(
        parent=parent,
        children=ordered,
        primary=primary,
        varying=tuple(varying),
        constant=tuple(constant),
        metrics=tuple(metrics),
        best=ranked[0] if ranked else None,
        directions={k: direction_of(k, primary) for k in metrics},
    )
