"""`daybook build` and `daybook serve`: the generated pages handed to MkDocs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from daybook.commands.generate import OFFLINE_VARIABLE, generate, missing_default_store, precompute
from daybook.core.errors import DaybookError
from daybook.core.fork import processes_wanted
from daybook.core.site import Site
from daybook.mkdocs.runner import build_site, config_file, serve_site
from daybook.store.lock import site_lock
from daybook.store.published import record_published
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
    publish: bool = False,
    file_urls: bool = False,
    before_mkdocs: Callable[[], None] = lambda: None,
) -> Path:
    """Pull, generate, build with MkDocs; record the build in .daybook/state.json and, with
    `publish` (CI's deploy step), in the committed published-builds log: the next review's start.
    `before_mkdocs` runs once the pages are ready (the CLI sets up MkDocs' logging there).

    All of it under the site lock (see daybook.store.lock), so two builds never write the same
    site/ at once and the second one's review starts where the first one recorded; the gen-files
    script MkDocs runs in this process takes the same lock again (it is re-entrant).

    `file_urls` (or `site: {file_urls: true}` in daybook.yml): a site that opens from disk.
    `strict` also refuses a site with no store at MLflow's default path (a non-strict build
    warns and builds an empty site): a CI job pointed at the wrong folder must not publish one."""
    config_file(site.root)  # no mkdocs.yml: say so before reading the store
    processes_wanted()  # a mistyped DAYBOOK_PROCESSES: say so before reading the store
    missing = None if offline else missing_default_store(site)
    if strict and missing is not None:
        raise DaybookError(
            f"{missing}: no MLflow store (--strict builds no empty site); run `daybook demo` "
            "for a demo store, or set `tracking_uri` in daybook.yml, MLFLOW_TRACKING_URI or "
            "--tracking-uri"
        )
    file_urls = file_urls or site.config.site.file_urls
    if file_urls:
        site = replace(site, directory_urls=False)  # the links Daybook writes itself: x.html
    with site_lock(site.root, progress):
        started = int(time.time() * 1000)  # after any wait: the build begins once it holds the site
        generated = generate(
            site, progress, offline=offline, full=full, since=since, now_ms=started
        )
        precompute(site, generated)  # the gen-files script logs its problems as build warnings
        progress(f"generated {len(generated.pages)} pages; building the site with MkDocs")
        before_mkdocs()
        out = build_site(site.root, site_dir=site_dir, strict=strict, file_urls=file_urls,
                         progress=progress)  # fmt: skip
        record_build(site.root, started, site.tracking_uri)
        if publish:  # the next review starts here, on every clone that pulls the log
            record_published(site.root / site.config.review.published_log, started,
                             site.tracking_uri)  # fmt: skip
            progress(f"recorded this build as published in {site.config.review.published_log}")
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
    # A `site: {file_urls: true}` site links x.html: served so, those links work.
    serve_site(site.root, dev_addr, file_urls=site.config.site.file_urls)
