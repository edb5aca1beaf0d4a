"""The direct, read-only SQL reader of MLflow sqlite stores, checked against MLflow's own client
on a real store."""

from __future__ import annotations

import math
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from daybook.core.config import DaybookConfig, ExperimentFilter, RunPages
from daybook.core.errors import SourceError
from daybook.core.snapshot import Artifact, DatasetInput, Snapshot
from daybook.sources.client import ClientReader
from daybook.sources.mlflow import open_reader
from daybook.sources.sql import _in_key_order
from daybook.sources.sqlite import KNOWN_REVISIONS, SqliteReader, connect_readonly, schema_revision
from daybook.store.pull import pull
from daybook.store.snapshot_file import RUN_HALVES
from helpers import error_lines, fingerprint, run_cli, snapshot_data, stray_files
from store_builder import HOSTILE_DESCRIPTION, StoreInfo

EVERY_RUN = DaybookConfig(run_pages=RunPages(all=True))


def run_of(snap: Snapshot, run_id: str):
    return next(r for r in snap.runs if r.run_id == run_id)


# --- which reader ---------------------------------------------------------------------------------


def test_the_fixture_store_is_read_with_direct_sql(store: StoreInfo) -> None:
    reader = open_reader(store.uri)
    try:
        assert isinstance(reader, SqliteReader)
        assert schema_revision(reader.conn) in KNOWN_REVISIONS
    finally:
        reader.close()


def test_reading_a_sqlite_store_never_imports_sqlalchemy(store: StoreInfo) -> None:
    """SQLAlchemy's import alone costs ~0.35 s of CPU, a third of the raw-SQL floor of a
    20,000-run pull (issue #14): the sqlite path runs the shared SQL on sqlite3 directly."""
    script = (
        "import sys\n"
        "from daybook.sources.mlflow import open_reader\n"
        f"r = open_reader({store.uri!r})\n"
        "ids = [e.experiment_id for e in r.read_experiments()]\n"
        "runs = r.read_runs(ids)\n"
        "assert runs and r.read_models() and r.read_histories([x.run_id for x in runs])\n"
        "r.close()\n"
        "print(type(r).__name__, sorted(m for m in sys.modules if m.startswith('sqlalchemy')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SqliteReader", "[]"]


