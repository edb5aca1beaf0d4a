"""A light pull: experiments, runs and registered models only.

`daybook note` (the digest) and `daybook check` (do references resolve?) need to know what
exists, not metric histories, artifacts or model files, which are most of a full pull's cost.
The same experiment filter and redaction apply, so both see what the site would show.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Snapshot
from daybook.safety.redact import Redactor, strip_credentials
from daybook.sources.mlflow import open_reader, sqlite_path
from daybook.sources.model_files import absent_runs, read_model_files, wanted_versions


def store_exists(tracking_uri: str) -> bool:
    """False only for a sqlite store whose file is not there (MLflow would create it)."""
    path: Path | None = sqlite_path(tracking_uri)
    return path is None or path.exists()


def read_catalog(config: DaybookConfig, tracking_uri: str) -> Snapshot:
    """What the store holds, without any run's details. Raises SourceError when unreadable."""
    reader = open_reader(tracking_uri)
    try:
        experiments = sorted(
            (e for e in reader.read_experiments() if config.experiments.wants(e.name)),
            key=lambda e: e.experiment_id,
        )
        runs = sorted(
            reader.read_runs([e.experiment_id for e in experiments]), key=lambda r: r.run_id
        )
        models = sorted(reader.read_models(), key=lambda m: m.name)
    finally:
        reader.close()
    snapshot = Snapshot(
        tracking_uri=strip_credentials(tracking_uri),
        experiments=tuple(experiments),
        runs=tuple(runs),
        models=tuple(models),
    )
    return Redactor.for_config(config).value(snapshot)  # the same pass as a full pull


def registry_snapshot(config: DaybookConfig, tracking_uri: str) -> Snapshot:
    """A light pull (`catalog`) plus what the cards are checked against: the model files of the
    versions cards describe, and why source runs are missing. For `daybook check`."""
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
    return Redactor.for_config(config).value(
        replace(snapshot, model_files=files, absent_runs=missing)
    )
