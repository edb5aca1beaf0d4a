"""`daybook generate`, and the gen-files script: the generated Markdown tree of a site.

`generate` is the one function both bridges call: the mkdocs-gen-files script (so plain
`mkdocs build` / `mkdocs serve` regenerate the pages) and `daybook generate --out` (so any other
tool can read the pages from disk). Both therefore produce the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath, PureWindowsPath

from daybook.analysis.artifacts import choose_previews, preview_order
from daybook.analysis.policy import page_run_ids
from daybook.analysis.references import resolve_run_ids
from daybook.commands.pull import offline_snapshot, pull_site, read_site_journal
from daybook.core.artifacts import ArtifactPreviews
from daybook.core.errors import DaybookError
from daybook.core.site import Generated, JournalInput, ReferencePoint, Site
from daybook.core.snapshot import ModelRecords, Snapshot
from daybook.mkdocs import gen_files
from daybook.pages.site import publishing_paths, render
from daybook.sources.artifact_files import read_previews
from daybook.sources.cards import card_sources
from daybook.sources.mlflow import sqlite_path
from daybook.sources.site import handwritten, has_own_nav, load_site
from daybook.store.cache import CACHE_DIR, FileCache
from daybook.store.lock import site_lock
from daybook.store.page_memo import PageMemo, code_digest, digest, file_bytes, folder_digest
from daybook.store.previews import load_previews, save_previews
from daybook.store.records import read_records
from daybook.store.state import resolve_reference

Progress = Callable[[str], None]
GENERATED_MARKER = ".daybook-generated"
OFFLINE_VARIABLE = "DAYBOOK_OFFLINE"  # set to 1: plain `mkdocs build`/`serve` read no store

__all__ = ["GENERATED_MARKER", "OFFLINE_VARIABLE", "generate", "load_site", "render_site"]


def _quiet(_: str) -> None:
    pass


def render_site(
    site: Site,
    snapshot: Snapshot,
    progress: Progress = _quiet,
    journal: JournalInput | None = None,
    records: ModelRecords | None = None,
    reference: ReferencePoint | None = None,
    previews: ArtifactPreviews | None = None,
    *,
    memo: bool = False,
) -> Generated:
    """The pages of `snapshot` with what the site holds besides it: the cards and alias
    history (read from the site when not given), the hand-written pages for the nav, and the
    artifact files previewed on run pages (`previews`, see `read_artifact_previews`).

    With `memo`, the pages of the last render are reused when nothing they are made from has
    changed (see daybook.store.page_memo), and this render's are kept for the next. Off unless
    asked: only a caller whose "now" is fixed (an offline generate) gains from it; any other
    would write a copy of the site that no later render can match."""
    if records is None:
        records = read_records(site)
    handwritten_pages = None if has_own_nav(site) else handwritten(site)
    replaced = card_sources(site)  # hand-written cards: merged into models/<slug>/card.md
    args = (snapshot, journal, records, reference, previews, handwritten_pages, replaced)
    key = render_key(site, *args) if memo else None
    kept = PageMemo(site.root / CACHE_DIR)
    if key is not None and (hit := kept.get(key)) is not None:
        progress(f"pages: reused the last build's {len(hit.pages)} files (nothing they are "
                 "made from changed)")  # fmt: skip
        return replace(hit, reference=reference)
    generated = render(
        site,
        snapshot,
        records,
        progress,
        journal,
        reference,
        handwritten=handwritten_pages,
        replaced=replaced,
        cache=FileCache(site.root / CACHE_DIR),
        previews=previews,
    )
    if key is not None:
        kept.put(key, generated)
    return generated


def render_key(site: Site, snapshot: Snapshot, *inputs: object) -> str | None:
    """What a render's pages are made from, as one digest: its arguments, the site and its
    settings, the site's templates/, daybook.yml and mkdocs.yml as written (messages quote
    their lines), the machine's folders the redaction rewrites, and Daybook's code. None when
    an input holds a type the digest cannot take: that render then runs without the memo."""
    try:
        return digest(
            code_digest(),
            site,
            folder_digest(site.templates),
            file_bytes(site.root / "daybook.yml"),
            file_bytes(site.root / "mkdocs.yml"),
            sorted(publishing_paths(site, snapshot).roots),  # its order is its own
            snapshot,
            *inputs,
        )
    except (TypeError, ValueError, OSError, RecursionError):  # a deep or odd front matter
        return None


def read_artifact_previews(
    site: Site,
    snapshot: Snapshot,
    journal: JournalInput | None = None,
    reference: ReferencePoint | None = None,
    progress: Progress = _quiet,
) -> ArtifactPreviews:
    """The artifact files shown on run pages: chosen among the runs that get a page (newest
    first) within `artifacts` in daybook.yml, then read from the store's artifact roots."""
    settings = site.config.artifacts
    if not settings.previews or not snapshot.artifacts:
        return ArtifactPreviews()
    mentioned = (
        resolve_run_ids(journal.run_keys, [r.run_id for r in snapshot.runs]) if journal else set()
    )
    since = reference.since_ms if reference else None
    wanted = page_run_ids(
        site.config, snapshot.experiments, snapshot.runs, snapshot.models, mentioned, since
    )
    order = preview_order(r for r in snapshot.runs if r.run_id in wanted)
    picks, skipped = choose_previews(order, snapshot.artifacts, settings)
    roots = {r.run_id: r.artifact_uri for r in snapshot.runs if r.run_id in wanted}
    previews = read_previews(
        picks, roots, site.tracking_uri, text_limit=settings.text_kb * 1024, skipped=skipped
    )
    if previews.files:
        size = sum(f.size if f.kind == "image" else len(f.text) for f in previews.files)
        progress(f"read {len(previews.files)} artifact previews ({size / 1024:.0f} KB)")
    return previews


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
    pull. `since` overrides the morning review's reference point (see daybook.store.state);
    `now_ms` is the build's time (default: the clock; offline: when the snapshot was pulled).

    Holds the site lock throughout (see daybook.store.lock): the review state, the snapshot and
    the alias history it reads are then the ones the previous run finished writing."""
    with site_lock(site.root, progress), contextlib.ExitStack() as later:
        return _generate(
            site, progress, offline=offline, full=full, since=since, now_ms=now_ms, later=later
        )


def _generate(
    site: Site,
    progress: Progress,
    *,
    offline: bool,
    full: bool,
    since: str | None,
    now_ms: int | None,
    later: contextlib.ExitStack,
) -> Generated:
    journal = read_site_journal(site)
    records = None
    offline_snap = offline_snapshot(site, progress) if offline else None
    # Only an offline build's "now" is fixed (when the snapshot was pulled). Pages timed by the
    # clock (how long a run has been running) are new each time: keeping them for the next
    # build would only cost a digest and a copy.
    memo = offline_snap is not None and now_ms is None
    if now_ms is None:
        as_of = offline_snap.data_as_of if offline_snap else None
        now_ms = as_of if as_of is not None else int(time.time() * 1000)
    reference = resolve_reference(site.root, since, now_ms, site.config.review)
    if offline_snap is not None:
        snapshot = offline_snap
    elif (path := missing_default_store(site)) is not None:
        # A new site with no store yet still builds (and says what to do) instead of failing;
        # `daybook build --strict` refuses before it gets here.
        progress(f"warning: no MLflow store at {path}; building an empty site")
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
            site, progress, full=full, journal=journal, recent_since=reference.since_ms,
            later=later,
        )  # fmt: skip
    # No store access offline: the previews the last online build read, if it saved any.
    if offline_snap is None:
        previews = read_artifact_previews(site, snapshot, journal, reference, progress)
        save_previews(site.root, previews)
    else:
        previews = load_previews(site.root)
    return render_site(site, snapshot, progress, journal, records, reference, previews, memo=memo)


def missing_default_store(site: Site) -> Path | None:
    """The sqlite file of MLflow's default URI when it does not exist: nobody chose a store, and
    there is none where MLflow would look."""
    path = sqlite_path(site.tracking_uri)
    return path if site.default_store and path is not None and not path.exists() else None


def generate_to(
    site: Site,
    out_dir: Path,
    progress: Progress = _quiet,
    *,
    with_docs: bool = False,
    **options: object,
) -> tuple[Generated, int]:
    """`daybook generate --out`: generate and write under one lock, so two runs into the same
    folder never interleave. `options` are `generate`'s."""
    with site_lock(site.root, progress):
        generated = generate(site, progress, **options)  # type: ignore[arg-type]
        docs = site.docs_dir if with_docs else None
        written = write_pages(generated.pages, out_dir, docs, generated.replaced, generated.files)
        return generated, written


