"""The site itself as a source: its settings (daybook.yml, mkdocs.yml) and the docs people wrote."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from daybook.core.config import load_config, resolve_tracking_uri
from daybook.core.site import Site
from daybook.sources.mkdocs_yml import use_directory_urls
from daybook.sources.mlflow import sqlite_path

# docs/ entries that are Daybook's or the theme's, never a hand-written page of the nav
NOT_HANDWRITTEN = ("index.md", "SUMMARY.md", "experiments", "models", "assets", "stylesheets",
                   "javascripts", "overrides")  # fmt: skip


def load_site(root: Path, tracking_uri: str | None = None) -> Site:
    root = root.resolve()
    config = load_config(root)
    default = not (tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or config.tracking_uri)
    uri = resolve_tracking_uri(config, root, tracking_uri)
    return Site(root, config, uri, default, use_directory_urls(root), sqlite_path(uri))


def handwritten(site: Site, also_skip: Iterable[str] = ()) -> list[str]:
    """Top-level entries of docs/ that people wrote (they keep their place in the nav)."""
    if not site.docs_dir.is_dir():
        return []
    skip = {*NOT_HANDWRITTEN, *also_skip}
    out = []
    for p in sorted(site.docs_dir.iterdir()):
        if p.name.startswith((".", "_")) or p.name in skip:
            continue
        if p.is_dir() or p.suffix == ".md":
            out.append(p.name)
    return out


def has_own_nav(site: Site) -> bool:
    """A SUMMARY.md people wrote replaces the generated navigation."""
    return (site.docs_dir / "SUMMARY.md").exists()
