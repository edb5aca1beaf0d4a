"""One pull: read the store, mask secrets, decide which runs get pages, read their details.

The only step that talks to the outside world; everything after works from the Snapshot it returns.

A pull is full (everything is read) or incremental (given the snapshot the last pull saved: the
experiments and the registry are read again in full, which is cheap; runs only where they may have
changed; metric histories and artifact listings only for page runs that changed or newly became
page runs). Both give the same Snapshot for the same store (tests/test_incremental_pull.py).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from itertools import compress
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

import orjson

from daybook import __version__
from daybook.analysis.policy import chosen_runs, experiment_leaders, page_runs, parent_ids
from daybook.analysis.policy_memo import (
    Leaders,
    PolicyMemo,
    leaders_of,
    merged_leaders,
    updated_leaders,
)
from daybook.analysis.references import resolve_run_ids
from daybook.core.config import DaybookConfig
from daybook.core.errors import DaybookError
from daybook.core.fork import fork, halves, processes_wanted, why_not
from daybook.core.snapshot import (
    Artifact,
    Experiment,
    MetricHistory,
    ModelFiles,
    RegisteredModel,
    Run,
    Snapshot,
)
from daybook.safety.redact import Redactor, strip_credentials
from daybook.sources.mlflow import (
    IndexedReader,
    Reader,
    SearchingReader,
    SplitReader,
    list_artifacts,
    open_reader,
    read_histories,
)
from daybook.sources.model_files import absent_runs, read_model_files, wanted_versions
from daybook.store.snapshot_file import (
    LIVE,
    RUN_HALVES,
    EncodedParts,
    LazyRuns,
    SavedRuns,
    SnapshotError,
    StoredSnapshot,
    config_fingerprint,
    digest,
    joined_shares,
    load,
    own_parts,
    paused_gc,
    run_to_list,
    runs_from_parts,
    save,
    share_parts,
    with_parts,
)

Progress = Callable[[str], None]
_T = TypeVar("_T")
# Search-based incremental pulls (MLflow servers) look back this far before the last pull, for
# clocks of logging machines that run behind and for runs written while that pull was reading.
SEARCH_MARGIN_MS = 60 * 60 * 1000


def _quiet(_: str) -> None:
    pass


def _now_ms() -> int:
    return int(time.time() * 1000)


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))


@dataclass(frozen=True)
class PullReport:
    """What a pull read and what it found changed: the counts the progress lines show."""

    full: bool
    reason: str  # why the pull was full ("first pull", "--full", "settings changed", …)
    experiments: int
    runs: int
    models: int
    new_runs: int  # runs not in the previous snapshot (all runs, for a full pull)
    updated_runs: int  # runs in both, with different content
    deleted_runs: int  # runs in the previous snapshot that are gone (or now excluded)
    fetched_runs: int  # runs read from the store (an incremental pull re-reads some unchanged)
    histories_read: int  # page runs whose metric histories were read from the store
    histories_reused: int  # page runs whose histories came from the previous snapshot
    artifacts_listed: int
    artifacts_reused: int
    # Incremental, from the saved index and policy memo: only the saved runs that changed,
    # went or are needed were decoded (`_update_from_index`).
    from_index: bool = False

    def summary(self) -> str:
        details = f"histories for {self.histories_read} runs"
        if self.full:
            return (
                f"full pull ({self.reason}): {self.runs} runs in {self.experiments} experiments, "
                f"{self.models} registered models; {details}"
            )
        return (
            f"incremental pull: {self.new_runs} new runs, {self.updated_runs} updated, "
            f"{self.deleted_runs} deleted ({self.runs} runs in {self.experiments} experiments); "
            f"{details} ({self.histories_reused} reused)"
        )


@dataclass(frozen=True)
class PullResult:
    stored: StoredSnapshot  # what `refresh` saves
    report: PullReport

    @property
    def snapshot(self) -> Snapshot:
        return self.stored.snapshot


def pull(
    config: DaybookConfig,
    tracking_uri: str,
    *,
    progress: Progress = _quiet,
    extra_page_runs: Iterable[str] = (),
    force_client: bool = False,
    extra_model_versions: Iterable[tuple[str, int]] = (),
    recent_since: int | None = None,
) -> Snapshot:
    """A full pull, nothing saved."""
    return update(
        config,
        tracking_uri,
        None,
        progress=progress,
        extra_page_runs=extra_page_runs,
        force_client=force_client,
        extra_model_versions=extra_model_versions,
        recent_since=recent_since,
    ).snapshot


def refresh(
    config: DaybookConfig,
    tracking_uri: str,
    path: Path,
    *,
    full: bool = False,
    progress: Progress = _quiet,
    extra_page_runs: Iterable[str] = (),
    force_client: bool = False,
    extra_model_versions: Iterable[tuple[str, int]] = (),
    recent_since: int | None = None,
    later: contextlib.ExitStack | None = None,
) -> PullResult:
    """Bring the snapshot saved at `path` up to date with the store (incrementally when the
    saved one allows it) and save the result.

    With `later` (a caller that goes on to render, under the site lock until `later` closes), a
    big snapshot is saved by a forked second process while this one goes on (`SAVE_APART_FROM`
    runs up: 2.2 s at 100,000 runs, off the critical path); `later` waits for it, so the file
    is whole before the lock is let go, and a failed save still fails the command."""
    with paused_gc():  # load, pull and save in one pause (see paused_gc)
        return _refresh(
            config,
            tracking_uri,
            path,
            full=full,
            progress=progress,
            extra_page_runs=extra_page_runs,
            force_client=force_client,
            extra_model_versions=extra_model_versions,
            recent_since=recent_since,
            later=later,
        )


def _refresh(
    config: DaybookConfig,
    tracking_uri: str,
    path: Path,
    *,
    full: bool,
    progress: Progress,
    extra_page_runs: Iterable[str],
    force_client: bool,
    extra_model_versions: Iterable[tuple[str, int]],
    recent_since: int | None,
    later: contextlib.ExitStack | None,
) -> PullResult:
    previous: StoredSnapshot | None = None
    reason = "--full" if full else "no snapshot yet"
    if not full and path.exists():
        try:
            previous = load(path)
        except SnapshotError as exc:
            progress(f"{exc}: pulling in full instead")
            reason = "the saved snapshot is unusable"
    result = update(
        config,
        tracking_uri,
        previous,
        reason=reason,
        progress=progress,
        extra_page_runs=extra_page_runs,
        force_client=force_client,
        extra_model_versions=extra_model_versions,
        recent_since=recent_since,
    )
    if later is not None and _save_apart(path, result.stored, later, progress):
        return result
    size = save(path, result.stored)
    progress(f"saved the snapshot to {path} ({size / 1e6:.1f} MB)")
    return result


SAVE_APART_FROM = 10_000  # runs: below, a save costs less than the fork and the pages it copies


def _save_apart(
    path: Path, stored: StoredSnapshot, later: contextlib.ExitStack, progress: Progress
) -> bool:
    """Save `stored` in a forked second process (daybook.core.fork); False when it is not
    worth it or not possible (then the caller saves)."""
    if stored.run_count < SAVE_APART_FROM or why_not(processes_wanted()):
        return False
    child = fork(functools.partial(save, path, stored))
    if child is None:  # other threads are running
        return False

    def wait(kind: type[BaseException] | None, *_: object) -> None:
        try:
            size = child.result()
        except DaybookError as exc:
            if kind is None:
                raise
            progress(f"{exc}")  # the error already on its way is the one to report
            return
        progress(f"saved the snapshot to {path} ({size / 1e6:.1f} MB, by a second process)")

    later.push(wait)
    return True


def update(
    config: DaybookConfig,
    tracking_uri: str,
    previous: StoredSnapshot | None,
    *,
    reason: str = "first pull",
    progress: Progress = _quiet,
    extra_page_runs: Iterable[str] = (),
    force_client: bool = False,
    extra_model_versions: Iterable[tuple[str, int]] = (),
    recent_since: int | None = None,
) -> PullResult:
    """Read the store into a snapshot: incrementally from `previous` when it was taken of the
    same store with the same settings by this Daybook, else in full (`reason` says why)."""
    with paused_gc():  # a pull makes millions of small objects and no cycles
        return _update(
            config,
            tracking_uri,
            previous,
            reason=reason,
            progress=progress,
            extra_page_runs=extra_page_runs,
            force_client=force_client,
            extra_model_versions=extra_model_versions,
            recent_since=recent_since,
        )


@dataclass(frozen=True)
class _Pull:
    """What the ways one pull can end share: its settings, reader and masker, where its
    progress goes, the runs and model versions asked for beyond the policy's, and when it
    began and with which settings' fingerprint."""

    config: DaybookConfig
    reader: Reader
    masker: _Masker
    progress: Progress
    extra_page_runs: tuple[str, ...]
    extra_model_versions: tuple[tuple[str, int], ...]
    tracking_uri: str
    force_client: bool
    started: int
    fingerprint: str
    display: str  # the tracking URI as the snapshot keeps it (credentials stripped, masked)


