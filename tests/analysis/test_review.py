# ruff: noqa: F811  (the session fixtures imported from review_store are used as arguments)
"""The morning review of a real store against a fixed reference point: new and finished runs
with their standing, new bests, failures, versions, alias moves and data updates."""

from __future__ import annotations

import pytest

from daybook.analysis.review import build_review, data_updates, recent_runs
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import AliasEvent, Snapshot
from review_store import SINCE, T0, review_config, review_snapshot, review_store  # noqa: F401


@pytest.fixture(scope="module")
def review(review_config: DaybookConfig, review_snapshot: Snapshot):
    return build_review(review_config, review_snapshot, SINCE)


def test_runs_per_experiment_with_their_standing(review) -> None:
    [train] = [a for a in review.activity if a.experiment.name == "train"]
    names = [c.run.name for c in train.changes]
    assert names[-2:] == ["new-worse", "new-best"]  # newest first
    assert (train.started, train.failed) == (6, 2)
    by_name = {c.run.name: c for c in train.changes}
    best, worse = by_name["new-best"], by_name["new-worse"]
    assert best.best_before == pytest.approx(0.5)  # old-best; lower is better for a loss
    assert (best.verdict, worse.verdict) == ("better", "worse")
    assert best.delta == pytest.approx(-0.1) and worse.delta == pytest.approx(0.45)
    assert by_name["no-metrics"].value is None and by_name["no-metrics"].verdict is None
    # Evaluations before the reference point are not news; the last two days' are.
    [mon] = [a for a in review.activity if a.experiment.name == "monitoring"]
    assert [c.run.name for c in mon.changes] == ["eval-day6", "eval-day5"]


def test_new_best_old_to_new(review) -> None:
    [b] = review.bests
    assert (b.experiment.name, b.run.name, b.previous.name) == ("train", "new-best", "old-best")
    assert (b.value, b.previous_value) == (pytest.approx(0.4), pytest.approx(0.5))


def test_failed_and_killed(review) -> None:
    assert sorted(r.name for r in review.failed) == ["crashed", "killed"]


def test_versions_and_alias_moves_without_history(review) -> None:
    # MLflow stamped both versions with the wall clock: both are new, and so are the aliases
    # that point at them (without an alias history that is all that can be known).
    assert sorted(v.version for v in review.versions) == [1, 2]
    assert sorted((a.alias, a.version, a.previous) for a in review.aliases) == [
        ("challenger", 1, None), ("champion", 2, None)]  # fmt: skip
    assert not review.aliases_known


def test_alias_moves_from_the_history(review_config, review_snapshot) -> None:
    history = [
        AliasEvent(SINCE - 1000, "m", "champion", None, 1, "baseline"),
        AliasEvent(SINCE + 1000, "m", "champion", 1, 2, "moved"),
    ]
    r = build_review(review_config, review_snapshot, SINCE, history)
    assert ("m", "champion", 2, 1) in [(a.model, a.alias, a.version, a.previous)
                                       for a in r.aliases]  # fmt: skip
    assert r.aliases_known


def test_data_update_keyed_by_name_and_context(review, review_snapshot) -> None:
    [u] = review.data_updates
    assert (u.name, u.context, u.digest, u.previous) == ("patients", "training", "bbb", ("aaa",))
    assert [r.name for r in u.runs] == ["new-best", "new-worse"]
    # From the start of time nothing is an update: a name never seen before is new data.
    assert data_updates(review_snapshot.runs, T0 - 1) == []


def test_the_review_depends_only_on_the_reference_point(review_config, review_snapshot) -> None:
    a = build_review(review_config, review_snapshot, SINCE)
    b = build_review(review_config, review_snapshot, SINCE)
    assert a == b
    later = build_review(review_config, review_snapshot, SINCE + 10**12)
    assert later.empty and later.run_ids == set()
    assert {r.name for r in recent_runs(review_snapshot.runs, SINCE)} >= {"crashed", "killed"}
