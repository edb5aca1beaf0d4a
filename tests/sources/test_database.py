"""PostgreSQL and MySQL/MariaDB stores are read read-only: real servers, real MLflow, real builds.

Known schema revisions are read by Daybook's own SQL (daybook.sources.sql), others by MLflow's
client; both in sessions the server keeps read-only. The same store written into sqlite and into
each server builds the same site.

The servers are started by the suite (tests/database_servers.py). Every test that reads a database
compares a dump of all its rows before and after; an empty or foreign database must be refused
with one line and left as it was (MLflow's own client would have created its tables there).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from database_servers import (
    DatabaseStore,
    ServerUnavailable,
    free_port,
    mariadb_server,
    postgres_server,
    write_mlflow_store,
)
from daybook.core.config import DaybookConfig, RunPages
from daybook.core.errors import SourceError
from daybook.core.fork import ENV_PROCESSES
from daybook.sources import database
from daybook.sources.client import ClientReader
from daybook.sources.database import display_uri, is_database_uri, readonly_url
from daybook.sources.mlflow import open_reader
from daybook.sources.sql import SqlReader
from daybook.store.pull import SPLIT_ID, pull, update
from daybook.store.snapshot_file import dumps, load, loads, snapshot_path
from helpers import error_lines, read_tree, run_cli, snapshot_data, stray_files

EVERY_RUN = DaybookConfig(run_pages=RunPages(all=True))
MYSQL_RO = {"init_command": "SET SESSION TRANSACTION READ ONLY"}
SERVERS: dict[str, Callable[[], AbstractContextManager[Any]]] = {
    "postgresql": postgres_server,
    "mariadb": mariadb_server,
}


# --- URIs (no server) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "driver", "query"),
    [
        (
            "postgresql://u:pw@db:5432/mlflow",
            "postgresql+psycopg2",
            {"options": "-c default_transaction_read_only=on"},
        ),
        (
            "postgresql+psycopg://u@db/mlflow?sslmode=require",
            "postgresql+psycopg",
            {"options": "-c default_transaction_read_only=on", "sslmode": "require"},
        ),
        (
            "postgresql+psycopg2://u@db/mlflow?options=-c%20search_path%3Dml",
            "postgresql+psycopg2",
            {"options": "-c search_path=ml -c default_transaction_read_only=on"},
        ),
        ("mysql://u:pw@db/mlflow", "mysql+pymysql", MYSQL_RO),
        ("mysql+mysqldb://u@db/mlflow", "mysql+mysqldb", MYSQL_RO),
        ("mariadb://u@db:3306/mlflow", "mysql+pymysql", MYSQL_RO),
    ],
)  # fmt: skip
def test_every_database_uri_is_made_read_only_at_the_server(
    uri: str, driver: str, query: dict[str, str]
) -> None:
    assert is_database_uri(uri)
    url = readonly_url(uri)
    assert url.drivername == driver
    assert dict(url.query) == query
    # …and survives the round trip through the string MLflow is given
    again = make_url(url.render_as_string(hide_password=False))
    assert dict(again.query) == query and again.password == make_url(uri).password


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("postgresql+pg8000://u:pw@db/mlflow", "through psycopg2 or psycopg only"),
        ("mysql+mysqlconnector://u:pw@db/mlflow", "through PyMySQL or mysqlclient only"),
        ("mysql://u:pw@db/mlflow?init_command=SET%20x%3D1", "remove init_command"),
        ("postgresql://u:pw@db", "names no database"),
        ("mssql+pyodbc://u:pw@db/mlflow", "cannot open SQL Server read-only"),
    ],
)
def test_uris_that_cannot_be_opened_read_only_are_refused(uri: str, expected: str) -> None:
    with pytest.raises(SourceError) as info:
        open_reader(uri)
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert message.startswith(uri.split("://")[0] + "://***@db")
    assert "pw" not in message


def test_a_password_in_the_query_is_not_shown_either() -> None:
    shown = display_uri("postgresql://u:one@db/mlflow?sslmode=require&password=two")
    assert shown == "postgresql://***@db/mlflow?sslmode=require&password=***"
    assert not is_database_uri("sqlite:///mlflow.db") and not is_database_uri("https://x")


# --- Servers and stores ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A real database server of each kind. The README's test command installs both Debian
    packages, so a server that cannot start is a failure, never a skip."""
    with contextlib.ExitStack() as stack:
        try:
            started = time.monotonic()
            found = stack.enter_context(SERVERS[request.param]())
        except ServerUnavailable as exc:
            pytest.fail(f"{request.param}: {exc}", pytrace=False)
        print(f"{request.param} started in {time.monotonic() - started:.1f} s")
        yield found


