"""`daybook pull`: bring the site's snapshot up to date with the store (and read the notes first,
so the runs they mention get their details)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace

from daybook.analysis.references import run_keys
from daybook.core.site import JournalInput, Site
from daybook.core.snapshot import ModelRecords, Snapshot
from daybook.sources.mkdocs_yml import read_layout
from daybook.sources.notes import read_journal
from daybook.store.lock import site_lock
from daybook.store.pull import PullResult, current_settings, refresh
from daybook.store.records import record_aliases
from daybook.store.snapshot_file import load as load_snapshot
from daybook.store.snapshot_file import snapshot_path

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def read_site_journal(site: Site) -> JournalInput | None:
    """None when the journal is off: `journal.enabled: false`, or no blog plugin in mkdocs.yml."""
    if not site.config.journal.enabled:
        return None
    layout = read_layout(site.root)
    if layout is None:
        return None
    journal = read_journal(layout)
    return JournalInput(layout, journal, tuple(run_keys(journal)))


def pull_site(
    site: Site,
    progress: Progress = _quiet,
    *,
    full: bool = False,
    journal: JournalInput | None = None,
    recent_since: int | None = None,
    later: contextlib.ExitStack | None = None,
) -> tuple[Snapshot, ModelRecords]:
    """`pull_result`, for a caller that goes on with the snapshot."""
    result, records = pull_result(
        site, progress, full=full, journal=journal, recent_since=recent_since, later=later
    )
    return result.snapshot, records


def pull_result(
    site: Site,
    progress: Progress = _quiet,
    *,
    full: bool = False,
    journal: JournalInput | None = None,
    recent_since: int | None = None,
    later: contextlib.ExitStack | None = None,
) -> tuple[PullResult, ModelRecords]:
    """`daybook pull`: update the site's saved snapshot from the store (incrementally unless
    `full`), and record any alias moves it saw. The result's snapshot is decoded only if
    asked for (`daybook pull` alone never does: an incremental pull decodes few runs).

    Under the site lock from reading the saved snapshot to appending the history: a second run
    then compares the store with what the first one recorded, so no move is recorded twice."""
    if journal is None:
        journal = read_site_journal(site)
    with site_lock(site.root, progress):
        result = refresh(
            site.config,
            site.tracking_uri,
            snapshot_path(site.root),
            full=full,
            progress=progress,
            extra_page_runs=journal.run_keys if journal else (),
            recent_since=recent_since,
            later=later,  # a caller that renders next: a big snapshot is saved meanwhile
        )
        # "observed at" of any alias move this pull sees: when it began reading
        records, moved = record_aliases(site, result.stored.held.models, result.stored.pulled_at)
    for problem in records.problems:
        if problem.code == "history.torn":  # repaired, but worth a line: something was killed
            progress(str(problem))
    if moved:
        progress(f"recorded {moved} alias change(s) in {records.history_path}")
    return result, records


def offline_snapshot(site: Site, progress: Progress = _quiet) -> Snapshot:
    """The saved snapshot, marked with when it was pulled, for a build that reads no store."""
    from daybook.pages.render import when  # here, not above: `daybook pull` renders nothing

    stored = load_snapshot(snapshot_path(site.root))
    progress(f"offline: the snapshot of {stored.tracking_uri} pulled {when(stored.pulled_at)}")
    snapshot = current_settings(stored, site.config, progress)
    return replace(snapshot, data_as_of=stored.pulled_at)
