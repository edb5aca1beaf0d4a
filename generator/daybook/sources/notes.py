"""Reads the journal: every Markdown note under the notes folder, and the blog's `.authors.yml`.

Notes are written by people, so nothing here trusts them and nothing here stops at the first
mistake: each file becomes a `Note` with whatever could be read, plus `Problem`s that say
`path:line: message`. A file is only ever read, never written.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from daybook.core.front_matter import FrontMatter, NoteFrontMatter, validate_front_matter
from daybook.core.site import JournalLayout
from daybook.core.snapshot import TYPE_LABELS, Author, Journal, Note, Problem
from daybook.safety.escape import md_link
from daybook.safety.slug import slugify, unique_slugs
from daybook.sources.front_matter import split_front_matter

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

    text, readable = _read_text(path, problem)
    fm = split_front_matter(text)
    _front_matter_trouble(fm, problem)
    if readable and not text.strip():
        problem(1, "empty note: write something, or delete the file", code="note.empty")
    meta, found = validate_front_matter(NoteFrontMatter, fm, where, "note.{key}")
    problems.extend(found)

    name_date, name_rest = _date_from_name(path.stem)
    date, time = _note_date(meta, fm, name_date, bool(text.strip()), problem)
    ids = _note_authors(meta, fm, name_rest, layout, authors, problem)
    title = meta.title or _first_heading(fm.body) or _default_title(meta.type, date, ids, authors)
    return Note(
        source=source,
        page=source,
        date=date,
        time=time,
        authors=tuple(ids),
        type=meta.type,
        tags=tuple(meta.tags),
        title=title,
        body=fm.body,
        body_line=fm.body_line,
        draft=meta.draft or not text.strip(),  # an empty note has nothing to publish
        problems=tuple(sorted(problems, key=lambda p: p.line)),
    )


Report = Callable[..., None]  # problem(line, message, level="error", code="note")


def _read_text(path: Path, problem: Report) -> tuple[str, bool]:
    """The file's text with "\n" line ends (undecodable bytes replaced), and whether the file
    could be read at all."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem(1, f"cannot read the file ({exc.strerror or exc})", code="note.read")
        return "", False
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
    return text.replace("\r\n", "\n").replace("\r", "\n"), True


def _front_matter_trouble(fm: FrontMatter, problem: Report) -> None:
    if fm.trouble == "unclosed":
        msg = "front matter starts with '---' but has no closing '---' line"
        problem(1, msg, code="note.front-matter")
    elif fm.trouble == "yaml":
        msg = f"invalid YAML front matter: {fm.detail}"
        problem(fm.trouble_line, msg, code="note.front-matter")
    elif fm.trouble == "not-mapping":
        msg = "front matter must be `key: value` lines (date, authors, type, tags, title)"
        problem(2, msg, code="note.front-matter")


def _note_date(
    meta: NoteFrontMatter,
    fm: FrontMatter,
    name_date: dt.date | None,
    has_text: bool,
    problem: Report,
) -> tuple[dt.date | None, dt.time | None]:
    """The front matter's date (and time) first, else the file name's YYYY-MM-DD prefix."""
    date, time = meta.when
    if date is not None and name_date is not None and date != name_date:
        problem(
            fm.line("date"),
            f"date {date} differs from the file name's {name_date}; using the front matter's",
            "warning",
            "note.date",
        )
    if date is None:
        date = name_date
    if date is None and "date" not in fm.meta and has_text:
        problem(
            1,
            "no date: add `date: YYYY-MM-DD` to the front matter, or start the file "
            "name with the date (2026-11-26.md)",
            code="note.date",
        )
    return date, time


def _note_authors(
    meta: NoteFrontMatter,
    fm: FrontMatter,
    name_rest: str,
    layout: JournalLayout,
    authors: dict[str, Author],
    problem: Report,
) -> list[str]:
    """Ids from .authors.yml named by the front matter; else an author id ending the file name."""
    ids: list[str] = []
    if "authors" in fm.meta:
        for aid in meta.authors:
            if aid in authors:
                if aid not in ids:
                    ids.append(aid)
                continue
            known = ", ".join(sorted(authors)) or "none yet"
            problem(
                fm.line("authors"),
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
    return ids


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
