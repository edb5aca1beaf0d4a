"""The whole site as pages: snapshot, journal and model records in, `{path: Markdown}` out.

Everything a page needs is passed in (read by `sources`, kept by `store`), so rendering never
reaches back into a source: the same inputs give the same bytes, whichever bridge publishes them
(MkDocs' gen-files, or `daybook generate --out` for any other generator).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from daybook.analysis.cards import card_secret_problems
from daybook.analysis.journal import secret_problems
from daybook.analysis.policy import page_run_ids, shown_experiments
from daybook.analysis.references import resolve_journal, resolve_run_ids
from daybook.core.artifacts import ArtifactPreviews
from daybook.core.config import config_line
from daybook.core.site import Generated, JournalInput, JournalLayout, ReferencePoint, Site
from daybook.core.snapshot import ModelRecords, Problem, Snapshot
from daybook.pages.charts import ChartSet, TextCache
from daybook.pages.journal import render_journal
from daybook.pages.journal_view import JournalView
from daybook.pages.nav import build_nav
from daybook.pages.paths import run_label
from daybook.pages.render import Renderer
from daybook.pages.review_pages import MONITORS
from daybook.safety.paths import LocalPaths
from daybook.safety.redact import Redactor

Progress = Callable[[str], None]
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "assets/daybook"  # where every file of pages/static is published
STYLESHEET = f"{ASSETS}/daybook.css"  # referenced by extra_css in mkdocs.yml


def _quiet(_: str) -> None:
    pass


@dataclass
class JournalOutput:
    pages: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # notes served under another path
    nav: list[tuple[str, str]] = field(
        default_factory=list
    )  # (label, page); the first is the index


def static_assets() -> dict[str, str]:
    """Daybook's own stylesheet and scripts, published under assets/daybook/ by every generate.
    Pages reference only what they use (the table script only from big run tables)."""
    return {
        f"{ASSETS}/{p.name}": p.read_text(encoding="utf-8")
        for p in sorted(STATIC.iterdir())
        if p.is_file() and p.suffix in (".css", ".js")
    }


def publishing_redactor(site: Site, snapshot: Snapshot) -> Redactor:
    """The last pass before anything is rendered: secrets masked by key and value with the
    site's settings (the snapshot was masked when pulled, but a note, a card or the alias history
    was not, and the settings may have changed since), and the building machine's paths
    rewritten (the snapshot keeps them, for reading artifacts and model files later)."""
    return Redactor.for_config(site.config, publishing_paths(site, snapshot))


def publishing_paths(site: Site, snapshot: Snapshot) -> LocalPaths:
    """The building machine's folders that published text must not name (see safety.paths)."""
    store_dir = site.store_path.parent if site.store_path is not None else None
    roots = [(e.artifact_location, e.experiment_id) for e in snapshot.experiments]
    return LocalPaths.of(site.root, store_dir, roots, site.config.public_artifact_root)


