"""The MLflow writing every demo story shares: experiments, runs, metrics, models, versions.

The stories say *what* happened (who trained which model when, and how it scored); this
module says how that lands in MLflow, through the ordinary client and fluent APIs a team's
training scripts would use.  Runs and metrics take explicit times; the times MLflow stamps
itself (experiments, registered models, versions, logged models) are collected in
``backdates`` for `store` to rewrite once the database is closed.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daybook.demo.constants import HOUR_MS

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

Point = tuple[str, float, int, int]  # (metric key, value, timestamp_ms, step)


def commit_hash(label: str) -> str:
    """A fake but stable git commit hash, so runs "at the same commit" share it."""
    return hashlib.sha1(f"daybook-demo:{label}".encode()).hexdigest()


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@dataclass
class RunSpec:
    """What every run carries: who, when, from which script and commit."""

    name: str
    user: str
    start_ms: int
    source: str
    commit: str
    note: str | None = None
    parent_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def all_tags(self) -> dict[str, str]:
        tags = {
            "mlflow.runName": self.name,
            "mlflow.user": self.user,
            "mlflow.source.name": self.source,
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": commit_hash(self.commit),
            **self.tags,
        }
        if self.note:
            tags["mlflow.note.content"] = self.note
        if self.parent_id:
            tags["mlflow.parentRunId"] = self.parent_id
        return tags


@contextlib.contextmanager
def _resumed(run_id: str) -> Iterator[None]:
    """Resume one of our runs for fluent-only APIs.

    ``nested=True`` so a run the caller has open does not block us; resuming adds no parent
    tag. Leaving the block sets FINISHED and the wall-clock end time, so callers fix both
    with ``set_terminated`` afterwards.
    """
    import mlflow

    with mlflow.start_run(run_id=run_id, nested=True, log_system_metrics=False):
        yield


class StoryWriter:
    """Writes the stories' experiments, runs and models into one database; one per build.

    The fluent APIs it uses (``log_model``, ``log_input``) and ``models:/`` version sources
    go through MLflow's *global* URI, which the caller points at ``db_uri``.
    """

    def __init__(
        self,
        db_uri: str,
        artifact_root: Path,
        now_ms: int,
        progress: Callable[[str], None],
    ) -> None:
        self.db_uri = db_uri
        self.artifact_root = artifact_root
        self.now = now_ms
        self.progress = progress
        self.backdates: dict[str, list[tuple[Any, ...]]] = {
            "experiments": [],
            "registered_models": [],
            "model_versions": [],
            "logged_models": [],
        }
        self.client: MlflowClient | None = None
        # registered model name -> [(time it became champion, version)], in story order.
        self.champions: dict[str, list[tuple[int, str]]] = {}

    # ---- time -------------------------------------------------------------------------------

    def ago(self, hours: float) -> int:
        """A timestamp ``hours`` before now (the whole story spans the past 8 days)."""
        return self.now - round(hours * HOUR_MS)

    # ---- the database ---------------------------------------------------------------------------

    def create_database(self) -> None:
        """Create the empty store: MLflow's tables and its "Default" experiment."""
        from mlflow import MlflowClient
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        self.progress("creating the MLflow database")
        # Creating the store directly first runs the migrations and creates the "Default"
        # experiment under our artifact root instead of ./mlruns of the working directory.
        SqlAlchemyStore(self.db_uri, self.artifact_root.as_uri())
        self.client = MlflowClient(tracking_uri=self.db_uri, registry_uri=self.db_uri)
        created = self.ago(192)
        self.backdates["experiments"].append((created, created, "0"))

    @property
    def mlc(self) -> MlflowClient:
        assert self.client is not None, "create_database() first"
        return self.client

    # ---- experiments and runs -------------------------------------------------------------------

    def experiment(self, name: str, hours_ago: float, note: str, tags: dict[str, str]) -> str:
        location = (self.artifact_root / name).as_uri()
        exp_id = self.mlc.create_experiment(
            name,
            artifact_location=location,
            tags={"mlflow.note.content": note, **tags},
        )
        created = self.ago(hours_ago)
        self.backdates["experiments"].append((created, created, exp_id))
        return exp_id

    def start(self, exp_id: str, spec: RunSpec, params: dict[str, Any]) -> str:
        from mlflow.entities import Param

        run = self.mlc.create_run(
            exp_id, start_time=spec.start_ms, tags=spec.all_tags(), run_name=spec.name
        )
        run_id = run.info.run_id
        if params:
            self.mlc.log_batch(run_id, params=[Param(k, _fmt(v)) for k, v in params.items()])
        return run_id

    def metrics(self, run_id: str, points: Sequence[Point]) -> None:
        """Log ``(key, value, timestamp_ms, step)`` points in batches MLflow accepts."""
        from mlflow.entities import Metric

        batch = [Metric(key, float(value), ts, step) for key, value, ts, step in points]
        for i in range(0, len(batch), 900):
            self.mlc.log_batch(run_id, metrics=batch[i : i + 900])

    def finish(self, run_id: str, end_ms: int, status: str = "FINISHED") -> None:
        self.mlc.set_terminated(run_id, status=status, end_time=end_ms)

    def finish_with_model(
        self,
        experiment: str,
        run_id: str,
        model: Any,
        x_sample: pd.DataFrame,
        spec: RunSpec,
        end_ms: int,
        step: int,
    ) -> str:
        """The last thing a training script does: log its model 10 s before the run ends, then
        end the run. Returns the logged model's id."""
        self.progress(f"{experiment}: logging model for {spec.name}")
        model_id = self.log_model(run_id, model, x_sample, spec, end_ms - 10_000, step)
        self.finish(run_id, end_ms)
        return model_id

    # ---- models and data ------------------------------------------------------------------------

    def log_model(
        self,
        run_id: str,
        model: Any,
        x_sample: pd.DataFrame,
        spec: RunSpec,
        created_ms: int,
        step: int,
    ) -> str:
        """Log ``model`` with the real ``mlflow.sklearn.log_model``; returns the model id.

        Fast because pip requirements are given (no inference subprocess); skops needs the
        types it does not trust by default listed explicitly (for trees:
        ``sklearn.tree._tree.Tree``), which we can vouch for since we just trained the model.
        """
        import mlflow
        import mlflow.sklearn
        import sklearn
        import skops
        import skops.io
        from mlflow.models import infer_signature

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        signature = infer_signature(x_sample, model.predict(x_sample))
        with _resumed(run_id):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                serialization_format="skops",
                skops_trusted_types=trusted or None,
                signature=signature,
                pip_requirements=[
                    f"scikit-learn=={sklearn.__version__}",
                    f"skops=={skops.__version__}",
                ],
                # Explicit context tags; otherwise MLflow records the OS user and script
                # path of whoever builds the demo.
                tags={
                    "mlflow.user": spec.user,
                    "mlflow.source.name": spec.source,
                    "mlflow.source.type": "LOCAL",
                    "mlflow.source.git.commit": commit_hash(spec.commit),
                },
                step=step,
            )
        model_id = info.model_id
        self.backdates["logged_models"].append((created_ms, created_ms, model_id))
        return model_id

    def log_dataset(
        self, run_id: str, df: pd.DataFrame, csv: Path, name: str, context: str
    ) -> None:
        """Record a dataset input whose source is a real CSV file next to the store."""
        import mlflow
        import mlflow.data

        if not csv.exists():
            csv.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(csv, index=False)
        dataset = mlflow.data.from_pandas(df, source=str(csv), name=name, targets="target")
        with _resumed(run_id):
            mlflow.log_input(dataset, context=context)

    # ---- the registry ---------------------------------------------------------------------------

    def registered_model(
        self, name: str, created_ms: int, updated_ms: int, description: str, tags: dict[str, str]
    ) -> None:
        self.mlc.create_registered_model(name, tags=tags, description=description)
        self.backdates["registered_models"].append((created_ms, updated_ms, name))

    def register(
        self,
        name: str,
        run_id: str,
        model_id: str,
        created_ms: int,
        description: str,
        tags: dict[str, str],
    ) -> str:
        """Create a model version from a logged model; ``models:/`` needs the global URI."""
        version = self.mlc.create_model_version(
            name,
            source=f"models:/{model_id}",
            run_id=run_id,
            tags=tags,
            description=description,
            model_id=model_id,
        ).version
        self.backdates["model_versions"].append((created_ms, created_ms, name, int(version)))
        return str(version)

    def set_champion(self, name: str, version: str, at_ms: int) -> None:
        """Move the ``champion`` alias and remember when (MLflow keeps no alias times)."""
        self.mlc.set_registered_model_alias(name, "champion", version)
        self.champions.setdefault(name, []).append((at_ms, version))
