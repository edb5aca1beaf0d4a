"""The site, and what one build of it reads and makes, as plain values.

`Site` is what every command starts from (`sources.site.load_site` reads it); `JournalInput`
and `ReferencePoint` are a build's inputs besides the snapshot; `Generated` is its output, the
`{path: Markdown}` tree that the MkDocs bridge and `daybook generate --out` both publish.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Journal, Problem


@dataclass(frozen=True)
class Site:
    root: Path  # the folder holding mkdocs.yml and daybook.yml
    config: DaybookConfig
    tracking_uri: str
    default_store: bool = False  # the URI is MLflow's default, not chosen by anyone
    directory_urls: bool = True  # mkdocs.yml's use_directory_urls: where `x.md` is served
    store_path: Path | None = None  # a local store's file (sqlite): its folder stays off the site

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"


@dataclass(frozen=True)
class JournalLayout:
    """Paths of the journal, relative to the docs folder and "/"-separated."""

    root: Path  # the site folder (holding mkdocs.yml)
    docs: str = "docs"  # docs_dir, relative to root
    blog_dir: str = "journal"  # the journal's entry page is <blog_dir>/index.md
    notes_dir: str = "notes"  # every .md file below is a post (the blog's post_dir)
    authors_file: str = "journal/.authors.yml"
    problems: tuple[Problem, ...] = field(default=())
    has_index: bool = False  # <blog_dir>/index.md exists (the journal's entry page)

    @property
    def docs_dir(self) -> Path:
        return self.root / self.docs

    @property
    def notes_path(self) -> Path:
        return self.docs_dir / self.notes_dir

    @property
    def authors_path(self) -> Path:
        return self.docs_dir / self.authors_file

    @property
    def index_page(self) -> str:
        return posixpath.join(self.blog_dir, "index.md")

    def holds_note(self, docs_relative: str) -> bool:
        """Whether a page (its path under docs/) is in the notes folder: a blog post, which the
        `daybook` MkDocs plugin sanitizes."""
        folder = self.notes_dir.strip("/")
        if folder in ("", "."):
            return True  # every page is a post
        return docs_relative.replace("\\", "/").startswith(folder + "/")

    def site_path(self, docs_relative: str) -> str:
        """A path under docs/ as the site root sees it, for `path:line` messages."""
        return posixpath.join(self.docs, docs_relative) if self.docs != "." else docs_relative


@dataclass(frozen=True)
class JournalInput:
    """The notes as read before the tracking store is."""

    layout: JournalLayout
    journal: Journal
    run_keys: tuple[str, ...]  # run ids and prefixes the notes mention (they all get pages)


Source = Literal["since", "review.since", "published", "default"]


def utc_minute(ms: int) -> str:
    """A time as every page writes it: UTC, to the minute."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class ReferencePoint:
    """Where the morning review starts, and why (see daybook.store.state for the order).

    `now_ms` is the build's "now": open action items are aged and stuck runs timed from it."""

    since_ms: int
    source: Source
    given: str = ""  # what `--since` said; for review.since the cut, e.g. "09:00 UTC today"
    now_ms: int = 0

    @property
    def label(self) -> str:
        """Why the review starts there, in a few words."""
        if self.source == "since":
            return f"set with --since {self.given}"
        if self.source == "review.since":
            return f"{self.given} (review.since)"
        if self.source == "published":
            return "the last published build"
        hours = "24 hours" if self.given == "24" else f"{self.given} hours"
        return f"{hours} before this build; no published build yet"

    @property
    def window(self) -> str:
        """The review's window as the page says it: "since the published build of …"."""
        when = utc_minute(self.since_ms)
        if self.source == "published":
            return f"since the published build of {when}"
        if self.source == "review.since":
            return f"since {self.given} (review.since: {when})"
        if self.source == "default":
            # No minute printed: a rolling window's start moves with the clock, and two
            # generations a minute apart must give the same bytes when nothing else changed.
            hours = "24 hours" if self.given == "24" else f"{self.given} hours"
            return f"in the {hours} before this build, no published build yet"
        return f"since {when} ({self.label})"


@dataclass
class Generated:
    """One generation: the pages, and what is wrong in files people wrote (notes), which a
    MkDocs build logs as warnings so `--strict` fails on them."""

    pages: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # files in docs/ served under another path
    reference: ReferencePoint | None = None  # the morning review's reference point
    # Binary files beside the pages (artifact images), written as they are: {path: bytes}.
    files: dict[str, bytes] = field(default_factory=dict)
