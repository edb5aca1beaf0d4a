"""Reads what a model version's own files say: the MLmodel file (flavors, library, signature,
size) and a model card logged with it, plus why a version's source run may be missing.

Where the files are depends on how the version was registered:

- `models:/m-…` (MLflow 3): a LoggedModel, whose files are under its own artifact location
  (the sqlite store's `logged_models.artifact_location`; `MlflowClient.get_logged_model`);
- `runs:/<run id>/<path>`: under the run's artifact root;
- any other URI (`s3://…`, `file:///…`, a path): the files are there.

Files are read from their artifact location directly (a local read, or MLflow's artifact
repository for remote stores), never through one tracking-server round trip per file. Nothing
here writes anywhere but a temporary folder it removes.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from daybook.core.snapshot import (
    CardFile,
    ModelFiles,
    ModelSignature,
    ModelVersion,
    RegisteredModel,
    Run,
    SignatureField,
)
from daybook.safety.redact import strip_credentials
from daybook.sources.cards import MAX_CARD_BYTES, parse_card
from daybook.sources.mlflow import Reader, _local_path

MLMODEL = "MLmodel"
MAX_MLMODEL_BYTES = 1024 * 1024
CARD_NAMES = ("README.md", "model_card.md")  # looked for beside the model, then at the run's root
_LOGGED_MODEL = re.compile(r"^models:/(?P<id>m-[0-9A-Za-z]+)/?$")
_RUNS_URI = re.compile(r"^runs:/(?P<run>[^/]+)/?(?P<path>.*)$")


class _Missing(Exception):
    """The file is not there (a note, not a problem)."""


def logged_model_id(source: str) -> str:
    """The LoggedModel id of a `models:/m-…` source, else ""."""
    m = _LOGGED_MODEL.match(source or "")
    return m.group("id") if m else ""


def wanted_versions(models: Sequence[RegisteredModel], newest: int) -> set[tuple[str, int]]:
    """Whose files to read: every version an alias points at, and the `newest` of each model."""
    out: set[tuple[str, int]] = set()
    for m in models:
        out.update((m.name, v) for v in m.aliases.values())
        out.update((m.name, v.version) for v in m.versions[-newest:] if newest)
    return out


def read_model_files(
    reader: Reader,
    models: Sequence[RegisteredModel],
    runs: Mapping[str, Run],
    wanted: Iterable[tuple[str, int]],
    tracking_uri: str,
) -> tuple[ModelFiles, ...]:
    """The files of each wanted version, sorted by (name, version)."""
    want = set(wanted)
    versions = [v for m in models for v in m.versions if (v.name, v.version) in want]
    if not versions:
        return ()
    ids = sorted({logged_model_id(v.source) for v in versions} - {""})
    locations = _logged_model_locations(reader, ids)
    # Only the runs these versions name (by run id or a `runs:/` source), not every run read.
    named = {v.run_id for v in versions}
    named.update(m.group("run") for v in versions if (m := _RUNS_URI.match(v.source or "")))
    run_roots = {rid: runs[rid].artifact_uri for rid in sorted(named) if rid in runs}
    missing_roots = sorted({v.run_id for v in versions if v.run_id and v.run_id not in run_roots})
    run_roots.update(_run_artifact_roots(reader, missing_roots))
    out = [
        _read_version(v, locations, run_roots, tracking_uri)
        for v in sorted(versions, key=lambda v: (v.name, v.version))
    ]
    return tuple(out)


def absent_runs(reader: Reader, run_ids: Iterable[str], known: Iterable[str]) -> dict[str, str]:
    """Why each model version's source run is not among the runs read: "deleted", "not found",
    or "not on this site" (it lives in an experiment the site excludes)."""
    have = set(known)
    ids = sorted({r for r in run_ids if r and r not in have})
    if not ids:
        return {}
    from daybook.sources.sql import SqlReader

    states: dict[str, str] = {}
    if isinstance(reader, SqlReader):
        for rid, (run_stage, exp_stage) in reader.run_stages(ids).items():
            deleted = "deleted" in (run_stage, exp_stage)
            states[rid] = "deleted" if deleted else "not on this site"
    else:
        client = reader.client  # type: ignore[attr-defined]
        for rid in ids:
            try:
                run = client.get_run(rid)
            except Exception:
                continue
            states[rid] = "deleted" if run.info.lifecycle_stage == "deleted" else "not on this site"
    return {rid: states.get(rid, "not found") for rid in ids}


# --- where the files are --------------------------------------------------------------------------


def _logged_model_locations(reader: Reader, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    from daybook.sources.sql import SqlReader

    if isinstance(reader, SqlReader):
        return reader.logged_model_locations(ids)
    out: dict[str, str] = {}
    client = reader.client  # type: ignore[attr-defined]
    for mid in ids:
        try:
            out[mid] = client.get_logged_model(mid).artifact_location or ""
        except Exception:
            continue
    return out


def _run_artifact_roots(reader: Reader, run_ids: list[str]) -> dict[str, str]:
    """Artifact roots of runs the pull did not read (deleted, or in an excluded experiment)."""
    if not run_ids:
        return {}
    from daybook.sources.sql import SqlReader

    if isinstance(reader, SqlReader):
        return reader.artifact_roots(run_ids)
    out: dict[str, str] = {}
    client = reader.client  # type: ignore[attr-defined]
    for rid in run_ids:
        try:
            out[rid] = client.get_run(rid).info.artifact_uri or ""
        except Exception:
            continue
    return out


def _model_location(
    v: ModelVersion, locations: Mapping[str, str], run_roots: Mapping[str, str]
) -> tuple[str, str]:
    """(location, why not) for a version's model files."""
    source = v.source or ""
    mid = logged_model_id(source)
    if mid:
        loc = locations.get(mid, "")
        return (loc, "") if loc else ("", f"logged model {mid} was not found in the store")
    m = _RUNS_URI.match(source)
    if m:
        root = run_roots.get(m.group("run"), "")
        if not root:
            return "", f"run {m.group('run')[:8]} of source {source} was not found in the store"
        path = m.group("path").strip("/")
        return (root.rstrip("/") + "/" + path if path else root), ""
    if source.startswith("models:/"):
        return "", f"registered from another registered model ({source}); its files are there"
    if "://" in source or source.startswith("/"):
        return source, ""
    return "", "the version has no source location"