def _update(
    config: DaybookConfig,
    tracking_uri: str,
    previous: StoredSnapshot | None,
    *,
    reason: str,
    progress: Progress,
    extra_page_runs: Iterable[str],
    force_client: bool,
    extra_model_versions: Iterable[tuple[str, int]],
    recent_since: int | None,
) -> PullResult:
    started = _now_ms()
    masker = _Masker(config)
    # As the snapshot keeps it: credentials stripped, then masked as every saved text is (a
    # database URI's `***@` becomes `••••••@`), so an unchanged URI compares equal.
    display = masker.text(strip_credentials(tracking_uri))
    fingerprint = config_fingerprint(config)
    base = previous
    if previous is not None:
        why = _why_full(previous, display, fingerprint, masker.masking)
        if why:
            base, reason = None, why
    reader = open_reader(tracking_uri, force_client=force_client)
    try:
        how = f"changes since {_when(base.pulled_at)}" if base else f"everything: {reason}"
        progress(f"reading {display} ({reader.kind}); {how}")
        experiments = sorted(
            (
                masker.experiment(e)
                for e in reader.read_experiments()
                if config.experiments.wants(e.name)
            ),
            key=lambda e: e.experiment_id,
        )
        extra_page_runs, extra_model_versions = tuple(extra_page_runs), tuple(extra_model_versions)
        pull = _Pull(
            config, reader, masker, progress, extra_page_runs, extra_model_versions,
            tracking_uri, force_client, started, fingerprint, display,
        )  # fmt: skip
        if base is not None and _indexed(config, reader, base, recent_since):
            done = _update_from_index(pull, base, experiments)
            if done is not None:
                return done
            progress("the saved leaders cannot tell this pull's: deciding from every run")
        apart = 0  # runs read by a second process
        read_parts: EncodedParts = {}  # the file's parts that process encoded
        ahead = _Ahead()  # histories read with the runs, of runs they tell will be page runs
        if base is None:
            split = _read_split(reader, config, experiments, masker, tracking_uri, force_client)
            if split is None:
                exp_ids = [e.experiment_id for e in experiments]
                runs = masker.runs(reader.read_runs(exp_ids))
            else:
                apart = len(split.upper.index["ids"])
                by = f" ({apart} of them read by a second process)"
                total = len(split.lower) + apart
                progress(f"read {len(experiments)} experiments, {total} runs{by}")
                if previous is None and recent_since is None and not config.run_pages.all:
                    done = _from_split(pull, split, experiments, reason)
                    if done is not None:
                        return done
                runs, read_parts = split.whole()
                ahead = split.ahead
            fetched = len(runs)
        else:
            runs, fetched = _changed_runs(reader, base, experiments, masker)
        runs.sort(key=_RUN_ID)
        # Loops over every run of a big store, so in C where it can be (map, zip, sets).
        old_runs = previous.snapshot.runs if previous else ()
        before = dict(zip(map(_RUN_ID, old_runs), old_runs, strict=True))
        ids = list(map(_RUN_ID, runs))
        now_ids = set(ids)
        new = sorted(now_ids.difference(before))  # in the order of `runs`, by id
        runs, updated = _keep_unchanged(runs, before)
        deleted = [rid for rid in before if rid not in now_ids]
        if base is None:
            if not apart:  # else said as the shares came back
                progress(f"read {len(experiments)} experiments, {len(runs)} runs")
        else:
            progress(
                f"{len(new)} new runs, {len(updated)} updated, {len(deleted)} deleted "
                f"(read {fetched} runs; {len(runs)} in {len(experiments)} experiments)"
            )
        models = sorted((masker.model(m) for m in reader.read_models()), key=lambda m: m.name)
        progress(f"read {len(models)} registered models")
        # Runs named elsewhere (e.g. by notes) may be given as unambiguous id prefixes.
        extra = resolve_run_ids(extra_page_runs, ids)
        chosen, memo = page_runs(config, experiments, runs, models, extra, recent_since)
        wanted = sorted(chosen)
        by_id = dict(zip(ids, runs, strict=True))
        # The previous file's parts and the second process's: saving keeps the bytes of those
        # whose runs are all the very objects there (`_keep_unchanged`).
        encoded = previous.encoded if previous is not None else {}
        if read_parts:
            encoded = with_parts(encoded, read_parts, by_id)
        reuse: set[str] = set()
        if base is not None:
            changed = updated.union(new)
            reuse = {
                rid
                for rid in wanted
                if rid in base.detail_runs and rid not in changed and by_id[rid].status not in LIVE
            }
        details = _read_details(
            config, reader, wanted, reuse, by_id, by_id.keys(), base, models,
            extra_model_versions, tracking_uri, force_client, progress, ahead,
        )  # fmt: skip
    finally:
        reader.close()
    snapshot = masker.snapshot(details.snapshot(display, experiments, tuple(runs), models))
    report = PullReport(
        full=base is None,
        reason=reason if base is None else "",
        experiments=len(experiments),
        runs=len(runs),
        models=len(models),
        new_runs=len(new),
        updated_runs=len(updated),
        deleted_runs=len(deleted),
        fetched_runs=fetched,
        **details.counts(),
    )
    progress(report.summary())
    stored = StoredSnapshot(
        snapshot, started, fingerprint, frozenset(wanted), __version__, encoded,
        policy=memo.to_data() if memo is not None else None,
    )  # fmt: skip
    return PullResult(stored, report)


