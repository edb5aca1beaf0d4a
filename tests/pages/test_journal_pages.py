"""Post URLs of notes: readable, from the file name, and never two alike on one day."""

from __future__ import annotations

import datetime as dt

from daybook.core.snapshot import Note
from daybook.pages.journal_view import JournalPages, _post_slugs
from daybook.safety.slug import is_slug


def _note(source: str, day: dt.date | None = dt.date(2026, 11, 24), kind: str = "daily") -> Note:
    return Note(source, source, day, None, (), kind, (), "t", "", 1)


def test_slugs_drop_the_date_and_stay_unique_per_day() -> None:
    notes = [
        _note("notes/2026-11-24.md"),
        _note("notes/team/2026-11-24.md"),
        _note("notes/2026-11-24-alice.md"),
        _note("notes/2026-11-24-meeting-sync.md", kind="meeting"),
        _note("notes/2026-11-25.md", dt.date(2026, 11, 25)),
        _note("notes/ideas.md", dt.date(2026, 11, 25)),
    ]
    slugs = _post_slugs(notes)
    assert slugs["notes/2026-11-24-alice.md"] == "alice"
    assert slugs["notes/2026-11-24-meeting-sync.md"] == "meeting-sync"
    assert slugs["notes/2026-11-25.md"] == "daily"
    assert slugs["notes/ideas.md"] == "ideas"
    a, b = slugs["notes/2026-11-24.md"], slugs["notes/team/2026-11-24.md"]
    assert a != b and is_slug(a) and is_slug(b)
    assert all(is_slug(s) for s in slugs.values())


def test_the_journal_pages_live_beside_the_blog_index() -> None:
    assert JournalPages.under("journal") == JournalPages(
        "journal/index.md", "journal/decisions.md", "journal/actions.md"
    )
    assert JournalPages.under(".").decisions == "decisions.md"
