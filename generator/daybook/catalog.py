"""A light pull: experiments, runs and registered models only.

`daybook note` (the digest) and `daybook check` (do references resolve?) need to know what
exists, not metric histories, artifacts or model files, which are most of a full pull's cost.
The same experiment filter and redaction apply, so both see what the site would show.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from daybook.config import DaybookConfig
from daybook.redact import Redactor, strip_credentials
from daybook.snapshot import Snapshot
from daybook.sources.mlflow import open_reader, sqlite_path


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
    redactor = Redactor(config.redact)
    runs = [replace(r, params=redactor.mask(r.params), tags=redactor.mask(r.tags)) for r in runs]
    return Snapshot(
        tracking_uri=strip_credentials(tracking_uri),
        experiments=tuple(experiments),
        runs=tuple(runs),
        models=tuple(models),
    )
