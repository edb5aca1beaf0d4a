"""Series of numbers made fit to draw: non-finite points set aside (and counted), long histories
thinned without losing their extremes, and best-so-far curves. Pure functions, no I/O.

Nothing here drops data silently: every function that leaves points out says how many.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from daybook.core.config import Direction

_MLFLOW_INF = sys.float_info.max  # MLflow's SQL stores keep ±inf as ±max float


def is_finite(value: float | None) -> bool:
    """A value a chart can place: not None, NaN, ±inf, or MLflow's stand-in for ±inf."""
    return value is not None and math.isfinite(value) and abs(value) < _MLFLOW_INF


class Point(NamedTuple):
    """A tuple, not a dataclass: a build makes ~400,000 of them, and a frozen dataclass's
    `__init__` costs three times as much."""

    x: float  # step, or epoch ms
    y: float
    t: int  # epoch ms (the point's time, shown on hover)


@dataclass(frozen=True, slots=True)
class Series:
    """Points ready to draw, with an account of what was left out or thinned."""

    points: tuple[Point, ...]
    total: int  # points in the source, before anything was left out
    non_finite: int  # NaN / ±inf points, which a chart cannot place
    downsampled: bool  # True: `points` keeps the min and max of each bucket, not every point

    @property
    def drawable(self) -> bool:
        """Two points make a line; one point is a value, which the table already shows."""
        return len(self.points) >= 2


def finite_points(xs: Sequence[float], ys: Sequence[float], ts: Sequence[int]) -> list[Point]:
    if not len(xs) == len(ys) == len(ts):
        raise ValueError("xs, ys and ts differ in length")
    try:  # all finite (the common case), checked in C; a None goes the long way
        if ys and math.isfinite(sum(ys)) and min(ys) > -_MLFLOW_INF and max(ys) < _MLFLOW_INF:
            return list(map(Point, xs, ys, ts))
    except TypeError:
        pass
    return [Point(x, y, t) for x, y, t in zip(xs, ys, ts, strict=True) if is_finite(y)]


def downsample(points: Sequence[Point], limit: int) -> list[Point]:
    """At most about `limit` points in x order, keeping the lowest and the highest point of each
    bucket (and the first and last point), so spikes and dips survive thinning.

    Buckets are equal runs of consecutive points; each contributes its min and its max (one
    point when they coincide), in their original order.
    """
    n = len(points)
    if n <= limit or limit < 4:
        return list(points)
    buckets = max(1, (limit - 2) // 2)
    out: list[Point] = [points[0]]
    inner = points[1:-1]
    size = len(inner) / buckets
    for b in range(buckets):
        lo, hi = round(b * size), round((b + 1) * size)
        chunk = inner[lo:hi]
        if not chunk:
            continue
        i_min = min(range(len(chunk)), key=lambda i: (chunk[i].y, i))
        i_max = max(range(len(chunk)), key=lambda i: (chunk[i].y, -i))
        for i in sorted({i_min, i_max}):
            out.append(chunk[i])
    out.append(points[-1])
    return out


def prepare(xs: Sequence[float], ys: Sequence[float], ts: Sequence[int], limit: int) -> Series:
    """A metric history as a drawable series: finite points only, thinned to about `limit`."""
    finite = finite_points(xs, ys, ts)
    thinned = downsample(finite, limit)
    return Series(
        points=tuple(thinned),
        total=len(ys),
        non_finite=len(ys) - len(finite),
        downsampled=len(thinned) < len(finite),
    )


def better(a: float, b: float, direction: Direction) -> bool:
    """`a` is strictly better than `b`."""
    return a < b if direction == "minimize" else a > b


def best_so_far(points: Sequence[Point], direction: Direction) -> list[Point]:
    """The running best of points in x order: one point each time the best improves, plus the
    last x, so a step line drawn through them shows how the best evolved."""
    out: list[Point] = []
    best: Point | None = None
    for p in sorted(points, key=lambda p: (p.x, p.t)):
        if not is_finite(p.y):
            continue
        if best is None or better(p.y, best.y, direction):
            best = p
            out.append(p)
    if out and points:
        last_x = max(p.x for p in points)
        if last_x > out[-1].x:
            out.append(Point(last_x, out[-1].y, out[-1].t))
    return out
