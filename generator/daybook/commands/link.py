"""`daybook link URI`: where the site shows what an MLflow URI names, as a URL to paste in chat.

The URI forms are the ones notes use (analysis/references.py): `runs:/<id or 8+ character
prefix>[/artifact path]`, `models:/<name>/<version>`, `models:/<name>@<alias>`,
`models:/<name>` and `experiments:/<id or name>`. They are resolved against the site's saved
snapshot (what the last build or pull read), and the path comes from the same `SitePaths` the
pages are written with: a run's own page when it has one, else the run viewer (`runs/#<id>`),
which shows every run of the site and so never stops working. `--permanent` always prints the
viewer's address, for a link that must outlive the run's page. mkdocs.yml's `site_url` goes in
front when it is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from daybook.analysis.policy import page_run_ids
from daybook.analysis.references import Catalog, Reference, parse_uri, resolve_run_ids
from daybook.commands.pull import offline_snapshot, read_site_journal
from daybook.core.errors import DaybookError
from daybook.core.site import Site
from daybook.core.snapshot import Snapshot
from daybook.pages.paths import SitePaths, viewer_target
from daybook.pages.site import publishing_redactor
from daybook.sources.mkdocs_yml import site_url
from daybook.store.snapshot_file import snapshot_path

SCHEMES = ("runs:/", "models:/", "experiments:/")


@dataclass(frozen=True)
class Link:
    uri: str
    path: str  # the site path, from the site's root (`experiments/x/`, `runs/#<id>`)
    url: str  # with mkdocs.yml's site_url in front, when set
    label: str  # what the URI names, e.g. "gbm-tuned (1a2b3c4d)"


def link(site: Site, uri: str, *, permanent: bool = False) -> Link:
    """The site's address of one MLflow URI; DaybookError (one line) when the site does not
    hold what it names."""
    uri = uri.strip()
    if not uri.startswith(SCHEMES):
        raise DaybookError(
            f"{uri}: not an MLflow URI; use runs:/<run id>, models:/<name>/<version>, "
            "models:/<name>@<alias> or experiments:/<name or id>"
        )
    if not snapshot_path(site.root).exists():
        raise DaybookError(
            f"{snapshot_path(site.root)}: no snapshot yet; run `daybook build` (or `daybook "
            "pull`) first: links point into the site as built"
        )
    snapshot = published_snapshot(site)
    kind, key, detail = parse_uri(uri)
    ref = Reference(uri, kind, key, detail, 0, len(uri), "bare", "", 1)
    resolved = Catalog(snapshot).resolve(ref)
    target = resolved.target
    if target is None:
        raise DaybookError(resolved.reason)
    paths = site_paths(site, snapshot)
    if target.kind == "run":
        where = viewer_target(target.key) if permanent else paths.run(target.key)
        if where is None:
            raise DaybookError(f"{uri}: this run id cannot be part of a URL")
    elif target.kind == "experiment":
        if target.key not in paths.experiment_slugs:
            raise DaybookError(f"{uri}: the site has no page for this experiment")
        where = paths.experiment(target.key)
    else:
        where = paths.model(target.key)
        if target.version is not None:
            where += f"#v{int(target.version)}"
    path = paths.site_url(where)
    return Link(uri, path, _absolute(site_url(site.root), path), target.label)


def published_snapshot(site: Site) -> Snapshot:
    """The saved snapshot as the last build rendered it (names masked by the same pass)."""
    snapshot = offline_snapshot(site)
    return publishing_redactor(site, snapshot).value(snapshot)


def site_paths(site: Site, snapshot: Snapshot) -> SitePaths:
    """The pages' own paths: the runs that get a page by the site's policy (top N, parents,
    registered, mentioned in a note). Runs with a page only for being recent are left to the
    viewer: that page goes away within a day or two, the viewer's address does not."""
    journal = read_site_journal(site)
    run_ids = [r.run_id for r in snapshot.runs]
    mentioned = resolve_run_ids(journal.run_keys, run_ids) if journal else set()
    page_runs = page_run_ids(
        site.config, snapshot.experiments, snapshot.runs, snapshot.models, mentioned
    )
    directory_urls = site.directory_urls and not site.config.site.file_urls  # x.html pages
    return SitePaths.build(snapshot, page_runs, directory_urls)


def _absolute(base: str, path: str) -> str:
    if not base:
        return path
    return base.rstrip("/") + "/" + path
