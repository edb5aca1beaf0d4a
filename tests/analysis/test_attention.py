"""The "Needs attention" list: every kind of trouble in one ranked list, failing monitors first,
one line each with what to link to."""

from __future__ import annotations

import datetime as dt

from daybook.analysis.attention import (
    Attention,
    StaleCard,
    challengers,
    needs_attention,
    per_kind,
    stuck_runs,
)
from daybook.analysis.journal import journal_items
from daybook.analysis.monitors import evaluate_monitors
from daybook.analysis.review import build_review
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import (
    Experiment,
    Journal,
    ModelVersion,
    Note,
    RegisteredModel,
    Run,
    Snapshot,
)

HOUR = 3_600_000
NOW = 1_764_579_600_000  # 2025-12-01 09:00 UTC


def _run(rid: str, status: str = "FINISHED", start: int = NOW - 30 * HOUR, **values: float) -> Run:
    end = None if status == "RUNNING" else start + HOUR
    metrics = dict(values)
    return Run(rid * 8, "1", rid, status, start, end, "alice", "", metrics=metrics)


def _version(v: int, run: str) -> ModelVersion:
    return ModelVersion("churn", v, NOW - 40 * HOUR + v, None, "", "READY", "", run * 8, "alice")


def _snapshot() -> Snapshot:
    runs = (
        _run("a", val_auc=0.90),  # the champion's run
        _run("b", val_auc=0.93),  # a newer version's run that beats it
        _run("c", val_auc=0.80),  # a newer version that does not
        _run("d", "FAILED", NOW - 2 * HOUR),
        _run("e", "RUNNING", NOW - 13 * HOUR),  # stuck: RUNNING for 13 h > 12 h
        _run("f", "RUNNING", NOW - 2 * HOUR),  # merely running
    )
    versions = (_version(1, "a"), _version(2, "b"), _version(3, "c"))
    model = RegisteredModel("churn", "", NOW - 50 * HOUR, None, aliases={"champion": 1},
                            versions=versions)  # fmt: skip
    exp = Experiment("1", "churn-train", "", None, None)
    return Snapshot("sqlite:///x.db", (exp,), runs, (model,))


def _config() -> DaybookConfig:
    return DaybookConfig.model_validate({
        "primary_metrics": [{"experiment": "churn-train", "metric": "val_auc"}],
        "monitors": [
            {"name": "auc warn", "experiment": "churn-train", "metric": "val_auc",
             "warn": {"min": 0.95}},
            {"name": "auc fail", "experiment": "churn-train", "metric": "val_auc", "min": 0.99},
        ],
    })  # fmt: skip


def test_everything_in_one_list_failing_monitor_first() -> None:
    config, snap = _config(), _snapshot()
    review = build_review(config, snap, NOW - 24 * HOUR)
    note = Note(source="notes/m.md", page="notes/m.md", date=dt.date(2025, 11, 20), time=None,
                authors=("bob",), type="meeting", tags=(), title="Sync",
                body="- [ ] @bob fix the loader (due 2025-11-28)\n", body_line=5)  # fmt: skip
    today = dt.date(2025, 12, 1)
    overdue = journal_items(Journal((note,))).overdue(today)
    stale = [StaleCard("churn", NOW - 100 * HOUR, 3, NOW - 40 * HOUR)]
    items = needs_attention(config, snap, review, evaluate_monitors(config, snap), NOW,
                            stale, overdue, today)  # fmt: skip
    assert [(a.kind, a.level, a.title) for a in items] == [
        ("monitor", "fail", "auc fail"),
        ("monitor", "warn", "auc warn"),
        ("failed", "fail", "d (dddddddd)"),
        ("stuck", "warn", "e (eeeeeeee)"),
        ("challenger", "warn", "churn v2"),
        ("card", "warn", "churn"),
        ("action", "warn", "@bob fix the loader (due 2025-11-28)"),
    ]
    assert [a.target for a in items][2:] == [
        ("run", "d" * 8), ("run", "e" * 8), ("model", "churn", "2"), ("card", "churn"),
        ("note", "notes/m.md", "5"),
    ]  # fmt: skip
    assert items[3].detail == "RUNNING for 13 h (since 2025-11-30 20:00 UTC)"
    assert items[4].detail == "val_auc 0.93 beats @champion v1 (0.9)"
    assert items[6].detail == "due 2025-11-28, 3 days overdue"
    assert len({a.key for a in items}) == len(items)  # stable ids, one per line


def test_all_clear_when_nothing_is_wrong() -> None:
    snap = Snapshot("sqlite:///x.db", (), (_run("a", val_auc=0.9),), ())
    config = DaybookConfig()
    review = build_review(config, snap, NOW - 24 * HOUR)
    assert needs_attention(config, snap, review, evaluate_monitors(config, snap), NOW) == []


def test_stuck_after_is_configurable_and_challengers_need_a_champion() -> None:
    snap = _snapshot()
    assert stuck_runs(snap.runs, NOW, 90 * 60_000)[-1].title == "f (ffffffff)"  # 2 h > 90 min
    assert [a.title for a in stuck_runs(snap.runs, NOW, 12 * HOUR)] == ["e (eeeeeeee)"]
    no_champion = Snapshot(snap.tracking_uri, snap.experiments, snap.runs,
                           tuple(RegisteredModel(m.name, "", None, None, versions=m.versions)
                                 for m in snap.models))  # fmt: skip
    assert challengers(_config(), no_champion) == []


def test_each_kind_is_cut_to_the_limit_and_says_how_many_more() -> None:
    """2,000 runs left RUNNING make ten lines and one count, not a 700 KB home page; other kinds
    keep their lines and the list its rank order."""
    stuck = [Attention("stuck", "warn", f"run {i}", "RUNNING for 13h", ("run", f"r{i}"))
             for i in range(2000)]  # fmt: skip
    monitor = Attention("monitor", "fail", "acc", "below 0.9", ("monitor", "acc"))
    failed = [Attention("failed", "fail", f"f{i}", "failed", ("run", f"f{i}")) for i in range(3)]
    shown, more = per_kind([monitor, *failed, *stuck], 10)
    assert shown == [monitor, *failed, *stuck[:10]]
    assert more == [("stuck", 1990)]
    assert per_kind(failed, 10) == (failed, [])
