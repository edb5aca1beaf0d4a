"""The snapshot: everything Daybook read from the outside world, as plain immutable data.

Only the source layer builds these; everything downstream (analysis, pages) reads them. No MLflow
object ever crosses this line, so a snapshot can be saved, compared and reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Tag keys MLflow uses for fields that are not columns of their own.
TAG_DESCRIPTION = "mlflow.note.content"
TAG_PARENT = "mlflow.parentRunId"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_RUN_NAME = "mlflow.runName"
TAG_USER = "mlflow.user"


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset a run consumed, as MLflow records it (digest identifies the data's version)."""

    name: str
    digest: str
    source_type: str
    source: str
    context: str  # "training", "validation", … ("" when the run did not say)


@dataclass(frozen=True, slots=True)
class Metric:
    """A run's latest value of one metric (what MLflow keeps in `latest_metrics`)."""

    key: str
    value: float
    step: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """Every logged point of one metric of one run, ordered by step then time."""

    key: str
    steps: tuple[int, ...]
    values: tuple[float, ...]
    timestamps: tuple[int, ...]

    @property
    def finite(self) -> list[float]:
        return [v for v in self.values if math.isfinite(v)]

    @property
    def minimum(self) -> float | None:
        vals = self.finite
        return min(vals) if vals else None

    @property
    def maximum(self) -> float | None:
        vals = self.finite
        return max(vals) if vals else None

    @property
    def last(self) -> float | None:
        return self.values[-1] if self.values else None


@dataclass(frozen=True, slots=True)
class Artifact:
    path: str  # relative to the run's artifact root, "/"-separated
    is_dir: bool
    size: int | None


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    experiment_id: str
    name: str
    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    start_time: int | None  # epoch ms
    end_time: int | None  # epoch ms; None while running
    user: str
    artifact_uri: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: tuple[DatasetInput, ...] = ()

    @property
    def description(self) -> str:
        return self.tags.get(TAG_DESCRIPTION, "")

    @property
    def parent_id(self) -> str | None:
        return self.tags.get(TAG_PARENT) or None

    @property
    def git_commit(self) -> str:
        return self.tags.get(TAG_GIT_COMMIT, "")

    @property
    def duration_ms(self) -> int | None:
        if self.start_time is None or self.end_time is None:
            return None
        return max(0, self.end_time - self.start_time)

    def metric(self, key: str) -> float | None:
        m = self.metrics.get(key)
        return None if m is None else m.value


@dataclass(frozen=True, slots=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.tags.get(TAG_DESCRIPTION, "")


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: int
    creation_time: int | None
    last_updated_time: int | None
    description: str
    status: str
    source: str  # e.g. "models:/m-…" (MLflow 3 LoggedModel) or "runs:/<id>/model"
    run_id: str  # "" when the version came from outside a run
    user: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    description: str
    creation_time: int | None
    last_updated_time: int | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    versions: tuple[ModelVersion, ...] = ()  # ascending by version

    def aliases_of(self, version: int) -> list[str]:
        return sorted(a for a, v in self.aliases.items() if v == version)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one pull saw. Collections are sorted so equal stores give equal snapshots."""

    tracking_uri: str  # display form: credentials removed
    experiments: tuple[Experiment, ...]
    runs: tuple[Run, ...]  # every run of the included experiments
    models: tuple[RegisteredModel, ...]
    histories: dict[str, tuple[MetricHistory, ...]] = field(default_factory=dict)  # run id ->
    artifacts: dict[str, tuple[Artifact, ...]] = field(default_factory=dict)  # run id ->
    warnings: tuple[str, ...] = ()  # problems met while reading, shown on the site

    def runs_of(self, experiment_id: str) -> list[Run]:
        return [r for r in self.runs if r.experiment_id == experiment_id]
