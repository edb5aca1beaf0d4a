"""MLflow URIs in notes: found in prose only, resolved against a real store's snapshot, and turned
into backlinks with the sentence around them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daybook.analysis.references import (
    Catalog,
    context,
    find_references,
    parse_uri,
    resolve_journal,
    resolve_run_ids,
    run_keys,
)
from daybook.core.snapshot import Journal, Note, Run, Snapshot


def _note(source: str, body: str, day: dt.date | None = dt.date(2026, 11, 24), **kw) -> Note:
    return Note(
        source=source,
        page=source,
        date=day,
        time=kw.pop("time", None),
        authors=kw.pop("authors", ("alice",)),
        type=kw.pop("type", "daily"),
        tags=(),
        title=kw.pop("title", source),
        body=body,
        body_line=kw.pop("body_line", 1),
        **kw,
    )


# --- finding --------------------------------------------------------------------------------------


def test_bare_angle_and_link_forms_are_found_with_their_lines() -> None:
    body = (
        "Ran runs:/1a2b3c4d5e, then [the baseline](runs:/abcdef0123456789).\n"
        "Promoted <models:/my model/3> and models:/churn@champion; see experiments:/churn.\n"
        "Also [it](<models:/my%20model/2>) and (runs:/0011223344).\n"
    )
    refs = find_references(body, first_line=5)
    assert [(r.form, r.kind, r.key, r.detail, r.line) for r in refs] == [
        ("bare", "run", "1a2b3c4d5e", "", 5),
        ("link", "run", "abcdef0123456789", "", 5),
        ("angle", "model_version", "my model", "3", 6),
        ("bare", "model_alias", "churn", "champion", 6),
        ("bare", "experiment", "churn", "", 6),
        ("link", "model_version", "my model", "2", 7),  # percent-decoded in link targets
        ("bare", "run", "0011223344", "", 7),
    ]
    assert refs[1].label == "the baseline"
    assert body[refs[1].start : refs[1].end] == "[the baseline](runs:/abcdef0123456789)"
    assert body[refs[0].start : refs[0].end] == "runs:/1a2b3c4d5e"  # no trailing comma


def test_code_spans_and_blocks_are_not_searched() -> None:
    body = (
        "Use `runs:/1a2b3c4d5e` to refer to a run.\n\n"
        "```text\nruns:/ffffffffff\n```\n\n"
        "~~~\nmodels:/x/1\n~~~\n"
        "But runs:/0123456789 counts.\n"
    )
    assert [r.key for r in find_references(body)] == ["0123456789"]


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("runs:/abc/model/MLmodel", ("run", "abc", "model/MLmodel")),
        ("models:/churn/latest", ("model_version", "churn", "latest")),
        ("models:/cat.schema.churn@prod", ("model_alias", "cat.schema.churn", "prod")),
        ("models:/churn", ("model", "churn", "")),
        ("models:/m-0123abcd", ("model", "m-0123abcd", "")),
        ("experiments:/12", ("experiment", "12", "")),
        ("experiments:/Users/a/exp/", ("experiment", "Users/a/exp", "")),
    ],
)
def test_parse_uri(uri: str, parsed: tuple[str, str, str]) -> None:
    assert parse_uri(uri) == parsed


@given(st.text(alphabet=st.sampled_from(list("ab `\n[]()<>:/rusnmodelx@0123456789")), max_size=80))
def test_every_reference_is_inside_the_text_and_spells_its_uri(text: str) -> None:
    for ref in find_references(text):
        assert 0 <= ref.start < ref.end <= len(text)
        if ref.form != "link":
            assert ref.uri in text[ref.start : ref.end]


# --- resolving against the store -----------------------------------------------------------------


def test_run_ids_and_unambiguous_prefixes_resolve(snapshot: Snapshot, store) -> None:
    catalog = Catalog(snapshot)
    rid = store.runs["child1"]
    for key in (rid, rid[:8], rid[:12].upper()):
        [ref] = find_references(f"runs:/{key}")
        res = catalog.resolve(ref)
        assert res.target is not None, res.reason
        assert (res.target.kind, res.target.key) == ("run", rid)
        assert res.target.label == f"sweep-lr-0.05 ({rid[:8]})"


def test_a_short_prefix_and_an_unknown_run_say_why(snapshot: Snapshot) -> None:
    catalog = Catalog(snapshot)
    [short, missing] = find_references("runs:/1234567 and runs:/ffffffffffff")
    assert "needs at least 8 characters" in catalog.resolve(short).reason
    reason = catalog.resolve(missing).reason
    assert reason.startswith("runs:/ffffffffffff: no run with this id among the")


def test_an_ambiguous_prefix_lists_the_candidates() -> None:
    runs = tuple(
        Run(rid, "1", f"r{i}", "FINISHED", 0, 1, "u", "")
        for i, rid in enumerate(["abcdef0011", "abcdef0022", "99999999"])
    )
    catalog = Catalog(Snapshot("uri", (), runs, ()))
    [ref] = find_references("runs:/abcdef00")
    assert "2 runs start with 'abcdef00' (abcdef0011, abcdef0022…)" in catalog.resolve(ref).reason
    assert resolve_run_ids(
        ["abcdef00", "abcdef0011", "9999999", "99999999"], [r.run_id for r in runs]
    ) == {
        "abcdef0011",
        "99999999",
    }


def test_models_versions_aliases_and_experiments_resolve(snapshot: Snapshot, store) -> None:
    catalog = Catalog(snapshot)
    body = (
        "models:/digits-clf/1 models:/digits-clf@champion models:/digits-clf/latest "
        "models:/digits-clf experiments:/regression "
        f"experiments:/{store.experiments['classifier']} <experiments:/My Model>"
    )
    got = [catalog.resolve(r).target for r in find_references(body)]
    assert all(t is not None for t in got)
    assert [(t.kind, t.key, t.version, t.label) for t in got] == [  # type: ignore[union-attr]
        ("model", "digits-clf", 1, "digits-clf v1"),
        ("model", "digits-clf", 2, "digits-clf@champion (v2)"),
        ("model", "digits-clf", 3, "digits-clf v3"),
        ("model", "digits-clf", None, "digits-clf"),
        ("experiment", store.experiments["regression"], None, "regression"),
        ("experiment", store.experiments["classifier"], None, "classifier"),
        ("experiment", store.experiments["My Model"], None, "My Model"),
    ]


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("models:/digits-clf/9", "model 'digits-clf' has no version 9 (versions 1–3)"),
        ("models:/digits-clf@prod", "has no alias 'prod' (aliases: challenger, champion)"),
        ("models:/nope/1", "no registered model named 'nope'"),
        ("models:/m-0123abcd", "looks like a logged model id"),
        ("models:/empty-model/latest", "model 'empty-model' has no versions yet"),
        ("experiments:/nope", "no experiment with this name or id"),
    ],
)
def test_what_does_not_resolve_says_why(snapshot: Snapshot, uri: str, reason: str) -> None:
    [ref] = find_references(uri)
    res = Catalog(snapshot).resolve(ref)
    assert res.target is None
    assert res.reason.startswith(uri + ": ")
    assert reason in res.reason


# --- backlinks ------------------------------------------------------------------------------------


def test_the_context_is_the_sentence_with_labels_in_place_of_uris(
    snapshot: Snapshot, store
) -> None:
    rid = store.runs["child1"]
    body = (
        "## Experiments\n\n"
        f"- Morning. Tried **more** trees in runs:/{rid[:8]}, and [the old one](runs:/{rid}) "
        "lost. Next: `tune` it.\n"
        "- Unrelated line.\n"
    )
    journal = Journal((_note("notes/a.md", body),), docs_prefix="docs")
    refs = resolve_journal(journal, snapshot)
    first = refs.by_note["notes/a.md"][0]
    assert context(body, first.ref, refs.by_note["notes/a.md"]) == (
        f"Tried more trees in sweep-lr-0.05 ({rid[:8]}), and the old one lost."
    )


def test_mentions_are_newest_first_and_unpublished_notes_give_none(
    snapshot: Snapshot, store
) -> None:
    rid = store.runs["failed"]
    notes = (
        _note("notes/old.md", f"First runs:/{rid}.", dt.date(2026, 11, 20)),
        _note("notes/new.md", f"Again runs:/{rid[:10]}. And runs:/{rid}.", dt.date(2026, 11, 25)),
        _note("notes/same-day.md", f"runs:/{rid}", dt.date(2026, 11, 25), time=dt.time(9)),
        _note("notes/draft.md", f"runs:/{rid}", dt.date(2026, 11, 26), draft=True),
        _note("notes/undated.md", f"runs:/{rid} runs:/0000000000", None),
    )
    refs = resolve_journal(Journal(notes, docs_prefix="docs"), snapshot)
    assert [m.note.source for m in refs.mentions_of("run", rid)] == [
        "notes/same-day.md",
        "notes/new.md",
        "notes/old.md",
    ]
    # Unpublished notes are still checked.
    [problem] = refs.problems
    assert problem.path == "docs/notes/undated.md" and problem.line == 1
    assert problem.message.startswith("runs:/0000000000: no run")


def test_run_keys_are_what_published_notes_mention() -> None:
    notes = (
        _note("notes/a.md", "runs:/abcdef0123 and `runs:/ffffffffff` and models:/x/1"),
        _note("notes/b.md", "runs:/0123456789", draft=True),
    )
    assert run_keys(Journal(notes)) == ["abcdef0123"]
