"""`daybook review`: the morning review for chat and email, without building the site.

The same review as the home page (same reference point, same "Needs attention" list), from the
snapshot: pulled first (only what changed), or as saved with `--offline`. Links are absolute
from mkdocs.yml's `site_url` (or `--site-url`): a review read in chat has no page to be relative
to, so a site without an address is a one-line error, not a message of broken links.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Literal

from daybook.commands.pull import offline_snapshot, pull_site, read_site_journal
from daybook.core.errors import DaybookError
from daybook.core.site import Site
from daybook.pages.review_text import (
    review_renderer,
    review_report,
    to_json,
    to_markdown,
    to_slack,
)
from daybook.sources.mkdocs_yml import site_url
from daybook.store.lock import site_lock
from daybook.store.records import read_records
from daybook.store.state import resolve_reference

Format = Literal["markdown", "slack", "json"]
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def base_url(site: Site, given: str | None) -> str:
    """Where the site is served: `--site-url`, else mkdocs.yml's site_url; an error without."""
    url = (given or site_url(site.root)).strip()
    if not url:
        raise DaybookError(
            f"{site.root / 'mkdocs.yml'}: no site_url; the review's links must be absolute. Set "
            "site_url (e.g. https://team.example.com/daybook/) or pass --site-url"
        )
    if not url.startswith(("https://", "http://")):
        raise DaybookError(f"site URL {url!r}: must start with https:// or http://")
    return url


def review(
    site: Site,
    fmt: Format = "markdown",
    *,
    since: str | None = None,
    offline: bool = False,
    url: str | None = None,
    progress: Progress = _quiet,
    now_ms: int | None = None,
) -> str:
    """The review as text in `fmt`. `now_ms`: the review's "now" (default: the clock; offline:
    when the snapshot was pulled, so the window is the one the last build published)."""
    base = base_url(site, url)  # a missing site_url is said before any store is read
    with site_lock(site.root, progress):
        journal = read_site_journal(site)
        if offline:
            snapshot = offline_snapshot(site, progress)
            records = read_records(site)
            if now_ms is None and snapshot.data_as_of is not None:
                now_ms = snapshot.data_as_of
        else:
            snapshot, records = pull_site(site, progress, journal=journal)
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        reference = resolve_reference(site.root, since, now, site.config.review)
    renderer = review_renderer(site, snapshot, records, journal, reference)
    report = review_report(renderer, reference, base)
    if fmt == "json":
        return to_json(report)
    if fmt == "slack":
        return json.dumps(to_slack(report), indent=2, ensure_ascii=False) + "\n"
    return to_markdown(report)
