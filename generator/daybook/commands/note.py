"""`daybook note`: start a note from the site's template; the daily one comes with a digest.

The digest covers the tracking store since the author's previous note (or the last 24 hours):
runs finished per experiment, new bests by primary metric, failed runs, new model versions and
alias changes. Every line is an MLflow URI, so once the site is built each one is a link.
A note that exists is never overwritten: its path is returned instead.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from daybook.analysis.journal import Digest, digest, previous_note
from daybook.core.errors import DaybookError
from daybook.core.numbers import format_number
from daybook.core.site import JournalLayout
from daybook.core.snapshot import NOTE_TYPES, AliasEvent, Author, Experiment, Journal, Run
from daybook.pages.render import make_environment
from daybook.safety.escape import md_text
from daybook.safety.redact import strip_credentials
from daybook.safety.slug import slugify
from daybook.sources.catalog import read_catalog, store_exists
from daybook.sources.mkdocs_yml import read_layout
from daybook.sources.notes import read_journal
from daybook.store.site_files import (
    NEW_AUTHOR,
    add_author,
    ensure_journal_index,
    initials_avatar,
)

if TYPE_CHECKING:
    from daybook.core.site import Site

_BARE = re.compile(r"^[A-Za-z0-9_-]+(?:[./][A-Za-z0-9_-]+)*$")
_ANGLE_OK = re.compile(r"^[^<>\n`]+$")
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.:/-]+$")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class NoteRequest:
    date: dt.date
    type: str = "daily"
    author: str | None = None  # an author id; None: from `git config user.name`
    title: str | None = None


@dataclass
class NoteResult:
    path: Path  # the note: new, or the one already there
    text: str  # what was (or would be) written; "" when the note already existed
    created: bool
    warnings: list[str] = field(default_factory=list)


def journal_layout(site: Site) -> JournalLayout:
    layout = read_layout(site.root)
    if layout is None:
        raise DaybookError(
            f"{site.root / 'mkdocs.yml'}: no blog plugin, so the site has no journal; add the "
            "`blog` plugin as `daybook init` does (see docs/writing-notes.md)"
        )
    return layout


# --- who is writing ------------------------------------------------------------------------------


def git_user_name(cwd: Path) -> str | None:
    """`git config user.name` (read only), or None without git or without a name."""
    try:
        out = subprocess.run(
            ["git", "config", "user.name"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = out.stdout.strip()
    return name or None


def match_author(name: str, authors: dict[str, Author]) -> str | None:
    """The author id a person's name (e.g. git's user.name) stands for, if exactly one fits."""
    wanted = " ".join(name.split()).lower()
    for tests in (
        lambda aid, a: aid.lower() == wanted or a.name.lower() == wanted,
        lambda aid, a: aid.lower() == slugify(wanted),
        lambda aid, a: wanted.split()[0] in (aid.lower(), a.name.lower().split()[0]),
    ):
        hits = [aid for aid, a in sorted(authors.items()) if wanted and tests(aid, a)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            return None
    return None


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def resolve_author(
    request: NoteRequest,
    journal: Journal,
    layout: JournalLayout,
    root: Path,
    progress: Progress = _quiet,
) -> str | None:
    where = layout.site_path(layout.authors_file)
    authors = journal.authors
    if request.author is not None:
        if request.author not in authors:
            _register(journal, layout, request.author, request.author, progress)
        return request.author
    if not authors:
        return None  # a site without authors: notes without them
    name = git_user_name(root)
    if name is None:
        raise DaybookError(
            "no --author given and `git config user.name` is not set; pass --author ID "
            f"(one of {', '.join(sorted(authors))})"
        )
    found = match_author(name, authors)
    if found is None:
        if any(aid == slugify(name) for aid in authors):
            raise DaybookError(
                f"git user {name!r} matches no single author in {where} (known: "
                f"{', '.join(sorted(authors))}); pass --author ID"
            )
        found = slugify(name)
        _register(journal, layout, found, name, progress)
    return found


def _register(
    journal: Journal, layout: JournalLayout, author_id: str, name: str, progress: Progress
) -> None:
    """A first note of a person not yet in .authors.yml: add them (and say so) instead of
    refusing, so the first note of a new site, or of a new team member, just works."""
    path = add_author(layout, author_id, name)
    journal.authors[author_id] = Author(author_id, name, NEW_AUTHOR, initials_avatar(name))
    progress(
        f"added author {author_id!r} ({name}) to {layout.site_path(layout.authors_file)}; "
        f"edit {path.name} to give a description and an avatar"
    )


# --- where the note goes -------------------------------------------------------------------------


def note_path(layout: JournalLayout, request: NoteRequest, author: str | None) -> Path:
    day = request.date.isoformat()
    if request.type == "daily":
        name = f"{day}-{author}" if author else day
    else:
        name = f"{day}-{request.type}"
        if request.title:
            name += f"-{slugify(request.title)[:40].rstrip('-')}"
    return layout.notes_path / f"{name}.md"


def existing_note(
    journal: Journal, layout: JournalLayout, request: NoteRequest, author: str | None
) -> Path | None:
    """A daily note the author already has for that day, under any file name."""
    if request.type != "daily":
        return None
    for n in journal.notes:
        if (
            n.type == "daily"
            and n.date == request.date
            and ((author and author in n.authors) or (not author and not n.authors))
        ):
            return layout.docs_dir / n.source
    return None


def default_title(request: NoteRequest, author: Author | None) -> str:
    if request.title:
        return request.title
    day = f"{request.date:%A}, {request.date.day} {request.date:%B %Y}"
    if request.type == "daily":
        return f"{day} — {author.name}" if author else day
    return {"meeting": "Meeting", "decision": "Decision record", "postmortem": "Postmortem"}[
        request.type
    ] + f", {day}"


# --- the digest as Markdown lines ----------------------------------------------------------------


def _exp_uri(e: Experiment) -> Markup:
    return Markup(
        f"experiments:/{e.name}" if _BARE.match(e.name) else f"experiments:/{e.experiment_id}"
    )


def short_ids(all_ids: Iterable[str], length: int = 8) -> dict[str, str]:
    """The shortest prefix of each run id, at least `length` characters, that no other run of
    the store shares: what a person can read in a note and a reference still resolves."""
    ids = sorted(set(all_ids))
    out = {}
    for i, rid in enumerate(ids):
        need = length
        for other in (ids[i - 1] if i else "", ids[i + 1] if i + 1 < len(ids) else ""):
            common = next(
                (k for k, (a, b) in enumerate(zip(rid, other, strict=False)) if a != b),
                min(len(rid), len(other)),
            )
            need = max(need, common + 1)
        out[rid] = rid[:need]
    return out


def _run_ref(r: Run, short: dict[str, str]) -> Markup:
    """`[gbm-lr0.3](runs:/1a2b3c4d)`: the name a person recognises, linked by a short URI that
    reads well in the file and renders as the name on the site."""
    if not _RUN_ID.match(r.run_id):
        return md_text(r.name or r.run_id)
    uri = Markup(f"runs:/{short.get(r.run_id, r.run_id)}")
    return Markup("[{}]({})").format(md_text(r.name), uri) if r.name else uri


def _name(text: str) -> Markup:
    """A metric name in a note people will edit: a code span when it is a plain identifier (as
    nearly all are), else escaped text."""
    return Markup(f"`{text}`") if _PLAIN_NAME.match(text) else md_text(text)


def _model_uri(name: str, suffix: str) -> Markup:
    if _BARE.match(name):
        return Markup(f"models:/{name}{suffix}")
    if _ANGLE_OK.match(name):
        return Markup(f"<models:/{name}{suffix}>")
    return md_text(f"{name}{suffix}")


def digest_sections(
    d: Digest, limit: int, run_ids: Iterable[str] = ()
) -> list[tuple[str, list[Markup]]]:
    """The digest as (heading, [Markdown line]) sections; every line names what it is about
    with an MLflow URI, so the built note links it. Runs are named, with a short id that is
    unique among `run_ids` (the store's runs), one per line under their experiment."""
    short = short_ids(run_ids)

    def _run_uri(r: Run) -> Markup:
        return _run_ref(r, short)

    def cap(lines: list[Markup], total: int) -> list[Markup]:
        if total > limit:
            return [*lines[:limit], md_text(f"… and {total - limit} more")]
        return lines

    sections: list[tuple[str, list[Markup]]] = []
    lines = []
    for exp, runs in d.finished:
        items = [Markup("\n    - {}").format(_run_uri(r)) for r in runs[:limit]]
        if len(runs) > limit:
            items.append(Markup("\n    - {}").format(md_text(f"… and {len(runs) - limit} more")))
        n = len(runs)
        lines.append(
            Markup("{} — {} finished:{}").format(
                _exp_uri(exp), md_text(f"{n} run{'s' if n != 1 else ''}"), Markup("".join(items))
            )
        )
    if lines:
        sections.append(("Runs finished", cap(lines, len(lines))))
    lines = []
    for b in d.bests:
        was = ""
        if b.previous is not None and b.previous_value is not None:
            was = Markup(" (was {} by {})").format(
                format_number(b.previous_value), _run_uri(b.previous)
            )
        lines.append(
            Markup("{} is the new best of {} by {}: {}{}").format(
                _run_uri(b.run),
                _exp_uri(b.experiment),
                _name(b.primary.metric),
                format_number(b.value),
                was,
            )
        )
    if lines:
        sections.append(("New best results", cap(lines, len(lines))))
    lines = [
        Markup("{} {}").format(_run_uri(r), md_text(r.status.lower())) for r in d.failed[:limit]
    ]
    if lines:
        sections.append(("Failed runs", cap(lines, len(d.failed))))
    lines = []
    for v in d.versions[:limit]:
        src = (
            Markup(" from {}").format(Markup(f"runs:/{short.get(v.run_id, v.run_id)}"))
            if v.run_id and _RUN_ID.match(v.run_id)
            else ""
        )
        lines.append(Markup("{} registered{}").format(_model_uri(v.name, f"/{v.version}"), src))
    if lines:
        sections.append(("New model versions", cap(lines, len(d.versions))))
    lines = []
    for a in d.aliases[:limit]:
        alias = _model_uri(a.model, f"@{a.alias}")
        if a.version is None:
            lines.append(Markup("{} removed").format(md_text(f"{a.model}@{a.alias}")))
            continue
        was = (
            Markup(" (was {})").format(_model_uri(a.model, f"/{a.previous}")) if a.previous else ""
        )
        lines.append(
            Markup("{} now points to {}{}").format(alias, _model_uri(a.model, f"/{a.version}"), was)
        )
    if lines:
        sections.append(("Alias changes", cap(lines, len(d.aliases))))
    return sections


def _alias_events(site: Site) -> tuple[AliasEvent, ...]:
    """The alias moves earlier builds observed (the alias history), when the site keeps one."""
    try:
        from daybook.store.history import read_history

        rel = site.config.models.alias_history
        events, _ = read_history(site.root / rel, rel)
        return tuple(events)
    except (AttributeError, ImportError, OSError):
        return ()


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


# --- creating the note ---------------------------------------------------------------------------


def create_note(
    site: Site,
    request: NoteRequest,
    *,
    write: bool = True,
    now_ms: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> NoteResult:
    """Render the note for `request`; write it unless `write` is False or a note is there."""
    if request.type not in NOTE_TYPES:
        raise DaybookError(f"--type {request.type!r}: use one of {', '.join(NOTE_TYPES)}")
    layout = journal_layout(site)
    journal = read_journal(layout)
    author = resolve_author(request, journal, layout, site.root, progress)
    path = note_path(layout, request, author)
    existing = existing_note(journal, layout, request, author) or (path if path.exists() else None)
    if existing is not None:
        return NoteResult(existing, "", False)
    result = NoteResult(path, "", False)
    if author is None:
        result.warnings.append(
            f"no authors in {layout.site_path(layout.authors_file)} yet, so the note names none; "
            "add yourself there (see docs/writing-notes.md)"
        )
    now = int(time.time() * 1000) if now_ms is None else now_ms
    sections: list[tuple[str, list[Markup]]] = []
    since_text = Markup("")
    missing = Markup("")  # why there is no digest: one plain sentence of ours
    if request.type == "daily":
        until = min(now, _ms(request.date) + DAY_MS)
        prev = previous_note(journal, author, request.date) if author else None
        if prev is not None and prev.date is not None:
            since = _ms(prev.date)
            since_text = Markup(f"since your previous note ({prev.date.isoformat()})")
        else:
            since = until - site.config.journal.digest_hours * 3_600_000
            since_text = Markup(f"in the {site.config.journal.digest_hours} hours before the note")
        if not store_exists(site.tracking_uri):
            missing = Markup("there is no MLflow store to read yet")
            where = strip_credentials(site.tracking_uri)
            result.warnings.append(f"no MLflow store at {where}; the note has no digest")
        else:
            progress(f"reading {strip_credentials(site.tracking_uri)} for the digest")
            try:
                snapshot = read_catalog(site.config, site.tracking_uri)
            except DaybookError as exc:
                # The details (a URI, a driver's message) go to the terminal; the note a person
                # edits gets one plain sentence, with nothing to unescape and no machine path.
                missing = Markup("the tracking store could not be read when the note was made")
                result.warnings.append(f"no digest: {exc}")
            else:
                d = digest(site.config, snapshot, since, until, _alias_events(site))
                sections = digest_sections(
                    d, site.config.journal.digest_lines, (r.run_id for r in snapshot.runs)
                )
    authors = journal.authors
    env = make_environment(site.templates)
    try:
        template = env.get_template(f"note-{request.type}.md.j2")
        text = template.render(
            date=request.date,
            type=request.type,
            title=default_title(request, authors.get(author) if author else None),
            author=authors.get(author) if author else None,
            author_id=Markup(author or ""),  # checked: letters, digits, '.', '_', '-' only
            digest=sections,
            digest_since=since_text,
            digest_missing=missing,
            has_digest=request.type == "daily",
        )
    except Exception as exc:  # a site's own template: say which and where
        line = getattr(exc, "lineno", None)
        raise DaybookError(
            f"template note-{request.type}.md.j2{':' + str(line) if line else ''}: {exc}"
        ) from None
    result.text = text.rstrip() + "\n"
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8", newline="\n") as fh:  # never overwrite
                fh.write(result.text)
        except FileExistsError:
            return NoteResult(path, "", False)
        result.created = True
        ensure_journal_index(layout)
    return result