@pytest.fixture(scope="module")
def db_store(
    server: Any, tmp_path_factory: pytest.TempPathFactory, workdir: Path
) -> tuple[str, DatabaseStore, dict[str, list[str]]]:
    """A store real MLflow wrote to database `mlflow`, and the dump of all its rows after."""
    root = tmp_path_factory.mktemp("db-store")
    server.create_database("mlflow")
    uri = server.url("mlflow")
    with contextlib.chdir(root):  # anything MLflow might leave stays beside the store
        written = write_mlflow_store(uri, root / "artifacts")
    return uri, written, server.dump("mlflow")


def test_the_direct_reader_reads_in_a_session_that_cannot_write(
    server: Any, db_store: tuple
) -> None:
    """A schema revision Daybook knows is read with its own SQL (not MLflow's client), on a
    connection the server itself keeps read-only: DDL and inserts through it fail."""
    uri, _, before = db_store
    reader = open_reader(uri)
    try:
        assert isinstance(reader, SqlReader) and not isinstance(reader, ClientReader)
        assert "direct SQL in a read-only session" in reader.kind
        for sql in (
            "CREATE TABLE daybook_probe (x INTEGER)",
            "INSERT INTO experiments (name, lifecycle_stage) VALUES ('probe', 'active')",
        ):
            cur = reader._dbapi.cursor()
            with pytest.raises(reader.dialect.error) as info:
                cur.execute(sql)
            assert re.search(r"(?i)read[- ]only transaction", str(info.value))
            reader._dbapi.rollback()  # PostgreSQL: the failed statement ended the transaction
    finally:
        reader.close()
    assert server.dump("mlflow") == before


def test_a_full_pull_read_in_two_halves_is_the_pull_in_one(
    server: Any, db_store: tuple, tmp_path: Path
) -> None:
    """A big store's full pull reads the runs whose ids sort from `SPLIT_ID` in a forked second
    process on its own read-only connection (`DAYBOOK_PROCESSES=2`: this store counts as big):
    the snapshot is the one process's, and the server's rows are left as they were."""
    uri, _, before = db_store
    pulled = {}
    for processes in ("1", "2"):
        root = tmp_path / processes
        assert run_cli("init", root).returncode == 0
        result = run_cli("pull", "--full", "-C", root, "--tracking-uri", uri,
                         env={ENV_PROCESSES: processes})  # fmt: skip
        assert result.returncode == 0, result.stderr
        pulled[processes] = (load(snapshot_path(root)).snapshot, result.stderr)
    (one, alone), (two, log) = pulled["1"], pulled["2"]
    assert snapshot_data(one) == snapshot_data(two)  # NaN made comparable
    # The ids are MLflow's random ones: the second process's range may hold none of them, and
    # the log says so (0) rather than leaving it out.
    upper = sum(r.run_id >= SPLIT_ID for r in two.runs)
    assert f"({upper} of them read by a second process)" in log, log
    assert "second process" not in alone, alone
    assert server.dump("mlflow") == before


def test_mlflows_own_engines_cannot_write(server: Any, db_store: tuple) -> None:
    """The engines MLflow's tracking and registry stores opened for the client fallback (used
    for revisions Daybook does not know; forced here) are read-only at the server: DDL and
    inserts through them fail."""
    uri, _, before = db_store
    reader = open_reader(uri, force_client=True)
    assert isinstance(reader, ClientReader)
    engines = [
        reader.client._tracking_client.store.engine,
        reader.client._get_registry_client().store.engine,
    ]
    for engine in engines:
        for sql in (
            "CREATE TABLE daybook_probe (x INTEGER)",
            "INSERT INTO experiments (name, lifecycle_stage) VALUES ('probe', 'active')",
        ):
            with engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError) as info:
                conn.execute(sqlalchemy.text(sql))
            assert re.search(r"(?i)read[- ]only transaction", str(info.value))
    assert server.dump("mlflow") == before


