"""The bridges from Daybook to a static site generator.

`generate_pages` is the one function both bridges call: the mkdocs-gen-files script (so plain
`mkdocs build` / `mkdocs serve` regenerate the pages) and `daybook generate --out` (so any other
tool can read the pages from disk). Both therefore produce the same bytes.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from daybook.config import DaybookConfig, config_line, load_config, resolve_tracking_uri
from daybook.errors import DaybookError
from daybook.journal_site import JournalInput, log_problems, sanitize_blog_authors
from daybook.model_records import card_sources, read_records, record_aliases
from daybook.pages.charts import ChartSet
from daybook.pages.nav import build_nav
from daybook.pages.render import Renderer, when
from daybook.pages.review_pages import MONITORS
from daybook.pull import current_settings, refresh
from daybook.snapshot import ModelRecords, Problem, Snapshot
from daybook.snapshot_store import load as load_snapshot
from daybook.snapshot_store import snapshot_path
from daybook.sources.mkdocs_yml import JournalLayout
from daybook.sources.mlflow import sqlite_path
from daybook.squeeze import squeeze_pages
from daybook.state import ReferencePoint, resolve_reference

log = logging.getLogger("mkdocs.plugins.daybook")
Progress = Callable[[str], None]
GENERATED_MARKER = ".daybook-generated"
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "assets/daybook"  # where every file of daybook/static is published
STYLESHEET = f"{ASSETS}/daybook.css"  # referenced by extra_css in mkdocs.yml
CHART_CACHE = ".daybook/cache/charts"  # static SVGs of charts, so a rebuild redraws only changes


@dataclass(frozen=True)
class Site:
    root: Path  # the folder holding mkdocs.yml and daybook.yml
    config: DaybookConfig
    tracking_uri: str
    default_store: bool = False  # the URI is MLflow's default, not chosen by anyone

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def directory_urls(self) -> bool:
        return use_directory_urls(self.root)


def use_directory_urls(root: Path) -> bool:
    """mkdocs.yml's `use_directory_urls` (default true): it decides where `x.md` is served
    (`x/` or `x.html`), so the links that runs.json carries past MkDocs depend on it."""
    try:
        node = yaml.compose((root / "mkdocs.yml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return True  # MkDocs itself reports an unreadable config
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "use_directory_urls" and isinstance(value, yaml.ScalarNode):
                return str(value.value).strip().lower() not in ("false", "no", "off")
    return True


def static_assets() -> dict[str, str]:
    """Daybook's own stylesheet and scripts, published under assets/daybook/ by every generate.
    Pages reference only what they use (the table script only from big run tables)."""
    return {
        f"{ASSETS}/{p.name}": p.read_text(encoding="utf-8")
        for p in sorted(STATIC.iterdir())
        if p.is_file() and p.suffix in (".css", ".js")
    }


def load_site(root: Path, tracking_uri: str | None = None) -> Site:
    root = root.resolve()
    config = load_config(root)
    default = not (tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or config.tracking_uri)
    return Site(root, config, resolve_tracking_uri(config, root, tracking_uri), default)


def _quiet(_: str) -> None:
    pass


@dataclass
class Generated:
    """One generation: the pages, and what is wrong in files people wrote (notes), which a
    MkDocs build logs as warnings so `--strict` fails on them."""

    pages: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # files in docs/ served under another path
    reference: ReferencePoint | None = None  # the morning review's reference point


def render_site(
    site: Site, snapshot: Snapshot, progress: Progress = _quiet, journal: JournalInput | None = None
) -> dict[str, str]:
    """Every generated page, keyed by its path under docs/, plus the navigation file."""
    return render(site, snapshot, progress, journal).pages


def render(
    site: Site,
    snapshot: Snapshot,
    progress: Progress = _quiet,
    journal: JournalInput | None = None,
    records: ModelRecords | None = None,
    reference: ReferencePoint | None = None,
) -> Generated:
    """Every generated page (notes' built copies among them) and the problems found.
    `records`: the model cards and alias history (read from the site when not given);
    `reference`: where the morning review starts (None: no review)."""
    from daybook.analysis.policy import page_run_ids
    from daybook.analysis.references import resolve_run_ids
    from daybook.journal_site import JournalOutput, journal_view, render_journal_pages

    run_ids = [r.run_id for r in snapshot.runs]
    mentioned = resolve_run_ids(journal.run_keys, run_ids) if journal else set()
    since = reference.since_ms if reference else None
    page_runs = page_run_ids(
        site.config, snapshot.experiments, snapshot.runs, snapshot.models, mentioned, since
    )
    page_runs &= {r.run_id for r in snapshot.runs}
    view = journal_view(site, snapshot, journal) if journal else None
    renderer = Renderer(
        site.config,
        snapshot,
        page_runs,
        site.templates,
        directory_urls=site.directory_urls,
        journal=view,
        records=records if records is not None else read_records(site),
        reference=reference,
        charts=(charts := ChartSet(site.root / CHART_CACHE)),
        config_where=lambda loc: config_line(site.root, loc),
    )
    pages = renderer.render_all(progress)
    pages.update(charts.files())
    charts.prune_cache()
    for failure in charts.failures:
        progress(f"a chart could not be drawn: {failure}")
    out = render_journal_pages(renderer, view) if view else JournalOutput()
    pages.update(out.pages)
    pages.update(static_assets())
    if not (site.docs_dir / "SUMMARY.md").exists():
        skip = _journal_dirs(journal.layout) if journal else ()
        pages["SUMMARY.md"] = build_nav(
            renderer.model,
            renderer.paths,
            handwritten(site, (*skip, "monitors")),
            journal=out.nav,
            monitors=MONITORS if renderer.extras.monitor_views else None,
        )
    problems = [*out.problems, *renderer.model_pages.problems]
    # Hand-written cards are merged into models/<slug>/card.md, never published on their own.
    replaced = [*out.replaced, *card_sources(site)]
    return Generated(dict(sorted(pages.items())), problems, replaced, reference)


def _journal_dirs(layout: JournalLayout) -> tuple[str, ...]:
    """Top-level docs/ entries of the journal: the nav reaches them through its Journal entry."""
    return tuple({p.split("/")[0] for p in (layout.blog_dir, layout.notes_dir) if p != "."})


def generate_pages(
    site: Site,
    progress: Progress = _quiet,
    *,
    offline: bool = False,
    full: bool = False,
    since: str | None = None,
) -> dict[str, str]:
    return generate(site, progress, offline=offline, full=full, since=since).pages


def generate(
    site: Site,
    progress: Progress = _quiet,
    *,
    offline: bool = False,
    full: bool = False,
    since: str | None = None,
    now_ms: int | None = None,
) -> Generated:
    """Read the notes, bring the snapshot up to date (giving pages to the runs notes mention),
    render. `offline`: no store access at all, the saved snapshot only; `full`: no incremental
    pull. `since` overrides the morning review's reference point (see daybook.state); `now_ms`
    is the build's time (default: the clock; offline: when the snapshot was pulled)."""
    from daybook.journal_site import read_site_journal

    journal = read_site_journal(site)
    records = None
    path = sqlite_path(site.tracking_uri)
    offline_snap = offline_snapshot(site, progress) if offline else None
    if now_ms is None:
        as_of = offline_snap.data_as_of if offline_snap else None
        now_ms = as_of if as_of is not None else int(time.time() * 1000)
    reference = resolve_reference(site.root, since, now_ms, site.config.review.default_hours)
    if offline_snap is not None:
        snapshot = offline_snap
        records = read_records(site)
    elif site.default_store and path is not None and not path.exists():
        # A new site with no store yet still builds (and says what to do) instead of failing.
        progress(f"no MLflow store at {path}; building an empty site")
        snapshot = Snapshot(
            tracking_uri=site.tracking_uri,
            experiments=(),
            runs=(),
            models=(),
            warnings=(
                f"No MLflow store at {path.name} beside mkdocs.yml. Run `daybook demo` for a demo "
                "store, or point `tracking_uri` in daybook.yml (or MLFLOW_TRACKING_URI) at yours.",
            ),
        )
    else:
        snapshot, records = pull_site(
            site, progress, full=full, journal=journal, recent_since=reference.since_ms
        )
    return render(site, snapshot, progress, journal, records, reference)


def pull_site(
    site: Site,
    progress: Progress = _quiet,
    *,
    full: bool = False,
    journal: JournalInput | None = None,
    recent_since: int | None = None,
) -> tuple[Snapshot, ModelRecords]:
    """`daybook pull`: update the site's saved snapshot from the store (incrementally unless
    `full`), and record any alias moves it saw."""
    if journal is None:
        from daybook.journal_site import read_site_journal

        journal = read_site_journal(site)
    result = refresh(
        site.config,
        site.tracking_uri,
        snapshot_path(site.root),
        full=full,
        progress=progress,
        extra_page_runs=journal.run_keys if journal else (),
        recent_since=recent_since,
    )
    # "observed at" of any alias move this pull sees: when it began reading
    records, moved = record_aliases(site, result.snapshot, result.stored.pulled_at)
    if moved:
        progress(f"recorded {moved} alias change(s) in {records.history_path}")
    return result.snapshot, records


def offline_snapshot(site: Site, progress: Progress = _quiet) -> Snapshot:
    """The saved snapshot, marked with when it was pulled, for a build that reads no store."""
    stored = load_snapshot(snapshot_path(site.root))
    progress(f"offline: the snapshot of {stored.tracking_uri} pulled {when(stored.pulled_at)}")
    snapshot = current_settings(stored, site.config, progress)
    return replace(snapshot, data_as_of=stored.pulled_at)


def handwritten(site: Site, also_skip: Iterable[str] = ()) -> list[str]:
    """Top-level entries of docs/ that people wrote (they keep their place in the nav)."""
    if not site.docs_dir.is_dir():
        return []
    skip = {"index.md", "SUMMARY.md", "experiments", "models", "assets", "stylesheets",
            "javascripts", "overrides", *also_skip}  # fmt: skip
    out = []
    for p in sorted(site.docs_dir.iterdir()):
        if p.name.startswith((".", "_")) or p.name in skip:
            continue
        if p.is_dir() or p.suffix == ".md":
            out.append(p.name)
    return out


def write_pages(
    pages: dict[str, str],
    out_dir: Path,
    docs: Path | None = None,
    replaced: Iterable[str] = (),
) -> int:
    """Write the tree to disk, replacing what an earlier `generate` wrote there (and only that:
    a folder that holds anything else is refused, so a typo can never wipe someone's docs).

    With `docs` (the site's docs/), the hand-written files are copied in first, less the
    `replaced` ones, and the generated pages laid over them, as gen-files does inside MkDocs: the
    folder is then a complete docs folder for a generator that runs no gen-files (Zensical)."""
    out_dir = out_dir.resolve()
    if docs is not None and out_dir.is_relative_to(docs.resolve()):
        raise DaybookError(f"{out_dir}: inside {docs}; a complete docs folder must be elsewhere")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise DaybookError(f"{out_dir}: exists and is not a folder")
        if any(out_dir.iterdir()) and not (out_dir / GENERATED_MARKER).exists():
            raise DaybookError(
                f"{out_dir}: folder is not empty and was not written by `daybook generate`; "
                "choose an empty or new folder"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / GENERATED_MARKER).write_text(
        "Written by `daybook generate`; replaced on each run.\n"
    )
    if docs is not None and docs.is_dir():
        skip = set(replaced) | set(pages)
        for src in sorted(docs.rglob("*")):
            rel = src.relative_to(docs).as_posix()
            if src.is_file() and rel not in skip:
                (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, out_dir / rel)
    for rel, text in pages.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return len(pages)


# --- mkdocs-gen-files bridge ---------------------------------------------------------------------

_PRECOMPUTED: dict[Path, Generated] = {}


def precompute(site: Site, pages: dict[str, str] | Generated) -> None:
    """`daybook build` pulls once with progress and hands the pages to the gen-files script."""
    _PRECOMPUTED[site.root] = pages if isinstance(pages, Generated) else Generated(pages)


OFFLINE_VARIABLE = "DAYBOOK_OFFLINE"  # set to 1: plain `mkdocs build`/`serve` read no store


def offline_requested() -> bool:
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def gen_files_main() -> None:
    """Body of the site's gen-files script: regenerate the pages inside a MkDocs build."""
    import mkdocs_gen_files
    from mkdocs.exceptions import PluginError

    config_file = mkdocs_gen_files.config.config_file_path
    root = Path(config_file).resolve().parent if config_file else Path.cwd()
    generated = _PRECOMPUTED.pop(root.resolve(), None)
    if generated is None:
        try:
            site = load_site(root)
            generated = generate(site, progress=log.info, offline=offline_requested())
        except DaybookError as exc:
            raise PluginError(f"daybook: {exc}") from None
    for rel, text in generated.pages.items():
        with mkdocs_gen_files.open(rel, "w", encoding="utf-8") as fh:
            fh.write(text)
    _hide_nav_file()
    _hide_files(generated.replaced)
    squeeze_pages(mkdocs_gen_files.config)  # Material's indentation: half of a page's bytes
    sanitize_blog_authors(mkdocs_gen_files.config, log)
    log_problems(generated.problems, log)


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
