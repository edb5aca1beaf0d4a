"""The `daybook` MkDocs plugin: notes are untrusted, so once MkDocs has rendered a note with the
site's own Markdown extensions, its HTML goes through the one sanitizer (daybook.safety.sanitize).

It only connects MkDocs events to plain functions. mkdocs.yml lists it after gen-files (which
serves the completed notes) and before the blog; the gen-files script refuses to build a site
with a journal and without this plugin (daybook.mkdocs.gen_files.require_plugin).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink

from daybook.core.errors import DaybookError
from daybook.core.site import JournalLayout
from daybook.safety.sanitize import clean_html, neutralize_snippets, restore_snippets
from daybook.sources.mkdocs_yml import read_layout


class DaybookPlugin(BasePlugin):
    """Sanitizes the journal's notes (the blog's posts), and their excerpts on the blog's pages."""

    layout: JournalLayout | None = None
    marked: frozenset[str] = frozenset()  # notes whose snippet markers carry the sentinel

    def on_config(self, config: MkDocsConfig) -> None:
        path = config.config_file_path
        try:
            self.layout = read_layout(Path(path).parent if path else Path.cwd())
        except DaybookError as exc:
            raise PluginError(f"daybook: {exc}") from None
        self.marked = frozenset()

    def _is_note(self, src_uri: str) -> bool:
        return self.layout is not None and self.layout.holds_note(src_uri)

    def _clean(self, src_uri: str, html: str) -> str:
        html = clean_html(html)
        return restore_snippets(html) if src_uri in self.marked else html

    @event_priority(-100)  # after other plugins: the Markdown MkDocs is about to render
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """pymdownx.snippets would replace a `--8<--` line (in a fence too) with a file."""
        if not self._is_note(page.file.src_uri):
            return None
        neutral = neutralize_snippets(markdown)
        if neutral != markdown:
            self.marked = self.marked | {page.file.src_uri}
        return neutral

    @event_priority(-100)  # after other plugins: the note's final HTML
    def on_page_content(
        self, html: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self._is_note(page.file.src_uri):
            return None
        if page.file.src_uri in self.marked:
            _restore_titles(page.toc)  # the table of contents shows headings as text
        return self._clean(page.file.src_uri, html)

    @event_priority(-100)  # after the blog attaches its sections (-50)
    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        """A journal with no notes yet: the blog attaches its Archive section anyway, with no
        entry, and Material links such a section to the page above it. Empty sections go."""
        nav.items = _without_empty_sections(nav.items)
        return nav

    @event_priority(-150)  # after the blog renders its excerpts (-100), before the template
    def on_page_context(
        self, context: dict[str, Any], *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> dict[str, Any]:
        """The blog renders each post's excerpt again from its Markdown, for its index, archive,
        category and author pages: those copies are cleaned the same way."""
        for excerpt in context.get("posts") or ():
            src_uri = getattr(getattr(excerpt, "file", None), "src_uri", "")
            if not self._is_note(src_uri):
                continue
            excerpt.content = self._clean(src_uri, excerpt.content or "")
            if isinstance(getattr(excerpt, "more", None), str):
                excerpt.more = self._clean(src_uri, excerpt.more)
        return context


def _without_empty_sections(items: list[Any]) -> list[Any]:
    kept = []
    for item in items:
        if isinstance(item, Section):
            item.children = _without_empty_sections(item.children)
            if not item.children:
                continue
        kept.append(item)
    return kept


def _restore_titles(items: Iterable[AnchorLink]) -> None:
    for item in items:
        item.title = restore_snippets(item.title)
        _restore_titles(item.children)
