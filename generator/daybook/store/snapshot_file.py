"""The snapshot on disk: `.daybook/snapshot.json.gz` in the site, the one file a pull leaves.

Why a file: a pull of a big store costs seconds to minutes, rendering costs little. Saving what a
pull saw lets the next pull fetch only what changed, and lets a build run with no store at all
(`--offline`). The format is documented in docs/guide/snapshots.md; this module is its only
reader and writer.

Gzipped JSON (strict JSON: NaN and infinities are the strings "NaN", "Infinity", "-Infinity"),
one explicit to/from-dict function per dataclass so a field nobody wrote code for cannot slip
through unnoticed, and bytes that depend only on the data (sorted keys where order is free, gzip
header without name or time). Written to a temporary file beside it and renamed into place, so a
pull that dies half way leaves the previous snapshot intact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import gzip
import hashlib
import json
import math
import os
import types
import typing
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from daybook import __version__
from daybook.core.config import DaybookConfig
from daybook.core.errors import DaybookError
from daybook.core.snapshot import (
    Artifact,
    DatasetInput,
    Experiment,
    Metric,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
    Snapshot,
)
from daybook.store.atomic import write_atomic

FORMAT = "daybook-snapshot"
VERSION = 1  # bump on any change a version-1 reader would misread; see docs/guide/snapshots.md
SNAPSHOT_DIR = ".daybook"
SNAPSHOT_FILE = "snapshot.json.gz"
COMPRESSLEVEL = 1  # level 6 makes files ~15% smaller and saving ~3x slower
MEMBER_BYTES = 8 << 20  # JSON bytes per gzip member (see _gzip_members)


class SnapshotError(DaybookError):
    """The snapshot file is missing, unreadable or from an incompatible version."""


@dataclass(frozen=True)
class StoredSnapshot:
    """A snapshot with what the next pull needs to know about how it was taken."""

    snapshot: Snapshot
    pulled_at: int  # epoch ms when the pull began: later changes are "since the last pull"
    config_fingerprint: str  # settings that shape what is read (see `config_fingerprint`)
    detail_runs: frozenset[str] = field(default_factory=frozenset)  # histories+artifacts read
    daybook: str = __version__  # the version that wrote it

    @property
    def tracking_uri(self) -> str:
        return self.snapshot.tracking_uri


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


def run_to_dict(r: Run) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "experiment_id": r.experiment_id,
        "name": r.name,
        "status": r.status,
        "start_time": r.start_time,
        "end_time": r.end_time,
        "user": r.user,
        "artifact_uri": r.artifact_uri,
        "params": r.params,
        # key -> [value, step, timestamp]: a run has few metrics, a store has many runs. `v - v`
        # is 0.0 for every finite float (NaN for the rest): the check without a call per value.
        "metrics": {
            k: [v if (v := m.value) - v == 0.0 else _f(v), m.step, m.timestamp]
            for k, m in r.metrics.items()
        },
        "tags": r.tags,
        "datasets": [[d.name, d.digest, d.source_type, d.source, d.context] for d in r.datasets],
    }


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


def history_to_dict(h: MetricHistory) -> dict[str, Any]:
    return {"steps": list(h.steps), "values": _floats(h.values), "timestamps": list(h.timestamps)}


_SNAPSHOT_EXPLICIT = ("tracking_uri", "experiments", "runs", "models", "histories", "artifacts",
                      "warnings")  # fmt: skip
_NOT_SAVED = ("data_as_of",)  # render-time only: marks an offline build


def snapshot_to_dict(s: Snapshot) -> dict[str, Any]:
    """Plain JSON-ready data. Fields without an explicit encoder below (the registry's files
    and whatever is added later) go through the generic dataclass encoder, so none is lost."""
    out: dict[str, Any] = {
        "tracking_uri": s.tracking_uri,
        "experiments": [experiment_to_dict(e) for e in s.experiments],
        "runs": [run_to_dict(r) for r in s.runs],
        "models": [model_to_dict(m) for m in s.models],
        "histories": {
            rid: {h.key: history_to_dict(h) for h in hs} for rid, hs in sorted(s.histories.items())
        },
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


def run_from_dict(d: dict[str, Any]) -> Run:
    # Positional, and floats checked inline: this runs once per run of the store, and the
    # round-trip test catches any field out of place.
    return Run(
        d["run_id"],
        d["experiment_id"],
        d["name"],
        d["status"],
        d["start_time"],
        d["end_time"],
        d["user"],
        d["artifact_uri"],
        d["params"],
        {
            k: Metric(k, v if type(v) is float else _unf(v), s, t)
            for k, (v, s, t) in d["metrics"].items()
        },
        d["tags"],
        tuple(DatasetInput(*x) for x in d["datasets"]) if d["datasets"] else (),
    )


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


def history_from_dict(key: str, d: dict[str, Any]) -> MetricHistory:
    values = d["values"]
    if not all(type(v) is float for v in values):
        values = [_unf(v) for v in values]
    return MetricHistory(key, tuple(d["steps"]), tuple(values), tuple(d["timestamps"]))


def snapshot_from_dict(d: dict[str, Any]) -> Snapshot:
    hints = _hints(Snapshot)
    generic = {
        f.name: decode(hints[f.name], d[f.name])
        for f in dataclasses.fields(Snapshot)
        if f.name not in _SNAPSHOT_EXPLICIT and f.name in d
    }
    return Snapshot(
        tracking_uri=d["tracking_uri"],
        experiments=tuple(experiment_from_dict(e) for e in d["experiments"]),
        runs=tuple(run_from_dict(r) for r in d["runs"]),
        models=tuple(model_from_dict(m) for m in d["models"]),
        histories={
            rid: tuple(history_from_dict(k, h) for k, h in hs.items())
            for rid, hs in d["histories"].items()
        },
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
    0.7 s without). Nothing made meanwhile has cycles, so nothing is kept longer."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dumps(stored: StoredSnapshot) -> bytes:
    """The file's bytes (gzip of compact UTF-8 JSON): equal data, equal bytes."""
    with paused_gc():
        return _dumps(stored)


