"""The site's own records about models: hand-written cards and the alias history file.

The one place that knows where they live (daybook.yml's `models:` settings), appends to the
history, and collects what is wrong with them for `daybook check`. Reading the cards is
`sources.cards`; deciding what moved is `analysis.deployments`; the file format is `history`.
"""

from __future__ import annotations

import posixpath
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from daybook.analysis.deployments import observe
from daybook.config import DaybookConfig
from daybook.history import append_history, read_history, to_second
from daybook.snapshot import ModelRecords, Problem, Snapshot
from daybook.sources.cards import card_paths, read_cards

if TYPE_CHECKING:
    from daybook.site import Site


def read_records(site: Site) -> ModelRecords:
    """The cards and the recorded alias history, as they are on disk."""
    models = site.config.models
    events, problems = read_history(site.root / models.alias_history, models.alias_history)
    return ModelRecords(
        cards=read_cards(site.root, models.cards_dir),
        history=events,
        history_path=models.alias_history,
        problems=problems,
    )


def record_aliases(
    site: Site, snapshot: Snapshot, observed_at: int | None = None
) -> tuple[ModelRecords, int]:
    """Append the alias moves since the last recorded state (the whole state, the first time)
    and return the records with them, and how many were appended. `observed_at` is the pull's
    time; a history file with unreadable lines is not appended to (it would guess wrong)."""
    records = read_records(site)
    if not site.config.models.record_history:
        return records, 0
    if any(p.code == "history.read" for p in records.problems):
        return records, 0
    when = to_second(int(time.time() * 1000) if observed_at is None else observed_at)
    new = observe(records.history, snapshot.models, when)
    if not new:
        return records, 0
    append_history(site.root / site.config.models.alias_history, new)
    return replace(records, history=(*records.history, *new)), len(new)


def card_sources(site: Site) -> list[str]:
    """The hand-written card files as MkDocs sees them (paths under docs/): they are merged into
    the generated `models/<slug>/card.md` and must not be published on their own, where
    `models/<name>.md` would claim the model page's URL."""
    docs = site.docs_dir
    folder = site.root / site.config.models.cards_dir
    try:
        rel = folder.resolve().relative_to(docs.resolve())
    except ValueError:
        return []  # outside docs/: MkDocs never sees them
    return [posixpath.join(rel.as_posix(), p.name).removeprefix("./") for p in card_paths(folder)]


def card_problems(site: Site, snapshot: Snapshot | None = None) -> list[Problem]:
    """Everything wrong with the site's cards and alias history, as `path:line: message`. With a
    snapshot it also checks them against the registry (stale cards, cards for unknown models,
    deleted source runs, unreadable model files, the Hub metadata rules)."""
    records = read_records(site)
    if snapshot is None:
        found = list(records.problems)
        for card in records.cards:
            found.extend(card.problems)
        return sorted(set(found), key=lambda p: (p.path, p.line, p.message))
    from daybook.analysis.policy import page_run_ids
    from daybook.pages.context import SiteModel
    from daybook.pages.models import ModelPages
    from daybook.pages.paths import SitePaths

    runs = page_run_ids(site.config, snapshot.experiments, snapshot.runs, snapshot.models)
    paths = SitePaths.build(snapshot, runs)
    view = SiteModel.build(site.config, snapshot, paths)
    pages = ModelPages.build(view, snapshot, records, paths)
    found = list(pages.problems)
    for card in records.cards:  # cards of unknown models still get their own problems
        found.extend(card.problems)
    return sorted(set(found), key=lambda p: (p.path, p.line, p.message))


def registry_snapshot(config: DaybookConfig, tracking_uri: str) -> Snapshot:
    """A light pull (`catalog`) plus what the cards are checked against: the model files of the
    versions cards describe, and why source runs are missing. For `daybook check`."""
    from daybook.catalog import read_catalog
    from daybook.sources.mlflow import open_reader
    from daybook.sources.model_files import absent_runs, read_model_files, wanted_versions

    snapshot = read_catalog(config, tracking_uri)
    reader = open_reader(tracking_uri)
    try:
        runs = {r.run_id: r for r in snapshot.runs}
        wanted = wanted_versions(snapshot.models, 1)
        files = read_model_files(reader, snapshot.models, runs, wanted, tracking_uri)
        ids = (v.run_id for m in snapshot.models for v in m.versions)
        missing = absent_runs(reader, ids, runs)
    finally:
        reader.close()
    return replace(snapshot, model_files=files, absent_runs=missing)
