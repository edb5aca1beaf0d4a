"""A wide experiment for the tests of issue #15, written with MLflow's real client.

Smaller than the issue's 300 runs × 2,000 params × 500 metrics (the benchmark builds that one:
benchmarks/make_wide_store.py) so the browser tests stay quick, but shaped the same: most params
are equal in every run, a few vary, keys come in prefix groups (`model.`, `optimizer.`) and
without one, and one run is a sweep parent with children. Hostile names are among the keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric, Param

T0 = 1_764_000_000_000
RUNS = 30
SWEEP_CHILDREN = 12  # runs 1..12 are children of run 0
HOSTILE_KEY = "model.a b:c/d"  # every character MLflow allows in a key beyond letters
HOSTILE_VALUE = "<b onclick=__pwned=1>bold</b>"  # short: a table cell keeps 40 characters


def param_keys() -> list[str]:
    """300 keys: 25 `model.` (one with a space, a colon and a slash), 25 `optimizer.`, 250
    `p000`..`p249`."""
    keys = [f"model.k{i:02d}" for i in range(24)] + [HOSTILE_KEY]
    keys += [f"optimizer.k{i:02d}" for i in range(25)]
    keys += [f"p{i:03d}" for i in range(250)]
    return keys


def metric_keys() -> list[str]:
    """60 keys: `acc` (the primary), `val.m01`..`val.m19`, `m20`..`m59`."""
    return ["acc"] + [f"val.m{i:02d}" for i in range(1, 20)] + [f"m{i:02d}" for i in range(20, 60)]


def varies(key: str) -> bool:
    """Which params differ between runs: a few of each group, and the last one."""
    return key in ("model.k00", "optimizer.k03", "p000", "p001", "p002", "p249", HOSTILE_KEY)


def param_value(key: str, run: int) -> str:
    if key == HOSTILE_KEY:
        return HOSTILE_VALUE if run % 2 else "plain"
    return f"{key}-v{run}" if varies(key) else f"{key}-same"


def metric_value(key: str, run: int) -> float:
    return round(0.5 + run / 100 + metric_keys().index(key) / 10_000, 6)


@dataclass
class WideStore:
    uri: str
    experiment: str = "wide"
    runs: dict[int, str] = field(default_factory=dict)  # index -> run id
    names: dict[int, str] = field(default_factory=dict)


def build_wide_store(root: Path) -> WideStore:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    store = WideStore(uri)
    eid = client.create_experiment(store.experiment, artifact_location=(root / "art").as_uri())
    for i in range(RUNS):
        tags = {"mlflow.user": "alice"}
        if 1 <= i <= SWEEP_CHILDREN:
            tags["mlflow.parentRunId"] = store.runs[0]
        name = "sweep" if i == 0 else f"run-{i:02d}"
        run = client.create_run(eid, start_time=T0 + i * 60_000, tags=tags, run_name=name)
        rid = run.info.run_id
        store.runs[i], store.names[i] = rid, name
        params = [Param(k, param_value(k, i)) for k in param_keys()]
        for at in range(0, len(params), 100):  # MLflow takes 100 params a batch
            client.log_batch(rid, params=params[at : at + 100])
        client.log_batch(
            rid,
            metrics=[Metric(k, metric_value(k, i), T0 + i * 60_000, 0) for k in metric_keys()],
        )
        client.set_terminated(rid, "FINISHED", end_time=T0 + i * 60_000 + 30_000)
    return store
