"""`Redactor.runs`, the batch check of a snapshot's runs, masks exactly what the general walk
masks: it only decides, set against set, which runs the walk needs to see."""

from __future__ import annotations

from daybook.core.snapshot import DatasetInput, Run
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
        "metrics": {"loss": 0.5},
        "tags": {"mlflow.user": "ada"},
    }
    base.update(fields)
    return Run(**base)  # type: ignore[arg-type]


def test_runs_with_a_secret_anywhere_are_masked_as_the_walk_masks_them() -> None:
    runs = [_run(i) for i in range(100)]
    runs[3] = _run(3, name=f"run {GITHUB}")
    runs[5] = _run(5, params={"lr": "0.1", "password": "hunter2"})
    runs[7] = _run(7, tags={"note": f"token {GITHUB}"})
    runs[9] = _run(9, metrics={f"m_{GITHUB}": 1.0})
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


def test_runs_with_no_name_and_a_local_artifact_path_are_masked_as_the_walk_masks_them(
    tmp_path,
) -> None:
    """The column-by-column pass (only plain fields change): a run whose changed field is not a
    string goes through the walk; the rest are new runs of the same fields but the rewritten
    one, the unchanged ones the very same objects."""
    store = tmp_path / "store"
    runs = [_run(i, artifact_uri=(store / "art" / str(i)).as_uri()) for i in range(20)]
    runs[4] = _run(4, name=None, artifact_uri=(store / "art" / "4").as_uri())
    runs.append(_run(20))  # nothing local in it
    paths = LocalPaths.of(tmp_path / "site", store)
    masked = Redactor(paths=paths).runs(runs)
    assert masked == [Redactor(paths=paths).value(r) for r in runs]
    assert masked[4].name is None and masked[4].artifact_uri == "art/4"
    assert [r.artifact_uri for r in masked[:3]] == ["art/0", "art/1", "art/2"]
    assert masked[20] is runs[20]


def test_values_a_pull_masked_with_the_same_settings_are_not_scanned_again(tmp_path) -> None:
    """`after(masked_by)`: a snapshot masked by this very masking (the settings and the code of
    the scanner) only has its local paths rewritten; any other mark, or none, is scanned."""
    paths = LocalPaths.of(tmp_path, None)
    publish = Redactor(("password",), paths=paths)
    # A string only a scan would change (no pull masking leaves one; here it shows the scan is
    # skipped), and a local path.
    runs = [_run(1, name=f"run {GITHUB}", artifact_uri=(tmp_path / "a").as_uri())]
    trusted = publish.after(publish.masking)
    assert trusted is not publish
    [same] = trusted.runs(runs)
    assert same.name == f"run {GITHUB}" and same.artifact_uri == "a"
    for mark in ("", Redactor(("password", "token")).masking, "sha256:" + "0" * 64):
        assert publish.after(mark) is publish
        [scanned] = publish.after(mark).runs(runs)
        assert GITHUB not in scanned.name and scanned.artifact_uri == "a"
    # The mark names the settings: other patterns or value shapes are another masking.
    assert len({Redactor().masking, Redactor(("password",)).masking,
                Redactor(extra_shapes=(r"sk-\w+",)).masking}) == 3  # fmt: skip