def _indexed(
    config: DaybookConfig, reader: Reader, base: StoredSnapshot, recent_since: int | None
) -> bool:
    """Whether this incremental pull can work from the saved index and policy memo alone
    (`_update_from_index`), with no need to decode every saved run."""
    lazy = base.runs
    return (
        lazy is not None
        and "snapshot" not in base.__dict__  # not decoded already: nothing to save
        and not lazy.changed
        and not lazy.removed
        and lazy.saved.run_order is None
        and isinstance(reader, (IndexedReader, SearchingReader))
        and recent_since is None  # the recent runs are chosen from every run's times
        and not config.run_pages.all
        and isinstance(base.policy, Mapping)
    )


def _update_from_index(
    pull: _Pull, base: StoredSnapshot, experiments: Sequence[Experiment]
) -> PullResult | None:
    """An incremental pull that decodes only the saved runs it must: those read again and not
    the same (their saved digest tells), those gone, and the few whose details are read. The
    page runs come from the saved policy memo updated with the runs that changed
    (daybook.analysis.policy_memo); None when the memo cannot tell, and the caller pulls from
    every run. It ends with what `_update` ends with (tests/store/test_incremental_pull.py).

    Measured at 100,000 runs: the snapshot's runs were 1.2 s of a 2.9 s pull to decode."""
    config, reader, masker, progress = pull.config, pull.reader, pull.masker, pull.progress
    assert base.runs is not None and base.policy is not None
    saved = base.runs.saved
    try:
        memo = PolicyMemo.from_data(base.policy)
    except (KeyError, TypeError, ValueError):
        return None
    top = config.run_pages.top
    if memo.top != top:
        return None
    exp_ids = [e.experiment_id for e in experiments]
    kept = set(saved.ids)  # the saved runs of experiments still read
    if not set(exp_ids).issuperset(saved.experiments):
        wanted_exps = set(exp_ids)
        kept = {
            rid for rid, e in zip(saved.ids, saved.experiments, strict=True) if e in wanted_exps
        }
    if isinstance(reader, IndexedReader):
        fetched, gone, n_read = _changes_by_index(
            reader, kept, saved.ids, saved.statuses, saved.ends, exp_ids, masker
        )
    else:
        fetched, gone, n_read = _changes_by_search(
            reader, base, kept, saved.ids, saved.statuses, exp_ids, masker
        )
    removed = set(saved.ids).difference(kept).union(gone)
    changed: dict[str, Run] = {}
    new: list[str] = []
    updated: set[str] = set()
    compare: list[Run] = []
    for r in fetched:
        if r.run_id not in kept:
            new.append(r.run_id)
            changed[r.run_id] = r
        elif saved.digests.get(r.run_id) != digest(r):  # else the saved run stays, undecoded
            compare.append(r)
    old = saved.get(r.run_id for r in compare)
    for r in compare:  # compared as saved data, as `_keep_unchanged` does
        now, was = run_to_list(r), run_to_list(old[r.run_id])
        if now != was:
            updated.add(r.run_id)
            changed[r.run_id] = r
        elif orjson.dumps(now) != orjson.dumps(was):
            changed[r.run_id] = r  # equal values in other bytes: a full pull writes these
    lazy = LazyRuns(saved, changed, frozenset(removed))
    deleted = sorted(removed.intersection(saved.position()))
    progress(
        f"{len(new)} new runs, {len(updated)} updated, {len(deleted)} deleted "
        f"(read {n_read} runs; {lazy.count} in {len(experiments)} experiments)"
    )
    models = sorted((masker.model(m) for m in reader.read_models()), key=lambda m: m.name)
    progress(f"read {len(models)} registered models")
    leaders = _leaders(config, experiments, memo, saved, lazy)
    if leaders is None:
        return None
    known = (saved.position().keys() - removed) | changed.keys()
    ids_now = sorted(known)
    extra = resolve_run_ids(pull.extra_page_runs, ids_now)
    parents = {
        rid: p for rid, p in saved.parents.items() if rid not in changed and rid not in removed
    }
    parents.update((r.run_id, r.parent_id) for r in changed.values() if r.parent_id)
    wanted = sorted(chosen_runs(config, leaders, known, parents.values(), models, extra))
    view = _RunView(lazy, known)
    fresh = updated.union(new)
    reuse = {
        rid
        for rid in wanted
        if rid in base.detail_runs and rid not in fresh and view.status(rid) not in LIVE
    }
    details = _read_details(
        config, reader, wanted, reuse, view, known, base, models, pull.extra_model_versions,
        pull.tracking_uri, pull.force_client, progress,
    )  # fmt: skip
    held = masker.snapshot(details.snapshot(pull.display, experiments, (), models))
    report = PullReport(
        full=False,
        reason="",
        experiments=len(experiments),
        runs=lazy.count,
        models=len(models),
        new_runs=len(new),
        updated_runs=len(updated),
        deleted_runs=len(deleted),
        fetched_runs=n_read,
        **details.counts(),
        from_index=True,
    )
    progress(report.summary())
    memo = PolicyMemo(top, leaders)
    stored = StoredSnapshot(
        held, pull.started, pull.fingerprint, frozenset(wanted), __version__, base.encoded, lazy,
        memo.to_data(),
    )  # fmt: skip
    return PullResult(stored, report)


