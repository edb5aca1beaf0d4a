"""Reads the journal: every Markdown note under the notes folder, and the blog's `.authors.yml`.

Notes are written by people, so nothing here trusts them and nothing here stops at the first
mistake: each file becomes a `Note` with whatever could be read, plus `Problem`s that say
`path:line: message`. A file is only ever read, never written.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from daybook.core.site import JournalLayout
from daybook.core.snapshot import NOTE_TYPES, TYPE_LABELS, Author, Journal, Note, Problem
from daybook.safety.escape import md_link
from daybook.safety.slug import slugify, unique_slugs
from daybook.sources.front_matter import split_front_matter

KNOWN_KEYS = ("date", "authors", "type", "tags", "title", "draft")
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[-_ ]+(?P<rest>.*))?$")
_AUTHOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$")


def read_journal(layout: JournalLayout) -> Journal:
    """Every note below the notes folder, sorted by path, and the authors they may name."""
    authors, problems = read_authors(layout)
    notes = [read_note(p, layout, authors) for p in note_files(layout)]
    notes = _assign_pages(notes)
    return Journal(tuple(notes), authors, tuple(problems), layout.docs)


def note_files(layout: JournalLayout) -> list[Path]:
    """The files MkDocs would build as posts: every `.md` below the notes folder, skipping dot
    files and folders (MkDocs ignores those too)."""
    base = layout.notes_path
    if not base.is_dir():
        return []
    out = []
    for path in sorted(base.rglob("*.md")):
        rel = path.relative_to(base).parts
        if any(part.startswith(".") for part in rel) or not path.is_file():
            continue
        out.append(path)
    return out


# --- .authors.yml --------------------------------------------------------------------------------


def read_authors(layout: JournalLayout) -> tuple[dict[str, Author], list[Problem]]:
    """The authors the blog plugin knows. The blog needs `name`, `description` and `avatar` for
    each, and stops the build when one is missing, so each gap is a problem here."""
    path = layout.authors_path
    where = layout.site_path(layout.authors_file)
    if not path.is_file():
        return {}, []
    problems: list[Problem] = []

    def problem(line: int, msg: str, level: str = "error", code: str = "authors") -> None:
        problems.append(Problem(where, line, msg, level, code))

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem(1, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")
        return {}, problems
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem(_yaml_line(exc, 0), f"invalid YAML: {_yaml_problem(exc)}")
        return {}, problems
    if data is None:
        return {}, problems
    entries = data.get("authors") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        problem(1, "expected `authors:` with one entry per author id (name, description, avatar)")
        return {}, problems
    authors_node = _child(node, "authors")
    out: dict[str, Author] = {}
    for key, entry in entries.items():
        aid = str(key)
        line = _key_line(authors_node, key)
        if not _AUTHOR_ID.match(aid):
            problem(line, f"author id {aid!r}: use letters, digits, '-', '_' or '.' only")
            continue
        if not isinstance(entry, dict):
            problem(line, f"author {aid!r}: expected name, description and avatar")
            continue
        fields: dict[str, str] = {}
        for name in ("name", "description", "avatar"):
            value = entry.get(name)
            if not isinstance(value, str) or not value.strip():
                problem(line, f"author {aid!r}: `{name}` is required by the blog plugin (text)")
                value = aid if name == "name" else ""
            fields[name] = str(value)
        if re.search(r"[<>&\"'`]", fields["name"] + fields["description"]):
            problem(
                line,
                f"author {aid!r}: name and description are shown as plain text; "
                "HTML characters in them are replaced",
                "warning",
            )
        avatar = fields["avatar"].strip()
        if re.match(r"^([A-Za-z][A-Za-z0-9+.-]*:|//)", avatar):
            if not avatar.startswith("data:"):
                problem(
                    line,
                    f"author {aid!r}: avatar {avatar!r} is loaded from the network on "
                    "every page view; use an image file under docs/",
                    "warning",
                )
        elif avatar and not (layout.docs_dir / avatar).is_file():
            problem(
                line, f"author {aid!r}: avatar file {layout.site_path(avatar)} not found", "warning"
            )
        out[aid] = Author(aid, fields["name"], fields["description"], fields["avatar"])
    return out, problems


# --- one note ------------------------------------------------------------------------------------


def read_note(path: Path, layout: JournalLayout, authors: dict[str, Author]) -> Note:
    """One note, with every problem found while reading it (the file is never changed)."""
    source = path.relative_to(layout.docs_dir).as_posix()
    where = layout.site_path(source)
    problems: list[Problem] = []

    def problem(line: int, msg: str, level: str = "error", code: str = "note") -> None:
        problems.append(Problem(where, line, msg, level, code))

    readable = True
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem(1, f"cannot read the file ({exc.strerror or exc})", code="note.read")
        raw, readable = b"", False
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem(
            line,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
            code="note.encoding",
        )
        text = raw.decode("utf-8-sig", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    name_date, name_rest = _date_from_name(path.stem)

    fm = split_front_matter(text)
    meta, node, body, body_line = fm.meta, fm.node, fm.body, fm.body_line
    if fm.trouble == "unclosed":
        problem(
            1,
            "front matter starts with '---' but has no closing '---' line",
            code="note.front-matter",
        )
    elif fm.trouble == "yaml":
        problem(
            fm.trouble_line,
            f"invalid YAML front matter: {fm.detail}",
            code="note.front-matter",
        )
    elif fm.trouble == "not-mapping":
        problem(
            2,
            "front matter must be `key: value` lines (date, authors, type, tags, title)",
            code="note.front-matter",
        )

    def line_of(key: str) -> int:
        return _key_line(node, key, offset=1) if node is not None else 1

    if not text.strip() and readable:
        problem(1, "empty note: write something, or delete the file", code="note.empty")

    for key in meta:
        if key not in KNOWN_KEYS:
            problem(
                line_of(key),
                f"unknown front matter key {key!r} (ignored; known: {', '.join(KNOWN_KEYS)})",
                "warning",
                "note.front-matter",
            )

    # date: front matter first, else the file name's YYYY-MM-DD prefix
    date: dt.date | None = None
    time: dt.time | None = None
    if "date" in meta:
        date, time, err = _parse_date(meta["date"])
        if err:
            problem(line_of("date"), err, code="note.date")
        elif name_date and date != name_date:
            problem(
                line_of("date"),
                f"date {date} differs from the file name's {name_date}; using the front matter's",
                "warning",
                "note.date",
            )
    if date is None and name_date is not None:
        date = name_date
    if date is None and "date" not in meta and text.strip():
        problem(
            1,
            "no date: add `date: YYYY-MM-DD` to the front matter, or start the file "
            "name with the date (2026-11-26.md)",
            code="note.date",
        )

    # authors: ids from .authors.yml; else an author id at the end of the file name
    ids: list[str] = []
    if "authors" in meta:
        value = meta["authors"]
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else None
        if items is None:
            problem(
                line_of("authors"), "authors: expected a list of author ids", code="note.authors"
            )
            items = []
        for item in items:
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                problem(
                    line_of("authors"),
                    "authors: each entry is an author id (text)",
                    code="note.authors",
                )
                continue
            aid = str(item).strip()
            if aid in authors:
                if aid not in ids:
                    ids.append(aid)
            else:
                known = ", ".join(sorted(authors)) or "none yet"
                problem(
                    line_of("authors"),
                    f"unknown author {aid!r}: add it to "
                    f"{layout.site_path(layout.authors_file)} (known: {known})",
                    code="note.authors",
                )
    elif name_rest:
        lowered = {a.lower(): a for a in authors}
        tail = name_rest.split("-")[-1].lower()
        if name_rest.lower() in lowered:
            ids.append(lowered[name_rest.lower()])
        elif tail in lowered:
            ids.append(lowered[tail])

    note_type = "daily"
    if "type" in meta:
        value = str(meta["type"]).strip().lower() if meta["type"] is not None else ""
        if value in NOTE_TYPES:
            note_type = value
        else:
            problem(
                line_of("type"),
                f"type {meta['type']!r} is not one of {', '.join(NOTE_TYPES)} (read as daily)",
                code="note.type",
            )

    tags: list[str] = []
    if "tags" in meta:
        value = meta["tags"]
        items = [value] if isinstance(value, (str, int, float)) else value
        if not isinstance(items, list):
            problem(line_of("tags"), "tags: expected a list of words", code="note.tags")
            items = []
        for item in items:
            if isinstance(item, (dict, list)) or item is None or isinstance(item, bool):
                problem(
                    line_of("tags"), "tags: each tag is a word or phrase (text)", code="note.tags"
                )
                continue
            tag = " ".join(str(item).split())
            if tag and tag not in tags:
                tags.append(tag)

    title = ""
    if "title" in meta:
        value = meta["title"]
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            title = " ".join(str(value).split())
        else:
            problem(line_of("title"), "title: expected text", code="note.title")
    if not title:
        title = _first_heading(body) or _default_title(note_type, date, ids, authors)

    draft = False
    if "draft" in meta:
        if isinstance(meta["draft"], bool):
            draft = meta["draft"]
        else:
            problem(line_of("draft"), "draft: expected true or false", code="note.draft")
    if not text.strip():
        draft = True  # nothing to publish

    return Note(
        source=source,
        page=source,
        date=date,
        time=time,
        authors=tuple(ids),
        type=note_type,
        tags=tuple(tags),
        title=title,
        body=body,
        body_line=body_line,
        draft=draft,
        problems=tuple(problems),
    )


def _assign_pages(notes: list[Note]) -> list[Note]:
    """A note whose path cannot be linked to (spaces, `#`, non-ASCII …) is served from a slug path
    beside it, so links to it are as safe as any other page's. The file itself keeps its name."""
    by_dir: dict[str, list[str]] = {}
    for n in notes:
        folder, name = posixpath.split(n.source)
        by_dir.setdefault(folder, []).append(name.removesuffix(".md"))
    taken = {n.source for n in notes}
    out = []
    for n in notes:
        if _linkable(n.source):
            out.append(n)
            continue
        folder, name = posixpath.split(n.source)
        parts = [slugify(p) for p in folder.split("/") if p]
        slugs = unique_slugs(by_dir[folder])
        page = posixpath.join(*parts, slugs[name.removesuffix(".md")] + ".md")
        while page in taken:
            page = page.removesuffix(".md") + "-x.md"
        taken.add(page)
        out.append(replace(n, page=page))
    return out


