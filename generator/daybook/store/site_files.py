"""Files Daybook adds to the part of the site people own (docs/): created when missing, never
overwritten, so a page someone edited is always theirs."""

from __future__ import annotations

import posixpath
from pathlib import Path

from daybook.core.site import JournalLayout

JOURNAL_INDEX = """# Journal

What the team did and learned, day by day: daily notes, meetings, decisions and postmortems.
Write one with `daybook note`; see [Writing notes](WRITING_NOTES) for how.
"""


def ensure_journal_index(layout: JournalLayout) -> Path | None:
    """The blog needs an index page; write the default one if (and only if) there is none."""
    path = layout.docs_dir / layout.index_page
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    guide = posixpath.relpath("writing-notes.md", posixpath.dirname(layout.index_page) or ".")
    if (layout.docs_dir / "writing-notes.md").exists():
        text = JOURNAL_INDEX.replace("WRITING_NOTES", guide)
    else:
        text = JOURNAL_INDEX.replace(" see [Writing notes](WRITING_NOTES) for how.", "")
    try:
        with path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        return None
    return path