@dataclass(frozen=True)
class _Details:
    """What `_read_details` read: the snapshot's fields beyond the runs, and how many page runs
    had their histories and artifacts read from the store or kept from the last snapshot."""

    histories: dict[str, tuple[MetricHistory, ...]]
    artifacts: dict[str, tuple[Artifact, ...]]
    model_files: tuple[ModelFiles, ...]
    absent_runs: dict[str, str]
    read: int
    reused: int

    def snapshot(
        self,
        tracking_uri: str,
        experiments: Sequence[Experiment],
        runs: tuple[Run, ...],
        models: Sequence[RegisteredModel],
    ) -> Snapshot:
        return Snapshot(
            tracking_uri=tracking_uri,
            experiments=tuple(experiments),
            runs=runs,
            models=tuple(models),
            histories=self.histories,
            artifacts=self.artifacts,
            model_files=self.model_files,
            absent_runs=self.absent_runs,
        )

    def counts(self) -> dict[str, int]:
        """The report's counts of details (`PullReport`)."""
        return {
            "histories_read": self.read,
            "histories_reused": self.reused,
            "artifacts_listed": self.read,
            "artifacts_reused": self.reused,
        }


def _read_details(
    config: DaybookConfig,
    reader: Reader,
    wanted: list[str],
    reuse: set[str],
    runs: Mapping[str, Run],
    known: Set[str],
    base: StoredSnapshot | None,
    models: Sequence[RegisteredModel],
    extra_model_versions: Iterable[tuple[str, int]],
    tracking_uri: str,
    force_client: bool,
    progress: Progress,
    ahead: _Ahead | None = None,
) -> _Details:
    """What a pull reads beyond the runs: the histories and artifact listings of the page runs
    `wanted` but those it `reuse`s from `base` (the histories of those `ahead` holds are not
    read again), the files of the model versions shown, and why a version's run is not among
    the runs `known`."""
    to_read = [rid for rid in wanted if rid not in reuse]
    by_id = {rid: runs[rid] for rid in to_read}
    again = f", reused {len(reuse)}" if base else ""
    ahead = ahead or _Ahead()
    histories = _details(
        _read_histories(reader, to_read, by_id, tracking_uri, force_client, ahead),
        base.held.histories if base else {},
        reuse,
    )
    early = sum(map(ahead.runs.__contains__, to_read))
    with_runs = f" ({early} of them with the runs)" if early else ""
    progress(f"read metric histories of {len(to_read)} runs{with_runs}{again}")
    listed: dict[str, tuple[Artifact, ...]] = {}
    for rid in to_read:
        listing = list_artifacts(by_id[rid].artifact_uri, tracking_uri)
        if listing:
            listed[rid] = listing
    artifacts = _details(listed, base.held.artifacts if base else {}, reuse)
    progress(f"listed artifacts of {len(to_read)} runs{again}")
    files_of = wanted_versions(models, config.models.files_versions)
    files_of.update(extra_model_versions)
    model_files = read_model_files(reader, models, runs, files_of, tracking_uri)
    missing = absent_runs(reader, (v.run_id for m in models for v in m.versions), known)
    progress(f"read the files of {len(model_files)} model versions")
    return _Details(histories, artifacts, model_files, missing, len(to_read), len(reuse))


def _changes_by_index(
    reader: IndexedReader,
    kept: set[str],
    ids: Sequence[str],
    statuses: Sequence[str],
    ends: Sequence[int | None],
    exp_ids: list[str],
    masker: _Masker,
) -> tuple[list[Run], set[str], int]:
    """What changed, by the store's run index: every active id with its status and end time,
    in one query, against the previous runs' (`ids`, `statuses`, `ends`; those still read:
    `kept`). Reads the new ids, those whose status or end time moved, and those still going.
    Returns the runs read (masked), the kept runs gone, and how many were read. Loops over
    every run of a big store, so in C where it can be (map, zip, sets)."""
    index = reader.read_run_index(exp_ids)
    then = dict(zip(ids, zip(statuses, ends, strict=True), strict=True))
    if len(kept) < len(then):
        then = {rid: v for rid, v in then.items() if rid in kept}
    moved = index.items() - then.items()
    going = compress(ids, map(LIVE.__contains__, statuses))  # may change at any time
    read = sorted({rid for rid, _ in moved}.union(going).intersection(index))
    fetched = masker.runs(reader.read_runs_by_id(read, exp_ids))
    # Gone: no longer active in the store (or gone by the time it was read by id).
    gone = kept.difference(index)
    gone.update(kept.intersection(read).difference(r.run_id for r in fetched))
    return fetched, gone, len(fetched)