def write_pages(
    pages: dict[str, str],
    out_dir: Path,
    docs: Path | None = None,
    replaced: Iterable[str] = (),
    files: Mapping[str, bytes] | None = None,
) -> int:
    """Write the tree to disk, bringing up to date what an earlier `generate` wrote there (and
    only that: a folder that holds anything else is refused, so a typo can never wipe someone's
    docs). A file that is already what it should be is not written again (`_write_changed`),
    and one no longer generated is removed (`_remove_stale`).

    With `docs` (the site's docs/), the hand-written files are copied in first, less the
    `replaced` ones, and the generated pages laid over them, as gen-files does inside MkDocs: the
    folder is then a complete docs folder for a generator that runs no gen-files (Zensical).

    `files` are binary files beside the pages (artifact images), written as they are.

    Nothing is written outside `out_dir`: every page path is checked before the folder is
    touched (no absolute path, no `..`), and every file's folder once made (no symlink out)."""
    out_dir = out_dir.resolve()
    files = files or {}
    for rel in [*pages, *files]:
        _checked_target(out_dir, rel)
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
    copies: dict[str, Path] = {}
    if docs is not None and docs.is_dir():
        skip = set(replaced) | set(pages) | set(files)
        for src in sorted(docs.rglob("*")):
            rel = src.relative_to(docs).as_posix()
            if src.is_file() and rel not in skip:
                copies[rel] = src
    wanted = {PurePosixPath(rel).as_posix() for rel in [*copies, *pages, *files]}
    _remove_stale(out_dir, wanted | {GENERATED_MARKER})
    out_dir.mkdir(parents=True, exist_ok=True)
    folders: dict[str, Path] = {}  # each folder made and checked once (2,000 files at 20k runs)
    _write_changed(_prepared(out_dir, GENERATED_MARKER, folders), _MARKER_TEXT.encode())
    for rel, src in copies.items():
        dest = _prepared(out_dir, rel, folders)
        if not _same_file(src, dest):
            shutil.copy2(src, dest)
    for rel, text in pages.items():
        _write_changed(_prepared(out_dir, rel, folders), text.encode("utf-8"))
    for rel, data in files.items():
        _write_changed(_prepared(out_dir, rel, folders), data)
    return len(pages)


