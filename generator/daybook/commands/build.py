"""`daybook build` and `daybook serve`: the generated pages handed to MkDocs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from daybook.commands.generate import OFFLINE_VARIABLE, generate, precompute
from daybook.core.site import Site
from daybook.mkdocs.runner import build_site, config_file, serve_site
from daybook.store.lock import site_lock
from daybook.store.state import ENV_SINCE, parse_since, record_build

Progress = Callable[[str], None]


def build(
    site: Site,
    progress: Progress,
    *,
    site_dir: Path | None = None,
    strict: bool = False,
    offline: bool = False,
    full: bool = False,
    since: str | None = None,
    before_mkdocs: Callable[[], None] = lambda: None,
) -> Path:
    """Pull, generate, build with MkDocs; record the build as the next review's start.
    `before_mkdocs` runs once the pages are ready (the CLI sets up MkDocs' logging there).

    All of it under the site lock (see daybook.store.lock), so two builds never write the same
    site/ at once and the second one's review starts where the first one recorded; the gen-files
    script MkDocs runs in this process takes the same lock again (it is re-entrant)."""
    config_file(site.root)  # no mkdocs.yml: say so before reading the store
    with site_lock(site.root, progress):
        started = int(time.time() * 1000)  # after any wait: the build begins once it holds the site
        generated = generate(
            site, progress, offline=offline, full=full, since=since, now_ms=started
        )
        precompute(site, generated)  # the gen-files script logs its problems as build warnings
        progress(f"generated {len(generated.pages)} pages; building the site with MkDocs")
        before_mkdocs()
        out = build_site(site.root, site_dir=site_dir, strict=strict)
        record_build(site.root, started, site.tracking_uri)
    return out


def serve(site: Site, dev_addr: str, *, offline: bool = False, since: str | None = None) -> None:
    """Preview with live reload; every rebuild runs the site's gen-files script, which reads
    the same store (and the same options) through the environment."""
    os.environ["MLFLOW_TRACKING_URI"] = site.tracking_uri
    if offline:
        os.environ[OFFLINE_VARIABLE] = "1"  # the gen script reads the snapshot only
    if since:
        parse_since(since, int(time.time() * 1000))  # a mistake is one line now, not per rebuild
        os.environ[ENV_SINCE] = since  # the gen script's review starts there
    serve_site(site.root, dev_addr)
