"""`Redactor.runs`, the batch check of a snapshot's runs, masks exactly what the general walk
masks: it only decides, set against set, which runs the walk needs to see."""

from __future__ import annotations

from daybook.core.snapshot import DatasetInput, Metric, Run
from daybook.safety.paths import LocalPaths
from daybook.safety.redact import MASK, Redactor

GITHUB = "ghp_" + "K3y" * 12


def _run(i: int, **fields: object) -> Run:
    base: dict[str, object] = {
        "run_id": f"{i:032x}",
        "experiment_id": "1",
        "name": f"run-{i}",
        "status": "FINISHED",
        "start_time": 1,
        "end_time": 2,
        "user": "ada",
        "artifact_uri": f"s3://bucket/{i}",
        "params": {"lr": "0.1"},
        "metrics": {"loss": Metric("loss", 0.5, 1, 0)},
        "tags": {"mlflow.user": "ada"},
    }
    base.update(fields)
    return Run(**base)  # type: ignore[arg-type]


def test_runs_with_a_secret_anywhere_are_masked_as_the_walk_masks_them() -> None:
    runs = [_run(i) for i in range(100)]
    runs[3] = _run(3, name=f"run {GITHUB}")
    runs[5] = _run(5, params={"lr": "0.1", "password": "hunter2"})
    runs[7] = _run(7, tags={"note": f"token {GITHUB}"})
    runs[9] = _run(9, metrics={f"m_{GITHUB}": Metric(f"m_{GITHUB}", 1.0, 0, 0)})
    runs[11] = _run(11, datasets=(DatasetInput("d", "x", "s3", f"https://u:{GITHUB}@h/x", "t"),))
    masked = Redactor().runs(runs)
    walked = [Redactor().value(r) for r in runs]
    assert masked == walked
    for i in (3, 5, 7, 9, 11):
        assert masked[i] is not runs[i]
        assert GITHUB not in repr(masked[i]) and "hunter2" not in repr(masked[i])
    assert masked[5].params["password"] == MASK
    assert all(masked[i] is runs[i] for i in range(100) if i not in (3, 5, 7, 9, 11))


def test_a_local_artifact_path_is_rewritten_and_the_rest_of_the_run_kept(tmp_path) -> None:
    store = tmp_path / "store"
    runs = [_run(i, artifact_uri=(store / "art" / str(i)).as_uri()) for i in range(50)]
    runs.append(_run(50, tags={"note": f"see {store}/x and {GITHUB}"}))
    publish = Redactor(paths=LocalPaths.of(tmp_path / "site", store))
    masked = publish.runs(runs)
    assert masked == [
        Redactor(paths=LocalPaths.of(tmp_path / "site", store)).value(r) for r in runs
    ]
    assert [r.artifact_uri for r in masked[:2]] == ["art/0", "art/1"]
    assert all(
        m.params is r.params and m.metrics is r.metrics for m, r in zip(masked, runs, strict=True)
    )
    assert str(tmp_path) not in repr(masked) and GITHUB not in repr(masked)


def test_a_snapshot_walk_checks_its_runs_in_one_batch() -> None:
    runs = (_run(1), _run(2, user=GITHUB))
    masked = Redactor().value(runs)
    assert type(masked) is tuple
    assert masked[0] is runs[0]
    assert GITHUB not in masked[1].user and MASK in masked[1].user


def test_a_string_found_free_of_secrets_by_the_pull_still_has_its_paths_rewritten(
    tmp_path,
) -> None:
    """The pull's redactor and the publishing one share what the scanner found clean; the
    paths are still the publishing redactor's to rewrite, and a secret is never remembered."""
    local = f"{tmp_path}/data/train.csv"
    leaky = f"{tmp_path}/data/{GITHUB}.csv"
    pull = Redactor(("password", "token"))
    assert pull.text(local) == local
    assert GITHUB not in pull.text(leaky)
    publish = Redactor(("password", "token"), paths=LocalPaths.of(tmp_path, None))
    assert publish.text(local) == "data/train.csv"
    assert publish.text(leaky) == f"data/{MASK}.csv"
