"""MkDocs's per-page work on two processes, for `daybook build` of a big site.

MkDocs renders pages one at a time (its parallel build, mkdocs/mkdocs#1900, was declined), so a
100,000-run site (2,768 pages) spends ~115 s on one core while the other idles: most of
`daybook build`. The per-page work is two loops in `mkdocs.commands.build`: `_populate_page`
(Markdown to HTML) and `_build_page` (the theme's template, the search indexer, the output
file). For each loop this module forks once, at the loop's first page: the second process does
every second run and compare page Daybook generated, the first process does the rest, then
takes the second one's results before MkDocs goes on:

- after the Markdown loop (at `on_env`, before any plugin's `on_env`), what the rest of the
  build reads of a page: its HTML, table of contents, title, anchors, metadata;
- after the template loop (at `on_post_build`, before the search plugin writes its index), the
  search entries of its pages, put back in page order;
- its log records (warnings included) are handed to the first process's loggers, so messages
  show and `--strict` counts them as if the first process had logged them;
- an error in it fails the build with its message.

The site it writes is byte for byte the one-process build (tests/mkdocs/test_parallel.py).
That holds because the pages handed over keep no state in a plugin: run and compare pages are
Daybook's own, with no blog post or view among them; one whose front matter has `tags` or that
holds a tag listing stays in the first process (the tags plugin collects those in a loop pass);
and a site with a plugin not in `PLUGINS` builds in one process. So does a build with other
threads running (a fork copies only the calling thread), a machine with one core, a site with
fewer than `MIN_PAGES` such pages, an MkDocs other than 1.6 (the loops are its internals), and
`DAYBOOK_PROCESSES=1`.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from daybook.core.fork import Child, fork, processes_wanted, why_not

MIN_PAGES = 100  # run and compare pages below which a fork costs more than it saves
# Plugins known to keep no state from the pages the second process renders (see above).
_SEARCH = ("search", "material/search")
PLUGINS = frozenset(
    (
        *_SEARCH,
        "gen-files",
        "literate-nav",
        "daybook",
        "blog",
        "material/blog",
        "tags",
        "material/tags",
    )
)
# Daybook's generated run and compare pages (pages/paths.py): the bulk of a big site.
_HANDED = re.compile(r"experiments/[^/]+/(?:runs|compare)/[^/]+\.md")
_TAGS = re.compile(r"^tags\s*:", re.MULTILINE)  # in front matter: the tags plugin's key
_LISTING = "<!-- material/tags"  # a tag listing
# What the Markdown loop leaves on a page that the rest of the build reads.
# (`title` only when a plugin set it: MkDocs' weak_property then keeps it in the page's __dict__)
_PAGE_STATE = ("markdown", "meta", "content", "toc", "_title_from_render", "present_anchor_ids",
               "edit_url", "title")  # fmt: skip

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def why_one_process(config: Any, wanted: int | None) -> str:
    """Why this build must or should run in one process ("" when two are safe and wanted)."""
    import mkdocs

    why = why_not(wanted)
    if why:
        return why
    if not mkdocs.__version__.startswith("1.6."):
        return f"MkDocs {mkdocs.__version__} (two processes are known to work with 1.6)"
    others = sorted(set(config.plugins) - PLUGINS)
    if others:
        return "plugins that may keep state from every page: " + ", ".join(others)
    return ""


@dataclass
class Split:
    """The two patched loops of one build, and what passes between them."""

    config: Any
    progress: Progress = _quiet
    forced: bool = False  # DAYBOOK_PROCESSES=2: any number of pages
    handed: set[str] = field(default_factory=set)  # src_uri of the second process's pages
    populate_child: Child | None = None
    build_child: Child | None = None
    started_populate: bool = False
    started_build: bool = False
    doc_files: list[Any] = field(default_factory=list)  # the template loop's pages, in order
    entries_before: int = 0  # search entries made before the template loop
    own_entries: dict[str, list[Any]] = field(default_factory=dict)

    # --- which pages ---------------------------------------------------------------------

    def choose(self, files: Any) -> list[Any]:
        """Every second of the run and compare pages with no tags; [] when too few."""
        candidates = [
            f
            for f in files.documentation_pages()
            if f.page is not None and _HANDED.fullmatch(f.src_uri) and not _tagged(f)
        ]
        if len(candidates) < (1 if self.forced else MIN_PAGES):
            return []
        return candidates[1::2]

    def _fork(self, work: Callable[[], Any]) -> Child | None:
        child = fork(work)
        if child is None and self.forced:
            self.progress("mkdocs: one process (other threads are running)")
        return child

    # --- the Markdown loop -------------------------------------------------------------------

    def populate(self, original: Callable[..., None]) -> Callable[..., None]:
        def patched(page: Any, config: Any, files: Any, dirty: bool = False) -> None:
            if not self.started_populate:
                self.started_populate = True
                mine = self.choose(files)
                if mine:
                    work = functools.partial(_populate_all, original, mine, config, files, dirty)
                    self.populate_child = self._fork(work)
                    if self.populate_child is not None:
                        self.handed = {f.src_uri for f in mine}
                        total = len(files.documentation_pages())
                        self.progress(
                            f"mkdocs: {len(mine):,} of {total:,} pages rendered by a second process"
                        )
            if page.file.src_uri in self.handed:
                return
            original(page, config, files, dirty)

        return patched

    def take_pages(self, files: Any) -> None:
        """The second process's pages, before any plugin's `on_env` sees the pages."""
        child, self.populate_child = self.populate_child, None
        if child is None:
            return
        states: dict[str, dict[str, Any]] = child.result()
        for f in files.documentation_pages():
            state = states.get(f.src_uri)
            if state is None or f.page is None:
                continue
            anchors = state.pop("links_to_anchors", None)
            for name, value in state.items():
                setattr(f.page, name, value)
            if anchors is not None:
                f.page.links_to_anchors = {
                    files.get_file_from_path(uri): links for uri, links in anchors.items()
                }

    # --- the template loop -------------------------------------------------------------------

    def build(self, original: Callable[..., None]) -> Callable[..., None]:
        def patched(page: Any, config: Any, doc_files: Any, nav: Any, env: Any,
                    dirty: bool = False, excluded: bool = False) -> None:  # fmt: skip
            entries = self._search_entries()
            if not self.started_build:
                self.started_build = True
                self.doc_files = list(doc_files)
                self.entries_before = len(entries) if entries is not None else 0
                mine = [f for f in self.doc_files if f.src_uri in self.handed]
                if mine:
                    work = functools.partial(_build_all, original, mine, config, doc_files, nav,
                                             env, dirty, entries)  # fmt: skip
                    self.build_child = self._fork(work)
                if self.build_child is None:  # (threads appeared) this process builds them all
                    self.handed = set()
            if page.file.src_uri in self.handed:
                return
            before = len(entries) if entries is not None else 0
            original(page, config, doc_files, nav, env, dirty, excluded)
            if entries is not None:
                self.own_entries[page.file.src_uri] = entries[before:]

        return patched

    def take_entries(self) -> None:
        """The second process's search entries, merged in page order as one process adds them."""
        child, self.build_child = self.build_child, None
        if child is None:
            return
        theirs: dict[str, list[Any]] = child.result()
        entries = self._search_entries()
        if entries is None:
            return
        merged = entries[: self.entries_before]
        for f in self.doc_files:
            found = theirs.get(f.src_uri)
            merged.extend(found if found is not None else self.own_entries.get(f.src_uri, ()))
        entries[:] = merged

    def _search_entries(self) -> list[Any] | None:
        """The search plugin's list of entries (made by its `on_config`, during the build)."""
        for name in _SEARCH:
            plugin = self.config.plugins.get(name)
            entries = getattr(getattr(plugin, "search_index", None), "entries", None)
            if isinstance(entries, list):
                return entries
        return None

    def stop(self) -> None:
        for child in (self.populate_child, self.build_child):
            if child is not None:
                child.stop()


