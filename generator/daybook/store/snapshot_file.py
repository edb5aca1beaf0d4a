"""The snapshot on disk: `.daybook/snapshot.json.gz` in the site, the one file a pull leaves.

Why a file: a pull of a big store costs seconds to minutes, rendering costs little. Saving what a
pull saw lets the next pull fetch only what changed, and lets a build run with no store at all
(`--offline`). The format is documented in docs/guide/snapshots.md; this module is its only
reader and writer.

Gzipped JSON Lines (strict JSON: NaN and infinities are the strings "NaN", "Infinity", "-Infinity"):
a head (everything but the runs and the metric histories, and a table of the parts that follow, and
an index of every run with the page policy's memo), then the runs and the histories in parts, each
part its own gzip member. Parts are cut where an item's own key says (not every N items), runs in
start-time order within two ranges of ids (`RUN_HALVES`): a new run lands in the newest part of its
range and a changed run changes only its part, so a save re-encodes only the parts that changed (the
others' bytes are kept from the load, or from the second process of a full pull, which encodes its
range's parts). A load decodes the head and the histories; the runs stay bytes until asked for
(`SavedRuns`), so an incremental pull decodes only the few it needs. One explicit to/from function
per dataclass so a field nobody wrote code for cannot slip through unnoticed, and bytes that depend
only on the data (sorted keys where order is free, parts cut by content, gzip header without name or
time). Written to a temporary file beside it and renamed into place, so a pull that dies half way
leaves the previous snapshot intact.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import itertools
import json
import math
import os
import re
import types
import typing
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter, is_, itemgetter, methodcaller
from pathlib import Path
from typing import Any

import orjson
from isal import isal_zlib

from daybook import __version__
from daybook.core.config import DaybookConfig
from daybook.core.errors import DaybookError
from daybook.core.snapshot import (
    TAG_PARENT,
    Artifact,
    DatasetInput,
    Experiment,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
    Snapshot,
    new_run,
)
from daybook.store.atomic import write_atomic

FORMAT = "daybook-snapshot"
VERSION = 4  # bump on any change a version-4 reader would misread; see docs/guide/snapshots.md
# Versions this one reads: version 3 differs only in how a run's metrics are written, and
# `run_from_list` reads both (its parts are encoded again when saved: see SavedRuns.current).
READS = frozenset({3, VERSION})
SNAPSHOT_DIR = ".daybook"
SNAPSHOT_FILE = "snapshot.json.gz"
# ISA-L's level 1 (gzip, as zlib writes it): against zlib's level 1, 4x faster to write, 2.3x
# to read and 6% smaller (100,000 runs' parts: 0.34 -> 0.08 s, 0.13 -> 0.05 s, 17.7 -> 16.6 MB).
COMPRESSLEVEL = 1
RUNS_PER_PART = 512  # on average (see `_split`): ~200 parts at 100,000 runs
HISTORIES_PER_PART = 32  # runs' histories per part, on average (~100 KB of JSON each)
LIVE = frozenset({"RUNNING", "SCHEDULED"})  # runs that may still change without being "new"
# The runs are kept in two ranges of ids, those that sort below RUN_HALVES and the others (MLflow's
# run ids are 32 random hex digits: 140 of 256 sort below "8c", 55%), each in start-time order. A
# big store's full pull reads the two ranges in two processes (store/pull.py), and each encodes
# its own range's parts (`share_parts`, `own_parts`), so the save writes them as they are.
RUN_HALVES = "8c"


_I = typing.TypeVar("_I")


class SnapshotError(DaybookError):
    """The snapshot file is missing, unreadable or from an incompatible version."""


@dataclass(frozen=True)
class _Part:
    """One part of a loaded file: its items (Runs, or (run id, histories) pairs) and its bytes."""

    items: tuple[Any, ...]
    data: bytes


@dataclass(frozen=True, eq=False)
class StoredSnapshot:
    """A snapshot with what the next pull needs to know about how it was taken.

    Loaded from a file, its runs stay in the file's bytes (`runs`) until `snapshot` is first
    asked for: an incremental pull that only saves reads the few it needs (`LazyRuns`)."""

    held: Snapshot  # the snapshot; without its runs when `runs` holds them
    pulled_at: int  # epoch ms when the pull began: later changes are "since the last pull"
    config_fingerprint: str  # settings that shape what is read (see `config_fingerprint`)
    detail_runs: frozenset[str] = field(default_factory=frozenset)  # histories+artifacts read
    daybook: str = __version__  # the version that wrote it
    # The parts of the file this snapshot's data was loaded from, by (kind, first key): a save
    # keeps the bytes of a part whose items are the very objects loaded (see `_dumps`).
    encoded: dict[tuple[str, str], _Part] = field(default_factory=dict, repr=False)
    runs: LazyRuns | None = field(default=None, repr=False)  # the runs, when not in `held`
    policy: Mapping[str, Any] | None = None  # the run-page policy's memo (analysis.policy_memo)

    @functools.cached_property
    def snapshot(self) -> Snapshot:
        if self.runs is None:
            return self.held
        return dataclasses.replace(self.held, runs=self.runs.materialize(self.encoded))

    @property
    def run_count(self) -> int:
        return len(self.held.runs) if self.runs is None else self.runs.count

    @property
    def tracking_uri(self) -> str:
        return self.held.tracking_uri

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredSnapshot):
            return NotImplemented
        return (self.snapshot, self.pulled_at, self.config_fingerprint, self.detail_runs,
                self.daybook) == (other.snapshot, other.pulled_at, other.config_fingerprint,
                                  other.detail_runs, other.daybook)  # fmt: skip

    __hash__ = None  # type: ignore[assignment]


@dataclass(eq=False)
class SavedRuns:
    """The runs of a loaded file, each part gunzipped and decoded only when asked for, and
    the index the head keeps of them all (in the file's order: by range of ids, then start
    time)."""

    where: str  # the file, for errors found when a part is decoded
    ids: list[str]
    experiments: list[str]
    statuses: list[str]
    starts: list[int | None]
    ends: list[int | None]
    parents: dict[str, str]  # run id -> parent run id, for the runs that have one
    digests: dict[str, str]  # run id -> `digest` of its row, for the runs still going
    parts: list[tuple[int, bytes]]  # (runs, gzip member) of each part, in order
    run_order: list[str] | None  # the snapshot's order of runs (None: by run id)
    current: bool = True  # parts as this version writes them (a save may keep their bytes)
    # The ids, columns and parts already in the order and cut a save writes (`joined_shares`):
    # with nothing changed, a save writes them as they are, with no sort of the ids.
    as_cut: bool = False
    _firsts: list[int] = field(default_factory=list)
    _decoded: dict[int, tuple[Run, ...]] = field(default_factory=dict)
    _position: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._firsts = list(itertools.accumulate((n for n, _ in self.parts), initial=0))[:-1]

    @property
    def decoded_parts(self) -> int:
        return len(self._decoded)

    def index(self) -> dict[str, Any]:
        """The head's index of these runs, as `_index` makes it."""
        return {c: getattr(self, c) for c in (*_INDEX_LISTS, *_INDEX_MAPS)}

    def position(self) -> dict[str, int]:
        if not self._position:
            self._position = dict(zip(self.ids, range(len(self.ids)), strict=True))
        return self._position

    def part_ids(self, k: int) -> list[str]:
        return self.ids[self._firsts[k] : self._firsts[k] + self.parts[k][0]]

    def part_of(self, run_id: str) -> int:
        return bisect.bisect_right(self._firsts, self.position()[run_id]) - 1

    def get(self, run_ids: Iterable[str]) -> dict[str, Run]:
        """The saved runs `run_ids` (ids the file does not hold are left out)."""
        at = self.position()
        wanted = [rid for rid in run_ids if rid in at]
        self.decode({self.part_of(rid) for rid in wanted})
        out = {}
        for rid in wanted:
            k = self.part_of(rid)
            out[rid] = self._decoded[k][at[rid] - self._firsts[k]]
        return out

    def some(self, run_ids: Iterable[str]) -> dict[str, Run]:
        """The saved runs `run_ids`, as `get` gives them, but decoding only their own rows of
        the parts not decoded yet, which are not kept: a few runs spread over many parts (a
        split full pull's page runs the second process did not send: 13 parts at 100k runs,
        0.09 s decoded whole)."""
        at = self.position()
        by_part: dict[int, list[str]] = {}
        for rid in dict.fromkeys(run_ids):  # each row decoded once (a run takes its metrics dict)
            if rid in at:
                by_part.setdefault(self.part_of(rid), []).append(rid)
        out: dict[str, Run] = {}
        todo = [k for k in by_part if k not in self._decoded]
        for k, rows in zip(todo, self.rows(todo), strict=True):
            out.update((rid, run_from_list(rows[at[rid] - self._firsts[k]])) for rid in by_part[k])
        for k in by_part.keys() - set(todo):
            out.update((rid, self._decoded[k][at[rid] - self._firsts[k]]) for rid in by_part[k])
        return out

    def decode(self, parts: Iterable[int]) -> None:
        todo = sorted(set(parts) - self._decoded.keys())
        for k, rows in zip(todo, self.rows(todo), strict=True):
            self._decoded[k] = tuple(map(run_from_list, rows))

    def rows(self, parts: list[int]) -> list[list[list[Any]]]:
        """The rows of these parts as the file keeps them, gunzipped on all cores."""
        if not parts:
            return []
        out = []
        try:
            with paused_gc(), ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                raws = pool.map(_gunzip, [self.parts[k][1] for k in parts])
                for k, raw in zip(parts, raws, strict=True):
                    rows = orjson.loads(raw)
                    if not isinstance(rows, list) or list(map(_FIRST, rows)) != self.part_ids(k):
                        raise ValueError("a part of runs does not hold the runs the index says")
                    out.append(rows)
        except (KeyError, TypeError, ValueError, IndexError, EOFError, *_GZIP_ERRORS) as exc:
            raise SnapshotError(
                f"{self.where}: damaged snapshot ({type(exc).__name__}: {_short(exc)}); run "
                "`daybook pull --full` to write a new one"
            ) from None
        return out