_MARKER_TEXT = "Written by `daybook generate`, which brings this folder up to date on each run.\n"


def _remove_stale(out_dir: Path, wanted: set[str]) -> None:
    """Everything in `out_dir` that this run does not write again goes: files not `wanted`,
    every symlink (never followed), and the folders left empty. What stays is rewritten only
    where it differs (`_write_changed`): a generate that changes nothing writes nothing (2,137
    files, 63 MB at 20k runs: 0.2-1.3 s to write again, with the disk's mood)."""
    for top, dirs, names in os.walk(out_dir, topdown=False):
        here = Path(top)
        prefix = here.relative_to(out_dir).as_posix()
        for name in names:
            path = here / name
            if path.is_symlink() or (name if prefix == "." else f"{prefix}/{name}") not in wanted:
                path.unlink()
        for name in dirs:  # their contents already done (bottom up)
            path = here / name
            if path.is_symlink():
                path.unlink()
            elif not any(path.iterdir()):
                path.rmdir()


def _write_changed(path: Path, data: bytes) -> None:
    """`data` at `path`, unless the file there already holds exactly it (a folder in its place
    is a page that became a section: it goes)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    path.write_bytes(data)


def _same_file(src: Path, dest: Path) -> bool:
    """Whether `dest` is already the copy `shutil.copy2` would make of `src` (size and time)."""
    try:
        a, b = src.stat(), dest.lstat()
    except FileNotFoundError:
        return False
    return dest.is_file() and a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _checked_target(out_dir: Path, rel: str) -> Path:
    """`out_dir/rel`, or a one-line refusal when `rel` could lead out of `out_dir` (absolute, or
    with a `..` anywhere: no generated page needs one). Page paths come from names in the store
    and the notes: a bug in a slug must not write anywhere else."""
    parts = PurePosixPath(rel).parts
    if not rel or PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).drive or ".." in parts:
        raise DaybookError(
            f"{out_dir}: refusing to write the page {rel!r}: a page path must stay inside this "
            "folder (no absolute path, no `..`)"
        )
    return out_dir.joinpath(*parts)


def _prepared(out_dir: Path, rel: str, folders: dict[str, Path] | None = None) -> Path:
    """The file to write for `rel`, its folder made, checked to be inside `out_dir` once every
    symlink on the way is followed (a refusal, not a write through a link that points out).
    `folders` remembers the folders already made and checked."""
    path = _checked_target(out_dir, rel)
    folder = rel.rpartition("/")[0]
    folders = {} if folders is None else folders
    if folder not in folders:
        path.parent.mkdir(parents=True, exist_ok=True)
        folders[folder] = path.parent.resolve()
    if not folders[folder].is_relative_to(out_dir) or path.is_symlink():
        raise DaybookError(
            f"{out_dir}: refusing to write the page {rel!r}: a symlink on its path leads out of "
            "this folder"
        )
    return path


# --- inside a MkDocs build -----------------------------------------------------------------------

_PRECOMPUTED: dict[Path, Generated] = {}


def precompute(site: Site, pages: dict[str, str] | Generated) -> None:
    """`daybook build` pulls once with progress and hands the pages to the gen-files script."""
    _PRECOMPUTED[site.root] = pages if isinstance(pages, Generated) else Generated(pages)


def offline_requested() -> bool:
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def gen_files_main() -> None:
    """Body of the site's gen-files script: regenerate the pages inside a MkDocs build.

    The site lock is taken per regeneration, so `mkdocs serve` holds it only while it generates
    and a cron build waits seconds, not for the server's life. Inside `daybook build` (same
    process and thread, lock already held) taking it again only counts up."""
    from mkdocs.exceptions import PluginError

    root = gen_files.site_root()
    try:
        with site_lock(root, gen_files.log.info):  # info: a wait is no warning under --strict
            generated = _PRECOMPUTED.pop(root, None)
            if generated is None:
                site = load_site(root)
                site = replace(site, directory_urls=gen_files.directory_urls())
                if site.config.site.file_urls and site.directory_urls:
                    # Only `daybook build` (and serve) switch MkDocs to x.html pages and
                    # offline search; plain `mkdocs build` cannot honour the setting.
                    gen_files.log.warning(
                        f"daybook: {root / 'daybook.yml'}: site.file_urls is set, but plain "
                        "`mkdocs build` makes a site that does not open from disk: run "
                        "`daybook build` (or set use_directory_urls: false and the "
                        "material/offline plugin in mkdocs.yml)"
                    )
                generated = generate(site, progress=gen_files.log.info, offline=offline_requested())
    except DaybookError as exc:
        raise PluginError(f"daybook: {exc}") from None
    gen_files.publish(generated)
