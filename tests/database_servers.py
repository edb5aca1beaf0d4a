"""Real database servers for the tests, started by the suite itself from Debian's packages.

PostgreSQL (`postgresql`) runs from /usr/lib/postgresql/<ver>/bin, MariaDB (`mariadb-server`)
from mariadbd; each in a temp folder of its own, on a free port of 127.0.0.1 and a unix socket in
that folder, with fsync off (the data is thrown away). Neither server runs as root, so as root the
folder belongs to the server's system user and the binaries run through `runuser -u <user> --`.

pytest-postgresql's process fixture is not used: it runs `pg_ctl` as the current user, which
PostgreSQL refuses as root (the CI container), and it has no MariaDB counterpart.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_PASSWORD = "pg-secret-4f9a"  # TCP connections need it: errors must never show it
MARIADB_PASSWORD = "my-secret-8c1e"
READER_PASSWORD = "reader-secret-27d0"  # the SELECT-only user's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<ver>/bin with initdb and pg_ctl (Debian's layout; not on
    PATH)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")]
    found = [d for d in found if (d / "initdb").is_file()]
    return max(
        found, key=lambda d: [int(x) for x in re.findall(r"\d+", d.parent.name)], default=None
    )


def mariadbd() -> Path | None:
    """The MariaDB server binary (Debian's `mariadb-server` puts it in /usr/sbin)."""
    for name in ("mariadbd", "mysqld"):
        hit = shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin")
        if hit:
            return Path(hit)
    return None


def _system_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


class ServerUnavailable(Exception):
    """The server cannot be started here (the reason is the message): the tests skip."""


@contextlib.contextmanager
def _owned_tempdir(prefix: str, owner: str) -> Iterator[tuple[Path, list[str]]]:
    """A fresh folder the server may own, and the command prefix that runs as its owner.

    As root, under /tmp (pytest's own temp root is 0700, which the server user cannot enter),
    owned by `owner`; otherwise owned by us, run directly."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if os.geteuid() == 0:
            user = _system_user(owner)
            if user is None or shutil.which("runuser") is None:
                raise ServerUnavailable(f"running as root, and no `{owner}` user or no runuser")
            os.chown(root, user.pw_uid, user.pw_gid)
            yield root, ["runuser", "-u", owner, "--"]
        else:
            yield root, []
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}): {result.stderr or result.stdout}")


class _Server:
    """What both servers' tests do with a DB-API connection (`connect` is each server's own)."""

    def connect(self, database: Any) -> Any:
        raise NotImplementedError

    def execute(self, database: str | None, *statements: str) -> None:
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        finally:
            conn.close()


# --- PostgreSQL -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres(_Server):
    port: int
    socket_dir: Path
    user: str = "postgres"
    password: str = PG_PASSWORD

    schemes = ("postgresql",)  # how users write it without a driver

    def url(self, database: str, scheme: str = "postgresql+psycopg2") -> str:
        """A TCP URI with the password in it (as users write them)."""
        return f"{scheme}://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def select_only_url(self, database: str, scheme: str = "postgresql") -> str:
        """The URI of a user who may only SELECT the tables of `database`."""
        self.execute(
            database,
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN "
            f"CREATE ROLE reader LOGIN PASSWORD '{READER_PASSWORD}'; END IF; END $$",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader",
        )
        return f"{scheme}://reader:{READER_PASSWORD}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        """An autocommit psycopg2 connection for the test's own set-up and checks."""
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database,
        )
        conn.autocommit = True
        return conn

    def create_database(self, name: str, template: str | None = None) -> None:
        """A new database; with `template`, a copy of that one (whose idle sessions, such as
        MLflow's pooled connections, are closed first: a template must have none)."""
        if template is None:
            self.execute("postgres", f"CREATE DATABASE {name}")
            return
        self.execute(
            "postgres",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{template}' AND pid <> pg_backend_pid()",
            f"CREATE DATABASE {name} TEMPLATE {template}",
        )

    def dump(self, database: str) -> dict[str, list[str]]:
        """Every relation of every non-system schema with its rows as text, sorted (tables) or
        its state (sequences): equal dumps, an unchanged database."""
        conn = self.connect(database)
        out: dict[str, list[str]] = {}
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' "
                    "ORDER BY 1, 2"
                )
                relations = cur.fetchall()
                for schema, name, kind in relations:
                    qualified = f'"{schema}"."{name}"'
                    if kind in ("r", "p"):
                        cur.execute(f"SELECT x::text FROM {qualified} AS x ORDER BY 1")
                    elif kind == "S":
                        cur.execute(f"SELECT last_value::text || ' ' || is_called FROM {qualified}")
                    else:  # indexes, views…: their existence is what counts
                        out[f"{schema}.{name} ({kind})"] = []
                        continue
                    out[f"{schema}.{name} ({kind})"] = [r[0] for r in cur.fetchall()]
        finally:
            conn.close()
        return out


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster: password (scram) over TCP, trust on its unix socket."""
    bindir = postgres_bindir()
    if bindir is None:
        raise ServerUnavailable(
            "no PostgreSQL binaries under /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql, as the README's test command does)"
        )
    with _owned_tempdir("daybook-pg-", "postgres") as (root, as_owner):
        data, pwfile, log = root / "data", root / "pw", root / "server.log"
        pwfile.write_text(PG_PASSWORD + "\n", encoding="utf-8")
        if as_owner:
            user = pwd.getpwnam("postgres")
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        _run(
            [
                *as_owner,
                str(bindir / "initdb"),
                "-D", str(data),
                "-U", "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            "initdb",
        )  # fmt: skip
        port = free_port()
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
             "-w", "-t", "60", "start"],
            "pg_ctl start",
        )  # fmt: skip
        try:
            yield Postgres(port=port, socket_dir=root)
        finally:
            subprocess.run(
                [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )


# --- MariaDB --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MariaDB(_Server):
    port: int
    socket: Path
    user: str = "daybook"
    password: str = MARIADB_PASSWORD

    schemes = ("mysql", "mariadb")  # how users write it without a driver

    def url(self, database: str, scheme: str = "mysql+pymysql") -> str:
        return f"{scheme}://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def select_only_url(self, database: str, scheme: str = "mysql") -> str:
        """The URI of a user who may only SELECT the tables of `database`."""
        self.execute(
            None,
            f"CREATE USER IF NOT EXISTS 'reader'@'%' IDENTIFIED BY '{READER_PASSWORD}'",
            f"GRANT SELECT ON {database}.* TO 'reader'@'%'",
        )
        return f"{scheme}://reader:{READER_PASSWORD}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str | None = None) -> Any:
        import pymysql

        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            autocommit=True,
        )

    def create_database(self, name: str, template: str | None = None) -> None:
        """A new database; with `template`, a copy of that one's tables and rows (MariaDB has
        no CREATE DATABASE … TEMPLATE)."""
        statements = [f"CREATE DATABASE {name} CHARACTER SET utf8mb4"]
        if template is not None:
            # id 0 (the Default experiment) must stay 0, not take the next auto-increment value
            statements[:0] = [
                "SET FOREIGN_KEY_CHECKS = 0",
                "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
            ]
            for table in self.dump(template):
                table = table.split(" (")[0]
                statements += [
                    f"CREATE TABLE {name}.`{table}` LIKE {template}.`{table}`",
                    f"INSERT INTO {name}.`{table}` SELECT * FROM {template}.`{table}`",
                ]
        self.execute(None, *statements)

    def dump(self, database: str) -> dict[str, list[str]]:
        """Every table of the database with its rows, sorted: equal dumps, an unchanged database."""
        conn = self.connect(database)
        out: dict[str, list[str]] = {}
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT table_name, table_type FROM information_schema.tables "
                    "WHERE table_schema = %s ORDER BY 1",
                    (database,),
                )
                for name, kind in cur.fetchall():
                    cur.execute(f"SELECT * FROM `{name}`")
                    out[f"{name} ({kind})"] = sorted(repr(row) for row in cur.fetchall())
        finally:
            conn.close()
        return out


@contextlib.contextmanager
def mariadb_server() -> Iterator[MariaDB]:
    """A throwaway MariaDB server with one password user (`daybook`) allowed everything."""
    server = mariadbd()
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if server is None or install is None:
        raise ServerUnavailable("no mariadbd (apt-get install mariadb-server)")
    with _owned_tempdir("daybook-maria-", "mysql") as (root, as_owner):
        data, sock, log = root / "data", root / "mysqld.sock", root / "server.log"
        user_args = ["--user=mysql"] if as_owner else []
        _run(
            [*as_owner, install, "--no-defaults", f"--datadir={data}", "--skip-test-db",
             "--auth-root-authentication-method=normal", *user_args],
            "mariadb-install-db",
        )  # fmt: skip
        port = free_port()
        proc = subprocess.Popen(
            [
                *as_owner,
                str(server),
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={sock}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={root / 'mysqld.pid'}",
                f"--log-error={log}",
                "--innodb-flush-log-at-trx-commit=0",
                *user_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                probe = subprocess.run(
                    [*as_owner, "mariadb", "--no-defaults", f"--socket={sock}", "-uroot",
                     "-e", "SELECT 1"],
                    capture_output=True,
                )  # fmt: skip
                if probe.returncode == 0:
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = log.read_text(errors="replace") if log.exists() else ""
                    raise RuntimeError(f"mariadbd did not start: {text[-2000:]}")
                time.sleep(0.2)
            grant = (
                f"CREATE USER 'daybook'@'%' IDENTIFIED BY '{MARIADB_PASSWORD}';"
                "GRANT ALL PRIVILEGES ON *.* TO 'daybook'@'%' WITH GRANT OPTION;"
            )
            _run(
                [*as_owner, "mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-e", grant],
                "creating the test user",
            )
            yield MariaDB(port=port, socket=sock)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- An MLflow store in a database ----------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseStore:
    experiments: dict[str, str]  # name -> id
    runs: dict[str, str]  # run name -> run id
    model: str  # the registered model's name


def write_mlflow_store(uri: str, artifacts: Path) -> DatabaseStore:
    """A small store written by real MLflow through `uri` (which creates its tables): two
    experiments, five runs with params, metric histories and tags, one finished and one failed
    run among them, an artifact, and a registered model with a version and an alias."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiments, runs = {}, {}
    t0 = 1_767_000_000_000
    for e, name in enumerate(("db-forecast", "db-ranker")):
        exp_id = client.create_experiment(
            name,
            artifact_location=(artifacts / name).as_uri(),
            tags={"mlflow.note.content": f"The {name} experiment, in a database."},
        )
        experiments[name] = exp_id
        for i in range(2 + e):
            run_name = f"{name}-run-{i}"
            run = client.create_run(exp_id, start_time=t0 + 1000 * i, run_name=run_name)
            rid = run.info.run_id
            client.log_batch(
                rid,
                metrics=[
                    Metric("val_rmse", 1.0 / (i + s + 1), t0 + 1000 * i + s, s) for s in range(5)
                ]
                + [Metric("train_loss", 2.0 / (i + s + 1), t0 + 1000 * i + s, s) for s in range(5)],
                params=[Param("lr", str(0.1 / (i + 1))), Param("depth", str(3 + i))],
                tags=[RunTag("team", "tables"), RunTag("mlflow.user", "ada")],
            )
            if i == 0:
                local = artifacts / "upload" / run_name
                local.mkdir(parents=True, exist_ok=True)
                (local / "notes.txt").write_text(f"{run_name}\n", encoding="utf-8")
                client.log_artifact(rid, str(local / "notes.txt"))
            status = "FAILED" if (e, i) == (1, 2) else "FINISHED"
            client.set_terminated(rid, status=status, end_time=t0 + 1000 * i + 500)
            runs[run_name] = rid
    model = "db-forecaster"
    client.create_registered_model(model, description="Forecasts, from a database.")
    version = client.create_model_version(
        model, source=f"runs:/{runs['db-forecast-run-1']}/model", run_id=runs["db-forecast-run-1"]
    )
    client.set_registered_model_alias(model, "champion", version.version)
    return DatabaseStore(experiments=experiments, runs=runs, model=model)
