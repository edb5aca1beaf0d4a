"""Builds the test suite's MLflow store with MLflow's real client (no mocks, no fakes).

Hostile values on purpose: names with `|`, newlines, HTML and Markdown; a secret param; a
description with raw HTML, a script link and an attr_list trick; NaN and infinite metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC, fixed so pages are comparable across runs

HOSTILE_RUN_NAME = "<img src=x onerror=alert(1)>"
PIPE_RUN_NAME = "a|b\nc"
SCRIPT_TAG = "<script>alert('tag')</script>"
HOSTILE_DESCRIPTION = (
    "Baseline **run**.\n\n<b onclick=alert(1)>raw html</b>\n\n"
    "[click](javascript:alert(1)) and [docs](https://example.org/docs)\n\n"
    '# Heading {: onclick=alert(2) }\n\n--8<-- "/etc/passwd"\n\n![pic](http://tracker.example/x.png)'
)
SECRET_VALUE = "sk-live-THIS-MUST-NOT-APPEAR"


@dataclass
class StoreInfo:
    db_path: Path
    artifact_root: Path
    uri: str
    runs: dict[str, str] = field(default_factory=dict)  # label -> run id
    experiments: dict[str, str] = field(default_factory=dict)  # name -> id


def build_store(root: Path) -> StoreInfo:
    db = root / "mlflow.db"
    artifacts = root / "artifacts"
    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    info = StoreInfo(db, artifacts, uri)

    def experiment(name: str, description: str = "") -> str:
        eid = client.create_experiment(
            name, artifact_location=(artifacts / name.replace("/", "_")).as_uri()
        )
        if description:
            client.set_experiment_tag(eid, "mlflow.note.content", description)
        info.experiments[name] = eid
        return eid

    def run(
        label: str,
        eid: str,
        name: str,
        *,
        start: int,
        minutes: int = 5,
        status: str = "FINISHED",
        params: dict[str, str] | None = None,
        metrics: dict[str, list[float]] | None = None,
        tags: dict[str, str] | None = None,
        user: str = "alice",
    ) -> str:
        all_tags = {"mlflow.user": user, **(tags or {})}
        r = client.create_run(eid, start_time=start, tags=all_tags, run_name=name)
        rid = r.info.run_id
        batch_metrics = [
            Metric(k, v, start + i * 1000, i)
            for k, vals in (metrics or {}).items()
            for i, v in enumerate(vals)
        ]
        client.log_batch(
            rid,
            metrics=batch_metrics,
            params=[Param(k, v) for k, v in (params or {}).items()],
            tags=[RunTag(k, v) for k, v in (tags or {}).items()],
        )
        if status != "RUNNING":
            client.set_terminated(rid, status, end_time=start + minutes * 60_000)
        info.runs[label] = rid
        return rid

    cls = experiment("classifier", "Digits classifier: *which* model wins?")
    info.runs["parent"] = run(
        "parent",
        cls,
        "sweep",
        start=T0,
        minutes=30,
        params={"search": "grid"},
        metrics={"val_accuracy": [0.93]},
    )
    for i, (lr, acc) in enumerate([(0.1, 0.91), (0.05, 0.95), (0.01, 0.88)]):
        run(
            f"child{i}",
            cls,
            f"sweep-lr-{lr}",
            start=T0 + (i + 1) * 60_000,
            minutes=8,
            params={"learning_rate": str(lr), "max_depth": "3"},
            metrics={"val_accuracy": [0.5, 0.7, acc], "train_loss": [1.0, 0.5, 0.2]},
            tags={"mlflow.parentRunId": info.runs["parent"]},
        )
    run(
        "hostile",
        cls,
        HOSTILE_RUN_NAME,
        start=T0 + 10 * 60_000,
        params={"learning_rate": "0.2", "api_token": SECRET_VALUE, "note": "x|y\n<b>bold</b>"},
        metrics={"val_accuracy": [0.97]},
        tags={
            "team": SCRIPT_TAG,
            "mlflow.note.content": HOSTILE_DESCRIPTION,
            "mlflow.source.git.commit": "0123456789abcdef0123456789abcdef01234567",
        },
        user="<b>mallory</b>",
    )
    run("pipe", cls, PIPE_RUN_NAME, start=T0 + 11 * 60_000, metrics={"val_accuracy": [0.6]})
    run(
        "failed",
        cls,
        "crashed",
        start=T0 + 12 * 60_000,
        status="FAILED",
        params={"learning_rate": "9"},
    )
    run(
        "running",
        cls,
        "still-going",
        start=T0 + 13 * 60_000,
        status="RUNNING",
        metrics={"val_accuracy": [0.4, 0.45]},
    )
    run(
        "nan",
        cls,
        "nan-metrics",
        start=T0 + 14 * 60_000,
        metrics={"val_accuracy": [math.nan], "odd": [math.inf]},
    )

    reg = experiment("regression")
    for i, rmse in enumerate([3.0, 2.5, 2.7]):
        rid = run(
            f"reg{i}",
            reg,
            f"ridge-{i}",
            start=T0 + (20 + i) * 60_000,
            user="bob",
            params={"alpha": str(1 + i)},
            metrics={"val_rmse": [5.0, rmse], "val_r2": [0.1, 0.5 + i / 10]},
        )
        ds = Dataset(
            name="diabetes",
            digest=f"d1g35t{i}",
            source_type="local",
            source=f"/data/diabetes-v{i}.csv",
        )
        client.log_inputs(
            rid, datasets=[DatasetInput(ds, tags=[InputTag("mlflow.data.context", "training")])]
        )
    # Two experiments whose names share a slug.
    experiment("My Model")
    experiment("my-model")
    run(
        "same1", info.experiments["My Model"], "r", start=T0 + 40 * 60_000, metrics={"score": [1.0]}
    )
    run(
        "same2", info.experiments["my-model"], "r", start=T0 + 41 * 60_000, metrics={"score": [2.0]}
    )

    client.log_text(info.runs["child1"], "confusion matrix\n", "reports/confusion.txt")

    client.create_registered_model(
        "digits-clf",
        description="Digits classifier.\n\n<script>x</script>",
        tags={"owner": "alice", "secret_key": SECRET_VALUE},
    )
    for label in ("child0", "child1", "hostile"):
        client.create_model_version(
            "digits-clf", f"runs:/{info.runs[label]}/model", run_id=info.runs[label]
        )
    client.set_registered_model_alias("digits-clf", "champion", "2")
    client.set_registered_model_alias("digits-clf", "challenger", "3")
    client.create_registered_model("empty-model")
    return info


def build_deleted_store(root: Path) -> StoreInfo:
    """A small store where some things were deleted through MLflow: a run, a whole experiment
    (with its run) and a model version. Labels of what must survive start with `kept`."""
    db = root / "mlflow.db"
    artifacts = root / "artifacts"
    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    info = StoreInfo(db, artifacts, uri)
    for name in ("kept-exp", "gone-exp"):
        info.experiments[name] = client.create_experiment(
            name, artifact_location=(artifacts / name).as_uri()
        )
    for label, exp, minute in [
        ("kept-run", "kept-exp", 0),
        ("deleted-run", "kept-exp", 1),
        ("run-of-gone", "gone-exp", 2),
    ]:
        r = client.create_run(
            info.experiments[exp], start_time=T0 + minute * 60_000, run_name=label
        )
        client.log_metric(r.info.run_id, "loss", 1.0 + minute, timestamp=T0, step=0)
        client.set_terminated(r.info.run_id, "FINISHED", end_time=T0 + (minute + 1) * 60_000)
        info.runs[label] = r.info.run_id
    client.delete_run(info.runs["deleted-run"])
    client.delete_experiment(info.experiments["gone-exp"])
    client.create_registered_model("m")
    for label in ("kept-run", "kept-run"):
        client.create_model_version("m", f"runs:/{info.runs[label]}/model", run_id=info.runs[label])
    client.set_registered_model_alias("m", "prod", "1")
    client.delete_model_version("m", "2")
    client.create_registered_model("gone-model")
    client.delete_registered_model("gone-model")
    return info
