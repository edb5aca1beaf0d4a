"""Ranking: which metric leads an experiment, in which direction, and in what order."""

from __future__ import annotations

import math
import random
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daybook.analysis.ranking import Primary, key_columns, leaderboard, primary_metric
from daybook.core.config import DaybookConfig, PrimaryMetric
from daybook.core.snapshot import Experiment, Run

EXP = Experiment("1", "churn-eu", "", None, None)


def run(rid: str, start: int = 0, params: dict | None = None, **metrics: float) -> Run:
    return Run(
        run_id=rid,
        experiment_id="1",
        name=rid,
        status="FINISHED",
        start_time=start,
        end_time=start + 1,
        user="u",
        artifact_uri="",
        params=params or {},
        metrics=dict(metrics),
    )


def ids(runs: list[Run]) -> list[str]:
    return [r.run_id for r in runs]


# --- leaderboard ----------------------------------------------------------------------------------

RUNS = [run("a", 1, loss=0.3), run("b", 2, loss=0.1), run("c", 3, loss=0.2)]


def test_a_minimized_metric_ranks_the_lowest_first() -> None:
    assert ids(leaderboard(RUNS, Primary("loss", "minimize", True), 10)) == ["b", "c", "a"]


def test_a_maximized_metric_ranks_the_highest_first() -> None:
    assert ids(leaderboard(RUNS, Primary("loss", "maximize", True), 10)) == ["a", "c", "b"]


def test_the_leaderboard_has_at_most_size_runs() -> None:
    assert ids(leaderboard(RUNS, Primary("loss", "minimize", True), 2)) == ["b", "c"]
    assert leaderboard(RUNS, Primary("loss", "minimize", True), 0) == []


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_nan_and_missing_values_never_lead(direction: str) -> None:
    runs = [run("nan", 0, loss=math.nan), run("none", 0), run("ok", 5, loss=0.5)]
    assert ids(leaderboard(runs, Primary("loss", direction, True), 10)) == ["ok"]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_infinite_values_never_lead(direction: str) -> None:
    runs = [run("pinf", 0, acc=math.inf), run("ninf", 0, acc=-math.inf), run("ok", 5, acc=0.5)]
    runs.append(run("mlflow-inf", 0, acc=sys.float_info.max))  # how MLflow stores +inf
    assert ids(leaderboard(runs, Primary("acc", direction, True), 10)) == ["ok"]


def test_ties_are_broken_by_start_time_then_run_id_whatever_the_input_order() -> None:
    runs = [run("z", 1, acc=0.9), run("y", 2, acc=0.9), run("x", 2, acc=0.9), run("w", 0, acc=0.5)]
    expected = ["z", "x", "y", "w"]
    rng = random.Random(7)
    for _ in range(20):
        rng.shuffle(runs)
        assert ids(leaderboard(runs, Primary("acc", "maximize", False), 10)) == expected


def test_no_primary_metric_no_leaderboard() -> None:
    assert leaderboard(RUNS, None, 10) == []


def _sorted_leaderboard(runs: list[Run], primary: Primary, size: int) -> list[Run]:
    """The definition the fast leaderboard must keep: filter, sort everything, cut."""
    sign = 1 if primary.direction == "minimize" else -1
    ranked = [
        r
        for r in runs
        if (v := r.metric(primary.metric)) is not None
        and math.isfinite(v)
        and abs(v) < sys.float_info.max
    ]
    ranked.sort(key=lambda r: (sign * r.metric(primary.metric), r.start_time or 0, r.run_id))
    return ranked[:size]