def _dumps(stored: StoredSnapshot) -> bytes:
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "daybook": stored.daybook,
        "tracking_uri": stored.snapshot.tracking_uri,
        "pulled_at": stored.pulled_at,
        "config_fingerprint": stored.config_fingerprint,
        "detail_runs": sorted(stored.detail_runs),
        "snapshot": snapshot_to_dict(stored.snapshot),
    }
    text = orjson.dumps(doc)  # compact UTF-8; non-finite floats were made strings above
    return _gzip_members(text)


def _gzip_members(data: bytes) -> bytes:
    """gzip, as consecutive members of MEMBER_BYTES each (a valid gzip file: readers join them)
    compressed on all cores at once (zlib lets go of the GIL): the slowest step of a save,
    halved on two cores. Fixed slices and mtime 0, so equal data gives equal bytes."""
    pieces = [data[i : i + MEMBER_BYTES] for i in range(0, len(data), MEMBER_BYTES)] or [b""]

    def pack(piece: bytes) -> bytes:
        return gzip.compress(piece, compresslevel=COMPRESSLEVEL, mtime=0)

    if len(pieces) == 1:
        return pack(pieces[0])
    with ThreadPoolExecutor(max_workers=min(len(pieces), os.cpu_count() or 1)) as pool:
        return b"".join(pool.map(pack, pieces))


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


def _loads(data: bytes, where: str) -> StoredSnapshot:
    try:
        doc = orjson.loads(gzip.decompress(data))
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # orjson's error is a ValueError
        raise SnapshotError(
            f"{where}: not a Daybook snapshot ({_short(exc)}); run `daybook pull --full` to "
            "write a new one"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SnapshotError(
            f"{where}: not a Daybook snapshot; run `daybook pull --full` to write a new one"
        )
    version = doc.get("version")
    if version != VERSION:
        raise IncompatibleSnapshot(
            f"{where}: written by Daybook {doc.get('daybook', '?')} in snapshot format "
            f"v{version}; this Daybook ({__version__}) reads v{VERSION}. Run `daybook pull "
            "--full` to replace it"
        )
    try:
        return StoredSnapshot(
            snapshot=snapshot_from_dict(doc["snapshot"]),
            pulled_at=int(doc["pulled_at"]),
            config_fingerprint=str(doc["config_fingerprint"]),
            detail_runs=frozenset(doc["detail_runs"]),
            daybook=str(doc["daybook"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(
            f"{where}: damaged snapshot ({type(exc).__name__}: {_short(exc)}); run "
            "`daybook pull --full` to write a new one"
        ) from None


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