def test_the_connection_cannot_write(store: StoreInfo) -> None:
    conn = connect_readonly(store.db_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE daybook_was_here (x)")
    finally:
        conn.close()


# --- same answers as MLflow's client --------------------------------------------------------------


def test_direct_sql_and_the_mlflow_client_give_the_same_snapshot(store: StoreInfo) -> None:
    direct = pull(EVERY_RUN, store.uri)
    client = pull(EVERY_RUN, store.uri, force_client=True)
    assert len(direct.runs) == len(store.runs)
    assert set(direct.histories) == {r.run_id for r in direct.runs if r.metrics}
    a, b = snapshot_data(direct), snapshot_data(client)
    for part in ("experiments", "runs", "models", "histories", "artifacts", "tracking_uri"):
        assert a[part] == b[part], part


def test_both_readers_return_the_same_records(store: StoreInfo) -> None:
    direct, client = open_reader(store.uri), open_reader(store.uri, force_client=True)
    try:
        assert isinstance(client, ClientReader)
        exps = sorted(direct.read_experiments(), key=lambda e: e.experiment_id)
        assert exps == sorted(client.read_experiments(), key=lambda e: e.experiment_id)
        ids = [e.experiment_id for e in exps]
        runs_a = sorted(direct.read_runs(ids), key=lambda r: r.run_id)
        runs_b = sorted(client.read_runs(ids), key=lambda r: r.run_id)
        assert snapshot_data_of(runs_a) == snapshot_data_of(runs_b)
        models_a = sorted(direct.read_models(), key=lambda m: m.name)
        assert models_a == sorted(client.read_models(), key=lambda m: m.name)
    finally:
        direct.close()
        client.close()


def snapshot_data_of(runs: list) -> object:
    return snapshot_data(Snapshot("", (), tuple(runs), ()))["runs"]


def in_order(runs: list) -> list:
    """Runs as data that also tells the order of every dict (equal dicts may differ in it)."""
    return [
        (d["run_id"], [list(d[part].items()) for part in ("params", "metrics", "tags")], d)
        for d in snapshot_data_of(sorted(runs, key=lambda r: r.run_id))  # type: ignore[union-attr]
    ]


def test_scanning_tables_whole_and_looking_runs_up_read_the_same_runs(store: StoreInfo) -> None:
    """A full pull scans params, tags and latest metrics whole (cheaper when most runs are
    wanted); a read of a few runs looks them up by id. Both give the same runs, with every
    dict in key order, for every experiment alone, all of them, and runs asked for by id."""
    readers = [open_reader(store.uri) for _ in range(3)]
    try:
        looked_up, default, scanned = readers
        looked_up.scan_share = math.inf  # never scan
        scanned.scan_share = 0.0  # always scan
        statements: dict[int, list[str]] = {0: [], 2: []}
        for i, sql in statements.items():
            readers[i].conn.set_trace_callback(sql.append)
        ids = sorted(e.experiment_id for e in default.read_experiments())
        nonempty = 0
        for wanted in [ids, *([i] for i in ids)]:
            results = [in_order(r.read_runs(wanted)) for r in readers]
            assert results[0] == results[1] == results[2], wanted
            nonempty += bool(results[0])
        whole = [s for s in statements[2] if s.endswith("FROM params GROUP BY run_uuid")]
        assert len(whole) == nonempty >= 3  # all runs, and experiments with runs
        assert not any("FROM params GROUP BY" in s for s in statements[0])
        every = [r.run_id for r in default.read_runs(ids)]
        assert len(every) == len(store.runs)
        some = every[::3]
        results = [in_order(r.read_runs_by_id(some, ids)) for r in readers]
        assert [x[0] for x in results[0]] == sorted(some)
        assert results[0] == results[1] == results[2]
        for _, dicts, _ in results[0]:
            assert all([k for k, _ in items] == sorted(k for k, _ in items) for items in dicts)
    finally:
        for r in readers:
            r.close()


def test_a_range_of_run_ids_reads_only_its_share_of_each_table(store: StoreInfo) -> None:
    """The two shares of a big store's full pull (ids below "8c", and from it) each read their
    own share: params and tags as one JSON object per run, walking the run-id index over the
    range only; latest metrics by a scan of the whole table, never through the index (a row at a
    time, dearer). sqlite says so of the statements run, and the halves together are the runs
    read at once."""
    reader = open_reader(store.uri)
    try:
        reader.scan_share = 0.0  # always scan
        ids = sorted(e.experiment_id for e in reader.read_experiments())
        statements: list[str] = []
        reader.conn.set_trace_callback(statements.append)
        lower = reader.read_runs(ids, ids_before=RUN_HALVES)
        upper = reader.read_runs(ids, ids_from=RUN_HALVES)
        reader.conn.set_trace_callback(None)
        assert lower and upper and all(r.run_id < RUN_HALVES for r in lower)
        assert all(r.run_id >= RUN_HALVES for r in upper)
        assert in_order(lower + upper) == in_order(reader.read_runs(ids))
        children = [s for s in statements if re.search(r"FROM (params|tags|latest_metrics)", s)]
        assert len(children) == 6
        for sql in children:
            plan = " ".join(row[-1] for row in reader.conn.execute("EXPLAIN QUERY PLAN " + sql))
            if "latest_metrics" in sql:
                assert plan.startswith("SCAN ") and "INDEX" not in plan, (sql, plan)
            else:
                assert "json_group_object" in sql, sql
                assert re.fullmatch(r"SEARCH \w+ USING INDEX \w+ \(run_uuid[<>]=?\?\)", plan), plan
    finally:
        reader.close()


def test_params_sqlite_cannot_make_json_of_are_read_row_by_row(
    store: StoreInfo, tmp_path: Path
) -> None:
    """A value JSON cannot hold (a BLOB some other writer left) fails sqlite's JSON functions:
    the reader then reads that table row by row, and the runs are what the row-by-row reader
    gives."""
    db = tmp_path / "mlflow.db"
    db.write_bytes(store.db_path.read_bytes())
    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE params SET value = X'00ff' WHERE rowid = (SELECT MIN(rowid) FROM params)"
        )
    con.close()
    readers = [open_reader(f"sqlite:///{db}") for _ in range(2)]
    try:
        rows, whole = readers
        rows.scan_share, whole.scan_share = math.inf, 0.0
        statements: list[str] = []
        whole.conn.set_trace_callback(statements.append)
        ids = sorted(e.experiment_id for e in rows.read_experiments())
        assert in_order(whole.read_runs(ids)) == in_order(rows.read_runs(ids))
        assert any("json_group_object" in sql and "FROM params" in sql for sql in statements)
        assert any(sql.endswith("FROM params") for sql in statements)  # then row by row
        assert any(b"\x00\xff" in r.params.values() for r in rows.read_runs(ids))
    finally:
        for r in readers:
            r.close()