@dataclass(frozen=True)
class LazyRuns:
    """A snapshot's runs: the saved ones, less those `removed`, with those `changed` (new, or
    read again and not the same) in their place. Nothing is decoded until asked for."""

    saved: SavedRuns
    changed: Mapping[str, Run] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()

    @property
    def count(self) -> int:
        gone = self.removed.union(self.changed).intersection(self.saved.position())
        return len(self.saved.ids) - len(gone) + len(self.changed)

    def materialize(self, encoded: dict[tuple[str, str], _Part]) -> tuple[Run, ...]:
        """Every run, in the snapshot's order; `encoded` learns the parts decoded (so a save
        of what is materialized keeps the bytes of the parts still the same)."""
        saved = self.saved
        with paused_gc():
            todo = [k for k in range(len(saved.parts)) if k not in saved._decoded]
            parts = saved.rows(todo)
            # The Runs are made in their final order (by id), not the file's: the passes of a
            # pull over every run then walk memory in order (the page policy: 0.7 s against
            # 0.9 s made by time).
            rows = list(itertools.chain.from_iterable(parts))
            if saved.run_order is None:
                rows.sort(key=_FIRST)
            else:
                at = {rid: i for i, rid in enumerate(saved.run_order)}
                rows.sort(key=lambda row: at[row[0]])
            by_id = dict(zip(map(_FIRST, rows), map(run_from_list, rows), strict=True))
            for k, part in zip(todo, parts, strict=True):
                saved._decoded[k] = tuple(map(by_id.__getitem__, map(_FIRST, part)))
            for k in sorted(set(range(len(saved.parts))).difference(todo)):  # decoded before
                by_id.update(zip(saved.part_ids(k), saved._decoded[k], strict=True))
            for k, (_, data) in enumerate(saved.parts if saved.current else ()):
                items = saved._decoded[k]
                encoded[("runs", items[0].run_id)] = _Part(items, data)
            if not self.changed and not self.removed:
                if len(todo) == len(saved.parts):  # all made now, in the order of `rows`
                    return tuple(by_id.values())
                order = saved.run_order if saved.run_order is not None else sorted(by_id)
                return tuple(map(by_id.__getitem__, order))
            for rid in self.removed:
                by_id.pop(rid, None)
            by_id.update(self.changed)
            return tuple(map(by_id.__getitem__, sorted(by_id)))