# --- reading --------------------------------------------------------------------------------------


def _read_version(
    v: ModelVersion,
    locations: Mapping[str, str],
    run_roots: Mapping[str, str],
    tracking_uri: str,
) -> ModelFiles:
    notes: list[str] = []
    problems: list[str] = []
    location, why = _model_location(v, locations, run_roots)
    mid = logged_model_id(v.source)
    fields: dict[str, Any] = {}
    if not location:
        (problems if mid else notes).append(why)
    else:
        shown = strip_credentials(location)
        try:
            text = _read_text(location, MLMODEL, MAX_MLMODEL_BYTES, tracking_uri)
            fields, bad = _parse_mlmodel(text)
            problems.extend(f"{MLMODEL} at {shown}: {b}" for b in bad)
        except _Missing:
            notes.append(f"no {MLMODEL} file at {shown}")
        except Exception as exc:  # permissions, network, a folder where a file should be …
            problems.append(f"cannot read {MLMODEL} at {shown}: {_short(exc)}")
    card, card_problem = _find_card(v, location, run_roots.get(v.run_id, ""), tracking_uri)
    if card_problem:
        problems.append(card_problem)
    return ModelFiles(
        name=v.name,
        version=v.version,
        location=strip_credentials(location),
        logged_model_id=mid,
        card=card,
        notes=tuple(notes),
        problems=tuple(problems),
        **fields,
    )


