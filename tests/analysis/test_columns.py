"""Param columns: a leaderboard or runs table shows the params that tell its runs apart."""

from __future__ import annotations

from daybook.analysis.columns import (
    all_keys,
    constant_params,
    param_columns,
    prefix_groups,
    prefix_of,
    varying_params,
)
from daybook.core.snapshot import Run
from daybook.safety.redact import MASK


def run(rid: str, **params: str) -> Run:
    return Run(
        run_id=rid,
        experiment_id="1",
        name=rid,
        status="FINISHED",
        start_time=0,
        end_time=1,
        user="u",
        artifact_uri="",
        params=params,
        metrics={},
    )


RUNS = [
    run("a", lr="0.1", depth="3", optimizer="adam", api_token=MASK, seed="1"),
    run("b", lr="0.2", depth="3", optimizer="adam", api_token=MASK, seed="2"),
    run("c", lr="0.3", depth="5", optimizer="adam", api_token=MASK, seed="1"),
    run("d", lr="0.4", depth="5", optimizer="adam", api_token=MASK),
]


def test_a_constant_param_never_gets_a_column() -> None:
    assert "optimizer" not in varying_params(RUNS)


def test_a_masked_param_never_gets_a_column_even_when_it_varies() -> None:
    runs = [run("a", api_token=MASK, lr="1"), run("b", api_token="visible", lr="2")]
    assert varying_params(runs) == ["lr"]
    assert param_columns(runs, 5, chosen=["api_token"]) == ["lr"]


def test_params_that_vary_more_come_first_then_by_name() -> None:
    # lr: 4 values; seed: 1, 2 and "absent" make 3; depth: 2 values.
    assert varying_params(RUNS) == ["lr", "seed", "depth"]
    ties = [run("a", b="1", a="1"), run("b", b="2", a="2")]
    assert varying_params(ties) == ["a", "b"]


def test_a_param_some_runs_lack_varies() -> None:
    runs = [run("a", tag="x"), run("b")]
    assert varying_params(runs) == ["tag"]


def test_the_limit_caps_the_columns() -> None:
    assert param_columns(RUNS, 2) == ["lr", "seed"]
    assert param_columns(RUNS, 0) == []


def test_the_sites_choice_comes_first_in_its_order() -> None:
    # Chosen keys are shown even when constant (the site asked), unknown keys are skipped.
    assert param_columns(RUNS, 3, chosen=["optimizer", "nope", "depth"]) == [
        "optimizer",
        "depth",
        "lr",
    ]


def test_no_runs_no_columns() -> None:
    assert param_columns([], 4) == []
    assert param_columns([run("only", lr="1")], 4) == []


# --- wide experiments (issue #15) -----------------------------------------------------------------


def test_a_key_s_group_is_its_first_dotted_or_slashed_part() -> None:
    assert prefix_of("optimizer.lr") == "optimizer."
    assert prefix_of("model.encoder.depth") == "model."
    assert prefix_of("train/loss") == "train/"
    assert prefix_of("lr") == prefix_of(".hidden") == ""


def test_groups_are_sorted_with_the_ungrouped_keys_last() -> None:
    keys = ["seed", "optimizer.lr", "model.depth", "lr", "optimizer.beta", "lr"]
    assert prefix_groups(keys) == [
        ("model.", ["model.depth"]),
        ("optimizer.", ["optimizer.beta", "optimizer.lr"]),
        ("", ["lr", "seed"]),
    ]


def test_constant_params_are_those_every_run_has_with_one_value() -> None:
    assert constant_params(RUNS) == {"api_token": MASK, "optimizer": "adam"}
    assert constant_params(RUNS[:1]) == {}  # one run: nothing to be constant across
    assert constant_params([run("a", x="1"), run("b")]) == {}  # a run without it


def test_all_keys_lists_every_param_and_metric_once() -> None:
    assert all_keys(RUNS) == (["api_token", "depth", "lr", "optimizer", "seed"], [])