def snapshot_path(site_root: Path) -> Path:
    return site_root / SNAPSHOT_DIR / SNAPSHOT_FILE


def config_fingerprint(config: DaybookConfig) -> str:
    """A hash of the settings that decide what a pull keeps: the experiment filter and the
    redaction patterns. When it changes, the saved runs may hold what is now excluded (or
    masked), so the next pull is a full one. Page policy and layout are applied at render time
    and are not part of it."""
    data = {
        "experiments": config.experiments.model_dump(mode="json", exclude={"hide_empty"}),
        "redact": list(config.redact),
    }
    if config.redact_values:  # only when set: existing snapshots stay valid
        data["redact_values"] = list(config.redact_values)
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --- floats --------------------------------------------------------------------------------------

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_FLOATS_ONLY = frozenset({float})


def _f(v: float) -> float | str:
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def _floats(values: Iterable[float]) -> list[float | str]:
    out = list(values)
    if math.isfinite(sum(out)):  # the common case, checked in C (an overflow only costs time)
        return out
    return [_f(v) for v in out]


def _unf(v: float | int | str) -> float:
    if isinstance(v, str):
        try:
            return _NONFINITE[v]
        except KeyError:
            raise ValueError(f"not a number: {v!r}") from None
    return float(v)


# --- to dict -------------------------------------------------------------------------------------


def experiment_to_dict(e: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": e.artifact_location,
        "creation_time": e.creation_time,
        "last_update_time": e.last_update_time,
        "tags": e.tags,
    }


def run_to_list(r: Run) -> list[Any]:
    """A run as the file keeps it: its fields in order; metrics key -> [value, step, timestamp]
    (a run has few metrics, a store has many runs). `v - v` is 0.0 for every finite float (NaN
    for the rest): the check without a call per value."""
    return [
        r.run_id,
        r.experiment_id,
        r.name,
        r.status,
        r.start_time,
        r.end_time,
        r.user,
        r.artifact_uri,
        r.params,
        _metrics_to_json(r),
        r.tags,
        [[d.name, d.digest, d.source_type, d.source, d.context] for d in r.datasets],
    ]


def _metrics_to_json(r: Run) -> list[Any] | dict[str, list[Any]]:
    """A run's latest metrics: `[{key: value}, step, timestamp]` when they share one step and
    time (metrics logged together, as most runs log them), else `{key: [value, step,
    timestamp]}`. Shared, a load makes two ints and no list per run, not three objects and a
    list per metric (100,000 runs: 1.5 million objects fewer to parse, keep and free). Its
    values dict is the run's own when every value is finite (the sum of finite floats is finite
    or overflows to inf, which goes the long way too): no step per metric."""
    metrics = r.metrics
    total = sum(metrics.values())
    if total - total == 0.0:
        values: dict[str, float | str] = metrics  # type: ignore[assignment]
    else:
        values = {k: v if v - v == 0.0 else _f(v) for k, v in metrics.items()}
    steps, times = r.metric_steps, r.metric_times
    if metrics and len(set(steps.values())) == 1 and len(set(times.values())) == 1:
        return [values, next(iter(steps.values())), next(iter(times.values()))]
    return {k: [values[k], steps[k], times[k]] for k in metrics}


def version_to_dict(v: ModelVersion) -> dict[str, Any]:
    return {
        "name": v.name,
        "version": v.version,
        "creation_time": v.creation_time,
        "last_updated_time": v.last_updated_time,
        "description": v.description,
        "status": v.status,
        "source": v.source,
        "run_id": v.run_id,
        "user": v.user,
        "tags": v.tags,
    }


def model_to_dict(m: RegisteredModel) -> dict[str, Any]:
    return {
        "name": m.name,
        "description": m.description,
        "creation_time": m.creation_time,
        "last_updated_time": m.last_updated_time,
        "tags": m.tags,
        "aliases": m.aliases,
        "versions": [version_to_dict(v) for v in m.versions],
    }


def history_to_list(h: MetricHistory) -> list[Any]:
    return [h.key, list(h.steps), _floats(h.values), list(h.timestamps)]


_SNAPSHOT_EXPLICIT = ("tracking_uri", "experiments", "runs", "models", "histories", "artifacts",
                      "warnings")  # fmt: skip
_IN_PARTS = ("runs", "histories")  # in parts of their own, after the head
_NOT_SAVED = ("data_as_of",)  # render-time only: marks an offline build


