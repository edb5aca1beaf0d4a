"""The typed front matter models of notes and model cards, and how their errors map to file lines:
one rule set, one message format (`key`: expected …), every error reported in line order, and
the valid keys still read."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from daybook.core.front_matter import (
    CardFrontMatter,
    FrontMatter,
    NoteFrontMatter,
    line_of,
    validate_front_matter,
)


def block(yaml_text: str) -> FrontMatter:
    """What the splitter makes of `---\\n{yaml_text}---\\n`: the block starts on file line 2."""
    return FrontMatter(
        meta={str(k): v for k, v in (yaml.safe_load(yaml_text) or {}).items()},
        node=yaml.compose(yaml_text, Loader=yaml.SafeLoader),
    )


def note(yaml_text: str) -> tuple[NoteFrontMatter, list[tuple[int, str, str, str]]]:
    value, problems = validate_front_matter(NoteFrontMatter, block(yaml_text), "n.md", "note.{key}")
    assert all(p.path == "n.md" for p in problems)
    return value, [(p.line, p.level, p.code, p.message) for p in problems]


# --- valid front matter ---------------------------------------------------------------------------


def test_nothing_given_means_the_defaults() -> None:
    value, problems = note("{}\n")
    assert problems == []
    assert (value.date, value.authors, value.type, value.tags) == (None, [], "daily", [])
    assert (value.title, value.draft, value.when) == ("", False, (None, None))


@pytest.mark.parametrize(
    ("yaml_text", "when"),
    [
        ("date: 2026-11-26\n", (dt.date(2026, 11, 26), None)),
        ("date: '2026-11-26'\n", (dt.date(2026, 11, 26), None)),
        ("date: 2026-11-20 14:30:00\n", (dt.date(2026, 11, 20), dt.time(14, 30))),
        ("date: '2026-11-20T14:30+02:00'\n", (dt.date(2026, 11, 20), dt.time(14, 30))),
        ("date: {created: 2026-11-21, updated: 2026-11-22}\n", (dt.date(2026, 11, 21), None)),
    ],
)
def test_a_date_is_a_date_a_datetime_or_iso_text(yaml_text: str, when: tuple) -> None:
    value, problems = note(yaml_text)
    assert problems == []
    assert value.when == when


def test_every_key_is_read_and_normalised() -> None:
    value, problems = note(
        "authors: alice\ntype: ' Meeting'\ntags: [drift, 2026, drift, '  two   words ']\n"
        "title: '  Model   review '\ndraft: true\n"
    )
    assert problems == []
    assert value.authors == ["alice"]
    assert value.type == "meeting"  # case-insensitive
    assert value.tags == ["drift", "2026", "two words"]  # numbers are words; no duplicates
    assert (value.title, value.draft) == ("Model review", True)
    assert note("tags: drift\ntitle: 42\nauthors: [alice, 7]\n")[0].model_dump() == {
        "date": None,
        "authors": ["alice", "7"],
        "type": "daily",
        "tags": ["drift"],
        "title": "42",
        "draft": False,
    }


# --- one mistake each: its line, level, code and message -----------------------------------------

TYPES = "daily, meeting, decision, postmortem"
KNOWN = "date, authors, type, tags, title, draft"
EACH_TAG = "expected a word or phrase (text) for each tag"
EACH_AUTHOR = "expected an author id (text) for each entry"

# (front matter, line, code, message); an unknown key is a warning, every other mistake an error
MISTAKES = [
    ("title: x\ntype: standup\n", 3, "note.type",
     f"`type`: expected one of {TYPES}, got 'standup' (read as daily)"),
    ("date: 26/11/2026\n", 2, "note.date",
     "`date`: expected a date (YYYY-MM-DD), got '26/11/2026'"),
    ("date: {updated: 2026-11-20}\n", 2, "note.date",
     "`date`: expected `created: YYYY-MM-DD` in the mapping form, got {updated: 2026-11-20}"),
    ("date:\n", 2, "note.date", "`date`: expected a date (YYYY-MM-DD), got nothing"),
    ("title: x\ntags: {drift: 1}\n", 3, "note.tags",
     "`tags`: expected a word or a list of words, got {drift: 1}"),
    ("tags:\n  - ok\n  - [nested]\n", 4, "note.tags", f"`tags`: {EACH_TAG}, got [nested]"),
    ("authors: {alice: 1}\n", 2, "note.authors",
     "`authors`: expected an author id or a list of author ids, got {alice: 1}"),
    ("authors: [alice, true]\n", 2, "note.authors", f"`authors`: {EACH_AUTHOR}, got true"),
    ("title: [a, b]\n", 2, "note.title", "`title`: expected text, got [a, b]"),
    ("draft: maybe\n", 2, "note.draft", "`draft`: expected true or false, got 'maybe'"),
    ("date: 2026-11-26\nmood: good\n", 3, "note.front-matter",
     f"`mood`: unknown key (ignored; known: {KNOWN})"),
]  # fmt: skip


@pytest.mark.parametrize(("yaml_text", "line", "code", "message"), MISTAKES)
def test_a_mistake_is_reported_at_the_line_of_its_key(
    yaml_text: str, line: int, code: str, message: str
) -> None:
    level = "warning" if code == "note.front-matter" else "error"
    assert note(yaml_text)[1] == [(line, level, code, message)]


def test_a_wrong_key_costs_only_itself() -> None:
    value, problems = note(
        "date: 2026-11-26\ntags: {drift: 1}\ntitle: Kept\ntype: standup\nauthors: alice\n"
    )
    assert [code for _, _, code, _ in problems] == ["note.tags", "note.type"]
    assert (value.date, value.title, value.authors) == (dt.date(2026, 11, 26), "Kept", ["alice"])
    assert (value.tags, value.type) == ([], "daily")  # the defaults


def test_a_wrong_item_costs_only_that_item() -> None:
    value, problems = note("tags: [a, null, b, {c: 1}]\nauthors: [alice, 1.5, bob]\n")
    assert value.tags == ["a", "b"] and value.authors == ["alice", "bob"]
    assert [(line, code) for line, _, code, _ in problems] == [
        (2, "note.tags"),
        (2, "note.tags"),
        (3, "note.authors"),
    ]


def test_several_mistakes_are_all_reported_in_line_order() -> None:
    value, problems = note(
        "draft: perhaps\n"  # line 2
        "mood: good\n"  # 3
        "type: standup\n"  # 4
        "title: Still read\n"  # 5
        "date: soon\n"  # 6
        "tags:\n  - fine\n  - [x]\n"  # 7-9
        "authors: 3.5\n"  # 10
    )
    assert [(line, level, code) for line, level, code, _ in problems] == [
        (2, "error", "note.draft"),
        (3, "warning", "note.front-matter"),
        (4, "error", "note.type"),
        (6, "error", "note.date"),
        (9, "error", "note.tags"),
        (10, "error", "note.authors"),
    ]
    assert [m.split(" ")[:2] for *_, m in problems] == [
        ["`draft`:", "expected"],
        ["`mood`:", "unknown"],
        ["`type`:", "expected"],
        ["`date`:", "expected"],
        ["`tags`:", "expected"],
        ["`authors`:", "expected"],
    ]
    assert (value.title, value.tags) == ("Still read", ["fine"])


# --- model cards ----------------------------------------------------------------------------------


def test_a_card_reads_last_updated_and_keeps_hugging_face_keys_untouched() -> None:
    fm = block("license: mit\nlast_updated: 2025-11-24T10:00:00Z\ntags: [a, {b: 1}]\ncopy: 1\n")
    value, problems = validate_front_matter(CardFrontMatter, fm, "c.md", "card.metadata")
    assert problems == []  # Hugging Face's keys are not Daybook's to judge
    assert value.last_updated == dt.date(2025, 11, 24)
    assert value.model_extra == {"license": "mit", "tags": ["a", {"b": 1}], "copy": 1}


def test_a_card_date_follows_the_same_rule_and_message_as_a_note_date() -> None:
    fm = block("license: mit\nlast_updated: soon\n")
    value, problems = validate_front_matter(CardFrontMatter, fm, "c.md", "card.metadata")
    assert value.last_updated is None
    assert [(p.line, p.level, p.code, p.message) for p in problems] == [
        (3, "error", "card.metadata", "`last_updated`: expected a date (YYYY-MM-DD), got 'soon'")
    ]


# --- lines ----------------------------------------------------------------------------------------


def test_line_of_goes_as_deep_as_the_yaml_has_it() -> None:
    node = yaml.compose("a: 1\nb:\n  c: 2\n  d:\n    - x\n    - y\n", Loader=yaml.SafeLoader)
    assert line_of(node, ("a",)) == 1
    assert line_of(node, ("b", "c")) == 3
    assert line_of(node, ("b", "d", 1)) == 6
    assert line_of(node, ("b", "nope")) == 2  # the deepest key that exists
    assert line_of(node, ("b", "d", 1), offset=1) == 7  # below a `---` line
    assert line_of(None, ("a",)) is None
    assert FrontMatter().line("a") == 1  # no block: the file's first line