def _tagged(f: Any) -> bool:
    """A page the tags plugin must see in the first process: front matter with `tags`, or a
    tag listing."""
    try:
        text = f.content_string
    except (OSError, UnicodeDecodeError):
        return True  # MkDocs reports it; this process reads it
    if _LISTING in text:
        return True
    if not text.startswith("---"):
        return False
    end = text.find("\n---", 3)
    return _TAGS.search(text, 0, end if end > 0 else len(text)) is not None


def _populate_all(
    original: Callable[..., None], mine: list[Any], config: Any, files: Any, dirty: bool
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in mine:
        page = f.page
        original(page, config, files, dirty)
        state = {name: page.__dict__[name] for name in _PAGE_STATE if name in page.__dict__}
        links = getattr(page, "links_to_anchors", None)
        if links is not None:
            state["links_to_anchors"] = {target.src_uri: v for target, v in links.items()}
        out[f.src_uri] = state
    return out


def _build_all(
    original: Callable[..., None],
    mine: list[Any],
    config: Any,
    doc_files: Any,
    nav: Any,
    env: Any,
    dirty: bool,
    entries: list[Any] | None,
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in mine:
        before = len(entries) if entries is not None else 0
        original(f.page, config, doc_files, nav, env, dirty, f.inclusion.is_excluded())
        out[f.src_uri] = entries[before:] if entries is not None else []
    return out


@contextlib.contextmanager
def two_processes(config: Any, progress: Progress | None = None) -> Iterator[None]:
    """Within: MkDocs's `build(config)` shares its page loops with a second process, when
    `why_one_process` finds nothing against it (and says why not otherwise)."""
    progress = progress or _quiet
    wanted = processes_wanted()
    why = why_one_process(config, wanted)
    if why:
        if wanted == 2:
            progress(f"mkdocs: one process ({why})")
        yield
        return
    import mkdocs.commands.build as mkbuild

    split = Split(config, progress, forced=wanted == 2)
    plugins = config.plugins
    saved = (mkbuild._populate_page, mkbuild._build_page)
    on_env, on_post_build = plugins.on_env, plugins.on_post_build

    def env_first(env: Any, *, config: Any, files: Any) -> Any:
        split.take_pages(files)
        return on_env(env, config=config, files=files)

    def post_build_first(*, config: Any) -> None:
        split.take_entries()
        on_post_build(config=config)

    mkbuild._populate_page = split.populate(saved[0])
    mkbuild._build_page = split.build(saved[1])
    plugins.on_env, plugins.on_post_build = env_first, post_build_first
    try:
        yield
    finally:
        mkbuild._populate_page, mkbuild._build_page = saved
        del plugins.on_env, plugins.on_post_build  # the class's methods again
        split.stop()
