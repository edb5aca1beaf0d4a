"""Series made fit to draw: nothing non-finite reaches a chart, thinning keeps the extremes and
says so, and best-so-far follows the metric's direction."""

from __future__ import annotations

import math
import sys

from hypothesis import given
from hypothesis import strategies as st

from daybook.analysis.series import Point, best_so_far, downsample, is_finite, prepare


def test_non_finite_values_are_set_aside_and_counted() -> None:
    ys = [1.0, math.nan, 2.0, math.inf, -math.inf, sys.float_info.max, 3.0]
    s = prepare(list(range(len(ys))), ys, [0] * len(ys), limit=100)
    assert [p.y for p in s.points] == [1.0, 2.0, 3.0]
    assert s.total == 7 and s.non_finite == 4 and not s.downsampled


def test_one_point_is_not_a_line() -> None:
    assert not prepare([0], [0.5], [0], 100).drawable
    assert not prepare([0, 1], [math.nan, 0.5], [0, 1], 100).drawable
    assert prepare([0, 1], [0.4, 0.5], [0, 1], 100).drawable


def test_downsampling_keeps_every_bucket_extreme_and_the_ends() -> None:
    n = 10_000
    ys = [math.sin(i / 50) for i in range(n)]
    ys[1234] = 50.0  # a spike …
    ys[8765] = -50.0  # … and a dip that thinning must not hide
    pts = [Point(float(i), y, i) for i, y in enumerate(ys)]
    out = downsample(pts, 600)
    assert len(out) <= 600
    assert out[0] == pts[0] and out[-1] == pts[-1]
    assert max(p.y for p in out) == 50.0 and min(p.y for p in out) == -50.0
    assert [p.x for p in out] == sorted(p.x for p in out)  # still in order
    s = prepare([p.x for p in pts], ys, list(range(n)), 600)
    assert s.downsampled and s.total == n


@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=400),
    st.integers(min_value=4, max_value=120),
)
def test_downsample_never_loses_the_extremes(values: list[float], limit: int) -> None:
    pts = [Point(float(i), v, i) for i, v in enumerate(values)]
    out = downsample(pts, limit)
    assert len(out) <= max(limit, len(pts)) and set(out) <= set(pts)
    if pts:
        assert min(p.y for p in out) == min(values)
        assert max(p.y for p in out) == max(values)
    if len(pts) > limit:
        assert len(out) <= limit


def test_best_so_far_follows_the_direction() -> None:
    pts = [Point(1, 0.5, 1), Point(2, 0.7, 2), Point(3, 0.6, 3), Point(4, 0.9, 4), Point(5, 0.1, 5)]
    up = best_so_far(pts, "maximize")
    assert [(p.x, p.y) for p in up] == [(1, 0.5), (2, 0.7), (4, 0.9), (5, 0.9)]
    down = best_so_far(pts, "minimize")
    assert [(p.x, p.y) for p in down] == [(1, 0.5), (5, 0.1)]


def test_is_finite() -> None:
    assert is_finite(0.0) and is_finite(-1e300)
    assert not any(is_finite(v) for v in (None, math.nan, math.inf, -sys.float_info.max))
