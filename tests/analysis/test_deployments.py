"""Alias history: what each pull appends, and the timeline and holdings pages show."""

from __future__ import annotations

from daybook.analysis.deployments import (
    alias_state,
    holdings,
    holdings_by_version,
    observe,
    state_after,
    timeline,
)
from daybook.core.snapshot import AliasEvent, ModelVersion, RegisteredModel


def model(name: str, aliases: dict[str, int], versions: int = 3) -> RegisteredModel:
    vs = tuple(ModelVersion(name, n, 0, 0, "", "READY", "", "", "") for n in range(1, versions + 1))
    return RegisteredModel(name, "", 0, 0, aliases=aliases, versions=vs)


def test_the_first_pull_records_the_current_state_as_the_baseline() -> None:
    models = [model("b", {"prod": 1}), model("a", {"champion": 2, "challenger": 3})]
    events = observe((), models, 1000)
    assert [(e.model, e.alias, e.from_version, e.to_version, e.kind) for e in events] == [
        ("a", "challenger", None, 3, "baseline"),
        ("a", "champion", None, 2, "baseline"),
        ("b", "prod", None, 1, "baseline"),
    ]
    assert all(e.observed_at == 1000 for e in events)
    assert state_after(events) == alias_state(models)


def test_later_pulls_append_only_what_moved() -> None:
    history = observe((), [model("a", {"champion": 1, "old": 1})], 1000)
    now = [model("a", {"champion": 2, "new": 3})]
    events = observe(history, now, 2000)
    assert [(e.alias, e.from_version, e.to_version, e.kind) for e in events] == [
        ("champion", 1, 2, "moved"),
        ("new", None, 3, "set"),
        ("old", 1, None, "removed"),
    ]
    assert observe((*history, *events), now, 3000) == []  # nothing moved: nothing appended


def test_a_deleted_model_loses_its_aliases() -> None:
    history = observe((), [model("a", {"champion": 1})], 1000)
    events = observe(history, [], 2000)
    assert [(e.model, e.kind, e.from_version, e.to_version) for e in events] == [
        ("a", "removed", 1, None)
    ]


def test_holdings_say_when_each_version_held_which_alias() -> None:
    history = (
        AliasEvent(1000, "a", "champion", None, 1, "baseline"),
        AliasEvent(5000, "a", "champion", 1, 2, "moved"),
        AliasEvent(5000, "b", "champion", None, 7, "set"),
        AliasEvent(9000, "a", "challenger", None, 3, "set"),
        AliasEvent(9500, "a", "challenger", 3, None, "removed"),
    )
    hs = holdings("a", history)
    assert [(h.alias, h.version, h.start, h.start_known, h.end) for h in hs] == [
        ("champion", 1, 1000, False, 5000),  # a baseline: it may have pointed there before
        ("champion", 2, 5000, True, None),
        ("challenger", 3, 9000, True, 9500),
    ]
    by_version = holdings_by_version("a", history)
    assert sorted(by_version) == [1, 2, 3]
    assert [e.observed_at for e in timeline("a", history)] == [9500, 9000, 5000, 1000]
