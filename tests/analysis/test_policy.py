"""Which runs get a page of their own (every run is always in its experiment's table)."""

from __future__ import annotations

from daybook.analysis.policy import page_run_ids, shown_experiments
from daybook.core.config import DaybookConfig, ExperimentFilter, PrimaryMetric, RunPages
from daybook.core.snapshot import TAG_PARENT, Experiment, ModelVersion, RegisteredModel, Run

EXPS = [Experiment("1", "one", "", None, None), Experiment("2", "two", "", None, None)]


def run(rid: str, exp: str, acc: float | None = None, parent: str | None = None) -> Run:
    return Run(
        run_id=rid,
        experiment_id=exp,
        name=rid,
        status="FINISHED",
        start_time=0,
        end_time=1,
        user="u",
        artifact_uri="",
        metrics={} if acc is None else {"acc": acc},
        tags={TAG_PARENT: parent} if parent else {},
    )


# Experiment 1: a parent without metrics and its children; experiment 2: plain runs.
RUNS = [
    run("p", "1"),
    run("c1", "1", 0.1, parent="p"),
    run("c2", "1", 0.2, parent="p"),
    run("c3", "1", 0.3, parent="p"),
    run("x1", "2", 0.9),
    run("x2", "2", 0.8),
    run("x3", "2", 0.7),
    run("unscored", "2"),
    run("orphan", "2", 0.1, parent="deleted-parent"),
]
MODELS = [
    RegisteredModel(
        "m",
        "",
        None,
        None,
        versions=(
            ModelVersion("m", 1, None, None, "", "READY", "runs:/c1/model", "c1", "u"),
            ModelVersion("m", 2, None, None, "", "READY", "models:/m-1", "", "u"),
            ModelVersion("m", 3, None, None, "", "READY", "runs:/gone/m", "gone", "u"),
        ),
    )
]


def pages(**policy: object) -> set[str]:
    config = DaybookConfig(run_pages=RunPages(**policy))
    return page_run_ids(config, EXPS, RUNS, MODELS)


def test_the_default_policy_pages_leaders_parents_and_registered_runs() -> None:
    assert pages() == {"p", "c1", "c2", "c3", "x1", "x2", "x3", "orphan"}


def test_top_n_per_experiment_by_the_primary_metric() -> None:
    assert pages(top=1, parents=False, registered=False) == {"c3", "x1"}
    assert pages(top=2, parents=False, registered=False) == {"c3", "c2", "x1", "x2"}


def test_the_top_follows_the_configured_direction() -> None:
    config = DaybookConfig(
        primary_metrics=[PrimaryMetric(metric="acc", direction="minimize")],
        run_pages=RunPages(top=1, parents=False, registered=False),
    )
    assert page_run_ids(config, EXPS, RUNS, MODELS) == {"c1", "orphan"}


def test_runs_without_a_primary_value_get_no_page_from_the_top() -> None:
    assert "unscored" not in pages(top=1000)


def test_every_parent_gets_a_page() -> None:
    assert pages(top=0, registered=False) == {"p"}


def test_every_run_behind_a_model_version_gets_a_page() -> None:
    assert pages(top=0, parents=False) == {"c1"}


def test_no_top_no_parents_no_registered_no_pages() -> None:
    assert pages(top=0, parents=False, registered=False) == set()


def test_all_gives_every_run_a_page() -> None:
    assert pages(all=True, top=0, parents=False, registered=False) == {r.run_id for r in RUNS}


def test_extra_ids_get_a_page_when_the_run_exists() -> None:
    config = DaybookConfig(run_pages=RunPages(top=0, parents=False, registered=False))
    got = page_run_ids(config, EXPS, RUNS, MODELS, extra=["unscored", "no-such-run"])
    assert got == {"unscored"}


def test_runs_of_experiments_not_in_the_site_are_not_ranked() -> None:
    config = DaybookConfig(run_pages=RunPages(parents=False, registered=False))
    assert page_run_ids(config, EXPS[:1], RUNS, MODELS) == {"c1", "c2", "c3"}


def test_experiments_without_runs_are_hidden_unless_configured_otherwise() -> None:
    empty = Experiment("0", "Default", "", None, None)
    every = [empty, *EXPS]
    assert shown_experiments(DaybookConfig(), every, RUNS) == tuple(EXPS)
    keep = DaybookConfig(experiments=ExperimentFilter(hide_empty=False))
    assert shown_experiments(keep, every, RUNS) == tuple(every)
