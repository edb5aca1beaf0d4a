# ruff: noqa: F811  (the session fixtures imported from review_store are used as arguments)
"""Comparisons: a run against its parent, the best run and the champion's run; a sweep's
children side by side. Direction-aware: a lower loss is better."""

from __future__ import annotations

import pytest

from daybook.analysis.compare import compare, delta, references, sweep
from daybook.analysis.ranking import Primary
from daybook.core.snapshot import Snapshot
from review_store import review_config, review_snapshot, review_store  # noqa: F401

LOSS = Primary("val_loss", "minimize", True)


def _runs(snapshot: Snapshot, experiment: str = "train"):
    eid = next(e.experiment_id for e in snapshot.experiments if e.name == experiment)
    return {r.name: r for r in snapshot.runs if r.experiment_id == eid}


def test_a_sweep_child_against_parent_best_and_champion(review_snapshot: Snapshot) -> None:
    runs = _runs(review_snapshot)
    child = runs["sweep-lr-0.1"]
    refs = references(child, list(runs.values()), LOSS, review_snapshot.models)
    roles = {ref.run.name: ref.roles for ref in refs}
    assert roles["sweep"] == ("parent",)
    assert roles["new-best"] == ("best",)
    assert roles["sweep-lr-0.01"] == ("@champion of m (v2)",)  # v2's source run
    c = compare(child, refs, LOSS)
    [row] = [m for m in c.metrics if m.key == "val_loss"]
    assert c.metrics[0].key == "val_loss"  # the primary metric first
    by_ref = dict(zip((ref.run.name for ref in refs), row.deltas, strict=True))
    expected = child.metric("val_loss") - 0.4
    assert by_ref["new-best"].verdict == "worse"
    assert by_ref["new-best"].delta == pytest.approx(expected)
    params = {p.key: p for p in c.params}
    assert params["depth"].differs == (True, False, False)  # only the parent lacks it
    assert "lr" in params and c.same_params == 0
    assert params["search"].value is None and params["search"].others[0] == "grid"


def test_no_self_comparison_and_roles_merge(review_snapshot: Snapshot) -> None:
    runs = _runs(review_snapshot)
    best = runs["new-best"]
    refs = references(best, list(runs.values()), LOSS, review_snapshot.models)
    assert best.run_id not in {ref.run.run_id for ref in refs}


def test_delta_direction_and_bad_values() -> None:
    assert delta(0.4, 0.5, "minimize").verdict == "better"
    assert delta(0.4, 0.5, "maximize").verdict == "worse"
    assert delta(0.5, 0.5, "maximize").verdict == "equal"
    assert delta(float("nan"), 0.5, "maximize").delta is None
    assert delta(0.5, None, "maximize").verdict is None
    assert delta(0.6, 0.5, "maximize").relative == pytest.approx(0.2)


def test_sweep_side_by_side(review_snapshot: Snapshot) -> None:
    runs = _runs(review_snapshot)
    kids = [r for r in runs.values() if r.parent_id == runs["sweep"].run_id]
    sw = sweep(runs["sweep"], kids, LOSS)
    assert [c.name for c in sw.children] == ["sweep-lr-0.01", "sweep-lr-0.1", "sweep-lr-0.001"]
    assert sw.varying == ("lr",) and ("depth", "3") in sw.constant
    assert sw.metrics[0] == "val_loss" and sw.best is not None and sw.best.name == "sweep-lr-0.01"
    assert sw.verdict(sw.children[0], "val_loss") == "better"
    assert sw.verdict(sw.children[1], "val_loss") is None