def snapshot_to_dict(s: Snapshot) -> dict[str, Any]:
    """Plain JSON-ready data of all but the runs and histories (which go in parts). Fields
    without an explicit encoder below (the registry's files and whatever is added later) go
    through the generic dataclass encoder, so none is lost."""
    out: dict[str, Any] = {
        "tracking_uri": s.tracking_uri,
        "experiments": [experiment_to_dict(e) for e in s.experiments],
        "models": [model_to_dict(m) for m in s.models],
        "artifacts": {
            rid: [[a.path, a.is_dir, a.size] for a in arts]
            for rid, arts in sorted(s.artifacts.items())
        },
        "warnings": list(s.warnings),
    }
    for f in dataclasses.fields(Snapshot):
        if f.name not in _SNAPSHOT_EXPLICIT and f.name not in _NOT_SAVED:
            out[f.name] = encode(getattr(s, f.name))
    return out


# --- generic encoding, for the dataclasses that are few per snapshot ---------------------------


def encode(value: Any) -> Any:
    """Any snapshot value as JSON data. Dates are tagged objects so they come back as dates."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, float):
        return _f(value)
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    import daybook.core.snapshot as model

    return typing.get_type_hints(cls, vars(model))


def decode(hint: Any, data: Any) -> Any:
    """JSON data back into the type `hint` names (the inverse of `encode`)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        return decode(arms[0], data) if len(arms) == 1 else _untag(data)
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        kwargs = {
            f.name: decode(hints[f.name], data[f.name])
            for f in dataclasses.fields(hint)
            if f.name in data  # a field added since the file was written keeps its default
        }
        return hint(**kwargs)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        return tuple(decode(a, v) for a, v in zip(args, data, strict=True))
    if origin is dict:
        _, vt = typing.get_args(hint)
        return {k: decode(vt, v) for k, v in data.items()}
    if origin is list:
        (vt,) = typing.get_args(hint)
        return [decode(vt, v) for v in data]
    if hint is float:
        return _unf(data)
    if hint is int or hint is str or hint is bool:
        if not isinstance(data, hint):
            raise TypeError(f"expected {hint.__name__}, got {type(data).__name__}")
        return data
    return _untag(data)


