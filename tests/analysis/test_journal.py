"""Decisions, action items, the digest of a new daily note, and the checks across notes."""

from __future__ import annotations

import datetime as dt

from daybook.analysis.journal import (
    as_of,
    digest,
    duplicate_days,
    journal_items,
    journal_problems,
    note_items,
    previous_note,
)
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import (
    AliasEvent,
    Author,
    Experiment,
    Journal,
    ModelVersion,
    Note,
    RegisteredModel,
    Run,
    Snapshot,
)
from store_builder import T0

MEETING = """\
**Attendees:** @alice, @bob

## Notes

- [ ] @carol not in the authors file
- Talked about runs:/1234567890.

## Decisions

- Promote models:/churn/3 to champion.
- Keep the old features
  for one more week.
  - a nested detail is not a decision
- [ ] @bob move the alias

```text
## Decisions
- not a decision, it is code
- [ ] not a task
```

## Action items

1. [x] @alice retrain
2. [ ] write the checklist
* [X] @bob done too
"""


def _note(body: str, kind: str = "meeting", **kw) -> Note:
    return Note(
        source=kw.pop("source", "notes/m.md"),
        page=kw.pop("page", "notes/m.md"),
        date=kw.pop("date", dt.date(2026, 11, 21)),
        time=None,
        authors=kw.pop("authors", ("alice",)),
        type=kind,
        tags=(),
        title=kw.pop("title", "Model review"),
        body=body,
        body_line=kw.pop("body_line", 7),
        **kw,
    )


def test_decisions_and_action_items_of_a_meeting() -> None:
    decisions, actions = note_items(_note(MEETING))
    assert [(d.text, d.line) for d in decisions] == [
        ("Promote models:/churn/3 to champion.", 16),
        ("Keep the old features\n  for one more week.", 17),
    ]
    assert [(a.text, a.owner, a.done, a.line) for a in actions] == [
        ("@carol not in the authors file", "carol", False, 11),
        ("@bob move the alias", "bob", False, 20),
        ("@alice retrain", "alice", True, 30),
        ("write the checklist", "", False, 31),
        ("@bob done too", "bob", True, 32),
    ]
    body = MEETING
    d = decisions[0]
    assert body[d.start : d.end] == d.text


def test_daily_notes_contribute_nothing_and_a_decision_record_is_its_title() -> None:
    assert note_items(_note(MEETING, kind="daily")) == ([], [])
    decisions, _ = note_items(_note("## Context\n\nWhy.\n", kind="decision", title="Use GBMs"))
    assert [(d.text, d.start) for d in decisions] == [("Use GBMs", -1)]
    assert note_items(_note(MEETING, draft=True)) == ([], [])


def test_journal_items_are_oldest_first_and_count_closed_ones() -> None:
    later = _note("## Decisions\n\n- Later.\n- [ ] @alice later task\n", source="notes/b.md",
                  date=dt.date(2026, 11, 25))  # fmt: skip
    items = journal_items(Journal((later, _note(MEETING))))
    assert [d.text for d in items.decisions][-1] == "Later."
    assert [a.text for a in items.open_actions] == [
        "@carol not in the authors file",
        "@bob move the alias",
        "write the checklist",
        "@alice later task",
    ]
    assert items.closed_actions == 2


def test_unknown_owners_duplicate_days_and_secrets_are_problems() -> None:
    authors = {a: Author(a, a.title()) for a in ("alice", "bob")}
    notes = (
        _note(MEETING),
        _note("One.", kind="daily", source="notes/2026-11-21-alice.md"),
        _note("Two. api_key = abcd1234efgh5678", kind="daily", source="notes/x.md", body_line=5),
        _note("Mine.", kind="daily", source="notes/y.md", authors=("bob",)),
    )
    problems = journal_problems(Journal(notes, authors, docs_prefix="docs"), ["api_key"])
    got = [(p.path, p.line, p.level, p.code) for p in problems]
    assert got == [
        ("docs/notes/m.md", 11, "warning", "note.owner"),
        ("docs/notes/x.md", 1, "error", "note.duplicate"),
        ("docs/notes/x.md", 5, "error", "note.secret"),
    ]
    assert "a second daily note by 'alice' for 2026-11-21 (the first is docs/notes/2026" in (
        problems[1].message
    )
    assert duplicate_days(Journal(notes[1:2])) == []


def test_as_of_is_the_latest_day_in_the_journal_or_the_store(snapshot: Snapshot) -> None:
    store_day = dt.datetime.fromtimestamp(
        max(t for r in snapshot.runs for t in (r.start_time, r.end_time) if t) / 1000, tz=dt.UTC
    ).date()
    versions = [v.creation_time for m in snapshot.models for v in m.versions if v.creation_time]
    if versions:
        store_day = max(
            store_day, dt.datetime.fromtimestamp(max(versions) / 1000, tz=dt.UTC).date()
        )
    assert as_of(Journal(), snapshot) == store_day
    future = _note("x", date=store_day + dt.timedelta(days=3))
    assert as_of(Journal((future,)), snapshot) == store_day + dt.timedelta(days=3)


