"""Embedded demo data: a real local MLflow store built by really training small models.

Daybook needs something to render before a team points it at its own tracking server, and
a hand-written fixture would drift from what MLflow actually stores.  So the demo trains
small scikit-learn models on datasets that ship with scikit-learn and records them through
the ordinary MLflow APIs, exactly as a small team's training scripts would: parent/child
sweeps, metric histories, a failed run and a killed one, dataset inputs, logged and
registered models, aliases that move, and a daily monitoring job whose last two evaluations degrade.

Everything is seeded, and all timestamps are relative to ``now_ms``, so two builds differ
only in run/model ids and absolute times.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sqlite3
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

__all__ = ["DemoError", "DemoStore", "create_demo_store"]

HOUR_MS = 3_600_000
MIN_MS = 60_000
DB_NAME = "mlflow.db"
ARTIFACTS_NAME = "mlartifacts"
_PARTIAL_PREFIX = ".mlflow.db.partial-"
_MARKER = ".daybook-demo"
_SEED = 7
_DIABETES_SPLIT_SEED = 42  # a split on which the story's ordering of models holds

EXP_DIGITS = "digits-classifier"
EXP_CANCER = "breast-cancer"
EXP_DIABETES = "diabetes-regression"
EXP_MONITOR = "cancer-detector-monitoring"
MODEL_CANCER = "cancer-detector"
MODEL_DIABETES = "diabetes-regressor"


@dataclass(frozen=True)
class DemoStore:
    """Where the demo store lives, and whether this call actually built it."""

    directory: Path
    db_path: Path
    artifact_root: Path
    tracking_uri: str
    created: bool


class DemoError(Exception):
    """A demo build failed; the message is one line meant for the user."""


def create_demo_store(
    directory: Path,
    *,
    progress: Callable[[str], None] = lambda msg: None,
    now_ms: int | None = None,
) -> DemoStore:
    """Build the demo MLflow store in ``directory`` unless one is already there.

    An existing ``mlflow.db`` is never touched (it may be a user's store).  The database is
    written to a temporary file and renamed at the end, so an interrupted build never leaves
    a ``mlflow.db`` that looks complete.  Not safe to run concurrently on one directory.
    """
    directory = Path(directory).expanduser().absolute()
    db_path = directory / DB_NAME
    artifact_root = directory / ARTIFACTS_NAME
    store = DemoStore(
        directory=directory,
        db_path=db_path,
        artifact_root=artifact_root,
        tracking_uri=f"sqlite:///{db_path}",
        created=False,
    )
    if db_path.exists():
        progress(f"{db_path} already exists; leaving it alone")
        return store

    now = int(time.time() * 1000) if now_ms is None else int(now_ms)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _prepare_artifact_root(artifact_root)
        for stale in directory.glob(_PARTIAL_PREFIX + "*"):
            stale.unlink()
    except OSError as exc:
        raise DemoError(f"cannot prepare {directory}: {exc.strerror or exc}") from exc

    tmp_path = directory / f"{_PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_uri = f"sqlite:///{tmp_path}"
    try:
        with _quiet_mlflow(), _scoped_mlflow_uris(tmp_uri):
            builder = _Builder(tmp_uri, artifact_root, now, progress)
            builder.build()
        _dispose_engines(tmp_uri)
        _backdate(tmp_path, builder.backdates)
        progress("finalising the store")
        _publish(tmp_path, db_path)
    except DemoError:
        _remove_partial(tmp_path, tmp_uri)
        raise
    except BaseException as exc:
        _remove_partial(tmp_path, tmp_uri)
        if isinstance(exc, Exception):
            first = (str(exc).strip().splitlines() or [""])[0]
            raise DemoError(
                f"building the demo store failed: {type(exc).__name__}: {first}"
            ) from exc
        raise
    return DemoStore(
        directory=directory,
        db_path=db_path,
        artifact_root=artifact_root,
        tracking_uri=store.tracking_uri,
        created=True,
    )


# --------------------------------------------------------------------------------------------
# Store plumbing: temp file, artifact root, global MLflow state
# --------------------------------------------------------------------------------------------


def _prepare_artifact_root(artifact_root: Path) -> None:
    """Reuse an artifact root only if an earlier (interrupted) demo build created it."""
    if artifact_root.exists() and any(artifact_root.iterdir()):
        if not (artifact_root / _MARKER).exists():
            raise DemoError(
                f"{artifact_root} already exists and was not created by a Daybook demo build; "
                "use an empty directory"
            )
        shutil.rmtree(artifact_root)
    artifact_root.mkdir(parents=True, exist_ok=True)
    (artifact_root / _MARKER).write_text(
        "Artifacts of the Daybook demo MLflow store (see ../mlflow.db).\n", encoding="utf-8"
    )


def _publish(tmp_path: Path, db_path: Path) -> None:
    """Move the finished database into place without ever replacing an existing file."""
    try:
        os.link(tmp_path, db_path)
    except FileExistsError as exc:
        raise DemoError(
            f"{db_path} appeared while the demo was being built; left it alone"
        ) from exc
    except OSError:
        # Filesystems without hard links: fall back to a rename after re-checking.
        if db_path.exists():
            raise DemoError(
                f"{db_path} appeared while the demo was being built; left it alone"
            ) from None
        os.replace(tmp_path, db_path)
        return
    tmp_path.unlink()


def _remove_partial(tmp_path: Path, tmp_uri: str) -> None:
    """Best-effort cleanup so a failed build leaves no file that could be mistaken for a store."""
    with contextlib.suppress(Exception):
        _dispose_engines(tmp_uri)
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{tmp_path}{suffix}").unlink()


def _dispose_engines(db_uri: str) -> None:
    """Close MLflow's cached SQLAlchemy engines for the temp file before it is renamed.

    MLflow caches one engine per URI at class level; a pooled connection would otherwise keep
    pointing at the renamed inode.
    """
    from mlflow.store.model_registry.sqlalchemy_store import (
        SqlAlchemyStore as RegistryStore,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    for cls in (TrackingStore, RegistryStore):
        engine_map = getattr(cls, "_engine_map", None)
        if isinstance(engine_map, dict) and (engine := engine_map.pop(db_uri, None)) is not None:
            engine.dispose()


@contextlib.contextmanager
def _scoped_mlflow_uris(uri: str) -> Iterator[None]:
    """Point MLflow's *global* tracking/registry URI at ``uri`` and restore it afterwards.

    The fluent APIs (``start_run``, ``log_input``, ``log_model``) and, surprisingly, the
    registry's ``create_model_version`` for ``models:/`` sources only use the global URI.
    ``mlflow.set_tracking_uri`` also writes ``MLFLOW_TRACKING_URI`` into ``os.environ`` (and
    setting it back to ``None`` deletes it), so the environment is restored explicitly.
    A caller's ``mlflow.set_experiment`` would make resuming our runs fail, so the active
    experiment is cleared for the duration too.
    """
    import mlflow
    from mlflow.tracking import fluent
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    env_names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved_env = {name: os.environ.get(name) for name in env_names}
    saved_tracking = getattr(tracking_utils, "_tracking_uri", None)
    saved_registry = getattr(registry_utils, "_registry_uri", None)
    saved_experiment = getattr(fluent, "_active_experiment_id", None)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    fluent._active_experiment_id = None
    try:
        yield
    finally:
        fluent._active_experiment_id = saved_experiment
        mlflow.set_tracking_uri(saved_tracking)
        registry_utils._registry_uri = saved_registry
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """Silence migration chatter and library warnings; the caller gets ``progress`` lines."""
    import mlflow  # noqa: F401  (importing mlflow configures its logger; override afterwards)

    names = ("mlflow", "alembic")
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _backdate(db_file: Path, backdates: dict[str, list[tuple[Any, ...]]]) -> None:
    """Give experiments and registry objects the past creation times the story needs.

    MLflow stamps experiments, registered models, model versions and logged models with the
    wall clock and offers no API to choose the time (runs and metrics do take explicit
    times).  Without this, every version would look "registered in the last 24 hours".
    """
    statements = {
        "experiments": (
            "UPDATE experiments SET creation_time = ?, last_update_time = ? WHERE experiment_id = ?"
        ),
        "registered_models": (
            "UPDATE registered_models SET creation_time = ?, last_updated_time = ? WHERE name = ?"
        ),
        "model_versions": (
            "UPDATE model_versions SET creation_time = ?, last_updated_time = ? "
            "WHERE name = ? AND version = ?"
        ),
        "logged_models": (
            "UPDATE logged_models SET creation_timestamp_ms = ?, last_updated_timestamp_ms = ? "
            "WHERE model_id = ?"
        ),
    }
    conn = sqlite3.connect(db_file)
    try:
        with conn:
            for table, rows in backdates.items():
                for row in rows:
                    conn.execute(statements[table], row)
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _commit(label: str) -> str:
    """A fake but stable git commit hash, so runs "at the same commit" share it."""
    return hashlib.sha1(f"daybook-demo:{label}".encode()).hexdigest()


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@dataclass
class _RunSpec:
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
            "mlflow.source.git.commit": _commit(self.commit),
            **self.tags,
        }
        if self.note:
            tags["mlflow.note.content"] = self.note
        if self.parent_id:
            tags["mlflow.parentRunId"] = self.parent_id
        return tags


# --------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------


class _Builder:
    """Trains the models and writes the runs; one instance per build."""

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
        # (registered model name, version) -> fitted estimator, for the monitoring job.
        self.fitted: dict[tuple[str, str], Any] = {}
        self.cancer_champion_history: list[tuple[int, str]] = []
        self.cancer_val: tuple[Any, Any] | None = None

    # ---- time -------------------------------------------------------------------------------

    def ago(self, hours: float) -> int:
        """A timestamp ``hours`` before now (the whole story spans the past 8 days)."""
        return self.now - round(hours * HOUR_MS)

    # ---- orchestration ------------------------------------------------------------------------

    def build(self) -> None:
        from mlflow import MlflowClient
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        self.progress("creating the MLflow database")
        # Creating the store directly first runs the migrations and creates the "Default"
        # experiment under our artifact root instead of ./mlruns of the working directory.
        SqlAlchemyStore(self.db_uri, self.artifact_root.as_uri())
        self.client = MlflowClient(tracking_uri=self.db_uri, registry_uri=self.db_uri)
        created = self.ago(192)
        self.backdates["experiments"].append((created, created, "0"))

        exp_digits = self.experiment(
            EXP_DIGITS,
            190,
            "Handwritten digit recognition on scikit-learn's `digits` set (8×8 images, "
            "10 classes). Owner: **alice**.\n\nGoal: beat the logistic-regression baseline "
            "with a small gradient-boosting model.",
            {"team": "vision", "owner": "alice"},
        )
        exp_cancer = self.experiment(
            EXP_CANCER,
            188,
            "Malignant vs. benign tumours from the Wisconsin breast-cancer features. "
            f"Owner: **bob**. Models are registered as `{MODEL_CANCER}`.",
            {"team": "health", "owner": "bob"},
        )
        exp_diabetes = self.experiment(
            EXP_DIABETES,
            186,
            "Disease progression one year after baseline (scikit-learn `diabetes` set). "
            f"Owner: **chen**. Lower `val_rmse` is better. Registered as `{MODEL_DIABETES}`.",
            {"team": "health", "owner": "chen"},
        )
        exp_monitor = self.experiment(
            EXP_MONITOR,
            170,
            f"Daily evaluation of `{MODEL_CANCER}@champion` on a bootstrap sample of the "
            "hold-out set. Alert if `accuracy` drops below 0.9.",
            {"team": "health", "owner": "bob", "job": "daily-eval"},
        )

        self.digits(exp_digits)
        self.cancer(exp_cancer)
        self.diabetes(exp_diabetes)
        self.monitoring(exp_monitor)

    # ---- generic MLflow writes -------------------------------------------------------------------

    @property
    def mlc(self) -> MlflowClient:
        assert self.client is not None
        return self.client

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

    def start(self, exp_id: str, spec: _RunSpec, params: dict[str, Any]) -> str:
        from mlflow.entities import Param

        run = self.mlc.create_run(
            exp_id, start_time=spec.start_ms, tags=spec.all_tags(), run_name=spec.name
        )
        run_id = run.info.run_id
        if params:
            self.mlc.log_batch(run_id, params=[Param(k, _fmt(v)) for k, v in params.items()])
        return run_id

    def metrics(self, run_id: str, points: Sequence[tuple[str, float, int, int]]) -> None:
        """Log ``(key, value, timestamp_ms, step)`` points in batches MLflow accepts."""
        from mlflow.entities import Metric

        batch = [Metric(key, float(value), ts, step) for key, value, ts, step in points]
        for i in range(0, len(batch), 900):
            self.mlc.log_batch(run_id, metrics=batch[i : i + 900])

    def finish(self, run_id: str, end_ms: int, status: str = "FINISHED") -> None:
        self.mlc.set_terminated(run_id, status=status, end_time=end_ms)

    def log_model(
        self,
        run_id: str,
        model: Any,
        x_sample: pd.DataFrame,
        spec: _RunSpec,
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
                    "mlflow.source.git.commit": _commit(spec.commit),
                },
                step=step,
            )
        model_id = info.model_id
        self.backdates["logged_models"].append((created_ms, created_ms, model_id))
        return model_id

    def log_dataset(self, run_id: str, df: pd.DataFrame, csv: Path, context: str) -> None:
        """Record a dataset input whose source is a real CSV file next to the store."""
        import mlflow
        import mlflow.data

        if not csv.exists():
            csv.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(csv, index=False)
        dataset = mlflow.data.from_pandas(df, source=str(csv), name="diabetes", targets="target")
        with _resumed(run_id):
            mlflow.log_input(dataset, context=context)

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

    def registered_model(
        self, name: str, created_ms: int, updated_ms: int, description: str, tags: dict[str, str]
    ) -> None:
        self.mlc.create_registered_model(name, tags=tags, description=description)
        self.backdates["registered_models"].append((created_ms, updated_ms, name))

    # ---- experiment 1: digits ------------------------------------------------------------------

    def digits(self, exp_id: str) -> None:
        from sklearn.datasets import load_digits
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x, y = load_digits(return_X_y=True)
        x_tr, x_va, y_tr, y_va = train_test_split(
            x, y, test_size=0.25, random_state=_SEED, stratify=y
        )
        common = {"dataset": "sklearn.datasets.load_digits", "test_size": 0.25, "seed": _SEED}

        def linear(name: str, hours: float, c: float, scaled: bool, note: str) -> float:
            self.progress(f"{EXP_DIGITS}: training {name}")
            clf = LogisticRegression(C=c, max_iter=3000)
            model = make_pipeline(StandardScaler(), clf) if scaled else clf
            model.fit(x_tr, y_tr)
            pred = model.predict(x_va)
            spec = _RunSpec(
                name,
                "alice",
                self.ago(hours),
                "digits/train_linear.py",
                f"digits-{name}",
                note=note,
            )
            run_id = self.start(
                exp_id,
                spec,
                {
                    **common,
                    "model": "logistic_regression",
                    "C": c,
                    "max_iter": 3000,
                    "standardize": scaled,
                },
            )
            end = spec.start_ms + 2 * MIN_MS + 10_000
            self.metrics(
                run_id,
                [
                    ("train_accuracy", accuracy_score(y_tr, model.predict(x_tr)), end - 5000, 0),
                    ("val_accuracy", accuracy_score(y_va, pred), end - 5000, 0),
                    ("val_f1", f1_score(y_va, pred, average="macro"), end - 5000, 0),
                ],
            )
            self.finish(run_id, end)
            return float(accuracy_score(y_va, pred))

        baseline_acc = linear(
            "logreg-baseline",
            180,
            1.0,
            False,
            "Baseline: plain **logistic regression** on raw 8×8 pixel intensities. "
            "Everything else has to beat this.",
        )

        # Hyperparameter sweep: a parent run with one child per configuration.
        grid = [  # (learning_rate, max_depth, n_estimators)
            (0.05, 2, 40),
            (0.1, 2, 30),
            (0.1, 3, 30),
            (0.2, 3, 25),
            (0.3, 3, 20),
            (0.2, 4, 20),
        ]
        parent_spec = _RunSpec(
            "gbm-sweep", "alice", self.ago(148), "digits/sweep.py", "digits-sweep"
        )
        parent_id = self.start(
            exp_id,
            parent_spec,
            {
                **common,
                "model": "gradient_boosting",
                "search": "grid",
                "n_trials": len(grid),
                "objective": "val_accuracy",
            },
        )
        t = parent_spec.start_ms + 20_000
        results: list[tuple[float, str, str, Any]] = []
        for i, (lr, depth, n_est) in enumerate(grid, start=1):
            self.progress(f"{EXP_DIGITS}: training gbm sweep ({i}/{len(grid)})")
            model = GradientBoostingClassifier(
                n_estimators=n_est,
                learning_rate=lr,
                max_depth=depth,
                subsample=0.8,
                random_state=_SEED,
            ).fit(x_tr, y_tr)
            name = f"gbm-lr{lr}-d{depth}"
            note = "Tried **deeper trees**; see `max_depth`." if depth == 4 else None
            spec = _RunSpec(
                name, "alice", t, "digits/sweep.py", "digits-sweep", note=note, parent_id=parent_id
            )
            run_id = self.start(
                exp_id,
                spec,
                {
                    **common,
                    "model": "gradient_boosting",
                    "learning_rate": lr,
                    "max_depth": depth,
                    "n_estimators": n_est,
                    "subsample": 0.8,
                },
            )
            duration = (n_est * depth * 6 + 30) * 1000
            points: list[tuple[str, float, int, int]] = []
            for stage, (pred, loss) in enumerate(
                zip(model.staged_predict(x_va), model.train_score_, strict=True), start=1
            ):
                ts = t + duration * stage // (n_est + 1)
                points.append(("val_accuracy", accuracy_score(y_va, pred), ts, stage))
                points.append(("train_loss", float(loss), ts, stage))
            final_pred = model.predict(x_va)
            points.append(
                ("val_f1", f1_score(y_va, final_pred, average="macro"), t + duration - 2000, n_est)
            )
            self.metrics(run_id, points)
            self.finish(run_id, t + duration)
            acc = accuracy_score(y_va, final_pred)
            results.append((acc, run_id, name, final_pred))
            t += duration + 15_000

        best_acc, best_id, best_name, best_pred = max(results, key=lambda r: r[0])
        matrix = confusion_matrix(y_va, best_pred)
        header = "true\\pred " + " ".join(f"{d:>3}" for d in range(10))
        lines = [header] + [
            f"{d:>9} " + " ".join(f"{v:>3}" for v in row) for d, row in enumerate(matrix)
        ]
        self.mlc.log_text(best_id, "\n".join(lines) + "\n", "confusion_matrix.txt")
        self.metrics(parent_id, [("val_accuracy", best_acc, t, 0)])
        self.mlc.set_tag(parent_id, "best_run_id", best_id)
        self.mlc.set_tag(
            parent_id,
            "mlflow.note.content",
            "Grid over `learning_rate` × `max_depth` for gradient boosting "
            f"({len(grid)} trials). Best: **{best_name}** with val_accuracy {best_acc:.4f}"
            + (
                "."
                if best_acc > baseline_acc
                else f", still below the logistic-regression baseline ({baseline_acc:.4f})."
            ),
        )
        self.finish(parent_id, t + 5000)

        linear(
            "logreg-c0.1-scaled",
            9,
            0.1,
            True,
            "Quick check: does **standardizing** the pixels plus stronger regularization "
            "(`C=0.1`) close the gap to the GBM sweep?",
        )

        # A run stopped by hand in the last 24 hours: deep trees were far too slow. It logged
        # the first stages of its history before it was killed.
        self.progress(f"{EXP_DIGITS}: recording a killed run")
        spec = _RunSpec(
            "gbm-lr0.5-d6",
            "alice",
            self.ago(6),
            "digits/sweep.py",
            "digits-deep",
            note="Deeper trees (`max_depth=6`) at a high learning rate. **Killed** after five "
            "stages: each tree took minutes, and `val_accuracy` was not moving.",
        )
        deep = {"learning_rate": 0.5, "max_depth": 6, "n_estimators": 200, "subsample": 0.8}
        run_id = self.start(exp_id, spec, {**common, "model": "gradient_boosting", **deep})
        partial = GradientBoostingClassifier(
            n_estimators=5, learning_rate=0.5, max_depth=6, subsample=0.8, random_state=_SEED
        ).fit(x_tr, y_tr)
        points = []
        for stage, (pred, loss) in enumerate(
            zip(partial.staged_predict(x_va), partial.train_score_, strict=True), start=1
        ):
            ts = spec.start_ms + stage * 40_000
            points.append(("val_accuracy", accuracy_score(y_va, pred), ts, stage))
            points.append(("train_loss", float(loss), ts, stage))
        self.metrics(run_id, points)
        self.finish(run_id, spec.start_ms + 215_000, status="KILLED")

    # ---- experiment 2: breast cancer -----------------------------------------------------------

    def cancer(self, exp_id: str) -> None:
        from sklearn.compose import ColumnTransformer
        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        data = load_breast_cancer(as_frame=True)
        x, y = data.data, data.target
        x_tr, x_va, y_tr, y_va = train_test_split(
            x, y, test_size=0.3, random_state=_SEED, stratify=y
        )
        self.cancer_val = (x_va, y_va)
        common = {"dataset": "sklearn.datasets.load_breast_cancer", "test_size": 0.3, "seed": _SEED}

        def scores(model: Any) -> dict[str, float]:
            proba = model.predict_proba(x_va)[:, 1]
            return {
                "val_auc": roc_auc_score(y_va, proba),
                "val_accuracy": accuracy_score(y_va, (proba >= 0.5).astype(int)),
                "val_log_loss": log_loss(y_va, proba),
            }

        self.registered_model(
            MODEL_CANCER,
            self.ago(171.5),
            self.ago(20.5),
            "Flags malignant tumours from the 30 Wisconsin breast-cancer features. "
            "Decision threshold 0.5. Owner: **bob**; monitored daily in "
            f"`{EXP_MONITOR}`.",
            {"team": "health", "task": "binary-classification", "owner": "bob"},
        )

        # v1: logistic regression baseline -> champion
        self.progress(f"{EXP_CANCER}: training logreg-baseline")
        mean_cols = [c for c in x.columns if c.startswith("mean ")]
        lr_model = make_pipeline(
            ColumnTransformer([("mean", StandardScaler(), mean_cols)]),
            LogisticRegression(C=1.0, max_iter=1000),
        ).fit(x_tr, y_tr)
        spec = _RunSpec(
            "logreg-baseline",
            "bob",
            self.ago(172),
            "cancer/train.py",
            "cancer-baseline",
            note="Quick baseline: **logistic regression** on the 10 `mean *` features only.",
        )
        run_id = self.start(
            exp_id,
            spec,
            {
                **common,
                "model": "logistic_regression",
                "C": 1.0,
                "max_iter": 1000,
                "features": "mean_only",
                "standardize": True,
            },
        )
        end = spec.start_ms + 90_000
        self.metrics(run_id, [(k, v, end - 20_000, 0) for k, v in scores(lr_model).items()])
        self.progress(f"{EXP_CANCER}: logging model for logreg-baseline")
        model_id = self.log_model(run_id, lr_model, x_va.head(5), spec, end - 10_000, 0)
        self.finish(run_id, end)
        v1 = self.register(
            MODEL_CANCER,
            run_id,
            model_id,
            self.ago(171.5),
            "Logistic-regression baseline on the 10 `mean *` features.",
            {"validation_status": "approved", "trained_by": "bob"},
        )
        self.fitted[(MODEL_CANCER, v1)] = lr_model
        self.set_champion(MODEL_CANCER, v1, self.ago(171.4))

        # A failed run: a typo in the config, caught by scikit-learn's parameter validation.
        self.progress(f"{EXP_CANCER}: recording a failed run")
        bad_kernel = "rbff"
        try:
            SVC(kernel=bad_kernel).fit(x_tr, y_tr)
            error = "(no error?)"
        except ValueError as exc:
            error = f"{type(exc).__name__}: {exc}"
        spec = _RunSpec(
            "svm-rbf",
            "bob",
            self.ago(156),
            "cancer/train.py",
            "cancer-svm",
            note=(
                f"**Failed**: config error, `kernel: {bad_kernel}` is a typo for `rbf`. The "
                "run aborted before training, so it has no metrics.\n\n"
                f"```\n{error}\n```"
            ),
        )
        run_id = self.start(
            exp_id, spec, {**common, "model": "svm", "kernel": bad_kernel, "C": 1.0}
        )
        self.finish(run_id, spec.start_ms + 14_000, status="FAILED")

        # v2: random forest with a per-tree-count history -> champion
        self.progress(f"{EXP_CANCER}: training random-forest")
        spec = _RunSpec(
            "random-forest",
            "bob",
            self.ago(128),
            "cancer/train.py",
            "cancer-rf",
            note="Random forest; `val_auc` is logged every 10 trees to see where it plateaus.",
        )
        rf_params = {"n_estimators": 100, "min_samples_leaf": 2, "max_features": "sqrt"}
        run_id = self.start(exp_id, spec, {**common, "model": "random_forest", **rf_params})
        rf = RandomForestClassifier(
            n_estimators=10,
            min_samples_leaf=2,
            max_features="sqrt",
            warm_start=True,
            random_state=_SEED,
        )
        points: list[tuple[str, float, int, int]] = []
        for n_trees in range(10, 101, 10):
            rf.set_params(n_estimators=n_trees).fit(x_tr, y_tr)
            ts = spec.start_ms + n_trees * 1500
            for key, value in scores(rf).items():
                points.append((key, value, ts, n_trees))
        self.metrics(run_id, points)
        importance = sorted(
            zip(x.columns, rf.feature_importances_, strict=True), key=lambda kv: -kv[1]
        )
        self.mlc.log_text(
            run_id,
            "feature,importance\n" + "".join(f"{k},{v:.6f}\n" for k, v in importance),
            "feature_importance.csv",
        )
        end = spec.start_ms + 100 * 1500 + 30_000
        self.progress(f"{EXP_CANCER}: logging model for random-forest")
        model_id = self.log_model(run_id, rf, x_va.head(5), spec, end - 10_000, 100)
        self.finish(run_id, end)
        v2 = self.register(
            MODEL_CANCER,
            run_id,
            model_id,
            self.ago(126),
            "Random forest, 100 trees. Beat v1 on `val_auc`; promoted to "
            "champion after a day of shadow evaluation.",
            {"validation_status": "approved", "trained_by": "bob"},
        )
        self.fitted[(MODEL_CANCER, v2)] = rf
        self.set_champion(MODEL_CANCER, v2, self.ago(115.2))

        # A run that (wrongly) logged a credential as a parameter; never registered.
        self.progress(f"{EXP_CANCER}: training rf-depth4-s3")
        shallow = RandomForestClassifier(n_estimators=50, max_depth=4, random_state=_SEED)
        shallow.fit(x_tr, y_tr)
        spec = _RunSpec(
            "rf-depth4-s3",
            "bob",
            self.ago(120),
            "cancer/train.py",
            "cancer-s3",
            note="Same forest capped at `max_depth=4`, reading the training data "
            "from the S3 export instead of the scikit-learn copy.",
        )
        run_id = self.start(
            exp_id,
            spec,
            {
                **common,
                "model": "random_forest",
                "n_estimators": 50,
                "max_depth": 4,
                "data_source": "s3://ml-team-data/breast-cancer/2024-06/export.parquet",
                "s3_access_key": "AKIAIOSFODNN7EXAMPLE",
            },
        )
        end = spec.start_ms + 75_000
        self.metrics(run_id, [(k, v, end - 5000, 0) for k, v in scores(shallow).items()])
        self.finish(run_id, end)

        # v3: gradient boosting with a per-stage history -> challenger
        self.progress(f"{EXP_CANCER}: training gbm-tuned")
        spec = _RunSpec(
            "gbm-tuned",
            "bob",
            self.ago(22),
            "cancer/train.py",
            "cancer-gbm",
            note="Candidate to replace the random-forest champion: **gradient "
            "boosting** with shallow trees. Registered as `challenger`.",
        )
        gbm_params = {"n_estimators": 120, "learning_rate": 0.05, "max_depth": 2, "subsample": 0.8}
        run_id = self.start(exp_id, spec, {**common, "model": "gradient_boosting", **gbm_params})
        gbm = GradientBoostingClassifier(**gbm_params, random_state=_SEED).fit(x_tr, y_tr)
        points = []
        for stage, proba in enumerate(gbm.staged_predict_proba(x_va), start=1):
            ts = spec.start_ms + stage * 1000
            p = proba[:, 1]
            points.append(("val_auc", roc_auc_score(y_va, p), ts, stage))
            points.append(("val_log_loss", log_loss(y_va, p), ts, stage))
        final = scores(gbm)
        points.append(("val_accuracy", final["val_accuracy"], ts, 120))
        self.metrics(run_id, points)
        end = spec.start_ms + 120 * 1000 + 30_000
        self.progress(f"{EXP_CANCER}: logging model for gbm-tuned")
        model_id = self.log_model(run_id, gbm, x_va.head(5), spec, end - 10_000, 120)
        self.finish(run_id, end)
        v3 = self.register(
            MODEL_CANCER,
            run_id,
            model_id,
            self.ago(20.5),
            "Gradient boosting candidate (120 shallow trees); shadow-evaluated "
            "against the champion before any promotion.",
            {"validation_status": "pending", "trained_by": "bob"},
        )
        self.fitted[(MODEL_CANCER, v3)] = gbm
        self.mlc.set_registered_model_alias(MODEL_CANCER, "challenger", v3)

    def set_champion(self, name: str, version: str, at_ms: int) -> None:
        """Move the ``champion`` alias and remember when, for the monitoring runs' tags."""
        self.mlc.set_registered_model_alias(name, "champion", version)
        if name == MODEL_CANCER:
            self.cancer_champion_history.append((at_ms, version))

    # ---- experiment 3: diabetes ----------------------------------------------------------------

    def diabetes(self, exp_id: str) -> None:
        from sklearn.datasets import load_diabetes
        from sklearn.ensemble import GradientBoostingRegressor
        from sklearn.linear_model import Lasso, Ridge
        from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
        from sklearn.model_selection import train_test_split

        frame = load_diabetes(as_frame=True).frame
        data_dir = self.artifact_root / "datasets"
        # The older snapshot had 380 patients; the refresh (used in the last 24 hours) has 442.
        versions = {
            "v1": (frame.iloc[:380].reset_index(drop=True), data_dir / "diabetes-v1.csv"),
            "v2": (frame.reset_index(drop=True), data_dir / "diabetes-v2.csv"),
        }

        def split(version: str) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
            df, csv = versions[version]
            train, val = train_test_split(df, test_size=0.2, random_state=_DIABETES_SPLIT_SEED)
            return train.reset_index(drop=True), val.reset_index(drop=True), csv

        def regression_scores(y_true: Any, pred: Any) -> dict[str, float]:
            return {
                "val_rmse": float(mean_squared_error(y_true, pred) ** 0.5),
                "val_mae": mean_absolute_error(y_true, pred),
                "val_r2": r2_score(y_true, pred),
            }

        self.registered_model(
            MODEL_DIABETES,
            self.ago(167.5),
            self.ago(100),
            "Predicts a quantitative measure of disease progression one year after baseline. "
            "Owner: **chen**. Serve the `champion` alias.",
            {"team": "health", "task": "regression", "owner": "chen"},
        )

        def run(
            name: str,
            hours: float,
            data: str,
            model: Any,
            params: dict[str, Any],
            note: str | None,
            staged: bool,
        ) -> tuple[str, str, Any, _RunSpec, int, int]:
            self.progress(f"{EXP_DIABETES}: training {name}")
            train, val, csv = split(data)
            features = [c for c in train.columns if c != "target"]
            model.fit(train[features], train["target"])
            spec = _RunSpec(
                name, "chen", self.ago(hours), "diabetes/train.py", f"diabetes-{name}", note=note
            )
            run_id = self.start(
                exp_id,
                spec,
                {
                    "dataset": "diabetes",
                    "dataset_version": data,
                    "n_rows": len(versions[data][0]),
                    "test_size": 0.2,
                    "seed": _DIABETES_SPLIT_SEED,
                    **params,
                },
            )
            self.log_dataset(run_id, train, csv.with_name(csv.stem + "-train.csv"), "training")
            self.log_dataset(run_id, val, csv.with_name(csv.stem + "-val.csv"), "validation")
            points: list[tuple[str, float, int, int]] = []
            step = 0
            if staged:
                n = model.n_estimators
                for stage, (pred, loss) in enumerate(
                    zip(model.staged_predict(val[features]), model.train_score_, strict=True),
                    start=1,
                ):
                    ts = spec.start_ms + stage * 800
                    rmse = float(mean_squared_error(val["target"], pred) ** 0.5)
                    points.append(("val_rmse", rmse, ts, stage))
                    points.append(("train_loss", float(loss), ts, stage))
                step = n
                end = spec.start_ms + n * 800 + 40_000
            else:
                end = spec.start_ms + 70_000
            final = regression_scores(val["target"], model.predict(val[features]))
            if staged:
                del final["val_rmse"]  # already the last point of the history
            points += [(k, v, end - 20_000, step) for k, v in final.items()]
            self.metrics(run_id, points)
            return run_id, name, model, spec, end, step

        run_id, _, ridge, spec, end, step = run(
            "ridge-alpha1",
            168,
            "v1",
            Ridge(alpha=1.0),
            {"model": "ridge", "alpha": 1.0},
            "Linear baseline: **ridge** regression, `alpha=1.0`.",
            staged=False,
        )
        coefficients = dict(
            zip(
                [c for c in frame.columns if c != "target"],
                map(float, ridge.coef_),
                strict=True,
            )
        )
        self.mlc.log_dict(
            run_id, {"intercept": float(ridge.intercept_), **coefficients}, "coefficients.json"
        )
        self.progress(f"{EXP_DIABETES}: logging model for ridge-alpha1")
        x_sample = split("v1")[1].drop(columns="target").head(5)
        model_id = self.log_model(run_id, ridge, x_sample, spec, end - 10_000, step)
        self.finish(run_id, end)
        d1 = self.register(
            MODEL_DIABETES,
            run_id,
            model_id,
            self.ago(167.5),
            "Ridge baseline (`alpha=1.0`) trained on the 380-patient snapshot.",
            {"validation_status": "approved", "data_version": "v1"},
        )
        self.set_champion(MODEL_DIABETES, d1, self.ago(167.4))

        run_id, *_, end, _ = run(
            "lasso-alpha0.1",
            140,
            "v1",
            Lasso(alpha=0.1),
            {"model": "lasso", "alpha": 0.1},
            None,
            staged=False,
        )
        self.finish(run_id, end)

        gbr_params = {"n_estimators": 150, "learning_rate": 0.05, "max_depth": 2, "subsample": 0.8}
        run_id, _, gbr, spec, end, step = run(
            "gbr-shallow",
            108,
            "v1",
            GradientBoostingRegressor(**gbr_params, random_state=_SEED),
            {"model": "gradient_boosting", **gbr_params},
            "**Gradient boosting** with depth-2 trees; `val_rmse` is logged per stage.",
            staged=True,
        )
        self.progress(f"{EXP_DIABETES}: logging model for gbr-shallow")
        model_id = self.log_model(run_id, gbr, x_sample, spec, end - 10_000, step)
        self.finish(run_id, end)
        d2 = self.register(
            MODEL_DIABETES,
            run_id,
            model_id,
            self.ago(106),
            "Gradient boosting, 150 depth-2 trees; best `val_rmse` so far.",
            {"validation_status": "approved", "data_version": "v1"},
        )
        self.set_champion(MODEL_DIABETES, d2, self.ago(100))

        # The last 24 hours: the data refresh, then a clearly worse experiment.
        run_id, *_, end, _ = run(
            "ridge-alpha1-refresh",
            20,
            "v2",
            Ridge(alpha=1.0),
            {"model": "ridge", "alpha": 1.0},
            "Re-ran the baseline on the **refreshed** dataset (442 patients instead of 380).",
            staged=False,
        )
        self.finish(run_id, end)
        deep_params = {"n_estimators": 200, "learning_rate": 0.5, "max_depth": 8, "subsample": 1.0}
        run_id, *_, end, _ = run(
            "gbr-deep",
            4,
            "v2",
            GradientBoostingRegressor(**deep_params, random_state=_SEED),
            {"model": "gradient_boosting", **deep_params},
            "Trying **deeper trees** and a higher learning rate on the refreshed data.",
            staged=True,
        )
        self.finish(run_id, end)

    # ---- experiment 4: monitoring ---------------------------------------------------------------

    def monitoring(self, exp_id: str) -> None:
        import numpy as np
        import pandas as pd
        from sklearn.metrics import accuracy_score, roc_auc_score

        assert self.cancer_val is not None, "cancer() must run before monitoring()"
        x_va, y_va = self.cancer_val
        x_arr, y_arr = x_va.to_numpy(), y_va.to_numpy()
        n = len(y_arr)
        scale = x_arr.std(axis=0)
        days = 7
        for k in range(days - 1, -1, -1):
            start = self.ago(24 * k + 2)
            day = datetime.fromtimestamp(start / 1000, tz=UTC).strftime("%Y-%m-%d")
            self.progress(f"{EXP_MONITOR}: evaluating {day} ({days - k}/{days})")
            version = [v for at, v in self.cancer_champion_history if at <= start][-1]
            model = self.fitted[(MODEL_CANCER, version)]
            seed = 1000 + (days - k)
            rng = np.random.default_rng(seed)
            idx = rng.integers(0, n, n)
            xs, ys = x_arr[idx], y_arr[idx]
            drifted = k < 2
            if drifted:
                # An upstream change: the imaging pipeline started sending noisier features.
                xs = xs + rng.normal(0.0, 1.2, xs.shape) * scale
            proba = model.predict_proba(pd.DataFrame(xs, columns=x_va.columns))[:, 1]
            spec = _RunSpec(
                f"eval-{day}",
                "bob",
                start,
                "monitoring/daily_eval.py",
                "monitoring",
                tags={
                    "model_name": MODEL_CANCER,
                    "model_version": version,
                    "model_alias": "champion",
                },
            )
            run_id = self.start(
                exp_id,
                spec,
                {"sample": "bootstrap", "sample_size": n, "sample_seed": seed, "threshold": 0.5},
            )
            end = start + 45_000
            self.metrics(
                run_id,
                [
                    ("accuracy", accuracy_score(ys, (proba >= 0.5).astype(int)), end - 5000, 0),
                    ("auc", roc_auc_score(ys, proba), end - 5000, 0),
                ],
            )
            self.finish(run_id, end)
