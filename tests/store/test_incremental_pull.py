"""Incremental pulls against a copy of the fixture store changed with MLflow's real client: they
fetch only what changed, report it, and end with the very snapshot a full pull would give.
And `--offline`: a build from the saved snapshot that never touches the store."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric

from daybook.core.config import DaybookConfig, ExperimentFilter, RunPages
from daybook.pages.render import when
from daybook.store.pull import PullResult, current_settings, update
from daybook.store.snapshot_file import StoredSnapshot, dumps, load, loads, snapshot_path
from helpers import error_lines, parse_html, read_tree, run_cli, snapshot_data
from store_builder import StoreInfo

DEFAULT = DaybookConfig()


@pytest.fixture
def copy(tmp_path: Path, store: StoreInfo) -> StoreInfo:
    """A private copy of the fixture store (its artifacts stay where they are, read-only)."""
    root = tmp_path / "store"
    root.mkdir()
    shutil.copy2(store.db_path, root / "mlflow.db")
    db = root / "mlflow.db"
    return dataclasses.replace(
        store, db_path=db, uri=f"sqlite:///{db}", runs=dict(store.runs),
        experiments=dict(store.experiments),
    )  # fmt: skip


def client(info: StoreInfo) -> MlflowClient:
    return MlflowClient(tracking_uri=info.uri, registry_uri=info.uri)


@contextlib.contextmanager
def writing(info: StoreInfo):
    """MLflow's client, with whatever it leaves behind kept beside the store."""
    with contextlib.chdir(info.db_path.parent):
        yield client(info)


def add_run(c: MlflowClient, experiment_id: str, name: str, metrics: dict[str, list[float]]) -> str:
    """A finished run started now (as a logging client starts one)."""
    rid = c.create_run(experiment_id, run_name=name).info.run_id
    points = [Metric(k, v, 1_000 + i, i) for k, vals in metrics.items() for i, v in enumerate(vals)]
    c.log_batch(rid, metrics=points)
    c.set_terminated(rid, "FINISHED")
    return rid


def change(info: StoreInfo) -> dict[str, str]:
    """Two new runs (one leads the classifier, one has no metric and gets no page), the RUNNING
    run finishes with one more point, and a run is deleted."""
    with writing(info) as c:
        best = add_run(c, info.experiments["classifier"], "new-best", {"val_accuracy": [0.9, 0.99]})
        plain = add_run(c, info.experiments["regression"], "new-plain", {})
        c.log_metric(info.runs["running"], "val_accuracy", 0.5, timestamp=2_000, step=2)
        c.set_terminated(info.runs["running"], "FINISHED")
        c.delete_run(info.runs["pipe"])
    return {"best": best, "plain": plain}


def incremental(
    config: DaybookConfig, info: StoreInfo, base: StoredSnapshot, **kw: object
) -> PullResult:
    base = loads(dumps(base))  # as `daybook pull` gets it: from the file
    result = update(config, info.uri, base, **kw)  # type: ignore[arg-type]
    assert not result.report.full, result.report.reason
    return result


def assert_same_as_full(result: PullResult, config: DaybookConfig, info: StoreInfo, **kw) -> None:
    """The invariant: what an incremental pull ends with is what a full pull reads."""
    full = update(config, info.uri, None, **kw)
    assert snapshot_data(result.snapshot) == snapshot_data(full.snapshot)
    assert result.stored.detail_runs == full.stored.detail_runs
    # and the same file, though the incremental save kept the parts it loaded unchanged
    assert parts(dumps(result.stored)) == parts(dumps(full.stored))


def parts(data: bytes) -> bytes:
    """A snapshot file's runs and histories: the gzip members after the head."""
    unzip = zlib.decompressobj(wbits=31)
    unzip.decompress(data)
    return unzip.unused_data


# --- what an incremental pull reads ---------------------------------------------------------------