def test_previous_note_is_the_authors_latest_before_the_day() -> None:
    notes = (
        _note("a", source="notes/1.md", date=dt.date(2026, 11, 20)),
        _note("b", source="notes/2.md", date=dt.date(2026, 11, 24)),
        _note("c", source="notes/3.md", date=dt.date(2026, 11, 24), authors=("bob",)),
        _note("d", source="notes/4.md", date=dt.date(2026, 11, 26)),
    )
    prev = previous_note(Journal(notes), "alice", dt.date(2026, 11, 26))
    assert prev is not None and prev.source == "notes/2.md"
    assert previous_note(Journal(notes), "alice", dt.date(2026, 11, 20)) is None


# --- the digest -----------------------------------------------------------------------------------


def test_the_digest_of_the_real_store(snapshot: Snapshot, store) -> None:
    config = DaybookConfig.model_validate(
        {"primary_metrics": [{"experiment": "regression", "metric": "val_rmse"}]}
    )
    d = digest(config, snapshot, T0, T0 + 60 * 60_000)  # the store's first hour
    finished = {e.name: [r.run_id for r in runs] for e, runs in d.finished}
    assert store.runs["parent"] in finished["classifier"]
    assert store.runs["running"] not in finished["classifier"]  # still running
    assert [r.run_id for r in d.failed] == [store.runs["failed"]]
    bests = {b.experiment.name: b for b in d.bests}
    assert bests["regression"].run.run_id == store.runs["reg1"]  # val_rmse 2.5: lowest
    assert bests["regression"].previous is None  # nothing finished before the window
    assert d.versions == []  # registered long after T0


def test_a_new_best_must_beat_what_finished_before() -> None:
    def run(rid: str, end: int, auc: float) -> Run:
        return Run(rid, "1", rid, "FINISHED", end - 10, end, "u", "",
                   metrics={"val_auc": auc})  # fmt: skip

    exp = Experiment("1", "churn", "", 0, 0)
    snap = Snapshot("u", (exp,), (run("old", 100, 0.9), run("new", 300, 0.85)), ())
    assert digest(DaybookConfig(), snap, 200, 400).bests == []
    snap = Snapshot("u", (exp,), (run("old", 100, 0.9), run("new", 300, 0.95)), ())
    [best] = digest(DaybookConfig(), snap, 200, 400).bests
    assert (best.run.run_id, best.previous.run_id, best.previous_value) == ("new", "old", 0.9)  # type: ignore[union-attr]


def test_versions_and_alias_changes_in_the_window() -> None:
    versions = tuple(
        ModelVersion("churn", v, t, t, "", "READY", "", "", "u") for v, t in ((1, 100), (2, 300))
    )
    model = RegisteredModel("churn", "", 0, 0, aliases={"champion": 1, "challenger": 2},
                            versions=versions)  # fmt: skip
    snap = Snapshot("u", (), (), (model,))
    events = (
        AliasEvent(50, "churn", "champion", None, 1, "baseline"),
        AliasEvent(250, "churn", "champion", 2, 1, "moved"),
    )
    d = digest(DaybookConfig(), snap, 200, 400, events)
    assert [v.version for v in d.versions] == [2]
    assert [(a.alias, a.version, a.previous) for a in d.aliases] == [
        ("champion", 1, 2),  # observed by a build: a rollback
        ("challenger", 2, None),  # points at a version registered in the window
    ]
    assert digest(DaybookConfig(), snap, 400, 500, events).empty


def test_action_items_carry_a_due_date_and_are_overdue_after_it() -> None:
    body = (
        "- [ ] @bob fix the loader (due 2026-12-05)\n"
        "- [ ] @alice write it up (Due: 2026-11-20)\n"
        "- [ ] @carol no date (due tomorrow)\n"
        "- [ ] @dave not a real day (due 2026-02-30)\n"
        "- [x] @erin shipped (due 2026-11-01)\n"
    )
    _, actions = note_items(_note(body))
    assert [a.due for a in actions] == [dt.date(2026, 12, 5), dt.date(2026, 11, 20), None, None,
                                        dt.date(2026, 11, 1)]  # fmt: skip
    today = dt.date(2026, 12, 1)
    assert [a.overdue(today) for a in actions] == [False, True, False, False, False]  # done: no
    assert actions[0].age(today) == 10  # aged from today, not from the journal's latest day
    items = journal_items(Journal((_note(body),)))
    assert [a.owner for a in items.overdue(today)] == ["alice"]
    assert [a.owner for a in items.done_actions] == ["erin"] and items.closed_actions == 1