def test_a_select_only_user_reads_every_run_and_writes_nothing(
    server: Any, db_store: tuple, workdir: Path
) -> None:
    """What the docs recommend (a user who may only SELECT) is all it takes, with each way of
    writing the URI without a driver."""
    _, written, before = db_store
    for scheme in server.schemes:
        uri = server.select_only_url("mlflow", scheme)
        reader = open_reader(uri)
        try:
            assert isinstance(reader, SqlReader)
            assert "read-only" in reader.kind
        finally:
            reader.close()
        snap = pull(EVERY_RUN, uri)
        by_name = {r.name: r for r in snap.runs}
        assert {n: r.run_id for n, r in by_name.items()} == written.runs
        run = by_name["db-forecast-run-1"]
        assert run.params == {"depth": "4", "lr": "0.05"}
        assert run.metric_steps["val_rmse"] == 4 and run.tags["team"] == "tables"
        assert by_name["db-ranker-run-2"].status == "FAILED"
        [model] = snap.models
        assert model.name == written.model and model.aliases == {"champion": 1}
        assert server.dump("mlflow") == before
    assert stray_files(workdir) == []


def test_a_build_from_a_database_leaves_it_row_for_row_unchanged(
    server: Any, db_store: tuple, tmp_path: Path, workdir: Path
) -> None:
    uri, written, before = db_store
    site = tmp_path / "site"
    assert run_cli("init", site).returncode == 0
    every_run_page(site)
    started = time.monotonic()
    result = run_cli("build", "--strict", "-C", site, "--tracking-uri", uri, timeout=300)
    print(f"build from {server.__class__.__name__}: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stderr
    assert server.dump("mlflow") == before
    assert "read-only" in result.stderr and server.password not in result.stderr
    html = site / "site"
    for run_id in written.runs.values():
        [page] = html.glob(f"experiments/*/runs/*-{run_id[:8]}/index.html")
        assert run_id in page.read_text(encoding="utf-8")
    model_page = html / "models" / written.model / "index.html"
    assert "champion" in model_page.read_text(encoding="utf-8")
    assert stray_files(workdir, site) == []


def _refusal(server: Any, database: str, site: Path) -> str:
    """`daybook build` against `database`: the one error line it printed."""
    assert run_cli("init", site).returncode == 0
    result = run_cli("build", "-q", "-C", site, "--tracking-uri", server.url(database))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = error_lines(result)
    assert line.startswith(f"Error: {display_uri(server.url(database))}: ")
    assert server.password not in result.stderr + result.stdout
    assert not (site / "site").exists()
    return line


def test_an_empty_database_is_refused_and_stays_empty(
    server: Any, tmp_path: Path, workdir: Path
) -> None:
    server.create_database("empty")
    line = _refusal(server, "empty", tmp_path / "site")
    assert "the database is empty" in line and "never creates tables" in line
    assert server.dump("empty") == {}
    assert stray_files(workdir) == []


def test_a_database_of_something_else_is_refused_and_left_alone(
    server: Any, tmp_path: Path
) -> None:
    server.create_database("shop")
    server.execute(
        "shop",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40))",
        "INSERT INTO customers VALUES (1, 'Ada')",
    )
    before = server.dump("shop")
    line = _refusal(server, "shop", tmp_path / "site")
    assert "not an MLflow tracking database" in line and "customers" in line
    assert "never creates tables" in line
    assert server.dump("shop") == before


def test_connection_failures_are_one_line_without_the_password(server: Any) -> None:
    cases = {
        server.url("nowhere"): "nowhere",
        server.url("mlflow").replace(server.password, "wrong-pw"): "",
        server.url("mlflow").replace(f":{server.port}/", f":{free_port()}/"): "",
    }
    for uri, named in cases.items():
        with pytest.raises(SourceError) as info:
            open_reader(uri)
        message = str(info.value)
        assert message.startswith(f"{display_uri(uri)}: cannot connect to the database (")
        assert named in message and "\n" not in message
        assert server.password not in message and "wrong-pw" not in message


# --- What MLflow would write (copies of the store) ----------------------------------------------


@pytest.fixture
def store_copy(server: Any, db_store: tuple) -> Callable[[str], str]:
    """Fresh copies of the store, by name."""

    def copy(name: str) -> str:
        server.create_database(name, template="mlflow")
        return name

    return copy


