"""A small real MLflow store for the morning review, monitors, comparisons and charts.

Everything happens at fixed times around SINCE, the reference point the tests use: an old best
and a new best, a regression, a failed and a killed run, a dataset whose digest changes, a sweep
with long histories (NaN points and all), a model whose champion is evaluated daily and degrades,
and hostile names that end up inside chart specs.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Snapshot
from daybook.store.pull import pull

DAY = 86_400_000
T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC
SINCE = T0 + 5 * DAY  # the reference point of the tests
HOSTILE = "</script><script>alert(1)</script><!--\u2028"
HOSTILE_METRIC = "loss</script>\u2029<!--x"


@dataclass
class ReviewStore:
    db_path: Path
    uri: str
    runs: dict[str, str] = field(default_factory=dict)  # label -> run id
    experiments: dict[str, str] = field(default_factory=dict)


def build_review_store(root: Path) -> ReviewStore:
    db = root / "mlflow.db"
    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    info = ReviewStore(db, uri)

    def experiment(name: str) -> str:
        eid = client.create_experiment(name, artifact_location=(root / "art" / name).as_uri())
        info.experiments[name] = eid
        return eid

    def run(label: str, eid: str, name: str, start: int, *, status: str = "FINISHED",
            params: dict[str, str] | None = None, points: dict[str, list[float]] | None = None,
            tags: dict[str, str] | None = None, digest: str | None = None) -> str:  # fmt: skip
        r = client.create_run(eid, start_time=start, run_name=name, tags=tags or {})
        rid = r.info.run_id
        metrics = [Metric(k, v, start + i * 1000, i) for k, vs in (points or {}).items()
                   for i, v in enumerate(vs)]  # fmt: skip
        for i in range(0, max(len(metrics), 1), 900):
            client.log_batch(rid, metrics=metrics[i : i + 900],
                             params=[Param(k, v) for k, v in (params or {}).items()] if i == 0
                             else [], tags=[RunTag(k, v) for k, v in (tags or {}).items()]
                             if i == 0 else [])  # fmt: skip
        if digest:
            ds = Dataset(name="patients", digest=digest, source_type="local",
                         source=f"/data/patients-{digest}.csv")  # fmt: skip
            ctx = [InputTag("mlflow.data.context", "training")]
            client.log_inputs(rid, datasets=[DatasetInput(ds, tags=ctx)])
        if status != "RUNNING":
            client.set_terminated(rid, status, end_time=start + 600_000)
        info.runs[label] = rid
        return rid

    train = experiment("train")
    run("old-best", train, "old-best", T0, params={"lr": "0.1", "depth": "3"},
        points={"val_loss": [0.9, 0.5]}, digest="aaa")  # fmt: skip
    run("old-worse", train, "old-worse", T0 + DAY, params={"lr": "0.3", "depth": "3"},
        points={"val_loss": [0.7]}, digest="aaa")  # fmt: skip
    parent = run("sweep", train, "sweep", T0 + 2 * DAY, params={"search": "grid"},
                 points={"val_loss": [0.55]})  # fmt: skip
    for i, (lr, final) in enumerate([("0.1", 0.6), ("0.01", 0.55), ("0.001", 0.65)]):
        history = [1.0 / (1 + s / 300) + final - 0.1 for s in range(3000)]
        history[100] = math.nan
        history[2000] = 5.0  # a spike downsampling must keep
        run(f"child{i}", train, f"sweep-lr-{lr}", T0 + 2 * DAY + (i + 1) * 60_000,
            params={"lr": lr, "depth": "3"}, points={"val_loss": history, "single": [1.0]},
            tags={"mlflow.parentRunId": parent})  # fmt: skip
    run("new-best", train, "new-best", SINCE + 3_600_000, params={"lr": "0.05", "depth": "3"},
        points={"val_loss": [0.8, 0.4]}, digest="bbb")  # fmt: skip
    run("regression", train, "new-worse", SINCE + 2 * 3_600_000, params={"lr": "0.5"},
        points={"val_loss": [0.9, 0.95]}, digest="bbb")  # fmt: skip
    run("crashed", train, "crashed", SINCE + 3 * 3_600_000, status="FAILED",
        params={"lr": "9"})  # fmt: skip
    run("killed", train, "killed", SINCE + 4 * 3_600_000, status="KILLED",
        points={"val_loss": [2.0]})  # fmt: skip
    run("hostile", train, HOSTILE, SINCE + 5 * 3_600_000, params={"lr": "0.2", "hp": "x"},
        points={"hm": [3.0, 2.0, 1.0], "val_loss": [0.45, math.nan]})  # fmt: skip
    run("empty", train, "no-metrics", SINCE + 6 * 3_600_000)

    mon = experiment("monitoring")
    values = [(1, 0.95), (1, 0.94), (1, 0.95), (2, 0.96), (2, 0.95), (2, 0.92), (2, 0.88)]
    for day, (version, acc) in enumerate(values):
        run(f"eval{day}", mon, f"eval-day{day}", T0 + day * DAY,
            tags={"model_name": "m", "model_version": str(version)},
            points={"accuracy": [acc], "auc": [acc + 0.02]})  # fmt: skip

    client.create_registered_model("m")
    client.create_model_version("m", f"runs:/{info.runs['old-best']}/model",
                                run_id=info.runs["old-best"])  # fmt: skip
    client.create_model_version("m", f"runs:/{info.runs['sweep']}/model",
                                run_id=info.runs["child1"])  # fmt: skip
    client.set_registered_model_alias("m", "champion", "2")
    client.set_registered_model_alias("m", "challenger", "1")
    # MLflow's client refuses such keys, but a store written by other clients (or an older
    # MLflow) may hold them: they are untrusted all the same.
    conn = sqlite3.connect(db)
    with conn:
        rid = info.runs["hostile"]
        for table in ("metrics", "latest_metrics"):
            conn.execute(f"UPDATE {table} SET key = ? WHERE run_uuid = ? AND key = 'hm'",
                         (HOSTILE_METRIC, rid))  # fmt: skip
        conn.execute("UPDATE params SET key = ? WHERE run_uuid = ? AND key = 'hp'", (HOSTILE, rid))
    conn.close()
    return info


# --- fixtures (import them into a test module to use them) ---------------------------------------

REVIEW_CONFIG = """
title: Review test
primary_metrics:
  - experiment: train
    metric: val_loss
  - experiment: monitoring
    metric: accuracy
run_pages:
  all: true
charts:
  max_points: 300
monitors:
  - name: m accuracy
    model: models:/m@champion
    experiment: monitoring
    metric: accuracy
    min: 0.9
    max_drop: "5%"
    warn: {min: 0.93}
  - name: unknown model
    model: models:/mm@champion
    metric: accuracy
    min: 0.5
  - name: unknown metric
    experiment: monitoring
    metric: acuracy
    min: 0.5
"""


@pytest.fixture(scope="session")
def review_store(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> ReviewStore:
    root = tmp_path_factory.mktemp("review-store")
    with contextlib.chdir(root):
        return build_review_store(root)


@pytest.fixture(scope="session")
def review_config() -> DaybookConfig:
    import yaml

    return DaybookConfig.model_validate(yaml.safe_load(REVIEW_CONFIG))


@pytest.fixture(scope="session")
def review_snapshot(review_store: ReviewStore, review_config: DaybookConfig) -> Snapshot:
    return pull(review_config, review_store.uri)
