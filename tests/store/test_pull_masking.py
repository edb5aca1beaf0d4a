"""A pull masks every text of every run it reads, and gives exactly what the general masking walk
(daybook.safety.redact) gives: its quick check of runs without secrets (store/pull.py `_Masker`)
only decides that nothing changes, never what is masked."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.data import from_pandas
from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag

from daybook.core.config import DaybookConfig
from daybook.safety.redact import MASK, Redactor
from daybook.sources.mlflow import open_reader
from daybook.store.pull import _Masker, current_settings, refresh
from daybook.store.snapshot_file import load

GITHUB = "ghp_" + "K3y" * 12
GITLAB = "glpat-" + "Zx9" * 8
OPENAI = "sk-proj-" + "Ab1" * 8
SECRETS = (GITHUB, GITLAB, OPENAI, "hunter2-pw")


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store whose runs hold secrets in every kind of text a run has, beside a clean run."""
    root = tmp_path_factory.mktemp("leaky")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with contextlib.chdir(root):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        exp = client.create_experiment("leaks", artifact_location=(root / "art").as_uri())
        ds = from_pandas(pd.DataFrame({"x": [1]}), source=f"https://u:{GITLAB}@data.example/x.csv",
                         name=f"set {OPENAI}")  # fmt: skip
        for name, params, tags, metric in (
            (f"run {GITHUB}", {"lr": "0.1", "password": "hunter2-pw"},
             {"mlflow.user": "ada", "note": f"token={OPENAI}"}, "loss"),
            ("clean", {"lr": "0.2", "password": "••••••"}, {"mlflow.user": "bob"}, "loss"),
            ("odd metric", {"lr": "0.3"}, {"mlflow.user": f"{GITHUB}"}, f"m_{GITHUB}"),
        ):  # fmt: skip
            run = client.create_run(exp, run_name=name)
            rid = run.info.run_id
            client.log_batch(
                rid,
                metrics=[Metric(metric, 0.5, 1, 0)],
                params=[Param(k, v) for k, v in params.items()],
                tags=[RunTag(k, v) for k, v in tags.items()],
            )
            if name.startswith("run"):
                context = [InputTag("mlflow.data.context", "training")]
                client.log_inputs(rid, datasets=[DatasetInput(ds._to_mlflow_entity(), context)])
            client.set_terminated(rid, "FINISHED")
        client.create_registered_model("m", tags={"owner": "ada", "deploy_note": "plain"})
    return uri


def test_a_pull_masks_secrets_in_every_text_of_a_run(leaky: str, tmp_path: Path) -> None:
    config = DaybookConfig()
    snap = refresh(config, leaky, tmp_path / "snapshot.json.gz", full=True).snapshot
    assert {r.name for r in snap.runs} == {f"run {MASK}", "clean", "odd metric"}
    text = repr(snap.runs) + (tmp_path / "snapshot.json.gz").read_bytes().decode("latin-1")
    for secret in SECRETS:
        assert secret not in repr(snap.runs)
    assert MASK in text
    leaky_run = next(r for r in snap.runs if r.name.startswith("run "))
    assert leaky_run.params == {"lr": "0.1", "password": MASK}
    assert leaky_run.tags["note"] == f"token={MASK}"
    assert [d.name for d in leaky_run.datasets] == [f"set {MASK}"]
    assert GITLAB not in leaky_run.datasets[0].source and MASK in leaky_run.datasets[0].source
    odd = next(r for r in snap.runs if r.name == "odd metric")
    assert odd.tags["mlflow.user"] == MASK and list(odd.metrics) == [f"m_{MASK}"]


def test_what_a_pull_masks_is_what_the_general_walk_masks(leaky: str, tmp_path: Path) -> None:
    config = DaybookConfig()
    snap = refresh(config, leaky, tmp_path / "snapshot.json.gz", full=True).snapshot
    reader = open_reader(leaky)
    try:
        raw = sorted(reader.read_runs([e.experiment_id for e in snap.experiments]),
                     key=lambda r: r.run_id)  # fmt: skip
    finally:
        reader.close()
    walk = Redactor.for_config(config)
    assert list(snap.runs) == [walk.value(r) for r in raw]
    clean = next(r for r in raw if r.name == "clean")
    assert walk.value(clean) is clean  # nothing to mask: the very same object


def test_masking_runs_in_a_batch_leaves_the_runs_without_secrets_as_they_are(leaky: str) -> None:
    """`_Masker.runs` checks every distinct string of a batch once; only the runs holding one
    that masking changes are walked, and each comes out as the walk alone makes it."""
    reader = open_reader(leaky)
    try:
        raw = reader.read_runs([e.experiment_id for e in reader.read_experiments()])
    finally:
        reader.close()
    masked = _Masker(DaybookConfig()).runs(raw)
    walk = Redactor.for_config(DaybookConfig())
    assert masked == [walk.value(r) for r in raw]
    same = {r.name for r, m in zip(raw, masked, strict=True) if m is r}
    assert same == {"clean"}  # its `password` key is secret, but its value is already masked


def test_an_offline_build_with_new_patterns_masks_model_tags_too(
    leaky: str, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.json.gz"
    refresh(DaybookConfig(), leaky, path, full=True)
    stored = load(path)
    [model] = stored.snapshot.models
    assert model.tags["deploy_note"] == "plain"
    now = current_settings(stored, DaybookConfig(redact=["*note", "password"]))
    [model] = now.models
    assert model.tags == {"owner": "ada", "deploy_note": MASK}
    assert {r.tags.get("note") for r in now.runs} == {MASK, None}


def test_a_snapshot_names_the_masking_it_went_through_and_keeps_it_in_its_file(
    leaky: str, tmp_path: Path
) -> None:
    """`masked_by` lets the publishing pass skip a second scan (`Redactor.after`); it is set by
    the pass that masked, saved with the snapshot, and changes with the settings."""
    path = tmp_path / "snapshot.json.gz"
    config = DaybookConfig()
    pulled = refresh(config, leaky, path, full=True).snapshot
    masking = Redactor.for_config(config).masking
    assert pulled.masked_by == masking
    stored = load(path)
    assert stored.snapshot.masked_by == masking
    assert current_settings(stored, config).masked_by == masking
    stricter = DaybookConfig(redact=["*note", "password"])
    now = current_settings(stored, stricter)
    assert now.masked_by == Redactor.for_config(stricter).masking != masking