@pytest.mark.parametrize("force_client", [False, True], ids=["sql-index", "client-search"])
def test_an_incremental_pull_reads_only_what_changed(copy: StoreInfo, force_client: bool) -> None:
    first = update(DEFAULT, copy.uri, None, force_client=force_client)
    assert first.report.full and first.report.reason == "first pull"
    page_runs = first.stored.detail_runs
    assert {copy.runs["running"], copy.runs["pipe"]} <= page_runs
    new = change(copy)

    result = incremental(DEFAULT, copy, first.stored, force_client=force_client)
    report = result.report
    # Either way, decided from the saved index and policy memo: no saved run decoded but those
    # that changed or went.
    assert report.from_index
    assert (report.new_runs, report.updated_runs, report.deleted_runs) == (2, 1, 1)
    assert report.fetched_runs == 3  # the two new runs and the one that was still running
    # Histories for the new leader and the run that finished; every other page run reused.
    assert report.histories_read == 2
    assert report.histories_reused == len(page_runs) - 2  # less the deleted and finished runs
    assert len(result.stored.detail_runs) == len(page_runs) - 1 + 1  # pipe out, new-best in
    assert report.summary() == (
        "incremental pull: 2 new runs, 1 updated, 1 deleted (15 runs in 5 experiments); "
        f"histories for 2 runs ({report.histories_reused} reused)"
    )
    snap = result.snapshot
    ids = {r.run_id for r in snap.runs}
    assert new["best"] in ids and new["plain"] in ids and copy.runs["pipe"] not in ids
    assert new["best"] in result.stored.detail_runs
    assert new["plain"] not in result.stored.detail_runs  # no metric, no page
    [hist] = [h for h in snap.histories[copy.runs["running"]] if h.key == "val_accuracy"]
    assert hist.values == pytest.approx((0.4, 0.45, 0.5))
    assert_same_as_full(result, DEFAULT, copy, force_client=force_client)

    again = incremental(DEFAULT, copy, result.stored, force_client=force_client).report
    assert (again.new_runs, again.updated_runs, again.deleted_runs) == (0, 0, 0)
    assert (again.fetched_runs, again.histories_read) == (
        (0, 0) if not force_client else (3, 0)  # a search looks back an hour before the pull
    )


@pytest.mark.parametrize("force_client", [False, True], ids=["sql-index", "client-search"])
def test_a_deleted_experiment_takes_its_runs_with_it(copy: StoreInfo, force_client: bool) -> None:
    first = update(DEFAULT, copy.uri, None, force_client=force_client)
    with writing(copy) as c:
        c.delete_experiment(copy.experiments["regression"])
    result = incremental(DEFAULT, copy, first.stored, force_client=force_client)
    assert result.report.deleted_runs == 3
    assert "regression" not in {e.name for e in result.snapshot.experiments}
    assert_same_as_full(result, DEFAULT, copy, force_client=force_client)


def test_a_restored_run_comes_back(copy: StoreInfo) -> None:
    with writing(copy) as c:
        c.delete_run(copy.runs["reg0"])
    first = update(DEFAULT, copy.uri, None)
    with writing(copy) as c:
        c.restore_run(copy.runs["reg0"])
    result = incremental(DEFAULT, copy, first.stored)
    assert result.report.new_runs == 1
    assert_same_as_full(result, DEFAULT, copy)


def test_runs_that_newly_get_a_page_have_their_histories_read(copy: StoreInfo) -> None:
    """The page policy is applied at every pull: runs that rise into it (here: a bigger top N,
    and a run a note mentions) have their details read, the rest are reused."""
    narrow = DaybookConfig(run_pages=RunPages(top=1, parents=False, registered=False))
    first = update(narrow, copy.uri, None)
    wide = DaybookConfig(run_pages=RunPages(top=3, parents=False, registered=False))
    mentioned = copy.runs["failed"][:10]  # notes may name a run by an id prefix
    result = incremental(wide, copy, first.stored, extra_page_runs=[mentioned])
    assert not result.report.from_index  # the saved memo kept the best 2 × 1: decided anew
    added = result.stored.detail_runs - first.stored.detail_runs
    assert copy.runs["failed"] in added
    assert result.report.histories_read == len(added)
    assert result.report.histories_reused == len(first.stored.detail_runs)
    assert_same_as_full(result, wide, copy, extra_page_runs=[mentioned])


def test_settings_that_change_what_is_kept_force_a_full_pull(copy: StoreInfo) -> None:
    first = update(DEFAULT, copy.uri, None).stored
    other = DaybookConfig(experiments=ExperimentFilter(exclude=["regression"]))
    report = update(other, copy.uri, first).report
    assert report.full
    assert report.reason == "the experiment filter or the redaction patterns changed"
    assert report.deleted_runs == 3  # counted against the previous snapshot all the same
    masked = DaybookConfig(redact=[*DEFAULT.redact, "learning_rate"])
    assert update(masked, copy.uri, first).report.full