def test_dicts_read_are_put_in_python_key_order_whatever_order_they_came_in() -> None:
    """Databases return a run's params and tags in write order (or a collation's): each dict
    comes out in Python's order of its keys, and one already in it is left as it is."""
    came = {
        "r1": {"b": "1", "a": "2"},
        "r2": {"a": "1", "b": "2"},
        "r3": {},
        "r4": {"z": "1", "é": "2", "Z": "3"},
    }
    out = _in_key_order(dict(came))
    assert {rid: list(d) for rid, d in out.items()} == {
        "r1": ["a", "b"],
        "r2": ["a", "b"],
        "r3": [],
        "r4": ["Z", "z", "é"],
    }
    assert out == came and out["r2"] is came["r2"]


def test_equal_keys_and_values_of_runs_read_are_one_string_each(store: StoreInfo) -> None:
    """The driver makes a string per row; a reader reading row by row keeps one per distinct
    key or value (at 100,000 runs: a peak ~100 MB lower, memory a VM charges for)."""
    reader = open_reader(store.uri)
    try:
        reader.scan_share = math.inf  # rows, not one JSON object per run
        runs = reader.read_runs(sorted(e.experiment_id for e in reader.read_experiments()))
    finally:
        reader.close()
    for field in ("params", "tags", "metrics"):
        keys = [k for r in runs for k in getattr(r, field)]
        assert len(keys) > len(set(keys)) > 1, field  # keys recur across runs
        assert len({id(k) for k in keys}) == len(set(keys)), field
    values = [v for r in runs for v in r.params.values()]
    assert len({id(v) for v in values}) == len(set(values)) < len(values)


# --- what is read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("force_client", [False, True], ids=["sql", "client"])
def test_runs_are_read_with_every_field(store: StoreInfo, force_client: bool) -> None:
    snap = pull(EVERY_RUN, store.uri, force_client=force_client)
    names = {e.name: e for e in snap.experiments}
    assert set(names) == {"Default", "classifier", "regression", "My Model", "my-model"}
    assert names["classifier"].description == "Digits classifier: *which* model wins?"

    child = run_of(snap, store.runs["child0"])
    assert child.name == "sweep-lr-0.1"
    assert child.parent_id == store.runs["parent"]
    assert child.params == {"learning_rate": "0.1", "max_depth": "3"}
    assert child.metric("val_accuracy") == pytest.approx(0.91)
    assert child.metric_steps["val_accuracy"] == 2
    assert (child.status, child.user, child.duration_ms) == ("FINISHED", "alice", 8 * 60_000)
    [hist] = [h for h in snap.histories[child.run_id] if h.key == "val_accuracy"]
    assert hist.steps == (0, 1, 2)
    assert hist.values == pytest.approx((0.5, 0.7, 0.91))
    assert (hist.minimum, hist.maximum) == (pytest.approx(0.5), pytest.approx(0.91))

    hostile = run_of(snap, store.runs["hostile"])
    assert hostile.description == HOSTILE_DESCRIPTION
    assert hostile.git_commit == "0123456789abcdef0123456789abcdef01234567"
    assert hostile.user == "<b>mallory</b>"

    running = run_of(snap, store.runs["running"])
    assert running.status == "RUNNING" and running.end_time is None
    assert running.duration_ms is None

    nan = run_of(snap, store.runs["nan"])
    assert math.isnan(nan.metric("val_accuracy"))

    reg = run_of(snap, store.runs["reg1"])
    assert reg.datasets == (
        DatasetInput("diabetes", "d1g35t1", "local", "/data/diabetes-v1.csv", "training"),
    )


@pytest.mark.parametrize("force_client", [False, True], ids=["sql", "client"])
def test_models_are_read_with_aliases_and_versions(store: StoreInfo, force_client: bool) -> None:
    snap = pull(DaybookConfig(), store.uri, force_client=force_client)
    models = {m.name: m for m in snap.models}
    assert set(models) == {"digits-clf", "empty-model"}
    clf = models["digits-clf"]
    assert clf.aliases == {"challenger": 3, "champion": 2}
    assert [v.version for v in clf.versions] == [1, 2, 3]
    assert [v.run_id for v in clf.versions] == [
        store.runs["child0"],
        store.runs["child1"],
        store.runs["hostile"],
    ]
    assert clf.versions[1].source == f"runs:/{store.runs['child1']}/model"
    assert clf.aliases_of(2) == ["champion"]
    assert clf.description == "Digits classifier.\n\n<script>x</script>"
    assert models["empty-model"].versions == ()