def _changes_by_search(
    reader: Reader,
    base: StoredSnapshot,
    kept: set[str],
    ids: Sequence[str],
    statuses: Sequence[str],
    exp_ids: list[str],
    masker: _Masker,
) -> tuple[list[Run], set[str], int]:
    """What changed, by searches (MLflow's client: servers, other databases): runs started or
    ended since the last pull (less a margin), runs of experiments not seen before, runs still
    going (from the previous `ids` and `statuses`), and the ids of deleted runs. Returns as
    `_changes_by_index` does (how many: every run found)."""
    if not isinstance(reader, SearchingReader):
        raise TypeError(f"{type(reader).__name__} can neither index nor search runs")
    since = base.pulled_at - SEARCH_MARGIN_MS
    seen_exps = {e.experiment_id for e in base.held.experiments}
    found = {r.run_id: r for r in reader.read_changed_runs(exp_ids, since)}
    new_exps = [e for e in exp_ids if e not in seen_exps]  # new, or restored from deletion
    if new_exps:
        found.update((r.run_id, r) for r in reader.read_runs(new_exps))
    going = compress(ids, map(LIVE.__contains__, statuses))
    live = sorted(rid for rid in going if rid in kept and rid not in found)
    found.update((r.run_id, r) for r in reader.read_runs_by_id(live, exp_ids))
    gone = reader.read_deleted_run_ids(exp_ids)
    gone.update(rid for rid in live if rid not in found)  # neither active nor deleted: purged
    read = [r for rid, r in found.items() if rid not in gone]
    return masker.runs(read), gone.intersection(kept), len(found)


def _leaders(
    config: DaybookConfig,
    experiments: Sequence[Experiment],
    memo: PolicyMemo,
    saved: SavedRuns,
    lazy: LazyRuns,
) -> dict[str, Leaders] | None:
    """Each experiment's leaders now: the memo's, with the saved runs that went (as saved) taken
    out and the runs that changed put in; None when one cannot be told from those alone."""
    if not config.run_pages.top:
        return {}
    leaving = lazy.removed.union(lazy.changed).intersection(saved.position())
    removed: dict[str, list[Run]] = {}
    for r in saved.get(sorted(leaving)).values():
        removed.setdefault(r.experiment_id, []).append(r)
    added: dict[str, list[Run]] = {}
    for r in lazy.changed.values():
        added.setdefault(r.experiment_id, []).append(r)
    saved_exps = set(saved.experiments)
    out: dict[str, Leaders] = {}
    for exp in experiments:
        eid = exp.experiment_id
        old = memo.experiments.get(eid)
        if old is None:  # new since the memo was kept: it must have had no saved run
            if eid in saved_exps:
                return None
            old = leaders_of(config, exp, (), config.run_pages.top)
        now = updated_leaders(
            config, exp, old, removed.get(eid, ()), added.get(eid, ()), config.run_pages.top
        )
        if now is None:
            return None
        out[eid] = now
    return out


class _RunView(Mapping[str, Run]):
    """The runs of a pull from the index, decoding a saved one only when it is looked up (the
    registry's files look up the few runs behind model versions)."""

    def __init__(
        self, lazy: LazyRuns, known: Set[str], decoded: Mapping[str, Run] | None = None
    ) -> None:
        self._lazy = lazy
        self._known = known
        self._decoded = decoded or {}  # saved runs already decoded elsewhere

    def __getitem__(self, rid: str) -> Run:
        if rid not in self._known:
            raise KeyError(rid)
        found = self._lazy.changed.get(rid) or self._decoded.get(rid)
        return found if found is not None else self._lazy.saved.get((rid,))[rid]

    def __contains__(self, rid: object) -> bool:
        return rid in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._known))

    def __len__(self) -> int:
        return len(self._known)

    def status(self, rid: str) -> str:
        changed = self._lazy.changed.get(rid)
        if changed is not None:
            return changed.status
        saved = self._lazy.saved
        return saved.statuses[saved.position()[rid]]


_RUN_ID = attrgetter("run_id")
_EXPERIMENT_ID = attrgetter("experiment_id")
_STATUS = attrgetter("status")
_END_TIME = attrgetter("end_time")
RUNS_APART_FROM = 20_000  # runs: below, a full pull reads them in one process
# MLflow's run ids are 32 random hex digits: 55% of them sort below "8c". Each process reads,
# masks and encodes its share; the second's is the smaller (45%), as it also starts as a fork
# and sends its parts back (split at "8", it was the one waited for: 20k runs, a full pull to
# its save 0.93 -> 0.80 s, 100k 4.56 -> 4.43 s, medians in turn; with the histories read ahead
# and its share no longer decoded here, "84" and "88" measured no better).
# It is where the snapshot file's two ranges of runs meet, so each process's parts are the file's.
SPLIT_ID = RUN_HALVES


def _read_split(
    reader: Reader,
    config: DaybookConfig,
    experiments: Sequence[Experiment],
    masker: _Masker,
    tracking_uri: str,
    force_client: bool,
) -> _Split | None:
    """Every run of these experiments read in two shares, masked, when the store is big and
    read by direct SQL (None: read them in one process). The runs whose ids sort from
    `SPLIT_ID` are read by a forked second process on its own connection (daybook.core.fork),
    the rest here meanwhile. Each masks and encodes its share as the snapshot file's parts of
    its range of ids, so the save writes their members as they are, ranks it, and reads the
    histories it can tell will be wanted (`_read_ahead`); the second sends back its members
    and the index of its runs (`_UpperShare`), not the runs (pickling Runs cost six times more).

    Measured at 100,000 runs on two cores, fresh processes: read and masked in one, 3.5-3.9 s;
    in two, encoded too and the second's share decoded here, 3.1-3.5 s (`bench_pipeline.py`,
    against 3.0-3.7 s before either encoded, when the save took 0.9-1.3 s more); each share
    scans the tables whole (`SqlReader.read_runs`). A build after it is also faster and its peak
    lower: what the second process scanned is not scanned again (docs/guide/scale.md, "What
    still runs in one process")."""
    exp_ids = [e.experiment_id for e in experiments]
    wanted = processes_wanted()
    one = not isinstance(reader, SplitReader) or bool(why_not(wanted))
    if one or (wanted != 2 and reader.count_runs(exp_ids) < RUNS_APART_FROM):
        return None
    both = halves(
        functools.partial(_read_lower, reader, config, experiments, masker),
        functools.partial(_read_upper, tracking_uri, force_client, config, experiments, masker),
    )
    if both is None:  # other threads are running
        return None
    (lower, parts, index, share), upper = both
    return _Split(lower, parts, index, share, upper)