def render(
    site: Site,
    snapshot: Snapshot,
    records: ModelRecords,
    progress: Progress = _quiet,
    journal: JournalInput | None = None,
    reference: ReferencePoint | None = None,
    *,
    handwritten: Sequence[str] | None = (),
    replaced: Sequence[str] = (),
    cache: TextCache | None = None,
    previews: ArtifactPreviews | None = None,
) -> Generated:
    """Every generated page (notes' built copies among them) and the problems found.
    `records`: the model cards and alias history; `reference`: where the morning review starts
    (None: no review); `handwritten`: the top-level docs/ entries people wrote, in nav order
    (None: the site has its own SUMMARY.md, so no nav is generated); `replaced`: files of docs/
    that generated pages stand in for (the hand-written cards); `cache`: where charts drawn by an
    earlier build are kept; `previews`: the artifact files read for run pages."""
    with _no_cycle_collection():
        return _render(site, snapshot, records, progress, journal, reference,
                       handwritten=handwritten, replaced=replaced, cache=cache,
                       previews=previews)  # fmt: skip


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Rendering allocates millions of short-lived containers beside a snapshot of millions of
    long-lived ones, so the cyclic collector kept walking the snapshot (about 2 s of CPU of a
    20,000-run build) to find almost nothing: rendering leaves few cycles, freed by reference
    counting or collected after the build. Restored as it was, even on an error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _render(
    site: Site,
    snapshot: Snapshot,
    records: ModelRecords,
    progress: Progress,
    journal: JournalInput | None,
    reference: ReferencePoint | None,
    *,
    handwritten: Sequence[str] | None,
    replaced: Sequence[str],
    cache: TextCache | None,
    previews: ArtifactPreviews | None,
) -> Generated:
    # Secrets in files people wrote fail the build (`--strict`): found before they are masked.
    redact, redact_values = site.config.redact, site.config.redact_values
    leaks = card_secret_problems(records.cards, redact, redact_values)
    if journal is not None:
        leaks += secret_problems(journal.journal, redact, redact_values)
    publish = publishing_redactor(site, snapshot)
    snapshot = publish.after(snapshot.masked_by).value(snapshot)
    if site.config.display_uri:
        snapshot = replace(snapshot, tracking_uri=site.config.display_uri)
    records = publish.value(records)
    previews = publish.value(previews)  # text previews masked like every value; images as read
    journal = publish.value(journal) if journal is not None else None
    shown = shown_experiments(site.config, snapshot.experiments, snapshot.runs)
    if len(shown) != len(snapshot.experiments):
        snapshot = replace(snapshot, experiments=shown)
    run_ids = [r.run_id for r in snapshot.runs]
    mentioned = resolve_run_ids(journal.run_keys, run_ids) if journal else set()
    since = reference.since_ms if reference else None
    page_runs = page_run_ids(
        site.config, snapshot.experiments, snapshot.runs, snapshot.models, mentioned, since
    )
    page_runs &= {r.run_id for r in snapshot.runs}
    today = _day(reference.now_ms) if reference is not None and reference.now_ms else None
    view = journal_view(site, snapshot, journal, today) if journal else None
    renderer = Renderer(
        site.config,
        snapshot,
        page_runs,
        site.templates,
        directory_urls=site.directory_urls,
        journal=view,
        records=records,
        reference=reference,
        charts=(charts := ChartSet(cache)),
        config_where=lambda loc: config_line(site.root, loc),
        previews=previews,
    )
    pages = renderer.render_all(progress)
    pages.update(charts.files())
    charts.prune_cache()
    for failure in charts.failures:
        progress(f"a chart could not be drawn: {failure}")
    out = render_journal_pages(renderer, view) if view else JournalOutput()
    pages.update(out.pages)
    pages.update(static_assets())
    if handwritten is not None:
        skip = {*_journal_dirs(journal.layout), "monitors"} if journal else {"monitors"}
        pages["SUMMARY.md"] = build_nav(
            renderer.model,
            renderer.paths,
            [name for name in handwritten if name not in skip],
            journal=out.nav,
            monitors=MONITORS if renderer.extras.monitor_views else None,
            sweeps=[
                (sv.experiment.experiment.experiment_id, run_label(sv.sweep.parent), sv.path)
                for sv in renderer.extras.sweeps.values()
            ],
        )
    problems = [*out.problems, *renderer.model_pages.problems, *leaks]
    files = dict(sorted(renderer.files.items()))
    return Generated(
        dict(sorted(pages.items())), problems, [*out.replaced, *replaced], reference, files
    )


def _journal_dirs(layout: JournalLayout) -> tuple[str, ...]:
    """Top-level docs/ entries of the journal: the nav reaches them through its Journal entry."""
    return tuple({p.split("/")[0] for p in (layout.blog_dir, layout.notes_dir) if p != "."})


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date()


def journal_view(
    site: Site, snapshot: Snapshot, jin: JournalInput, today: dt.date | None = None
) -> JournalView:
    refs = resolve_journal(jin.journal, snapshot)
    view = JournalView.build(jin.journal, refs, snapshot, jin.layout, site.config.redact, today)
    view.problems = sorted(
        [*jin.layout.problems, *view.problems], key=lambda p: (p.path, p.line, p.message)
    )
    return view


def render_journal_pages(renderer: Renderer, view: JournalView) -> JournalOutput:
    out = JournalOutput(pages=render_journal(renderer, view), problems=list(view.problems))
    out.replaced = [n.source for n in view.journal.notes if n.page != n.source]
    pages = view.pages
    if view.layout.has_index:
        out.nav = [
            ("Journal", pages.index),
            ("Decisions", pages.decisions),
            ("Open action items", pages.actions),
        ]
    return out
