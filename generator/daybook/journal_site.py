"""The journal's part of a build: read the notes before the pull (so the runs they mention get
pages), resolve them after it, and hand the pages, problems and nav entries to `daybook.site`.

Kept apart from site.py so the build's other parts and the journal can change independently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from daybook.analysis.references import resolve_journal, run_keys
from daybook.pages.journal import JournalView, render_journal
from daybook.snapshot import Journal, Problem, Snapshot
from daybook.sources.mkdocs_yml import JournalLayout, read_layout
from daybook.sources.notes import read_journal

if TYPE_CHECKING:
    from daybook.pages.render import Renderer
    from daybook.site import Site


@dataclass(frozen=True)
class JournalInput:
    """The notes as read before the tracking store is."""

    layout: JournalLayout
    journal: Journal
    run_keys: tuple[str, ...]  # run ids and prefixes the notes mention (they all get pages)


@dataclass
class JournalOutput:
    pages: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # notes served under another path
    nav: list[tuple[str, str]] = field(
        default_factory=list
    )  # (label, page); the first is the index


def read_site_journal(site: Site) -> JournalInput | None:
    """None when the journal is off: `journal.enabled: false`, or no blog plugin in mkdocs.yml."""
    if not site.config.journal.enabled:
        return None
    layout = read_layout(site.root)
    if layout is None:
        return None
    journal = read_journal(layout)
    return JournalInput(layout, journal, tuple(run_keys(journal)))


def journal_view(site: Site, snapshot: Snapshot, jin: JournalInput) -> JournalView:
    refs = resolve_journal(jin.journal, snapshot)
    view = JournalView.build(jin.journal, refs, snapshot, jin.layout, site.config.redact)
    view.problems = sorted(
        [*jin.layout.problems, *view.problems], key=lambda p: (p.path, p.line, p.message)
    )
    return view


def render_journal_pages(renderer: Renderer, view: JournalView) -> JournalOutput:
    out = JournalOutput(pages=render_journal(renderer, view), problems=list(view.problems))
    out.replaced = [n.source for n in view.journal.notes if n.page != n.source]
    pages = view.pages
    index_exists = (view.layout.docs_dir / pages.index).is_file()
    if index_exists:
        out.nav = [
            ("Journal", pages.index),
            ("Decisions", pages.decisions),
            ("Open action items", pages.actions),
        ]
    return out


def log_problems(problems: list[Problem], log: logging.Logger) -> None:
    """Errors as build warnings (so `mkdocs build --strict` fails on them), the rest as info."""
    for p in problems:
        if p.level == "error":
            log.warning(str(p))
        else:
            log.info(str(p))


def sanitize_blog_authors(mkdocs_config: object, log: logging.Logger) -> None:
    """The blog plugin reads `.authors.yml` itself and prints names and descriptions into pages
    unescaped; make them plain text before it renders anything."""
    from daybook.escape import title_text

    plugins = getattr(mkdocs_config, "plugins", None) or {}
    for name, plugin in plugins.items():
        if not str(name).startswith("material/blog"):
            continue
        for aid, author in (getattr(plugin, "authors", None) or {}).items():
            for attr in ("name", "description"):
                value = author.get(attr)
                if isinstance(value, str):
                    safe = title_text(value, 200)
                    if safe != value:
                        author[attr] = safe
                        log.info(f"daybook: author {aid!r}: HTML characters in {attr} replaced")