def _linkable(path: str) -> bool:
    try:
        md_link("", path)
    except ValueError:
        return False
    return True


# --- small helpers -------------------------------------------------------------------------------


def _date_from_name(stem: str) -> tuple[dt.date | None, str]:
    m = _DATE_PREFIX.match(stem)
    if not m:
        return None, ""
    try:
        return dt.date.fromisoformat(m.group(1)), (m.group("rest") or "").strip()
    except ValueError:
        return None, ""


def _parse_date(value: Any) -> tuple[dt.date | None, dt.time | None, str]:
    """A front matter date: YYYY-MM-DD, a date and time, or the blog's `{created: …}` form."""
    if isinstance(value, dict):
        if "created" not in value:
            return None, None, "date: with the mapping form, give `created: YYYY-MM-DD`"
        value = value["created"]
    if isinstance(value, dt.datetime):
        return value.date(), value.time().replace(tzinfo=None), ""
    if isinstance(value, dt.date):
        return value, None, ""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None, None, f"date {value!r} is not a date: use YYYY-MM-DD"
        has_time = len(value.strip()) > 10
        return parsed.date(), parsed.time().replace(tzinfo=None) if has_time else None, ""
    return None, None, f"date {value!r} is not a date: use YYYY-MM-DD"


def _first_heading(body: str) -> str:
    fence = False
    for line in body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if fence:
            continue
        m = _H1.match(line)
        if m:
            return m.group(1)
        if line.strip():
            return ""  # only a heading on the first line of text names the note
    return ""


def _default_title(
    kind: str, date: dt.date | None, ids: list[str], authors: dict[str, Author]
) -> str:
    label = "Daily note" if kind == "daily" else TYPE_LABELS[kind]
    when = f" {date.isoformat()}" if date else ""
    who = ", ".join(authors[a].name for a in ids if a in authors)
    return f"{label}{when}" + (f" · {who}" if who else "")


def _yaml_line(exc: yaml.YAMLError, offset: int) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return (mark.line + 1 + offset) if mark is not None else 1 + offset


def _yaml_problem(exc: yaml.YAMLError) -> str:
    return str(getattr(exc, "problem", None) or exc).strip()


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v
    return None


def _key_line(node: yaml.Node | None, key: Any, offset: int = 0) -> int:
    """The line of `key` in a YAML mapping node (1-based, plus `offset` lines before the block)."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if getattr(k, "value", None) == str(key):
                return k.start_mark.line + 1 + offset
        return node.start_mark.line + 1 + offset
    return 1 + offset
