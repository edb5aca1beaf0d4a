"""A real MLflow store for the model-registry tests (issue #4), built with MLflow's own APIs:
`mlflow.sklearn.log_model` (MLflow 3 LoggedModels, real MLmodel files with signatures), dataset
inputs, and the registry. Every kind of bad input a model page must survive is in it too.

Models:
- `churn-model`: v1 (logistic regression) and v2 (forest), both LoggedModels with signatures;
  `champion` -> v1, `challenger` -> v2. Tests move the aliases on a copy of the store.
- `readme-model`: v1 whose run logged a README.md model card and no model files.
- `orphan-model`: v1 whose source run was deleted afterwards.
- `broken-model`: v1 whose MLmodel file is not valid YAML (an unreadable artifact).
- `empty-model`: no versions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC
README_CARD = """\
---
license: mit
tags: [from-artifact]
pipeline_tag: tabular-regression
---

# readme-model

A card that was logged with the run.

## Uses

Forecasting demand for the demo shop.
"""


@dataclass
class ModelStore:
    root: Path
    db: Path
    uri: str
    runs: dict[str, str] = field(default_factory=dict)  # label -> run id
    logged: dict[str, str] = field(default_factory=dict)  # label -> LoggedModel id

    def copy(self, dest: Path) -> ModelStore:
        """The database copied (artifacts stay shared: they are only read)."""
        dest.mkdir(parents=True, exist_ok=True)
        db = dest / "mlflow.db"
        shutil.copy2(self.db, db)
        return ModelStore(dest, db, f"sqlite:///{db}", dict(self.runs), dict(self.logged))


@contextlib.contextmanager
def _global_uri(uri: str) -> Iterator[None]:
    """The fluent APIs (start_run, log_model, log_input) use MLflow's global URI."""
    import mlflow

    saved = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(saved)
        mlflow.set_registry_uri(saved)
        if saved is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved


def build_model_store(root: Path) -> ModelStore:
    import mlflow
    import mlflow.data
    import mlflow.sklearn
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    db = root / "mlflow.db"
    uri = f"sqlite:///{db}"
    store = ModelStore(root, db, uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("churn", artifact_location=(root / "artifacts").as_uri())
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x = x.iloc[:, :4]
    train = pd.concat([x, y.rename("target")], axis=1).iloc[:400]
    val = pd.concat([x, y.rename("target")], axis=1).iloc[400:]
    (root / "data").mkdir(exist_ok=True)
    train.to_csv(root / "data" / "train.csv", index=False)
    val.to_csv(root / "data" / "val.csv", index=False)

    def trained(label: str, model: object, minute: int, auc: float) -> None:
        run = client.create_run(
            exp,
            start_time=T0 + minute * 60_000,
            run_name=label,
            tags={"mlflow.source.git.commit": f"{minute:040d}", "mlflow.user": "alice"},
        )
        rid = run.info.run_id
        store.runs[label] = rid
        client.log_param(rid, "model", label)
        client.log_metric(rid, "val_auc", auc, timestamp=T0 + minute * 60_000 + 1000, step=0)
        client.log_metric(rid, "val_loss", 1 - auc, timestamp=T0 + minute * 60_000 + 1000, step=0)
        model.fit(train.drop(columns="target"), train["target"])  # type: ignore[attr-defined]
        sample = val.drop(columns="target").head(5)
        with _global_uri(uri), mlflow.start_run(run_id=rid):
            for df, name, context in (
                (train, "train.csv", "training"),
                (val, "val.csv", "validation"),
            ):
                ds = mlflow.data.from_pandas(
                    df, source=str(root / "data" / name), name=f"churn-{context}", targets="target"
                )
                mlflow.log_input(ds, context=context)
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(sample, model.predict(sample)),  # type: ignore[attr-defined]
                pip_requirements=["scikit-learn"],
                serialization_format="cloudpickle",
            )
        client.set_terminated(rid, "FINISHED", end_time=T0 + (minute + 5) * 60_000)
        store.logged[label] = info.model_id

    trained("logreg", LogisticRegression(max_iter=500), 0, 0.81)
    trained("forest", RandomForestClassifier(n_estimators=5, random_state=0), 10, 0.86)
    client.create_registered_model("churn-model", description="Predicts **churn**.")
    with _global_uri(uri):  # `models:/` sources resolve through the global registry URI
        for label in ("logreg", "forest"):
            client.create_model_version(
                "churn-model",
                f"models:/{store.logged[label]}",
                run_id=store.runs[label],
                model_id=store.logged[label],
            )
    # Markdown, as people write it in the registry: card and model page render it the same way.
    client.update_model_version("churn-model", "1", description="Trained on `features_v2`.")
    client.set_registered_model_alias("churn-model", "champion", "1")
    client.set_registered_model_alias("churn-model", "challenger", "2")

    def plain_run(label: str, minute: int) -> str:
        run = client.create_run(exp, start_time=T0 + minute * 60_000, run_name=label)
        rid = run.info.run_id
        client.log_metric(rid, "val_auc", 0.5, timestamp=T0 + minute * 60_000, step=0)
        client.set_terminated(rid, "FINISHED", end_time=T0 + (minute + 1) * 60_000)
        store.runs[label] = rid
        return rid

    rid = plain_run("with-readme", 20)
    client.log_text(rid, README_CARD, "README.md")
    client.create_registered_model("readme-model")
    client.create_model_version("readme-model", f"runs:/{rid}/model", run_id=rid)

    rid = plain_run("to-delete", 21)
    client.create_registered_model("orphan-model")
    client.create_model_version("orphan-model", f"runs:/{rid}/model", run_id=rid)
    client.set_registered_model_alias("orphan-model", "prod", "1")
    client.delete_run(rid)

    rid = plain_run("broken-files", 22)
    client.log_text(rid, "flavors: [unclosed\n", "model/MLmodel")
    client.create_registered_model("broken-model")
    client.create_model_version("broken-model", f"runs:/{rid}/model", run_id=rid)

    client.create_registered_model("empty-model")
    return store
