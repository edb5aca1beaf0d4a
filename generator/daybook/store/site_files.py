"""Files Daybook adds to the part of the site people own (docs/): created when missing, never
overwritten, so a page someone edited is always theirs."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import quote

import yaml

from daybook.core.errors import DaybookError
from daybook.core.site import JournalLayout
from daybook.store.atomic import write_atomic

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


# --- a new author in the journal's .authors.yml -------------------------------------------------

AUTHORS_YML = """\
# The journal's authors, read by Material's blog plugin: an id, then name, description and avatar
# (a file under docs/ or a data: URI). `daybook note --author ID` adds a missing author here.
authors: {}
"""
NEW_AUTHOR = "Team member"  # the blog needs a description; the person can write their own
_AUTHOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def initials_avatar(name: str) -> str:
    """A small inline SVG with the person's initials: works offline, needs no file."""
    letters = "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", name)[:2]).upper() or "?"
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        '<rect width="64" height="64" rx="32" fill="#5c6bc0"/>'
        '<text x="32" y="41" font-family="sans-serif" font-size="26" fill="#fff" '
        f'text-anchor="middle">{letters}</text></svg>'
    )
    return "data:image/svg+xml," + quote(svg, safe="")


def add_author(layout: JournalLayout, author_id: str, name: str) -> Path:
    """Register an author in `.authors.yml`, keeping every line people wrote: the entry is
    appended under `authors:` (which must be the file's last top-level key), and the result is
    read back before it is kept. Raises DaybookError, naming the file, when that cannot be done."""
    path = layout.authors_path
    where = layout.site_path(layout.authors_file)
    if not _AUTHOR_ID.match(author_id):
        raise DaybookError(
            f"{author_id!r}: an author id is letters, digits, '.', '_' or '-' (e.g. `alice`)"
        )
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    text = old or AUTHORS_YML
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise DaybookError(f"{where}: not valid YAML; fix it, then add {author_id!r}") from None
    authors = data.get("authors") if isinstance(data, dict) else None
    keys = list(data) if isinstance(data, dict) else []
    if not isinstance(authors, dict | None) or not keys or keys[-1] != "authors":
        raise DaybookError(
            f"{where}: cannot add {author_id!r} without rewriting the file (`authors:` must be "
            "its last top-level key); add the author by hand"
        )
    text = re.sub(r"(?m)^authors:\s*(\{\s*\})?\s*$", "authors:", text.rstrip("\n")) + "\n"
    entry = {author_id: {"name": name, "description": NEW_AUTHOR, "avatar": initials_avatar(name)}}
    block = yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=1000)
    text += "".join(f"  {line}\n" for line in block.splitlines())
    try:
        check = yaml.safe_load(text)
    except yaml.YAMLError:
        check = None
    if not isinstance(check, dict) or author_id not in (check.get("authors") or {}):
        raise DaybookError(f"{where}: cannot add {author_id!r} safely; add the author by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
    return path
