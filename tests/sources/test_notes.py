"""Reading notes and the authors file: every mistake is a `path:line: message`, nothing stops the
other notes from being read, and no file is ever changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from daybook.sources.mkdocs_yml import read_layout
from daybook.sources.notes import read_journal
from helpers import fingerprint
from journal_helpers import front, journal_site


def _read(root: Path):
    layout = read_layout(root)
    assert layout is not None
    return read_journal(layout)


def _note(journal, name: str):
    return next(n for n in journal.notes if n.source == f"notes/{name}")


def _messages(note) -> list[str]:
    return [str(p) for p in note.problems]


def test_a_plain_file_is_a_daily_note_dated_and_authored_by_its_name(tmp_path: Path) -> None:
    root = journal_site(tmp_path / "s", {"2026-11-26-alice.md": "# Scaling pixels\n\nIt works.\n"})
    note = _note(_read(root), "2026-11-26-alice.md")
    assert note.date == dt.date(2026, 11, 26)
    assert note.authors == ("alice",)
    assert note.type == "daily"
    assert note.title == "Scaling pixels"
    assert note.problems == ()
    assert note.published
    assert note.body.startswith("# Scaling pixels")
    assert note.body_line == 1


def test_front_matter_is_read_with_the_body_line(tmp_path: Path) -> None:
    text = front("2026-11-20 14:30:00", ["alice", "bob"], "meeting", "Model review") + "Body\n"
    text = text.replace("type: meeting", "type: Meeting\ntags: [drift, 2026]")
    root = journal_site(tmp_path / "s", {"review.md": text})
    note = _note(_read(root), "review.md")
    assert (note.date, note.time) == (dt.date(2026, 11, 20), dt.time(14, 30))
    assert note.authors == ("alice", "bob")
    assert note.type == "meeting"
    assert note.tags == ("drift", "2026")
    assert note.title == "Model review"
    assert note.body == "\nBody\n"
    assert note.body_line == 8  # the line after the closing ---
    assert note.problems == ()


def test_malformed_yaml_names_its_line_and_the_note_still_reads(tmp_path: Path) -> None:
    text = "---\ntitle: ok\ndate: [2026-11-24\nauthors: alice\n---\nStill here.\n"
    root = journal_site(tmp_path / "s", {"2026-11-24-x.md": text, "2026-11-25.md": "fine\n"})
    journal = _read(root)
    note = _note(journal, "2026-11-24-x.md")
    [problem] = note.problems
    assert problem.path == "docs/notes/2026-11-24-x.md"
    assert problem.line in (3, 4, 5)
    assert "invalid YAML front matter" in problem.message
    assert note.date == dt.date(2026, 11, 24)  # from the file name
    assert note.body == "Still here.\n"
    assert _note(journal, "2026-11-25.md").problems == ()


def test_a_non_utf8_file_says_which_line(tmp_path: Path) -> None:
    raw = b"---\ndate: 2026-11-24\n---\nok\ncaf\xe9 au lait\n"
    root = journal_site(tmp_path / "s", {"latin1.md": raw})
    note = _note(_read(root), "latin1.md")
    assert _messages(note) == [
        "docs/notes/latin1.md:5: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]
    assert "caf\ufffd au lait" in note.body
    assert note.published  # shown, with the problem on top


def test_an_empty_file_is_an_error_and_not_published(tmp_path: Path) -> None:
    root = journal_site(tmp_path / "s", {"2026-11-24.md": "  \n\n"})
    note = _note(_read(root), "2026-11-24.md")
    assert _messages(note) == [
        "docs/notes/2026-11-24.md:1: empty note: write something, or delete the file"
    ]
    assert not note.published


def test_unknown_author_bad_type_and_unknown_keys(tmp_path: Path) -> None:
    text = "---\ndate: 2026-11-24\nauthors: [alice, zed]\ntype: standup\nmood: good\n---\nx\n"
    root = journal_site(tmp_path / "s", {"n.md": text})
    note = _note(_read(root), "n.md")
    assert note.authors == ("alice",)
    assert note.type == "daily"
    by_line = {(p.line, p.level): p.message for p in note.problems}
    assert by_line[(3, "error")].startswith("unknown author 'zed': add it to docs/journal/.")
    assert "(known: alice, bob)" in by_line[(3, "error")]
    assert by_line[(4, "error")].startswith("`type`: expected one of daily, meeting")
    assert "got 'standup'" in by_line[(4, "error")]
    assert by_line[(5, "warning")].startswith("`mood`: unknown key (ignored; known: date,")


def test_a_wrong_key_does_not_cost_the_others(tmp_path: Path) -> None:
    text = "---\ntags: {a: 1}\ndate: 2026-11-24\ntitle: Kept\ndraft: maybe\n---\nx\n"
    root = journal_site(tmp_path / "s", {"n.md": text})
    note = _note(_read(root), "n.md")
    assert (note.date, note.title) == (dt.date(2026, 11, 24), "Kept")
    assert (note.tags, note.draft) == ((), False)
    assert [(p.line, p.code) for p in note.problems] == [(2, "note.tags"), (5, "note.draft")]
    assert note.problems[0].message == "`tags`: expected a word or a list of words, got {a: 1}"


def test_dates_bad_missing_and_disagreeing(tmp_path: Path) -> None:
    root = journal_site(
        tmp_path / "s",
        {
            "bad.md": "---\ndate: 26/11/2026\n---\nx\n",
            "none.md": "No date anywhere.\n",
            "2026-11-20-x.md": "---\ndate: 2026-11-21\n---\nx\n",
        },
    )
    journal = _read(root)
    bad, none, other = (_note(journal, n) for n in ("bad.md", "none.md", "2026-11-20-x.md"))
    assert _messages(bad) == [
        "docs/notes/bad.md:2: `date`: expected a date (YYYY-MM-DD), got '26/11/2026'"
    ]
    assert not bad.published
    assert "no date: add `date: YYYY-MM-DD`" in _messages(none)[0]
    assert not none.published
    assert other.date == dt.date(2026, 11, 21)
    [warning] = other.problems
    assert (
        warning.level == "warning" and "differs from the file name's 2026-11-20" in warning.message
    )


def test_an_unlinkable_file_name_is_served_from_a_slug_path(tmp_path: Path) -> None:
    root = journal_site(tmp_path / "s", {"2026-11-24 Stand up #3.md": "text\n", "a.md": "x\n"})
    note = _note(_read(root), "2026-11-24 Stand up #3.md")
    assert note.page == "notes/2026-11-24-stand-up-3.md"
    assert _note(_read(root), "a.md").page == "notes/a.md"


def test_dot_files_and_folders_are_not_notes(tmp_path: Path) -> None:
    root = journal_site(tmp_path / "s", {".draft.md": "x\n", ".obsidian/y.md": "y\n", "z.md": "z"})
    assert [n.source for n in _read(root).notes] == ["notes/z.md"]


def test_the_authors_file_is_checked_like_the_blog_plugin_does(tmp_path: Path) -> None:
    authors = (
        "authors:\n"
        "  alice:\n    name: Alice\n    description: ML\n    avatar: assets/avatars/alice.svg\n"
        "  bob:\n    name: Bob\n    avatar: https://avatars.example.com/bob.png\n"
        "  'bad id':\n    name: X\n    description: d\n    avatar: a.svg\n"
        "  eve:\n    name: <b>Eve</b>\n    description: d\n    avatar: assets/avatars/nope.svg\n"
    )
    root = journal_site(tmp_path / "s", {}, authors=authors)
    journal = _read(root)
    assert sorted(journal.authors) == ["alice", "bob", "eve"]
    found = {(p.line, p.level, p.message.split(":")[0]) for p in journal.problems}
    assert all(p.path == "docs/journal/.authors.yml" for p in journal.problems)
    messages = [p.message for p in journal.problems]
    assert any("`description` is required by the blog plugin" in m for m in messages)
    assert any("loaded from the network" in m for m in messages)
    assert any("author id 'bad id'" in m for m in messages)
    assert any("HTML characters" in m for m in messages)
    assert any("avatar file docs/assets/avatars/nope.svg not found" in m for m in messages)
    assert (6, "error", "author 'bob'") in found


def test_reading_changes_no_file(tmp_path: Path) -> None:
    root = journal_site(
        tmp_path / "s",
        {"2026-11-24.md": b"\xff\xfe", "x y.md": "---\ndate: [\n---\n", "ok.md": "fine\n"},
    )
    before = fingerprint(root)
    _read(root)
    assert fingerprint(root) == before


def test_the_layout_comes_from_the_blog_plugin_in_mkdocs_yml(tmp_path: Path) -> None:
    root = journal_site(tmp_path / "s", {})
    layout = read_layout(root)
    assert layout is not None
    assert (layout.docs, layout.blog_dir, layout.notes_dir) == ("docs", "journal", "notes")
    assert layout.authors_file == "journal/.authors.yml"
    assert layout.problems == ()

    mkdocs = root / "mkdocs.yml"
    text = mkdocs.read_text(encoding="utf-8")
    # Python tags and !ENV (common in Material configs) do not stop the reading.
    text = text.replace("site_name: Daybook", "site_name: !ENV [NAME, Daybook]")
    text += "\nextra:\n  icon: !!python/name:material.extensions.emoji.twemoji\n"
    gen = "  - gen-files:\n      scripts:\n        - gen_pages.py\n"
    assert gen in text
    mkdocs.write_text(text.replace(gen, "") + "\n" + "", encoding="utf-8")
    moved = mkdocs.read_text(encoding="utf-8").replace("  - tags\n", "  - tags\n" + gen)
    mkdocs.write_text(moved, encoding="utf-8")
    layout = read_layout(root)
    assert layout is not None
    [problem] = layout.problems
    assert problem.path == "mkdocs.yml" and "gen-files plugin before the blog" in problem.message
    assert problem.line == moved.splitlines().index("  - blog:") + 1


def test_no_blog_plugin_means_no_journal(tmp_path: Path) -> None:
    root = journal_site(tmp_path / "s", {})
    mkdocs = root / "mkdocs.yml"
    text = mkdocs.read_text(encoding="utf-8")
    start = text.index("  - blog:")
    end = text.index("  - tags")
    mkdocs.write_text(text[:start] + text[end:], encoding="utf-8")
    assert read_layout(root) is None
