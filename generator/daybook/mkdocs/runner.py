"""Runs MkDocs in this process, so `daybook build` can hand it pages it already generated.

A build writes into a fresh folder beside the site folder and takes its place only when MkDocs
succeeds: a failed `--strict` build leaves the previous site as it was, so a deploy step that
runs after it can never publish half a site or a site with the errors it refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from daybook.core.errors import DaybookError

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

BUILDING_PREFIX = ".daybook-build-"  # the folder a build writes into, beside the site folder
# Where daybook/pages/static's iframe-worker shim is published (pages/site.py's ASSETS).
WORKER_SHIM = "assets/daybook/iframe-worker-shim.js"


def config_file(root: Path) -> Path:
    path = root / "mkdocs.yml"
    if not path.is_file():
        raise DaybookError(f"{path}: not found; run `daybook init {root}` to create a site")
    return path


def build_site(
    root: Path,
    *,
    site_dir: Path | None = None,
    strict: bool = False,
    file_urls: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build with MkDocs into a new folder, then swap it in for the site folder. `file_urls`:
    a site that works opened from disk (see `for_file_urls`). A big site's pages are shared
    with a second process (daybook.mkdocs.parallel)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from daybook.mkdocs.parallel import two_processes

    overrides: dict[str, object] = {"strict": strict}
    if site_dir is not None:
        overrides["site_dir"] = str(site_dir.resolve())
    if file_urls:
        overrides["use_directory_urls"] = False
    building: Path | None = None
    try:
        config = load_config(config_file=str(config_file(root)), **overrides)
        if file_urls:
            for_file_urls(config)
        final = Path(config["site_dir"]).resolve()  # a symlinked site folder: its target
        if final.exists() and not final.is_dir():
            raise DaybookError(f"{final}: is not a folder; give --site-dir a folder to build into")
        building = _building_folder(final)
        config["site_dir"] = str(building)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            with two_processes(config, progress):
                build(config)
        finally:
            config.plugins.on_shutdown()
        _swap(building, final)
        building = None
    except MkDocsException as exc:
        raise DaybookError(f"mkdocs: {exc}") from None
    finally:
        if building is not None:
            shutil.rmtree(building, ignore_errors=True)
    return final


def for_file_urls(config: MkDocsConfig) -> None:
    """A site that works from `file://` (zipped and mailed, opened from a shared drive): pages
    at `x.html` rather than `x/` (a folder opens as a listing there), and search through
    Material's offline plugin, which inlines the index as a script. Its Web Worker shim is
    Daybook's own (assets/daybook/iframe-worker-shim.js), not the one the plugin would load from a
    CDN."""
    from material.plugins.offline.plugin import OfflinePlugin

    config.use_directory_urls = False
    polyfills = config.extra.get("polyfills") or []
    if not any("iframe-worker" in str(url) for url in polyfills):
        config.extra["polyfills"] = [*polyfills, WORKER_SHIM]
    if not any(isinstance(p, OfflinePlugin) for p in config.plugins.values()):
        offline = OfflinePlugin()
        errors, _warnings = offline.load_config({})
        if errors:  # pragma: no cover - the plugin's one option has a default
            raise DaybookError(f"mkdocs: the offline plugin refused its settings: {errors}")
        config.plugins["material/offline"] = offline  # registers its events: build() runs them


def _building_folder(final: Path) -> Path:
    """A new folder beside `final` (same file system, so the swap is a rename)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{BUILDING_PREFIX}{final.name}-", dir=final.parent))


def _swap(built: Path, final: Path) -> None:
    """Put the new site in place: the old one renamed aside, the new one renamed in, the old
    one removed. Two renames: a reader may find no folder for that instant, never a mix."""
    os.chmod(built, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the site from a web server
    old: Path | None = None
    try:
        if final.exists():
            aside = tempfile.mkdtemp(prefix=f"{BUILDING_PREFIX}{final.name}-old-", dir=final.parent)
            old = Path(aside)
            os.replace(final, old / final.name)
        try:
            os.replace(built, final)
        except OSError:
            if old is not None:  # put the previous site back
                os.replace(old / final.name, final)
            raise
    except OSError as exc:
        raise DaybookError(f"{final}: could not put the new site in place ({exc})") from None
    finally:
        # `final` is there (the new site, or the previous one put back): what is aside can go.
        # Otherwise the previous site is kept aside, never removed.
        if old is not None and final.exists():
            shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def serve_site(root: Path, dev_addr: str, *, file_urls: bool = False) -> None:
    """`mkdocs serve`. With `file_urls` pages are served at `x.html`, as the generated pages
    (built for a `--file-urls` site) link them; serving needs no offline search."""
    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import MkDocsException

    options: dict[str, object] = {"use_directory_urls": False} if file_urls else {}
    try:
        serve(config_file=str(config_file(root)), dev_addr=dev_addr, livereload=True, **options)
    except MkDocsException as exc:
        raise DaybookError(f"mkdocs: {exc}") from None