def _find_card(
    v: ModelVersion, location: str, run_root: str, tracking_uri: str
) -> tuple[CardFile | None, str]:
    """The first README.md / model_card.md beside the model, else at the run's artifact root."""
    places = []
    if location:
        places.append((location, f"models:/{v.name}/{v.version}"))
    if run_root and v.run_id:
        places.append((run_root, f"runs:/{v.run_id}"))
    for root, label in places:
        for name in CARD_NAMES:
            try:
                text = _read_text(root, name, MAX_CARD_BYTES, tracking_uri)
            except _Missing:
                continue
            except Exception as exc:
                return None, f"cannot read {label}/{name}: {_short(exc)}"
            return parse_card(text, f"{label}/{name}", v.name), ""
    return None, ""


def _read_text(root: str, name: str, limit: int, tracking_uri: str) -> str:
    """One file under an artifact root, as text; `_Missing` when it is not there."""
    local = _local_path(root)
    if local is not None:
        path = local / name
        if not path.exists():
            raise _Missing(name)
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    else:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        repo = get_artifact_repository(root, tracking_uri=tracking_uri)
        listing = {Path(i.path).name: i for i in repo.list_artifacts(None)}
        info = listing.get(name)
        if info is None or info.is_dir:
            raise _Missing(name)
        if info.file_size is not None and info.file_size > limit:
            raise ValueError(f"{name} is larger than {limit // 1024} KB")
        with tempfile.TemporaryDirectory(prefix="daybook-") as tmp:
            got = Path(repo.download_artifacts(info.path, dst_path=tmp))
            data = got.read_bytes()[: limit + 1]
    if len(data) > limit:
        raise ValueError(f"{name} is larger than {limit // 1024} KB")
    return data.decode("utf-8-sig")


def _parse_mlmodel(text: str) -> tuple[dict[str, Any], list[str]]:
    """The ModelFiles fields an MLmodel file gives, and what in it could not be understood."""
    bad: list[str] = []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return {}, [f"invalid YAML{where}"]
    if not isinstance(data, dict):
        return {}, ["not a mapping of model fields"]
    flavors = data.get("flavors") if isinstance(data.get("flavors"), dict) else {}
    names = tuple(sorted(str(k) for k in flavors))
    library = ""
    pyfunc = flavors.get("python_function")
    loader = str(pyfunc.get("loader_module", "")) if isinstance(pyfunc, dict) else ""
    if loader.startswith("mlflow.") and loader.removeprefix("mlflow.") in flavors:
        library = loader.removeprefix("mlflow.")
    else:
        library = next((n for n in names if n != "python_function"), "")
    version = ""
    conf = flavors.get(library)
    if isinstance(conf, dict):
        exact = conf.get(f"{library}_version")
        anyv = next((v for k, v in sorted(conf.items()) if str(k).endswith("_version")), "")
        version = str(exact or anyv or "")
    size = data.get("model_size_bytes")
    fields: dict[str, Any] = {
        "flavors": names,
        "library": library,
        "library_version": version,
        "mlflow_version": str(data.get("mlflow_version") or ""),
        "size_bytes": size if isinstance(size, int) and not isinstance(size, bool) else None,
        "created": str(data.get("utc_time_created") or ""),
    }
    sig = data.get("signature")
    if isinstance(sig, dict):
        try:
            fields["signature"] = ModelSignature(
                inputs=_schema(sig.get("inputs")),
                outputs=_schema(sig.get("outputs")),
                params=_schema(sig.get("params")),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            bad.append(f"signature unreadable ({exc})")
    return fields, bad


def _schema(raw: Any) -> tuple[SignatureField, ...]:
    """MLflow writes each schema as a JSON string: a list of column or tensor specs."""
    if raw is None:
        return ()
    items = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise ValueError("expected a list of columns")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("expected column specs")
        kind = str(item.get("type", ""))
        if kind == "tensor" and isinstance(item.get("tensor-spec"), dict):
            spec = item["tensor-spec"]
            shape = ", ".join(str(s) for s in spec.get("shape") or [])
            kind = f"tensor {spec.get('dtype', '?')} ({shape})"
        elif "default" in item:  # a params entry
            kind = f"{kind} = {json.dumps(item['default'])}"
        out.append(
            SignatureField(str(item.get("name", "") or ""), kind, bool(item.get("required", True)))
        )
    return tuple(out)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return strip_credentials(text)[:200]
