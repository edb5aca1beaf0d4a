"""The site, and what one build of it reads and makes, as plain values.

`Site` is what every command starts from (`sources.site.load_site` reads it); `JournalInput`
and `ReferencePoint` are a build's inputs besides the snapshot; `Generated` is its output, the
`{path: Markdown}` tree that the MkDocs bridge and `daybook generate --out` both publish.
"""

from __future__ import annotations

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


Source = Literal["since", "previous build", "default"]


@dataclass(frozen=True)
class ReferencePoint:
    since_ms: int
    source: Source
    given: str = ""  # what `--since` said

    @property
    def label(self) -> str:
        """How the page says where the reference point comes from."""
        if self.source == "since":
            return f"set with --since {self.given}"
        if self.source == "previous build":
            return "the previous build"
        return (
            "24 hours before this build"
            if self.given == "24"
            else (f"{self.given} hours before this build")
        )


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
