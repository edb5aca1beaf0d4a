"""Reading hand-written model cards: every mistake becomes a `path:line` problem, never a crash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from daybook.sources.cards import card_paths, parse_card, read_card, read_cards


def test_metadata_body_and_key_lines(tmp_path: Path) -> None:
    text = "---\nlicense: mit\ntags: [a]\nlast_updated: 2025-11-24\n---\n# m\n\n## Uses\n"
    card = parse_card(text, "docs/models/m.md", "m")
    assert card.metadata == {"license": "mit", "tags": ["a"], "last_updated": dt.date(2025, 11, 24)}
    assert card.metadata_lines == {"license": 2, "tags": 3, "last_updated": 4}
    assert card.body.startswith("# m") and card.body_line == 6
    assert card.updated == 1_763_942_400_000 and card.updated_from == "front matter"
    assert card.problems == ()


def test_broken_yaml_is_reported_at_its_line_and_the_body_survives() -> None:
    text = "---\nlicense: mit\ntags: [a\nx: 1\n---\n## Uses\n\nTriage.\n"
    card = parse_card(text, "docs/models/m.md", "m")
    assert card.metadata == {}
    assert "## Uses" in card.body
    (p,) = card.problems
    assert p.path == "docs/models/m.md" and p.line == 4 and p.level == "error"
    assert p.code == "card.yaml" and "invalid YAML metadata" in p.message


def test_other_metadata_mistakes() -> None:
    unclosed = parse_card("---\nlicense: mit\n## Uses\n", "c.md", "c")
    assert [(p.line, p.code) for p in unclosed.problems] == [(1, "card.yaml")]
    listed = parse_card("---\n- a\n- b\n---\nbody\n", "c.md", "c")
    assert [(p.line, p.code) for p in listed.problems] == [(2, "card.yaml")]
    bad_date = parse_card("---\nlast_updated: soon\n---\n", "c.md", "c")
    assert [(p.line, p.code) for p in bad_date.problems] == [(2, "card.metadata")]
    assert bad_date.problems[0].message == (
        "`last_updated`: expected a date (YYYY-MM-DD), got 'soon'"  # the same rule as a note's
    )
    assert bad_date.updated is None
    empty = parse_card("", "c.md", "c")
    assert [(p.level, p.code) for p in empty.problems] == [("warning", "card.empty")]


def test_a_card_that_is_not_utf8_is_read_with_replacements(tmp_path: Path) -> None:
    path = tmp_path / "m.md"
    path.write_bytes(b"---\nlicense: mit\n---\n## Uses\n\nCaf\xe9\n")
    card = read_card(path, "docs/models/m.md")
    assert [(p.line, p.code) for p in card.problems] == [(6, "card.encoding")]
    assert card.metadata == {"license": "mit"} and "Caf" in card.body


def test_which_files_are_cards(tmp_path: Path) -> None:
    folder = tmp_path / "docs" / "models"
    folder.mkdir(parents=True)
    for name in ("b.md", "a.md", "index.md", "README.md", ".hidden.md", "notes.txt"):
        (folder / name).write_text("x")
    (folder / "sub").mkdir()
    (folder / "sub" / "c.md").write_text("x")
    assert [p.name for p in card_paths(folder)] == ["a.md", "b.md"]
    assert [c.path for c in read_cards(tmp_path, "docs/models")] == [
        "docs/models/a.md",
        "docs/models/b.md",
    ]
    assert read_cards(tmp_path, "docs/nowhere") == ()
