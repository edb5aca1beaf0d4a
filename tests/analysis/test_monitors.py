# ruff: noqa: F811  (the session fixtures imported from review_store are used as arguments)
"""Monitors evaluated against a real MLflow store: statuses with their evidence, and config
mistakes reported with the daybook.yml key they come from."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from daybook.analysis.monitors import evaluate_monitor, evaluate_monitors
from daybook.core.config import DaybookConfig, Monitor
from daybook.core.snapshot import Snapshot
from review_store import review_config, review_snapshot, review_store  # noqa: F401


def _one(snapshot: Snapshot, **fields: object):
    monitor = Monitor.model_validate({"name": "t", "metric": "accuracy", **fields})
    return evaluate_monitor(0, monitor, snapshot, "t")


def test_the_champion_fails_on_its_latest_evaluation(
    review_config: DaybookConfig, review_snapshot: Snapshot
) -> None:
    r = evaluate_monitors(review_config, review_snapshot).results[0]
    assert (r.status, r.model, r.alias, r.version) == ("fail", "m", "champion", 2)
    assert r.latest is not None and r.latest.run.name == "eval-day6"
    assert r.latest.value == pytest.approx(0.88)
    # Baseline: the first evaluation of the version the alias points at (v2, day 3: 0.96).
    assert r.baseline is not None and r.baseline.value == pytest.approx(0.96)
    assert r.baseline.how == "first evaluation of v2"
    broken = {(c.level, c.rule) for c in r.checks if not c.passed}
    assert broken == {("fail", "min"), ("fail", "max_drop"), ("warn", "min")}
    assert "0.88 < min 0.9" in r.summary and "eval-day6" in r.summary
    # The trend holds every version's evaluations, each judged on its own.
    assert [e.version for e in r.evaluations] == [1, 1, 1, 2, 2, 2, 2]
    assert [e.status for e in r.evaluations][-3:] == ["ok", "warn", "fail"]
    assert ("min", 0.9, "fail") in r.thresholds
    assert any(label == "max_drop" and v == pytest.approx(0.96 * 0.95)
               for label, v, _ in r.thresholds)  # fmt: skip


def test_ok_and_warn(review_snapshot: Snapshot) -> None:
    assert _one(review_snapshot, model="models:/m@champion", min=0.8).status == "ok"
    warn = _one(review_snapshot, model="models:/m@champion", min=0.8, warn={"min": 0.9})
    assert warn.status == "warn" and "warn min 0.9" in warn.summary
    # A fixed version, and a relative drop against a fixed baseline run.
    fixed = _one(review_snapshot, model="models:/m/1", min=0.93)
    assert fixed.status == "ok" and fixed.latest and fixed.latest.run.name == "eval-day2"


def test_experiment_monitor_with_a_baseline_run(review_store, review_snapshot: Snapshot) -> None:
    base = review_store.runs["eval0"]
    r = _one(review_snapshot, experiment="monitoring", max_drop=0.05, baseline=base[:12])
    assert r.status == "fail" and r.baseline and r.baseline.how == "baseline run"
    assert "dropped 0.07" in r.summary
    loss = _one(review_snapshot, experiment="monitoring", metric="auc", max_drop="10%",
                baseline=base, direction="minimize")  # fmt: skip
    assert loss.status == "ok"  # lower is better: a falling auc is an improvement here


@pytest.mark.parametrize(
    ("fields", "key", "words"),
    [
        ({"model": "models:/mm@champion"}, "model", "no registered model named 'mm'"),
        ({"model": "models:/m@prod"}, "model", "has no alias @prod"),
        ({"model": "models:/m/7"}, "model", "has no version 7"),
        ({"experiment": "monitorin"}, "experiment", "did you mean 'monitoring'"),
        ({"experiment": "monitoring", "metric": "acc"}, "metric", "no run logged metric 'acc'"),
        (
            {"experiment": "monitoring", "max_drop": 0.1, "baseline": "nope"},
            "baseline",
            "no run with id 'nope'",
        ),
    ],
)
def test_config_mistakes_name_their_key(
    review_snapshot: Snapshot, fields: dict, key: str, words: str
) -> None:
    r = _one(review_snapshot, **{"min": 0.5, **fields})
    assert r.status == "error" and r.failing
    assert [p.loc for p in r.problems] == [("monitors", 0, key)]
    assert words in r.problems[0].message


def test_nothing_to_judge_is_a_warning(review_snapshot: Snapshot) -> None:
    runs = tuple(r for r in review_snapshot.runs if r.tags.get("model_version") != "2")
    r = _one(replace(review_snapshot, runs=runs), model="models:/m@champion", min=0.5)
    assert r.status == "warn" and not r.failing
    assert "no evaluation of m @champion (v2)" in r.summary and "was of v1" in r.summary


def test_a_nan_evaluation_fails(review_snapshot: Snapshot) -> None:
    last = max((r for r in review_snapshot.runs if r.name.startswith("eval-")),
               key=lambda r: r.start_time or 0)  # fmt: skip
    nan = replace(last, metrics={**last.metrics, "accuracy": math.nan})
    runs = tuple(nan if r.run_id == last.run_id else r for r in review_snapshot.runs)
    r = _one(replace(review_snapshot, runs=runs), model="models:/m@champion", min=0.5)
    assert r.status == "fail" and "NaN" in r.summary


def test_the_report_counts_worst_first(
    review_config: DaybookConfig, review_snapshot: Snapshot
) -> None:
    report = evaluate_monitors(review_config, review_snapshot)
    assert report.counts() == [("fail", 1), ("error", 2)]
    assert [p.key for p in report.problems] == ["monitors.1.model", "monitors.2.metric"]
    assert [r.name for r in [x.monitor for x in report.for_model("m")]] == ["m accuracy"]


def test_monitor_config_is_validated_with_lines(tmp_path) -> None:
    from daybook.core.config import load_config
    from daybook.core.errors import ConfigError

    (tmp_path / "daybook.yml").write_text(
        "monitors:\n  - name: a\n    model: churn@champion\n    metric: auc\n    min: 0.8\n"
    )
    with pytest.raises(ConfigError, match=r"daybook.yml:3: monitors.0.model: .*models:/NAME@ALIAS"):
        load_config(tmp_path)
    (tmp_path / "daybook.yml").write_text(
        "monitors:\n  - name: a\n    experiment: e\n    metric: auc\n    max_drop: 5 percent\n"
    )
    with pytest.raises(ConfigError, match=r"daybook.yml:5: monitors.0.max_drop"):
        load_config(tmp_path)
    (tmp_path / "daybook.yml").write_text(
        "monitors:\n  - name: a\n    experiment: e\n    metric: auc\n    max_drop: 0.1\n"
    )
    with pytest.raises(ConfigError, match=r"daybook.yml:2: monitors.0: .*baseline"):
        load_config(tmp_path)
    (tmp_path / "daybook.yml").write_text(
        "monitors:\n  - name: a\n    experiment: e\n    metric: auc\n    minimum: 1\n"
    )
    with pytest.raises(ConfigError, match=r"daybook.yml:5: monitors.0.minimum: unknown key"):
        load_config(tmp_path)