def _untag(data: Any) -> Any:
    """Values of free-form fields (e.g. a card's YAML front matter): tagged dates become dates."""
    if isinstance(data, dict):
        if len(data) == 1:
            ((tag, text),) = data.items()
            if tag == "$date":
                return dt.date.fromisoformat(text)
            if tag == "$datetime":
                return dt.datetime.fromisoformat(text)
            if tag == "$time":
                return dt.time.fromisoformat(text)
        return {k: _untag(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_untag(v) for v in data]
    return data


# --- from dict -----------------------------------------------------------------------------------


def experiment_from_dict(d: dict[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=d["experiment_id"],
        name=d["name"],
        artifact_location=d["artifact_location"],
        creation_time=d["creation_time"],
        last_update_time=d["last_update_time"],
        tags=d["tags"],
    )


def run_from_list(a: list[Any]) -> Run:
    """The inverse of `run_to_list` (positional, and floats checked in C: it runs once per run
    of the store; the round-trip tests catch any field out of place). The parsed dict of the
    metrics is the run's when they share one step and time: its steps and times are made by
    `dict.fromkeys`, with no step per metric."""
    run_id, exp_id, name, status, start, end, user, uri, params, metrics, tags, datasets = a
    if type(metrics) is list:  # one step and time for all (`_metrics_to_json`)
        latest, step, time = metrics
        steps, times = dict.fromkeys(latest, step), dict.fromkeys(latest, time)
    else:
        latest = {k: v for k, (v, _, _) in metrics.items()}
        steps = {k: s for k, (_, s, _) in metrics.items()}
        times = {k: t for k, (_, _, t) in metrics.items()}
    if not _FLOAT_ONLY.issuperset(map(type, latest.values())):  # NaN or ±inf as text
        for k, v in latest.items():  # values replaced, keys kept: the dict is not resized
            latest[k] = v if type(v) is float else _unf(v)
    return new_run(
        run_id,
        exp_id,
        name,
        status,
        start,
        end,
        user,
        uri,
        params,
        latest,
        tags,
        tuple(DatasetInput(*x) for x in datasets) if datasets else (),
        steps,
        times,
    )


_FLOAT_ONLY = frozenset({float})


def version_from_dict(d: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=d["name"],
        version=d["version"],
        creation_time=d["creation_time"],
        last_updated_time=d["last_updated_time"],
        description=d["description"],
        status=d["status"],
        source=d["source"],
        run_id=d["run_id"],
        user=d["user"],
        tags=d["tags"],
    )


def model_from_dict(d: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=d["name"],
        description=d["description"],
        creation_time=d["creation_time"],
        last_updated_time=d["last_updated_time"],
        tags=d["tags"],
        aliases=d["aliases"],
        versions=tuple(version_from_dict(v) for v in d["versions"]),
    )


def history_from_list(a: list[Any]) -> MetricHistory:
    key, steps, values, timestamps = a
    if not _FLOATS_ONLY.issuperset(map(type, values)):  # in C: 367,000 points at 100k runs
        values = [_unf(v) for v in values]
    return MetricHistory(key, tuple(steps), tuple(values), tuple(timestamps))


def snapshot_from_dict(
    d: dict[str, Any],
    runs: tuple[Run, ...],
    histories: dict[str, tuple[MetricHistory, ...]],
) -> Snapshot:
    """The inverse of `snapshot_to_dict`, given the runs and histories read from the parts."""
    hints = _hints(Snapshot)
    generic = {
        f.name: decode(hints[f.name], d[f.name])
        for f in dataclasses.fields(Snapshot)
        if f.name not in _SNAPSHOT_EXPLICIT and f.name in d
    }
    return Snapshot(
        tracking_uri=d["tracking_uri"],
        experiments=tuple(experiment_from_dict(e) for e in d["experiments"]),
        runs=runs,
        models=tuple(model_from_dict(m) for m in d["models"]),
        histories=histories,
        artifacts={
            rid: tuple(Artifact(p, is_dir, size) for p, is_dir, size in arts)
            for rid, arts in d["artifacts"].items()
        },
        warnings=tuple(d["warnings"]),
        **generic,
    )


# --- the file ------------------------------------------------------------------------------------


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while millions of small acyclic objects are made: each
    collection would walk all of them again (loading 100,000 runs: 2.6 s of CPU with it,
    0.7 s without). Nothing made meanwhile has cycles, so nothing is kept longer.

    On the way out, what was made goes straight to the oldest generation (`freeze` then
    `unfreeze`: two list splices). Left in the youngest, the first collection after the pause
    would walk them all anyway, and again as they age (0.8 s after a 100,000-run pull)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def dumps(stored: StoredSnapshot) -> bytes:
    """The file's bytes (gzip members of compact UTF-8 JSON Lines): equal data, equal bytes."""
    with paused_gc():
        return _dumps(stored)


_RUN_ID = attrgetter("run_id")
_START = attrgetter("start_time")
_FIRST = itemgetter(0)
_GZIP_ERRORS = (zlib.error, isal_zlib.error)


def _file_order(r: Run) -> tuple[bool, int, str]:
    return r.run_id >= RUN_HALVES, r.start_time or 0, r.run_id


def _run_parts(in_order: Sequence[_I], ids: Sequence[str]) -> list[Sequence[_I]]:
    """Runs in the file's order (`_file_order`), with their `ids`, in parts: `_split` of each
    range of ids (a part never holds runs of both)."""
    cut = sum(map(RUN_HALVES.__gt__, ids))
    return [
        *_split(in_order[:cut], ids[:cut], RUNS_PER_PART),
        *_split(in_order[cut:], ids[cut:], RUNS_PER_PART),
    ]


def _split(items: Sequence[_I], keys: Iterable[str], mean: int) -> list[Sequence[_I]]:
    """`items` in parts, each ending after an item whose key hashes to 0 modulo `mean`. Decided
    by the key alone, never by a count: adding or removing an item changes its own part only,
    so the parts depend on the data alone (equal data, equal bytes) and most survive a pull."""
    ends = [i for i, k in enumerate(map(str.encode, keys), 1) if zlib.crc32(k) % mean == 0]
    if not ends or ends[-1] != len(items):
        ends.append(len(items))
    return [items[a:b] for a, b in itertools.pairwise([0, *ends]) if b > a]


def _gzip(data: bytes) -> bytes:
    """One gzip member (no name, mtime 0: equal data, equal bytes)."""
    return isal_zlib.compress(data, COMPRESSLEVEL, wbits=31)


def _gunzip(data: bytes) -> bytes:
    """One gzip member, whole: a part cut short or running on is damage, not data."""
    unzip = isal_zlib.decompressobj(wbits=31)
    out = unzip.decompress(data)
    if not unzip.eof or unzip.unused_data:
        raise EOFError("a part of the file is cut short or runs on")
    return out


def _same(items: tuple[Any, ...], part: Sequence[Any], same: Callable[[Any, Any], bool]) -> bool:
    return len(items) == len(part) and all(map(same, items, part))


def _same_histories(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    return a[0] == b[0] and a[1] is b[1]


def _dumps(stored: StoredSnapshot) -> bytes:
    lazy = stored.runs
    if lazy is not None and "snapshot" not in stored.__dict__ and lazy.saved.run_order is None:
        return _dumps_lazy(stored, lazy)
    snap = stored.snapshot
    # Passes over every run, in C (map, attrgetter): a Python loop costs ~1 µs a run here.
    ids = list(map(_RUN_ID, snap.runs))
    by_id = all(map(str.__le__, ids, ids[1:]))  # as every pull orders them
    starts = list(map(_START, snap.runs))
    if by_id and None not in starts:
        # The file's order: each range of ids (a slice of the list by id) by start time, as a
        # stable sort by start time keeps run id order among equal times.
        cut = bisect.bisect_left(ids, RUN_HALVES)
        order = [
            *sorted(range(cut), key=starts.__getitem__),
            *sorted(range(cut, len(ids)), key=starts.__getitem__),
        ]
        in_time = list(map(snap.runs.__getitem__, order))
        runs = _run_parts(in_time, list(map(ids.__getitem__, order)))
    else:
        in_time = sorted(snap.runs, key=_file_order)
        runs = _run_parts(in_time, list(map(_RUN_ID, in_time)))

    def run_parts() -> Iterator[_RunPart]:
        for part in runs:
            old = stored.encoded.get(("runs", part[0].run_id))
            kept = old.data if old is not None and _same(old.items, part, is_) else None
            yield len(part), kept, functools.partial(_encode_runs, part)

    return _write(stored, snap, run_parts(), None if by_id else ids, _index(in_time))


# A part of runs to write: its count, and its bytes when kept, else what encodes it as JSON.
_RunPart = tuple[int, bytes | None, Callable[[], bytes]]


def _write(
    stored: StoredSnapshot,
    held: Snapshot,
    run_parts: Iterable[_RunPart],
    run_order: list[str] | None,
    index: dict[str, Any],
) -> bytes:
    """The file: the head, the parts of runs given, and the histories of `held` in parts
    (those whose items are the very objects loaded keep their bytes). The JSON is made here,
    the gzip on the other cores meanwhile (zlib lets go of the GIL)."""
    by_run = sorted(held.histories.items())
    histories = _split(by_run, map(_FIRST, by_run), HISTORIES_PER_PART)
    table: list[list[Any]] = []
    members: list[bytes | Future[bytes]] = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for count, kept, encode in run_parts:
            members.append(kept if kept is not None else pool.submit(_gzip, encode()))
            table.append(["runs", count])
        for part in histories:
            old = stored.encoded.get(("histories", part[0][0]))
            if old is not None and _same(old.items, part, _same_histories):
                members.append(old.data)
            else:
                members.append(pool.submit(_gzip, _encode_histories(part)))
            table.append(["histories", len(part)])
        datas = [m if isinstance(m, bytes) else m.result() for m in members]
    for row, data in zip(table, datas, strict=True):
        row += [len(data), zlib.crc32(data)]
    head = {
        "format": FORMAT,
        "version": VERSION,
        "daybook": stored.daybook,
        "tracking_uri": held.tracking_uri,
        "pulled_at": stored.pulled_at,
        "config_fingerprint": stored.config_fingerprint,
        "detail_runs": sorted(stored.detail_runs),
        "run_order": run_order,  # None: by run id
        "parts": table,  # [kind, items, bytes, CRC-32 of the bytes] of each gzip member after it
        "index": index,
        "policy": stored.policy,
        "snapshot": snapshot_to_dict(held),
    }
    return _gzip(orjson.dumps(head, option=orjson.OPT_APPEND_NEWLINE)) + b"".join(datas)


_TAGS = attrgetter("tags")
_EXPERIMENT = attrgetter("experiment_id")
_STATUS = attrgetter("status")
_END = attrgetter("end_time")


def digest(run: Run) -> str:
    """A short hash of a run's row as the file keeps it: an incremental pull tells a running
    run read again from the one saved without decoding the saved one."""
    return hashlib.blake2b(orjson.dumps(run_to_list(run)), digest_size=8).hexdigest()


def _index(in_time: Sequence[Run]) -> dict[str, Any]:
    """The head's index of every run, in the file's order: what an incremental pull compares
    with the store, and chooses page runs by, without decoding the runs (in C where it can)."""
    ids = list(map(_RUN_ID, in_time))
    statuses = list(map(_STATUS, in_time))
    parents = list(map(methodcaller("get", TAG_PARENT), map(_TAGS, in_time)))
    live = itertools.compress(in_time, map(LIVE.__contains__, statuses))
    return {
        "ids": ids,
        "experiments": list(map(_EXPERIMENT, in_time)),
        "statuses": statuses,
        "starts": list(map(_START, in_time)),
        "ends": list(map(_END, in_time)),
        "parents": dict(itertools.compress(zip(ids, parents, strict=True), parents)),
        "digests": {r.run_id: digest(r) for r in live},
    }


def _dumps_lazy(stored: StoredSnapshot, lazy: LazyRuns) -> bytes:
    """`_dumps` of a snapshot whose runs are mostly still the file's bytes: the same bytes as
    `_dumps` of it materialized, decoding only the parts where runs changed. The order and
    the parts come from the index alone; a part whose runs are the saved part's keeps its
    bytes."""
    saved = lazy.saved
    if saved.as_cut and saved.current and not lazy.changed and not lazy.removed:
        return _write(stored, stored.held, [(n, data, _kept) for n, data in saved.parts], None,
                      saved.index())  # fmt: skip
    drop = lazy.removed.union(lazy.changed)
    keep = [rid not in drop for rid in saved.ids]
    kept_ids = list(itertools.compress(saved.ids, keep))
    keys = [
        *zip(
            map(RUN_HALVES.__le__, kept_ids),
            map(_or0, itertools.compress(saved.starts, keep)),
            kept_ids,
            strict=True,
        ),
        *map(_file_order, lazy.changed.values()),
    ]
    keys.sort()
    ids = list(map(itemgetter(2), keys))
    old_parts = {saved.part_ids(k)[0]: k for k in range(len(saved.parts))}
    runs = _run_parts(ids, ids)
    # The index: the saved columns of the runs kept, the changed runs' own.
    columns = dict(
        zip(
            saved.ids,
            zip(saved.experiments, saved.statuses, saved.starts, saved.ends, strict=True),
            strict=True,
        )
    )
    columns.update(
        (r.run_id, (r.experiment_id, r.status, r.start_time, r.end_time))
        for r in lazy.changed.values()
    )
    exps, statuses, starts, ends = (
        (list(c) for c in zip(*map(columns.__getitem__, ids), strict=True))
        if ids
        else ([], [], [], [])
    )
    parents = {rid: p for rid, p in saved.parents.items() if rid not in drop}
    parents.update((r.run_id, p) for r in lazy.changed.values() if (p := r.tags.get(TAG_PARENT)))
    digests = {rid: d for rid, d in saved.digests.items() if rid not in drop}
    digests.update((r.run_id, digest(r)) for r in lazy.changed.values() if r.status in LIVE)
    index = {
        "ids": ids,
        "experiments": exps,
        "statuses": statuses,
        "starts": starts,
        "ends": ends,
        "parents": _in_order(parents, ids),
        "digests": _in_order(digests, ids),
    }

    def encode(part: list[str]) -> bytes:
        have = saved.get(rid for rid in part if rid not in lazy.changed)
        have.update((rid, lazy.changed[rid]) for rid in part if rid in lazy.changed)
        return _encode_runs(list(map(have.__getitem__, part)))

    def run_parts() -> Iterator[_RunPart]:
        for part in runs:
            k = old_parts.get(part[0]) if saved.current else None
            kept = None
            if k is not None and saved.part_ids(k) == part and drop.isdisjoint(part):
                kept = saved.parts[k][1]  # the saved part's runs, all as saved
            elif (own := stored.encoded.get(("runs", part[0]))) is not None and _same(
                own.items, list(map(lazy.changed.get, part)), is_
            ):
                kept = own.data  # runs changed, all the very objects a part was encoded of
            yield len(part), kept, functools.partial(encode, part)

    return _write(stored, stored.held, run_parts(), None, index)


def _kept() -> bytes:
    raise AssertionError("a part whose bytes are kept is not encoded again")


def _or0(v: int | None) -> int:
    return v or 0


def _in_order(by_id: dict[str, str], ids: list[str]) -> dict[str, str]:
    """`by_id` in the order of `ids` (as `_index` makes it), so equal data gives equal bytes."""
    if not by_id:
        return {}
    return {rid: by_id[rid] for rid in ids if rid in by_id}


def _encode_runs(part: Sequence[Run]) -> bytes:
    return orjson.dumps([run_to_list(r) for r in part], option=orjson.OPT_APPEND_NEWLINE)


# Parts whose bytes a save keeps while their items are the very objects there, by (kind, first key)
EncodedParts = dict[tuple[str, str], _Part]


def share_parts(runs: Iterable[Run]) -> tuple[list[tuple[int, bytes]], dict[str, Any]]:
    """`runs` (every run of a range of ids) as a load keeps a file's runs before decoding
    them: each part's count and gzip member, and the head's index of them (what `SavedRuns`
    is made of). What the second process of a full pull sends back, so the first can save
    and choose page runs without decoding them (store/pull.py). Members only, not their JSON
    too: 13 MB instead of 55 MB through the pipe at 100,000 runs."""
    encoded, index = _encoded_with_index(runs)
    return [(len(part), member) for part, member in encoded], index


def own_parts(runs: Iterable[Run]) -> tuple[EncodedParts, dict[str, Any]]:
    """`runs` (every run of a range of ids) encoded in the parts a save cuts them into, as a
    load keeps them (`StoredSnapshot.encoded`), and the head's index of them: what the first
    process of a full pull makes of its own range while the second reads the other, so a save
    of a snapshot that holds these very Runs writes their members as they are."""
    encoded, index = _encoded_with_index(runs)
    return {("runs", part[0].run_id): _Part(part, member) for part, member in encoded}, index


def joined_shares(
    lower: EncodedParts,
    lower_index: dict[str, Any],
    upper: list[tuple[int, bytes]],
    upper_index: dict[str, Any],
) -> SavedRuns:
    """Both shares of a split full pull (`own_parts` of the ids below `RUN_HALVES`,
    `share_parts` of the rest) as the runs of one loaded file: the first's parts decoded (the
    very Runs they were encoded of), the second's left as members. The first range comes
    first in the file, so the two indexes and lists of parts end to end are the file's, and a
    save writes them with no sort of the ids or lookup per run (`_dumps_lazy`; 100,000 runs:
    see `daybook.store.pull._Split.saved`)."""
    own = list(lower.values())
    saved = SavedRuns(
        "the runs of this pull",
        *(lower_index[c] + upper_index[c] for c in _INDEX_LISTS),
        *({**lower_index[c], **upper_index[c]} for c in _INDEX_MAPS),
        [*((len(p.items), p.data) for p in own), *upper],
        None,
        as_cut=True,
    )
    saved._decoded.update(enumerate(p.items for p in own))
    return saved


_INDEX_LISTS = ("ids", "experiments", "statuses", "starts", "ends")  # SavedRuns' order
_INDEX_MAPS = ("parents", "digests")


def _encoded_with_index(
    runs: Iterable[Run],
) -> tuple[list[tuple[tuple[Run, ...], bytes]], dict[str, Any]]:
    """`_encoded`, and the head's index of those runs in the file's order."""
    encoded = _encoded(runs)
    return encoded, _index([r for part, _ in encoded for r in part])


def _encoded(runs: Iterable[Run]) -> list[tuple[tuple[Run, ...], bytes]]:
    """Each part of `runs` (a save's cut) with its gzip member. A part's JSON is gzipped by
    another thread while the next is encoded, and let go once gzipped: the JSON of a 50,000-run
    range (~35 MB) is never all held at once."""
    in_time = sorted(runs, key=_file_order)
    parts = [tuple(part) for part in _run_parts(in_time, list(map(_RUN_ID, in_time)))]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        members = [pool.submit(_gzip, _encode_runs(part)) for part in parts]
        return [(part, member.result()) for part, member in zip(parts, members, strict=True)]


def with_parts(encoded: EncodedParts, more: EncodedParts, runs: Mapping[str, Run]) -> EncodedParts:
    """`encoded` and the parts of `more`; where both have a part that begins with the same run,
    the one whose first run is the very object in `runs` (the one a save may keep: a full pull
    over a saved snapshot keeps the runs it found unchanged as the objects loaded)."""
    out = dict(encoded)
    for key, part in more.items():
        if key not in out or runs.get(key[1]) is part.items[0]:
            out[key] = part
    return out


def runs_from_parts(members: Sequence[bytes]) -> tuple[list[Run], EncodedParts]:
    """The runs of `share_parts`, and the parts as a load keeps them (`StoredSnapshot.encoded`):
    a save of a snapshot that holds these very Runs, cut into the same parts, keeps the members."""
    runs: list[Run] = []
    encoded: EncodedParts = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for member, data in zip(members, pool.map(_gunzip, members), strict=True):
            items = tuple(map(run_from_list, orjson.loads(data)))
            encoded[("runs", items[0].run_id)] = _Part(items, member)
            runs += items
    return runs, encoded


def _encode_histories(part: list[tuple[str, tuple[MetricHistory, ...]]]) -> bytes:
    return orjson.dumps(
        [[rid, [history_to_list(h) for h in hs]] for rid, hs in part],
        option=orjson.OPT_APPEND_NEWLINE,
    )


def save(path: Path, stored: StoredSnapshot) -> int:
    """Write atomically (temporary file in the same folder, then rename); returns the size."""
    data = dumps(stored)
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot write the snapshot ({exc.strerror or exc})") from None
    return len(data)


def loads(data: bytes, where: str = "snapshot") -> StoredSnapshot:
    """Parse a snapshot file's bytes; anything unexpected is one clear line naming `where`."""
    with paused_gc():
        return _loads(data, where)


# How every version so far begins: enough to name an old file's version when its head is not a
# whole JSON document (version 1 was one document over several gzip members).
_PREFIX = re.compile(rb'\{"format":"daybook-snapshot","version":(-?\d+),"daybook":"([^"\\]*)"')


def _loads(data: bytes, where: str) -> StoredSnapshot:
    def unusable(why: str) -> SnapshotError:
        return SnapshotError(f"{where}: {why}; run `daybook pull --full` to write a new one")

    try:
        unzip = isal_zlib.decompressobj(wbits=31)
        head_bytes = unzip.decompress(data)
        if not unzip.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
    except (EOFError, *_GZIP_ERRORS) as exc:
        raise unusable(f"not a Daybook snapshot ({_short(exc)})") from None
    rest = unzip.unused_data
    try:
        doc = orjson.loads(head_bytes)
    except ValueError as exc:  # orjson's error is a ValueError
        old = _PREFIX.match(head_bytes)
        if old is None:
            raise unusable(f"not a Daybook snapshot ({_short(exc)})") from None
        doc = {"format": FORMAT, "version": int(old[1]), "daybook": old[2].decode()}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise unusable("not a Daybook snapshot")
    version = doc.get("version")
    if version not in READS:
        raise IncompatibleSnapshot(
            f"{where}: written by Daybook {doc.get('daybook', '?')} in snapshot format "
            f"v{version}; this Daybook ({__version__}) reads v{VERSION}. Run `daybook pull "
            "--full` to replace it"
        )
    try:
        return _from_parts(doc, rest, where, current=version == VERSION)
    except (KeyError, TypeError, ValueError, IndexError, EOFError, *_GZIP_ERRORS) as exc:
        raise unusable(f"damaged snapshot ({type(exc).__name__}: {_short(exc)})") from None


def _from_parts(doc: dict[str, Any], rest: bytes, where: str, current: bool) -> StoredSnapshot:
    """The snapshot from its head and the parts after it: the histories gunzipped (on the
    other cores) and decoded now, the runs' parts kept as they are until asked for."""
    table = doc["parts"]
    slices: list[bytes] = []
    at = 0
    for kind, count, size, _ in table:
        if kind not in ("runs", "histories") or type(count) is not int or type(size) is not int:
            raise ValueError(f"unknown part {kind!r} in the table of parts")
        slices.append(rest[at : at + size])
        at += size
    if at != len(rest):
        raise ValueError(f"the table of parts says {at} bytes follow the head, not {len(rest)}")
    # The runs' parts are gunzipped only when asked for (their gzip checks come then): each
    # part's bytes are checked now, so a damaged file is refused here (27 MB: 4 ms).
    for (_, _, _, crc), data in zip(table, slices, strict=True):
        if zlib.crc32(data) != crc:
            raise ValueError("a part of the file is not the bytes it was saved as")
    histories: dict[str, tuple[MetricHistory, ...]] = {}
    encoded: dict[tuple[str, str], _Part] = {}
    run_parts: list[tuple[int, bytes]] = []
    history_slices = [
        (count, data)
        for (kind, count, _, _), data in zip(table, slices, strict=True)
        if kind == "histories"
    ]
    run_parts = [
        (count, data)
        for (kind, count, _, _), data in zip(table, slices, strict=True)
        if kind == "runs"
    ]
    workers = min(len(history_slices), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for (count, data), raw in zip(
            history_slices, pool.map(_gunzip, [d for _, d in history_slices]), strict=True
        ):
            rows = orjson.loads(raw)
            if not isinstance(rows, list) or len(rows) != count or not rows:
                raise ValueError(f"a part of histories does not hold the {count} the table says")
            items = tuple((rid, tuple(map(history_from_list, hs))) for rid, hs in rows)
            histories.update(items)
            if current:  # else a save encodes them again, as this version does
                encoded[("histories", items[0][0])] = _Part(items, data)
    index = doc["index"]
    ids = index["ids"]
    columns = [index[c] for c in ("experiments", "statuses", "starts", "ends")]
    if any(type(c) is not list or len(c) != len(ids) for c in (ids, *columns)):
        raise ValueError("the index of runs is not one row per run")
    if sum(n for n, _ in run_parts) != len(ids) or any(n < 1 for n, _ in run_parts):
        raise ValueError(f"the table of parts does not hold the {len(ids)} runs the index says")
    if len(set(ids)) != len(ids):
        raise ValueError("a run id is in the file twice")
    order = doc["run_order"]
    if order is not None and sorted(order) != sorted(ids):
        raise ValueError("the order of runs does not name the runs the index says")
    saved = SavedRuns(where, ids, *columns, dict(index["parents"]), dict(index["digests"]),
                      run_parts, order, current)  # fmt: skip
    return StoredSnapshot(
        held=snapshot_from_dict(doc["snapshot"], (), dict(sorted(histories.items()))),
        pulled_at=int(doc["pulled_at"]),
        config_fingerprint=str(doc["config_fingerprint"]),
        detail_runs=frozenset(doc["detail_runs"]),
        daybook=str(doc["daybook"]),
        encoded=encoded,
        runs=LazyRuns(saved),
        policy=doc["policy"],
    )


class IncompatibleSnapshot(SnapshotError):
    """A well-formed snapshot of another format version: a full pull replaces it."""


def load(path: Path) -> StoredSnapshot:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(
            f"{path}: no snapshot yet; run `daybook pull` first (or build without --offline)"
        ) from None
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read the snapshot ({exc.strerror or exc})") from None
    return loads(data, str(path))


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