@dataclass(frozen=True)
class _Ahead:
    """Metric histories each process of a split full pull read once its share of runs was
    read, of the page runs in its range that share tells of (`_read_ahead`), before the page
    runs are known: read by the process that already holds a connection and would otherwise
    wait, where after they were a second fork's work. `runs`: the runs they were read for (a
    run may have none).

    A full pull to its save, medians of rounds in turn (benchmarks/bench_pipeline.py's store,
    fresh processes): 20k runs 0.65 -> 0.61 s (eight rounds; the histories after the runs
    0.13 -> 0.04 s), 100k runs 3.53 -> 3.39 s (four; 0.79 -> 0.23 s)."""

    runs: frozenset[str] = frozenset()
    histories: Mapping[str, tuple[MetricHistory, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Share:
    """What a process of a split full pull made of its share of the runs besides reading it:
    each experiment's leaders ranked within the share (`leaders_of`; none without a top) and
    the histories it read ahead."""

    leaders: Mapping[str, Leaders]
    ahead: _Ahead


@dataclass(frozen=True)
class _UpperShare:
    """What the second process sends back: its runs as the snapshot file's parts (count and
    gzip member of each, in the file's order) and the file's index of them (`share_parts`),
    what it made of them (`_Share`), and those of its runs it read histories for, as Runs."""

    parts: list[tuple[int, bytes]]
    index: dict[str, Any]
    share: _Share
    page_runs: dict[str, Run]


@dataclass(frozen=True)
class _Split:
    """The two shares of a split full pull: the first's runs, parts and `_Share`, and the
    second's `_UpperShare`."""

    lower: list[Run]
    lower_parts: EncodedParts
    lower_index: dict[str, Any]
    lower_share: _Share
    upper: _UpperShare

    @property
    def ahead(self) -> _Ahead:
        ours, theirs = self.lower_share.ahead, self.upper.share.ahead
        return _Ahead(ours.runs | theirs.runs, {**ours.histories, **theirs.histories})

    def saved(self) -> SavedRuns:
        """Both shares as the runs of a loaded file (`joined_shares`): the first's decoded,
        the second's decoded only when asked for. Saved as they are, with no sort or lookup
        per run: a full pull's save at 100,000 runs, three rounds in turn (bench_pipeline.py),
        0.53-0.69 s before (the first share saved as runs changed: every id sorted and looked
        up), 0.24-0.37 s so."""
        upper = self.upper
        return joined_shares(self.lower_parts, self.lower_index, upper.parts, upper.index)

    def whole(self) -> tuple[list[Run], EncodedParts]:
        """Every run (the second share's decoded here), and the parts both encoded."""
        upper, theirs = runs_from_parts([member for _, member in self.upper.parts])
        return [*self.lower, *upper], {**self.lower_parts, **theirs}


def _read_ahead(
    reader: Reader,
    config: DaybookConfig,
    leaders: Mapping[str, Leaders],
    runs: Sequence[Run],
    upper: bool,
) -> _Ahead:
    """The histories of the page runs a share of the store's `runs` (the lower range of ids,
    or the `upper`) tells of in its own range: the top of each experiment ranked within the
    share (`leaders`: every run of the top over the whole store that the share holds is one
    of them, if the primary metric guessed from the share's runs is the whole's) and the
    parents its runs name. A parent only the other share's runs name, a run behind a model
    version, a leader of another primary metric: the pull reads those after
    (`_read_histories`)."""
    policy = config.run_pages
    if policy.all:
        return _Ahead()
    found: set[str] = set()
    if policy.parents:
        found.update(filter(None, parent_ids(runs)))
    for lead in leaders.values():
        found.update(lead.top(policy.top))
    ids = sorted(rid for rid in found if (rid >= SPLIT_ID) is upper)
    by_id = {r.run_id: r for r in runs}
    steps = {rid: by_id[rid].metric_steps for rid in ids if rid in by_id}
    return _Ahead(frozenset(ids), read_histories(reader, ids, steps))


def _merged_page_runs(
    config: DaybookConfig,
    experiments: Sequence[Experiment],
    split: _Split,
    known: Set[str],
    models: Sequence[RegisteredModel],
    extra: Iterable[str],
) -> tuple[set[str], PolicyMemo] | None:
    """`page_runs` of both shares without the second's runs: each experiment's leaders merged
    from the shares' (`merged_leaders`) and the parents from the first's runs and the
    second's index. None when the leaders cannot be told so (a share ranked by another
    primary metric than the whole's)."""
    top = config.run_pages.top
    leaders: dict[str, Leaders] = {}
    for exp in experiments if top else ():
        eid = exp.experiment_id
        shares = (split.lower_share.leaders[eid], split.upper.share.leaders[eid])
        merged = merged_leaders(config, exp, shares, top)
        if merged is None:
            return None
        leaders[eid] = merged
    parents = [*parent_ids(split.lower), *split.upper.index["parents"].values()]
    chosen = chosen_runs(config, leaders, known, parents, models, extra)
    return chosen, PolicyMemo(top, leaders)


def _from_split(
    pull: _Pull, split: _Split, experiments: Sequence[Experiment], reason: str
) -> PullResult | None:
    """A full pull's end from its two shares with the second's runs left as the file's parts
    (`LazyRuns`), as an incremental pull from the index leaves the saved ones: only the page
    runs among them are decoded (most come decoded, `_UpperShare.page_runs`), and the save
    writes both shares' members as they are. None when the page runs cannot be told without
    the second's runs (`_merged_page_runs`); the caller decodes them and goes on as usual.
    It ends with what `_update` ends with (tests/store/test_pull_split.py).

    Measured on the 20k and 100k stores (benchmarks/bench_pipeline.py): decoding the second
    share and ranking every run were 0.05 + 0.04 s of a 0.61 s pull to its save at 20k runs
    and 0.3 + 0.2 s of 3.4 s at 100k."""
    config, reader, masker, progress = pull.config, pull.reader, pull.masker, pull.progress
    saved = split.saved()
    lazy = LazyRuns(saved)
    known = saved.position().keys()
    asked = pull.extra_page_runs
    extra = resolve_run_ids(asked, sorted(known)) if asked else set()  # no sort of 100k ids
    models = sorted((masker.model(m) for m in reader.read_models()), key=lambda m: m.name)
    progress(f"read {len(models)} registered models")
    found = _merged_page_runs(config, experiments, split, known, models, extra)
    if found is None:
        progress("the shares' leaders cannot tell the whole's: deciding from every run")
        return None
    chosen, memo = found
    wanted = sorted(chosen)
    decoded = dict(split.upper.page_runs)
    decoded.update(saved.some(r for r in wanted if r not in decoded))
    view = _RunView(lazy, known, decoded)
    details = _read_details(
        config, reader, wanted, set(), view, known, None, models, pull.extra_model_versions,
        pull.tracking_uri, pull.force_client, progress, split.ahead,
    )  # fmt: skip
    held = masker.snapshot(details.snapshot(pull.display, experiments, (), models))
    report = PullReport(
        full=True,
        reason=reason,
        experiments=len(experiments),
        runs=lazy.count,
        models=len(models),
        new_runs=lazy.count,
        updated_runs=0,
        deleted_runs=0,
        fetched_runs=lazy.count,
        **details.counts(),
    )
    progress(report.summary())
    # The first share's parts are in `saved` (decoded: `joined_shares`), not `encoded`.
    stored = StoredSnapshot(
        held, pull.started, pull.fingerprint, frozenset(wanted), __version__,
        runs=lazy, policy=memo.to_data(),
    )  # fmt: skip
    return PullResult(stored, report)


HISTORIES_APART_FROM = 200  # runs whose histories are read: below, one process reads them


def _read_histories(
    reader: Reader,
    run_ids: list[str],
    by_id: dict[str, Run],
    tracking_uri: str,
    force_client: bool,
    ahead: _Ahead,
) -> dict[str, tuple[MetricHistory, ...]]:
    """The metric histories of `run_ids`, those `ahead` holds taken from it. A long list (the
    page runs of a full pull in one process, or of an incremental one whose page runs all
    changed: 1,468 runs, 367,000 points at 100,000 runs, ~0.5 s) read by direct SQL is shared
    with a forked second process on its own connection, every second run each; each run's
    histories are read alone, so the halves are the whole."""
    out = {rid: ahead.histories[rid] for rid in run_ids if rid in ahead.histories}
    run_ids = [rid for rid in run_ids if rid not in ahead.runs]
    steps = {rid: by_id[rid].metric_steps for rid in run_ids}
    wanted = processes_wanted()
    one = not isinstance(reader, SplitReader) or bool(why_not(wanted)) or len(run_ids) < 2
    if one or (wanted != 2 and len(run_ids) < HISTORIES_APART_FROM):
        out.update(read_histories(reader, run_ids, steps))
        return out
    both = halves(
        lambda: read_histories(reader, run_ids[0::2], steps),
        functools.partial(_histories_of, tracking_uri, force_client, run_ids[1::2], steps),
    )
    if both is None:  # other threads are running
        out.update(read_histories(reader, run_ids, steps))
        return out
    ours, theirs = both
    out.update(ours)
    out.update(theirs)
    return out


def _histories_of(
    tracking_uri: str, force_client: bool, run_ids: list[str], steps: dict[str, dict[str, int]]
) -> dict[str, tuple[MetricHistory, ...]]:
    """In the second process: the histories of `run_ids`, on a connection of its own."""
    reader = open_reader(tracking_uri, force_client=force_client)
    try:
        return read_histories(reader, run_ids, steps)
    finally:
        reader.close()


def _read_lower(
    reader: SplitReader,
    config: DaybookConfig,
    experiments: Sequence[Experiment],
    masker: _Masker,
) -> tuple[list[Run], EncodedParts, dict[str, Any], _Share]:
    """In the first process: the runs whose ids sort below `SPLIT_ID`, masked, and encoded as
    the snapshot file's parts of that range with its index (the save writes them as they
    are); and what it makes of them (`_Share`)."""
    exp_ids = [e.experiment_id for e in experiments]
    runs = masker.runs(reader.read_runs(exp_ids, ids_before=SPLIT_ID))
    leaders = experiment_leaders(config, experiments, runs)
    ahead = _read_ahead(reader, config, leaders, runs, upper=False)
    return runs, *own_parts(runs), _Share(leaders, ahead)


def _read_upper(
    tracking_uri: str,
    force_client: bool,
    config: DaybookConfig,
    experiments: Sequence[Experiment],
    masker: _Masker,
) -> _UpperShare:
    """In the second process: the runs whose ids sort from `SPLIT_ID`, masked, as the snapshot
    file's parts and index (`share_parts`: 50,000 runs ~1 s there and back, where pickling
    them took ~6 s), what it makes of them (`_Share`), and the runs it read histories for. Not
    the strings its masking found clean: the publishing pass trusts the snapshot's masking
    (`Snapshot.masked_by`), and nothing else here reads the runs' strings again."""
    reader = open_reader(tracking_uri, force_client=force_client)
    try:
        if not isinstance(reader, SplitReader):
            raise TypeError(f"{type(reader).__name__} cannot read a range of run ids")
        exp_ids = [e.experiment_id for e in experiments]
        runs = masker.runs(reader.read_runs(exp_ids, ids_from=SPLIT_ID))
        parts, index = share_parts(runs)
        leaders = experiment_leaders(config, experiments, runs)
        ahead = _read_ahead(reader, config, leaders, runs, upper=True)
    finally:
        reader.close()
    page_runs = {r.run_id: r for r in runs if r.run_id in ahead.runs}
    return _UpperShare(parts, index, _Share(leaders, ahead), page_runs)


def _keep_unchanged(runs: list[Run], before: dict[str, Run]) -> tuple[list[Run], set[str]]:
    """`runs` with each run read again but unchanged replaced by the previous snapshot's object
    (so the save can keep the bytes of its part), and the ids of runs that did change.

    Runs kept from the snapshot are the same objects; those read again are compared as saved
    data (where NaN equals NaN): "updated" as values, "unchanged" as the very bytes a save would
    write (a dict in another order is equal, but would not give the same file)."""
    updated: set[str] = set()
    out = list(runs)
    kept = set(map(id, before.values()))
    for i in [i for i, x in enumerate(map(id, runs)) if x not in kept]:  # read again, or new
        r = runs[i]
        old = before.get(r.run_id)
        if old is None:
            continue
        now, then = run_to_list(r), run_to_list(old)
        if now != then:
            updated.add(r.run_id)
        elif orjson.dumps(now) == orjson.dumps(then):
            out[i] = old
    return out, updated


def current_settings(
    stored: StoredSnapshot, config: DaybookConfig, progress: Progress = _quiet
) -> Snapshot:
    """The saved snapshot as today's settings would have pulled it, as far as that can be done
    without the store: experiments now excluded are dropped and keys now secret are masked
    (experiments newly included, or keys no longer secret, need a pull)."""
    if stored.config_fingerprint == config_fingerprint(config):
        return stored.snapshot
    progress(
        "the snapshot was pulled with another experiment filter or redaction patterns: "
        "applying the current ones (`daybook pull` reads the store with them)"
    )
    snap = stored.snapshot
    masker = _Masker(config)
    experiments = tuple(
        masker.experiment(e) for e in snap.experiments if config.experiments.wants(e.name)
    )
    keep = {e.experiment_id for e in experiments}
    runs = tuple(masker.runs(r for r in snap.runs if r.experiment_id in keep))
    ids = {r.run_id for r in runs}
    return masker.snapshot(
        replace(
            snap,
            experiments=experiments,
            runs=runs,
            models=tuple(masker.model(m) for m in snap.models),
            histories={k: v for k, v in snap.histories.items() if k in ids},
            artifacts={k: v for k, v in snap.artifacts.items() if k in ids},
        )
    )


def _why_full(previous: StoredSnapshot, display_uri: str, fingerprint: str, masking: str) -> str:
    """Why `previous` cannot be the base of an incremental pull ("" when it can). Its runs must
    have been masked as this pull masks (`masked_by`): the pull marks the whole snapshot with its
    masking, which the publishing pass trusts."""
    if previous.tracking_uri != display_uri:
        return f"the tracking URI changed (the snapshot is of {previous.tracking_uri})"
    if previous.config_fingerprint != fingerprint:
        return "the experiment filter or the redaction patterns changed"
    if previous.daybook != __version__:
        return f"the snapshot was written by Daybook {previous.daybook}"
    if previous.held.masked_by != masking:
        return "the snapshot was masked by other rules (an older Daybook)"
    return ""


def _changed_runs(
    reader: Reader,
    base: StoredSnapshot,
    experiments: Sequence[Experiment],
    masker: _Masker,
) -> tuple[list[Run], int]:
    """The runs now, from `base` (every run decoded) and what the store says changed
    (`_changes_by_index`, else `_changes_by_search`); and how many were read."""
    exp_ids = [e.experiment_id for e in experiments]
    wanted_exps = set(exp_ids)
    # Loops over every run of the store: in C where they can be (map, zip, set operations).
    kept = base.snapshot.runs
    if not wanted_exps.issuperset(map(_EXPERIMENT_ID, kept)):
        kept = tuple(r for r in kept if r.experiment_id in wanted_exps)
    ids, statuses = list(map(_RUN_ID, kept)), list(map(_STATUS, kept))
    if isinstance(reader, IndexedReader):
        ends = list(map(_END_TIME, kept))
        fetched, gone, read = _changes_by_index(
            reader, set(ids), ids, statuses, ends, exp_ids, masker
        )
    else:
        fetched, gone, read = _changes_by_search(
            reader, base, set(ids), ids, statuses, exp_ids, masker
        )
    runs = dict(zip(ids, kept, strict=True))  # a copy in C, then the few gone or read taken out
    for rid in gone.union(r.run_id for r in fetched):
        runs.pop(rid, None)
    runs.update((r.run_id, r) for r in fetched)
    return list(runs.values()), read


def _details(read: dict[str, _T], previous: dict[str, _T], reuse: set[str]) -> dict[str, _T]:
    """Per-run details (histories, artifact listings): what was read now, plus what the previous
    snapshot had for the runs reused, sorted by run id as a full pull orders them."""
    out = dict(read)
    out.update((rid, previous[rid]) for rid in reuse if rid in previous)
    return dict(sorted(out.items()))


class _Masker:
    """The one redaction pass (see daybook.safety.redact) applied to what is read, before it
    is compared with the previous snapshot or written anywhere.

    Runs are most of a pull and almost never hold a secret: `runs` checks a whole batch's
    strings at once (`Redactor.runs`; 20,000 runs: 0.77 s run by run, 0.6 s in one batch,
    nearly all of it the scanner reading the 71,000 distinct strings once). `snapshot` walks
    every field but the runs, experiments and models, which were masked as they were read."""

    def __init__(self, config: DaybookConfig) -> None:
        self._redactor = Redactor.for_config(config)
        self.masking = self._redactor.masking  # what `snapshot` marks a snapshot with

    def runs(self, runs: Iterable[Run]) -> list[Run]:
        """`runs` masked, in order; a run masking leaves as it is comes back as itself (the
        batch check of `Redactor.runs`)."""
        return self._redactor.runs(runs)

    def run(self, run: Run) -> Run:
        return self.runs((run,))[0]

    def text(self, text: str) -> str:
        return self._redactor.value(text)

    def experiment(self, exp: Experiment) -> Experiment:
        return self._redactor.value(exp)

    def model(self, model: RegisteredModel) -> RegisteredModel:
        return self._redactor.value(model)

    def snapshot(self, snapshot: Snapshot) -> Snapshot:
        """`snapshot` with every field masked; its runs, experiments and models must have gone
        through `runs`, `experiment` and `model` (walking 100,000 runs twice cost 2.5 s)."""
        rest = self._redactor.value(replace(snapshot, experiments=(), runs=(), models=()))
        return replace(
            rest,
            experiments=snapshot.experiments,
            runs=snapshot.runs,
            models=snapshot.models,
            masked_by=self.masking,
        )