def test_an_incremental_pull_of_a_server_database_ends_with_the_full_pull(
    server: Any, store_copy: Callable[[str], str], tmp_path: Path
) -> None:
    """A store whose URI holds a password pulls incrementally (the saved URI is masked, and
    was once compared unmasked, so every pull was full); the run index is read from the server
    as from sqlite, the pull decides from the saved index, and it ends with what a full pull
    reads."""
    uri = server.url(store_copy("incremental"))
    base = loads(dumps(update(DaybookConfig(), uri, None).stored))  # as from the file
    experiment = max(base.held.experiments, key=lambda e: e.experiment_id).experiment_id
    with contextlib.chdir(tmp_path):  # anything MLflow might leave stays here
        from mlflow import MlflowClient

        c = MlflowClient(tracking_uri=uri, registry_uri=uri)
        rid = c.create_run(experiment, run_name="logged-late").info.run_id
        c.log_metric(rid, "val_accuracy", 0.5, step=0)
        c.set_terminated(rid, "FINISHED")
    assert "@" in uri and "•" in base.tracking_uri  # a password, masked in the snapshot
    result = update(DaybookConfig(), uri, base)
    assert not result.report.full, result.report.reason
    assert result.report.from_index and result.report.new_runs == 1
    full = update(DaybookConfig(), uri, None)
    assert result.stored.detail_runs == full.stored.detail_runs
    assert snapshot_data(result.snapshot) == snapshot_data(full.snapshot)


def test_mlflow_cannot_even_add_its_default_experiment(
    server: Any, store_copy: Callable[[str], str]
) -> None:
    """MLflow's store inserts a Default experiment when it finds none: in the client fallback
    (forced here) the server refuses it, and the refusal is one line (MLflow's own logged
    traceback is not shown). The direct reader never tries: it reads the store as it is."""
    db = store_copy("no_default")
    server.execute(
        db,
        "DELETE FROM experiment_tags WHERE experiment_id = 0",
        "DELETE FROM experiments WHERE experiment_id = 0",
    )
    before = server.dump(db)
    with pytest.raises(SourceError) as info:
        open_reader(server.url(db), force_client=True)
    line = str(info.value)
    assert line.startswith(f"{display_uri(server.url(db))}: ") and "\n" not in line
    assert "MLflow's client tried to write to the store" in line
    assert re.search(r"(?i)read[- ]only transaction", line)
    assert server.password not in line
    snap = pull(EVERY_RUN, server.url(db))
    assert [e.name for e in snap.experiments] == ["db-forecast", "db-ranker"]
    assert server.dump(db) == before


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        # MLflow 2.3's schema: unknown to Daybook's reader, and MLflow's would migrate it
        ("3500859a5d39", "is older than MLflow"),
        ("ffffffffffff", "is newer than MLflow"),
    ],
)
def test_a_schema_mlflow_would_migrate_is_refused_unmigrated(
    server: Any, store_copy: Callable[[str], str], revision: str, expected: str
) -> None:
    db = store_copy(f"rev_{revision}")
    server.execute(db, f"UPDATE alembic_version SET version_num = '{revision}'")
    before = server.dump(db)
    with pytest.raises(SourceError) as info:
        open_reader(server.url(db))
    message = str(info.value)
    assert expected in message and revision in message and "\n" not in message
    assert server.dump(db) == before


def test_an_older_revision_daybook_knows_is_read_directly_and_left_unmigrated(
    server: Any, store_copy: Callable[[str], str]
) -> None:
    """MLflow 2.4's revision (the oldest the direct reader knows) is read as it is: MLflow's
    client would have had to migrate it."""
    db = store_copy("rev_known_old")
    server.execute(db, "UPDATE alembic_version SET version_num = '7f2a7d5fae7d'")
    before = server.dump(db)
    reader = open_reader(server.url(db))
    try:
        assert isinstance(reader, SqlReader)
        assert {e.name for e in reader.read_experiments()} >= {"db-forecast", "db-ranker"}
    finally:
        reader.close()
    assert server.dump(db) == before


