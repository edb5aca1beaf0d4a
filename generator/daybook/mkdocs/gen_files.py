"""The gen-files side of the bridge: publish a generated tree inside a running MkDocs build.

Only this module (and the runner) know MkDocs; everything it needs arrives as a `Generated` value,
so `daybook generate --out` and another generator get the same pages with no change below it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
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
    for rel, text in generated.pages.items():
        with mkdocs_gen_files.open(rel, "w", encoding="utf-8") as fh:
            fh.write(text)
    for rel, data in generated.files.items():  # artifact images beside their run pages
        with mkdocs_gen_files.open(rel, "wb") as fh:
            fh.write(data)
    _hide_nav_file()
    _hide_files(generated.replaced)
    squeeze_pages(mkdocs_gen_files.config)  # Material's indentation: half of a page's bytes
    defer_search(mkdocs_gen_files.config)  # the search index waits for the search box
    sanitize_blog_authors(mkdocs_gen_files.config, log)
    log_problems(generated.problems, log)


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