def test_another_store_forces_a_full_pull(copy: StoreInfo, store: StoreInfo) -> None:
    first = update(DEFAULT, store.uri, None).stored
    report = update(DEFAULT, copy.uri, first).report
    assert report.full and report.reason.startswith("the tracking URI changed")


def test_a_snapshot_from_another_daybook_version_forces_a_full_pull(copy: StoreInfo) -> None:
    first = dataclasses.replace(update(DEFAULT, copy.uri, None).stored, daybook="0.0.1")
    report = update(DEFAULT, copy.uri, first).report
    assert report.full and report.reason == "the snapshot was written by Daybook 0.0.1"


def test_a_snapshot_masked_by_other_rules_forces_a_full_pull(copy: StoreInfo) -> None:
    """The pull marks the whole snapshot with its masking, which the publishing pass trusts:
    runs kept from a snapshot masked otherwise (or not marked: an older file) are read again."""
    first = update(DEFAULT, copy.uri, None).stored
    for mark in ("", "sha256:older"):
        held = dataclasses.replace(first.held, masked_by=mark)
        report = update(DEFAULT, copy.uri, loads(dumps(dataclasses.replace(first, held=held))))
        assert report.report.full
        assert report.report.reason == "the snapshot was masked by other rules (an older Daybook)"
        assert report.snapshot.masked_by == first.held.masked_by


# --- the CLI: pull, then build with or without the store ------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    assert run_cli("init", root).returncode == 0
    return root


def test_daybook_pull_reports_what_it_refetched(site: Path, copy: StoreInfo) -> None:
    first = run_cli("pull", "-C", site, "--tracking-uri", copy.uri)
    assert first.returncode == 0, first.stderr
    assert "full pull (no snapshot yet): 14 runs in 5 experiments" in first.stderr
    assert f"saved the snapshot to {snapshot_path(site)}" in first.stderr
    change(copy)
    second = run_cli("pull", "-C", site, "--tracking-uri", copy.uri)
    assert second.returncode == 0, second.stderr
    assert (
        "incremental pull: 2 new runs, 1 updated, 1 deleted (15 runs in 5 experiments); "
        "histories for 2 runs" in second.stderr
    )
    full = run_cli("pull", "--full", "-C", site, "--tracking-uri", copy.uri)
    assert "full pull (--full): 15 runs in 5 experiments" in full.stderr


def test_an_offline_build_reads_no_store_and_says_how_old_its_data_is(
    site: Path, copy: StoreInfo, tmp_path: Path
) -> None:
    online = tmp_path / "online"
    result = run_cli("generate", "-q", "-C", site, "--tracking-uri", copy.uri, "--out", online)
    assert result.returncode == 0, result.stderr
    pulled_at = load(snapshot_path(site)).pulled_at
    shutil.rmtree(copy.db_path.parent)  # the store is gone: an offline build must not care
    gone = f"sqlite:///{copy.db_path}"

    offline = tmp_path / "offline"
    result = run_cli("generate", "--offline", "-C", site, "--tracking-uri", gone, "--out", offline)
    assert result.returncode == 0, result.stderr
    assert "offline: the snapshot of" in result.stderr
    a, b = read_tree(online), read_tree(offline)
    assert set(a) == set(b)
    assert [p for p in a if a[p] != b[p]] == ["index.md"]
    home = b["index.md"].decode()
    assert '!!! info "Data as of ' in home and "Data as of" not in a["index.md"].decode()

    result = run_cli("build", "-q", "--strict", "--offline", "-C", site, "--tracking-uri", gone)
    assert result.returncode == 0, result.stderr
    text = parse_html(site / "site" / "index.html").text
    assert f"Data as of {when(pulled_at)}" in text
    assert not copy.db_path.parent.exists()  # nothing recreated the store's folder