VALUES = st.one_of(
    st.sampled_from(
        [
            0.0,
            -0.0,
            0.5,
            1.0,
            math.nan,
            math.inf,
            -math.inf,
            sys.float_info.max,
            -sys.float_info.max,
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
)


@given(
    st.lists(st.tuples(st.one_of(st.none(), VALUES), st.integers(0, 3)), max_size=40),
    st.sampled_from(["minimize", "maximize"]),
    st.integers(0, 12),
)
def test_the_leaderboard_is_the_first_size_runs_of_the_full_sort(
    cells: list[tuple[float | None, int]], direction: str, size: int
) -> None:
    runs = [
        run(f"r{i:02d}", start, **({} if v is None else {"loss": v}))
        for i, (v, start) in enumerate(cells)
    ]
    primary = Primary("loss", direction, True)
    assert ids(leaderboard(runs, primary, size)) == ids(_sorted_leaderboard(runs, primary, size))


# --- primary metric -------------------------------------------------------------------------------


def test_a_configured_primary_metric_is_used_with_its_direction() -> None:
    config = DaybookConfig(
        primary_metrics=[PrimaryMetric(experiment="churn-*", metric="f1", direction="minimize")]
    )
    assert primary_metric(config, EXP, RUNS) == Primary("f1", "minimize", True)


def test_a_configured_metric_without_direction_gets_a_guessed_one() -> None:
    config = DaybookConfig(primary_metrics=[PrimaryMetric(metric="val_rmse")])
    assert primary_metric(config, EXP, []) == Primary("val_rmse", "minimize", True)


def test_a_configured_metric_for_other_experiments_does_not_apply() -> None:
    config = DaybookConfig(primary_metrics=[PrimaryMetric(experiment="fraud*", metric="auc")])
    assert primary_metric(config, EXP, RUNS) == Primary("loss", "minimize", False)


def test_the_guess_is_the_metric_most_runs_log() -> None:
    runs = [run("a", acc=1, loss=1), run("b", acc=1), run("c", acc=1, val_loss=2)]
    assert primary_metric(DaybookConfig(), EXP, runs) == Primary("acc", "maximize", False)


def test_among_equally_common_metrics_validation_ones_are_preferred() -> None:
    runs = [run("a", acc=1, val_loss=1, train_loss=1), run("b", acc=1, val_loss=1, train_loss=1)]
    assert primary_metric(DaybookConfig(), EXP, runs) == Primary("val_loss", "minimize", False)
    runs = [run("a", accuracy=1, test_auc=1), run("b", accuracy=1, test_auc=1)]
    assert primary_metric(DaybookConfig(), EXP, runs).metric == "test_auc"


def test_remaining_ties_go_to_the_alphabetically_first() -> None:
    runs = [run("a", zeta=1, alpha=1)]
    assert primary_metric(DaybookConfig(), EXP, runs).metric == "alpha"


def test_no_metrics_no_primary() -> None:
    assert primary_metric(DaybookConfig(), EXP, [run("a"), run("b")]) is None
    assert primary_metric(DaybookConfig(), EXP, []) is None


# --- key columns ----------------------------------------------------------------------------------


def test_key_columns_prefer_values_that_vary_then_common_keys() -> None:
    runs = [
        run("a", params={"lr": "0.1", "seed": "1", "opt": "adam", "rare": "x"}),
        run("b", params={"lr": "0.2", "seed": "1", "opt": "adam"}),
        run("c", params={"lr": "0.3", "seed": "1"}),
    ]
    assert key_columns(runs, 10, params=True) == ["lr", "seed", "opt", "rare"]
    assert key_columns(runs, 2, params=True) == ["lr", "seed"]


def test_metric_values_vary_as_their_text_reads() -> None:
    """Compared as text, as a cell shows them: NaN is one value, 0.0 and -0.0 are two."""
    nan = [run("a", n=math.nan, z=0.0, s=1.0), run("b", n=math.nan, z=-0.0, s=1.0)]
    nan.append(run("c", n=float("nan"), z=0.0, s=1.0, v=2.0))
    # z varies (0.0 / -0.0); n (NaN twice) and s do not; v is in one run only.
    assert key_columns(nan, 10, params=False) == ["z", "n", "s", "v"]


def test_an_empty_param_is_a_value_and_a_missing_one_is_not() -> None:
    runs = [run("a", params={"tag": "", "lr": "1"}), run("b", params={"tag": "x", "lr": "1"}),
            run("c", params={"lr": "1"})]  # fmt: skip
    assert key_columns(runs, 10, params=True) == ["tag", "lr"]


def test_the_primary_metric_is_the_first_metric_column() -> None:
    runs = [run("a", loss=1, acc=0.1), run("b", loss=2, acc=0.2, f1=3)]
    assert key_columns(runs, 2, params=False, first="f1") == ["f1", "acc"]
    assert key_columns(runs, 2, params=False, first="absent") == ["acc", "loss"]
