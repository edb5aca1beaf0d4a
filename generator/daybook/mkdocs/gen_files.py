"""The gen-files side of the bridge: publish a generated tree inside a running MkDocs build.

Only this module (and the runner) know MkDocs; everything it needs arrives as a `Generated` value,
so `daybook generate --out` and another generator get the same pages with no change below it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING

from daybook.core.errors import DaybookError
from daybook.core.site import Generated
from daybook.core.snapshot import Problem
from daybook.mkdocs.blog_authors import sanitize_blog_authors
from daybook.mkdocs.search_defer import defer_search
from daybook.mkdocs.squeeze import squeeze_pages
from daybook.sources.mkdocs_yml import read_layout

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

log = logging.getLogger("mkdocs.plugins.daybook")
PLUGIN_MODULE = "daybook.mkdocs.plugin"  # the `daybook` plugin's module (pyproject's entry point)


def site_root() -> Path:
    """The folder of the mkdocs.yml being built (gen-files knows it)."""
    import mkdocs_gen_files

    config_file = mkdocs_gen_files.config.config_file_path
    return (Path(config_file).resolve().parent if config_file else Path.cwd()).resolve()


def directory_urls() -> bool:
    """The running build's `use_directory_urls`: `daybook build --file-urls` and a
    `site: {file_urls: true}` serve turn it off without touching mkdocs.yml."""
    import mkdocs_gen_files

    return bool(mkdocs_gen_files.config.use_directory_urls)


def publish(generated: Generated) -> None:
    """Hand every page to MkDocs, hide what it must not publish, and log the problems found in
    files people wrote as build warnings (so `--strict` fails on them)."""
    import mkdocs_gen_files

    require_plugin(mkdocs_gen_files.config, site_root())
    add = _in_memory()
    for rel, content in (*generated.pages.items(), *generated.files.items()):
        if add is not None and rel.startswith(IN_MEMORY):
            add(rel, content)
        elif isinstance(content, bytes):  # artifact images beside their run pages
            with mkdocs_gen_files.open(rel, "wb") as fh:
                fh.write(content)
        else:
            with mkdocs_gen_files.open(rel, "w", encoding="utf-8") as fh:
                fh.write(content)
    _hide_nav_file()
    _hide_files(generated.replaced)
    squeeze_pages(mkdocs_gen_files.config)  # Material's indentation: half of a page's bytes
    defer_search(mkdocs_gen_files.config)  # the search index waits for the search box
    sanitize_blog_authors(mkdocs_gen_files.config, log)
    log_problems(generated.problems, log)


# Daybook's own trees (no note, no tagged page: nothing the blog or tags plugins read from disk)
IN_MEMORY = ("experiments/", "runs/", "assets/daybook/")


def _in_memory() -> Callable[[str, str | bytes], None] | None:
    """Adds a file to the running build from memory (MkDocs 1.6's `File.generated`), where
    `mkdocs_gen_files.open` writes each one to a temporary folder to be read back: 10,000
    files of a 100,000-run site cost ~2.5 s to create on this machine's disk. None outside a
    build (gen-files then writes into docs/), or when this gen-files keeps its files otherwise
    (its map is internal, so its shape is checked, and the writes stay the fallback)."""
    from mkdocs.structure.files import File
    from mkdocs_gen_files import FilesEditor

    editor = FilesEditor._current  # the build's editor; None when the script runs on its own
    files = getattr(editor, "_files", None)
    paths = getattr(editor, "edit_paths", None)
    if editor is None or not isinstance(files, MutableMapping) or not isinstance(paths, dict):
        return None
    config = editor.config

    def add(rel: str, content: str | bytes) -> None:
        f = File.generated(config, rel, content=content)
        f.generated_by = "mkdocs-gen-files"  # as gen-files marks the files it writes
        files[rel] = f
        paths.setdefault(rel, None)

    return add


def require_plugin(config: MkDocsConfig, root: Path) -> None:
    """A site with a journal needs the daybook plugin, which sanitizes the notes after MkDocs
    renders them: without it the build stops, rather than publish notes unsanitized."""
    from mkdocs.exceptions import PluginError

    try:
        if read_layout(root) is None:
            return  # no blog plugin: no notes
    except DaybookError as exc:
        raise PluginError(f"daybook: {exc}") from None
    # By module name, not isinstance: `mkdocs serve` may have reloaded this module.
    if any(type(p).__module__ == PLUGIN_MODULE for p in config.plugins.values()):
        return
    raise PluginError(
        f"daybook: {root / 'mkdocs.yml'}: the journal's notes are sanitized by the daybook "
        "plugin, which is missing: add `- daybook` to `plugins:` after gen-files, before blog"
    )


def log_problems(problems: list[Problem], logger: logging.Logger) -> None:
    """Errors as build warnings (so `mkdocs build --strict` fails on them), the rest as info."""
    for p in problems:
        if p.level == "error":
            logger.warning(str(p))
        else:
            logger.info(str(p))


def _hide_files(paths: Iterable[str]) -> None:
    """Notes whose own path cannot be linked to are served from a copy at a slug path; the
    original file is left out of the build (and left alone on disk)."""
    import mkdocs_gen_files
    from mkdocs.structure.files import InclusionLevel

    editor = mkdocs_gen_files.FilesEditor.current()
    for path in paths:
        f = editor.files.get_file_from_path(path)
        if f is not None:
            f.inclusion = InclusionLevel.EXCLUDED


def _hide_nav_file() -> None:
    """literate-nav reads SUMMARY.md; MkDocs should not also publish it as a page."""
    import mkdocs_gen_files
    from mkdocs.structure.files import InclusionLevel

    editor = mkdocs_gen_files.FilesEditor.current()
    nav = editor.files.get_file_from_path("SUMMARY.md")
    if nav is not None and getattr(nav, "generated_by", None) == "mkdocs-gen-files":
        nav.inclusion = InclusionLevel.EXCLUDED