def test_mkdocs_build_offline_gives_the_same_site_as_daybook_build_offline(
    site: Path, store: StoreInfo, tmp_path: Path
) -> None:
    """The gen-files script honours DAYBOOK_OFFLINE, so a plain `mkdocs build` (or `serve`)
    can run from the snapshot too, byte for byte the same."""
    assert run_cli("pull", "-q", "-C", site, "--tracking-uri", store.uri).returncode == 0
    result = run_cli("build", "-q", "--offline", "-C", site, "--site-dir", tmp_path / "a")
    assert result.returncode == 0, result.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(DAYBOOK_OFFLINE="1", MLFLOW_TRACKING_URI="sqlite:////nonexistent/mlflow.db")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(tmp_path / "b")],
        cwd=site, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    html_a = {k: v for k, v in read_tree(tmp_path / "a").items() if k.endswith(".html")}
    html_b = {k: v for k, v in read_tree(tmp_path / "b").items() if k.endswith(".html")}
    assert html_a and html_a == html_b


def test_offline_without_a_snapshot_is_one_line(site: Path, tmp_path: Path) -> None:
    result = run_cli("generate", "--offline", "-C", site, "--out", tmp_path / "out")
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line == (
        f"Error: {snapshot_path(site)}: no snapshot yet; run `daybook pull` first "
        "(or build without --offline)"
    )
    assert not (tmp_path / "out").exists()


def test_offline_and_full_exclude_each_other(site: Path) -> None:
    result = run_cli("build", "--offline", "--full", "-C", site)
    assert result.returncode == 2
    assert "--offline and --full exclude each other" in result.stderr


def test_an_offline_build_applies_a_stricter_filter_to_an_older_snapshot(
    store: StoreInfo,
) -> None:
    """Settings changed since the pull: offline, Daybook drops what is now excluded and masks
    what is now secret rather than show it (a pull would read the rest)."""
    stored = update(DEFAULT, store.uri, None).stored
    stricter = DaybookConfig(
        experiments=ExperimentFilter(exclude=["regression"]), redact=["learning_rate"]
    )
    snap = current_settings(stored, stricter)
    assert "regression" not in {e.name for e in snap.experiments}
    assert all(r.params.get("learning_rate", "••••••") == "••••••" for r in snap.runs)
    assert current_settings(stored, DEFAULT) is stored.snapshot


# --- a bigger store: what an incremental pull decodes ---------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def busy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 runs in 3 experiments, some still running, models behind some: the benchmarks'
    own store maker, small."""
    out = tmp_path_factory.mktemp("busy")
    subprocess.run(
        [sys.executable, ROOT / "benchmarks" / "make_store.py", "--runs", "3000",
         "--experiments", "3", "--metrics", "3", "--steps", "3", "--out", out],
        check=True, capture_output=True,
    )  # fmt: skip
    return out / "mlflow.db"


def test_an_incremental_pull_decodes_only_the_saved_runs_it_must(
    busy_db: Path, tmp_path: Path
) -> None:
    """New runs and a running run that finished: the pull decodes the finished run's part and
    the few page runs it reads details of, not the thousands of runs that did not change; the
    leaders come from the saved policy memo; and it ends with what a full pull reads."""
    db = tmp_path / "mlflow.db"
    shutil.copy2(busy_db, db)
    uri = f"sqlite:///{db}"
    base = loads(dumps(update(DEFAULT, uri, None).stored))
    assert base.runs is not None and len(base.runs.saved.parts) >= 5
    running = next(
        rid for rid, st in zip(base.runs.saved.ids, base.runs.saved.statuses, strict=True)
        if st == "RUNNING"
    )  # fmt: skip
    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = c.get_run(running)
    keys = sorted(run.data.metrics)  # new runs log what the others log: the same primary metric
    for i in range(3):
        add_run(c, run.info.experiment_id, f"late-{i}", {k: [1.0, 0.5 / (i + 1)] for k in keys})
    c.set_terminated(running, "FINISHED")
    result = update(DEFAULT, uri, base)
    report = result.report
    assert report.from_index and not report.full
    assert (report.new_runs, report.updated_runs, report.deleted_runs) == (3, 1, 0)
    saved = result.stored.runs.saved  # type: ignore[union-attr]
    assert saved is base.runs.saved
    # Decoded: the part of the run that finished (to compare), and those of the runs behind
    # model versions (the registry's files are found from their artifact roots).
    needed = {running} | {v.run_id for m in result.stored.held.models for v in m.versions}
    assert saved.decoded_parts == len({saved.part_of(rid) for rid in needed}) < len(saved.parts)
    full = update(DEFAULT, uri, None)
    assert result.stored.detail_runs == full.stored.detail_runs
    assert parts(dumps(result.stored)) == parts(dumps(full.stored))
    assert snapshot_data(result.snapshot) == snapshot_data(full.snapshot)
