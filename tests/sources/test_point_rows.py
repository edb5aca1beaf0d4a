"""Metric points read as rows (run id, key, value, timestamp, step, is_nan) in the order of
MLflow's index (run id, key, step) become the same histories, point for point, as the general
assembly makes: whatever the steps repeat, whichever values are NaN or missing."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from daybook.sources.sql import _value, assemble_histories, histories_from_rows

POINT = st.tuples(
    st.sampled_from(["a" * 32, "b" * 32, "c" * 32]),
    st.sampled_from(["loss", "acc", "Loss"]),
    st.one_of(st.floats(allow_nan=True), st.none(), st.integers(-3, 3)),
    st.integers(0, 5),  # timestamps
    st.integers(-2, 6),  # steps (repeated ones need the time and value to order them)
    st.sampled_from([0, 0, 0, 1]),  # is_nan
)


def _in_index_order(rows: list[tuple[Any, ...]], seed: int) -> list[tuple[Any, ...]]:
    """As the database hands them: by (run id, key, step), in no order within a step."""
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    return sorted(shuffled, key=lambda r: (r[0], r[1], r[4]))


def _assembled(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    points: dict[tuple[str, str], list[tuple[int, int, float]]] = defaultdict(list)
    for rid, key, value, ts, step, is_nan in rows:
        points[(rid, key)].append((int(step), int(ts), _value(value, is_nan)))
    return assemble_histories(points)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal histories, NaN equal to NaN."""

    def plain(h: dict[str, Any]) -> Any:
        return {
            rid: [(x.key, x.steps, x.timestamps, [repr(v) for v in x.values]) for x in hs]
            for rid, hs in h.items()
        }

    return list(a) == list(b) and plain(a) == plain(b)


A, NAN_ROW = "a" * 32, ("a" * 32, "loss", None, 0, 0, 0)  # NULL: read as NaN


@settings(max_examples=300, deadline=None)
@given(st.lists(POINT, max_size=40), st.integers(0, 1000))
# One step and time, and values a sort by value alone leaves in the order they came in.
@example([NAN_ROW, (A, "loss", math.inf, 0, 0, 0), NAN_ROW], 0)
@example([(A, "loss", 0.0, 0, 0, 0), (A, "loss", -0.0, 0, 0, 0)], 1)
def test_rows_in_index_order_make_the_histories_the_general_assembly_makes(
    rows: list[tuple[Any, ...]], seed: int
) -> None:
    got = histories_from_rows(_in_index_order(rows, seed))
    assert got is not None
    assert _same(dict(sorted(got.items())), _assembled(rows))


def test_a_history_with_unique_steps_keeps_its_floats_exactly_and_nan_only_where_flagged() -> None:
    rows = [
        ("r" * 32, "loss", 0.1, 10, 0, 0),
        ("r" * 32, "loss", 0.30000000000000004, 11, 1, 0),
        ("r" * 32, "loss", 0.0, 12, 2, 1),  # MLflow's placeholder for a logged NaN
    ]
    [(_, (history,))] = histories_from_rows(rows).items()  # type: ignore[union-attr]
    assert (history.key, history.steps, history.timestamps) == ("loss", (0, 1, 2), (10, 11, 12))
    assert history.values[:2] == (0.1, 0.30000000000000004)
    assert math.isnan(history.values[2])


def test_a_key_in_two_stretches_is_left_to_the_general_assembly() -> None:
    """A collation that orders keys apart from equality could split one history: not guessed."""
    rows = [
        ("r" * 32, "loss", 1.0, 1, 0, 0),
        ("r" * 32, "acc", 1.0, 1, 0, 0),
        ("r" * 32, "loss", 2.0, 2, 1, 0),
    ]
    assert histories_from_rows(rows) is None