def test_artifacts_are_listed_for_runs_with_a_page(store: StoreInfo) -> None:
    snap = pull(EVERY_RUN, store.uri)
    assert snap.artifacts[store.runs["child1"]] == (
        Artifact("reports", True, None),
        Artifact("reports/confusion.txt", False, len("confusion matrix\n")),
    )
    assert store.runs["child0"] not in snap.artifacts


def test_excluded_experiments_and_their_runs_are_left_out(store: StoreInfo) -> None:
    config = DaybookConfig(experiments=ExperimentFilter(exclude=["*odel", "Default"]))
    snap = pull(config, store.uri)
    assert [e.name for e in snap.experiments] == ["classifier", "regression"]
    assert {r.experiment_id for r in snap.runs} == {
        store.experiments["classifier"],
        store.experiments["regression"],
    }


@pytest.mark.parametrize("force_client", [False, True], ids=["sql", "client"])
def test_deleted_runs_experiments_and_versions_are_left_out(
    deleted_store: StoreInfo, force_client: bool
) -> None:
    snap = pull(EVERY_RUN, deleted_store.uri, force_client=force_client)
    assert [e.name for e in snap.experiments] == ["Default", "kept-exp"]
    assert [r.run_id for r in snap.runs] == [deleted_store.runs["kept-run"]]
    assert set(snap.histories) == {deleted_store.runs["kept-run"]}
    [model] = snap.models
    assert model.name == "m"
    assert [v.version for v in model.versions] == [1]
    assert model.aliases == {"prod": 1}


# --- reading changes nothing ----------------------------------------------------------------------


def test_reading_and_building_leave_the_store_untouched(
    store: StoreInfo, store_before: dict, built_site, workdir: Path
) -> None:
    pull(EVERY_RUN, store.uri)
    pull(EVERY_RUN, store.uri, force_client=True)
    assert fingerprint(store.db_path.parent) == store_before
    assert stray_files(workdir, built_site.root) == []


def test_a_build_leaves_only_the_built_site_in_the_site_folder(built_site) -> None:
    assert sorted(p.name for p in built_site.root.iterdir()) == [
        ".daybook",  # the snapshot the pull saved (gitignored)
        ".gitignore",
        "daybook.yml",
        "docs",
        "gen_pages.py",
        "history",  # the alias history the build recorded (aliases.jsonl: committed, issue #4)
        "mkdocs.yml",
        "site",
        "templates",
    ]
    assert sorted(p.name for p in (built_site.root / "docs").iterdir()) == [
        "about.md",
        "journal",
        "notes",
        "writing-notes.md",
    ]


# --- what is not an MLflow store ------------------------------------------------------------------


def test_a_missing_database_names_the_uri_and_suggests_the_demo(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'nope' / 'mlflow.db'}"
    with pytest.raises(SourceError) as info:
        open_reader(uri)
    message = str(info.value)
    assert message.startswith(f"{uri}: no MLflow database at {tmp_path / 'nope' / 'mlflow.db'}")
    assert "daybook demo" in message
    assert not (tmp_path / "nope").exists()


def test_the_cli_reports_a_missing_database_in_one_line(tmp_path: Path, workdir: Path) -> None:
    result = run_cli(
        "generate",
        "-q",
        "--tracking-uri",
        "sqlite:///missing.db",
        "--out",
        tmp_path / "out",
        "-C",
        tmp_path,
    )
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith(f"Error: sqlite:///{workdir / 'missing.db'}: no MLflow database")
    assert "Traceback" not in result.stderr
    assert not (workdir / "missing.db").exists()
    assert not (tmp_path / "out").exists()


def test_a_sqlite_file_that_is_not_mlflow_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    before = fingerprint(tmp_path)
    with pytest.raises(SourceError, match="is not an MLflow tracking database") as info:
        open_reader(f"sqlite:///{db}")
    assert str(info.value).startswith(f"sqlite:///{db}: ")
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize("content", [b"site_name: not a database\n" * 40, b""])
def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mlflow.db"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=r"not an MLflow|cannot open as an MLflow database"):
        open_reader(f"sqlite:///{path}")
    assert path.read_bytes() == content