def test_a_revision_daybook_does_not_know_falls_back_to_mlflows_client(
    server: Any, db_store: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer MLflow's revision that Daybook's reader has not been checked against (simulated
    by emptying the known list) is read by MLflow's client, read-only, and gives the same
    snapshot the direct reader gives."""
    uri, written, before = db_store
    direct = pull(EVERY_RUN, uri)
    monkeypatch.setattr(database, "KNOWN_REVISIONS", ())
    reader = open_reader(uri)
    try:
        assert isinstance(reader, ClientReader)
        assert reader.kind.startswith("MLflow client, read-only")
    finally:
        reader.close()
    fallback = pull(EVERY_RUN, uri)
    a, b = snapshot_data(direct), snapshot_data(fallback)
    for part in ("experiments", "runs", "models", "histories", "artifacts", "tracking_uri"):
        assert a[part] == b[part], part
    assert {r.name for r in direct.runs} == set(written.runs)
    assert server.dump("mlflow") == before


def every_run_page(site: Path) -> None:
    """`run_pages.all: true` in a scaffolded daybook.yml, set where the scaffold has it (a second
    `run_pages:` would be refused as a key set twice)."""
    config = site / "daybook.yml"
    text = config.read_text(encoding="utf-8")
    assert "\n  all: false\n" in text
    config.write_text(text.replace("\n  all: false\n", "\n  all: true\n", 1), encoding="utf-8")


AWKWARD = (
    1 / 3, 0.1, 0.30000000000000004, 1e-300, 5e-324, 1.7976931348623157e308, -2.5e-8,
    123456789012345678.0, 1e22, -1.5, 7.0, math.nan,
)  # fmt: skip


@pytest.mark.parametrize("max_len", [None, 64], ids=["folded", "cut-and-re-read"])
def test_metric_histories_come_back_as_the_exact_floats_logged(
    server: Any, max_len: int | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every point of a history, value for value (shortest round-trip digits, NaN, the largest
    and smallest doubles, negative steps): MySQL/MariaDB fold a history into one row on the
    server, and a history longer than the fold allows (forced here with a 64-byte limit) is read
    again point by point."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    from daybook.sources import sql

    db = f"awkward_{max_len or 0}"
    server.create_database(db)
    uri = server.url(db)
    with contextlib.chdir(tmp_path):
        client = MlflowClient(tracking_uri=uri)
        exp = client.create_experiment("awkward", artifact_location=str(tmp_path / "a"))
        rid = client.create_run(exp).info.run_id
        logged = {
            "Loss": [(i, 1000 + i, v) for i, v in enumerate(AWKWARD)],
            "val_loss": [(-3, 5, 2.0), (0, 5, 0.5), (0, 4, 0.25)],
        }
        client.log_batch(
            rid,
            metrics=[Metric(k, v, ts, step) for k, pts in logged.items() for step, ts, v in pts],
        )
        client._tracking_client.store.engine.dispose()
    before = server.dump(db)
    if max_len:
        monkeypatch.setattr(sql, "GROUP_CONCAT_MAX_LEN", max_len)
    reader = open_reader(uri)
    try:
        assert isinstance(reader, SqlReader)
        [(got_rid, histories)] = reader.read_histories([rid]).items()
    finally:
        reader.close()
    assert got_rid == rid
    assert [h.key for h in histories] == ["Loss", "val_loss"]
    for h in histories:
        want = sorted(logged[h.key], key=lambda p: (p[0], p[1]))
        assert h.steps == tuple(p[0] for p in want)
        assert h.timestamps == tuple(p[1] for p in want)
        assert [repr(v) for v in h.values] == [repr(p[2]) for p in want], h.key
    assert server.dump(db) == before


# --- The same store in sqlite, PostgreSQL and MariaDB ---------------------------------------------

FIXED_MS = 1_767_100_000_000
SAME_TIMES = (
    # what MLflow stamps with the clock, made equal in every backend…
    f"UPDATE experiments SET creation_time = {FIXED_MS}, last_update_time = {FIXED_MS}",
    f"UPDATE registered_models SET creation_time = {FIXED_MS}, last_updated_time = {FIXED_MS}",
    f"UPDATE model_versions SET creation_time = {FIXED_MS}, last_updated_time = {FIXED_MS}",
    # …and runs of both experiments that started at the same time apart, or pages order them
    # by their (random) run ids
    "UPDATE runs SET start_time = start_time + 100 * experiment_id, "
    "end_time = end_time + 100 * experiment_id",
)


def write_same_store(uri: str, artifacts: Path) -> DatabaseStore:
    """The database store of write_mlflow_store, plus what differs between backends: a NaN
    metric point (stored as 0 with is_nan), a dataset input with its context tag, and text with
    quotes, percent signs and non-ASCII letters."""
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    written = write_mlflow_store(uri, artifacts)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    rid = written.runs["db-forecast-run-0"]
    client.log_batch(
        rid,
        metrics=[Metric("val_rmse", math.nan, FIXED_MS, 5), Metric("val_mae", math.nan, 1, 0)],
        params=[Param("query", "100% 'quoted' \"twice\" ?")],
        tags=[RunTag("owner", "Zoë Ødegård")],
    )
    source = Dataset("calendar", "d1g3st", "local", '{"uri": "data/calendar.csv"}')
    client.log_inputs(
        rid, datasets=[DatasetInput(source, tags=[InputTag("mlflow.data.context", "training")])]
    )
    return written


def _normalized(html: Path, runs: dict[str, str], clock: tuple[float, float]) -> dict[str, bytes]:
    """The built site's files, with each run id (and its 8-character prefix in paths), the
    store's display URI and the build's own clock (when an alias was first observed: minutes
    within `clock`) replaced by names: the only things two backends cannot share. The run
    viewer's shards (`runs/data/<first two characters of the id>.json`) are merged into one, and
    its list of shard names dropped, since both follow the ids."""
    minutes = {
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(t)).encode()
        for t in range(int(clock[0]) - 60, int(clock[1]) + 60, 30)
    }
    shown = re.compile(  # the URI as pages show it: sqlite's file name; a server's escaped
        rb"sqlite:///mlflow\.db|(?:mysql|postgresql)\S{0,60}?127\.0\.0\.1:\d+/same"
    )
    swaps = [(rid, f"RUN-{name}") for name, rid in runs.items()]
    swaps += [(rid[:8], f"RUN8-{name}") for name, rid in runs.items()]
    out: dict[str, bytes] = {}
    shards: dict[str, Any] = {}
    for rel, data in read_tree(html).items():
        if not rel.endswith((".png", ".gz", ".woff2", ".ico")):
            for old, new in swaps:
                data = data.replace(old.encode(), new.encode())
            data = re.sub(rb'data-shard-keys="[^"]*"', b'data-shard-keys=""', data)
            data = shown.sub(b"STORE", data)
            for minute in minutes:
                data = data.replace(minute, b"BUILD-TIME")
        if re.fullmatch(r"runs/data/\w+\.json", rel):
            shard = json.loads(data)
            shards.setdefault("runs", {}).update(shard.pop("runs"))
            shards.update(shard)  # the format
            continue
        for old, new in swaps:
            rel = rel.replace(old, new)
        out[rel] = data
    out["runs/data/*.json"] = json.dumps(shards, sort_keys=True).encode()
    return out


def _first_difference(differing: list[str], a: dict[str, bytes], b: dict[str, bytes]) -> str:
    """The first differing file's changed lines, for the failure message."""
    if not differing:
        return ""
    rel = differing[0]
    lines = difflib.unified_diff(
        a[rel].decode(errors="replace").replace(">", ">\n").splitlines(),
        b[rel].decode(errors="replace").replace(">", ">\n").splitlines(),
        "sqlite/" + rel,
        "server/" + rel,
        n=1,
        lineterm="",
    )
    return "\n".join(list(lines)[:60])


def test_the_same_store_builds_the_same_site_from_sqlite_and_from_a_server(
    server: Any, tmp_path: Path, workdir: Path
) -> None:
    """Written through MLflow's client into sqlite and into this server, one store builds the
    same pages (`daybook build --strict`), both read directly, and the server's rows are the
    same after the build as before."""
    artifacts = tmp_path / "artifacts"  # shared: artifact URIs are equal up to the run ids
    db_path = tmp_path / "sqlite" / "mlflow.db"
    db_path.parent.mkdir()
    sqlite_uri = f"sqlite:///{db_path}"
    server.create_database("same")
    server_uri = server.url("same")
    written = {}
    for uri in (sqlite_uri, server_uri):
        with contextlib.chdir(tmp_path):
            written[uri] = write_same_store(uri, artifacts).runs
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        for sql in SAME_TIMES:
            conn.execute(sql)
    server.execute("same", *SAME_TIMES)
    before = server.dump("same")
    sites = {}
    started = time.time()
    for name, uri in (("sqlite", sqlite_uri), ("server", server_uri)):
        site = tmp_path / name / "site"
        assert run_cli("init", site).returncode == 0
        every_run_page(site)
        result = run_cli(
            "build", "--strict", "-C", site, "--tracking-uri", uri, "--since", "2026-01-01",
            timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "direct" in result.stderr and "MLflow client" not in result.stderr
        sites[name] = _normalized(site / "site", written[uri], (started, time.time()))
    assert server.dump("same") == before
    a, b = sites["sqlite"], sites["server"]
    assert sorted(a) == sorted(b)
    differing = [rel for rel in sorted(a) if a[rel] != b[rel]]
    assert differing == [], _first_difference(differing, a, b)
    # …and those pages do show what differs between backends
    page = next(rel for rel in a if "RUN8-db-forecast-run-0" in rel and rel.endswith(".html"))
    text = a[page].decode()
    assert "calendar" in text and "training" in text and "Zoë Ødegård" in text
    assert "NaN" in text or "nan" in text
    assert stray_files(workdir) == []
