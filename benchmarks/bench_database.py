"""Direct SQL vs MLflow's client, reading the same store from sqlite, PostgreSQL and MariaDB.
Prints a Markdown table.

    python benchmarks/bench_database.py                         # 3,000 runs × 5 metrics × 20 steps
    python benchmarks/bench_database.py --runs 5000 --repeat 3 --backends postgresql,mariadb

The store is made once by make_store.py (sqlite, bulk SQL), then copied row for row into a
throwaway PostgreSQL and MariaDB server (tests/database_servers.py; Debian's `postgresql` and
`mariadb-server`) whose schema MLflow's own client created. Each reader then reads what a full
pull reads: experiments, every run (params, tags, latest metrics), the registry, and the metric
histories of every run; both readers must return the same number of runs and points.

    direct    daybook.sources.sql (open_reader): Daybook's SELECTs in a read-only session
    client    open_reader(force_client=True): MLflow's client (search_runs, bulk histories) in
              the same read-only session settings

Wall and CPU time of the whole read, opening included (imports excluded: they are done first),
in this process, the fastest of --repeat; the machine is shared, so compare CPU and repeat.
Issue #13 wants direct ≥ 5× faster.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the server helpers the tests use

from database_servers import mariadb_server, postgres_server  # noqa: E402

# Parents before children (PostgreSQL checks foreign keys).
TABLES = (
    "experiments", "experiment_tags", "runs", "tags", "params", "metrics", "latest_metrics",
    "registered_models", "registered_model_tags", "model_versions", "model_version_tags",
    "registered_model_aliases",
)  # fmt: skip
BATCH = 5000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_sqlite_store(work: Path, runs: int, metrics: int, steps: int) -> Path:
    db = work / "store" / "mlflow.db"
    if not db.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_store.py"), "--runs", str(runs), "--experiments",
             "1", "--metrics", str(metrics), "--steps", str(steps), "--out", str(db.parent)],
            check=True,
        )  # fmt: skip
    return db


def copy_store(db: Path, uri: str) -> None:
    """Every row of the sqlite store's tables into the database at `uri`, whose schema MLflow's
    client creates first (with its Default experiment, which is kept)."""
    import sqlalchemy
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments()  # creates the schema at the installed MLflow's head
    client._tracking_client.store.engine.dispose()
    engine = sqlalchemy.create_engine(uri)
    meta = sqlalchemy.MetaData()
    meta.reflect(engine, only=list(TABLES))
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        with engine.begin() as conn:
            for name in TABLES:
                table = meta.tables[name]
                cols = [c.name for c in table.columns]
                booleans = {c.name for c in table.columns if isinstance(c.type, sqlalchemy.Boolean)}
                quoted = ", ".join(f'"{c}"' for c in cols)
                # the Default experiment (id 0) is the one MLflow's client just made
                keep = " WHERE experiment_id != 0" if name.startswith("experiment") else ""
                cur = src.execute(f"SELECT {quoted} FROM {name}{keep}")
                while rows := cur.fetchmany(BATCH):
                    batch = [
                        {c: (bool(v) if c in booleans and v is not None else v)
                         for c, v in zip(cols, row, strict=True)}
                        for row in rows
                    ]  # fmt: skip
                    conn.execute(table.insert(), batch)
    finally:
        src.close()
        engine.dispose()


def read_all(uri: str, *, client: bool) -> tuple[str, int, int]:
    """What a full pull reads; (reader kind, runs, points)."""
    from daybook.sources.mlflow import open_reader, read_histories

    reader = open_reader(uri, force_client=client)
    try:
        exps = reader.read_experiments()
        runs = reader.read_runs([e.experiment_id for e in exps])
        reader.read_models()
        hist = read_histories(reader, [r.run_id for r in runs], {r.run_id: r.metrics for r in runs})
    finally:
        reader.close()
    points = sum(len(h.values) for hs in hist.values() for h in hs)
    return reader.kind, len(runs), points


def measure(uri: str, client: bool, repeat: int) -> dict[str, Any]:
    best: dict[str, Any] = {}
    for _ in range(repeat):
        load = os.getloadavg()[0]
        w, c = time.perf_counter(), time.process_time()
        kind, runs, points = read_all(uri, client=client)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        if not best or wall < best["wall"]:
            best = {"wall": wall, "cpu": cpu, "kind": kind, "runs": runs, "points": points,
                    "load": load}  # fmt: skip
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3000)
    ap.add_argument("--metrics", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2, help="reads per reader; the fastest is shown")
    ap.add_argument("--backends", default="sqlite,postgresql,mariadb")
    ap.add_argument("--workdir", type=Path, help="keep the sqlite store here")
    args = ap.parse_args(argv)
    backends = args.backends.split(",")
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        stack.enter_context(contextlib.chdir(work))  # whatever MLflow leaves stays here
        db = make_sqlite_store(work, args.runs, args.metrics, args.steps)
        uris = {"sqlite": f"sqlite:///{db}"}
        servers = {"postgresql": postgres_server, "mariadb": mariadb_server}
        for name in backends:
            if name == "sqlite":
                continue
            t0 = time.perf_counter()
            server = stack.enter_context(servers[name]())
            server.create_database("bench")
            uris[name] = server.url("bench")
            copy_store(db, uris[name])
            log(f"{name}: started and filled in {time.perf_counter() - t0:.1f} s")
        # Imports are paid once, before any clock starts: the table compares reads.
        import mlflow  # noqa: F401
        import sqlalchemy  # noqa: F401

        import daybook.sources.client
        import daybook.sources.database
        import daybook.sources.mlflow  # noqa: F401

        rows = []
        for name in backends:
            direct = measure(uris[name], False, args.repeat)
            log(f"{name} direct: {direct['wall']:.2f} s ({direct['kind']})")
            client = measure(uris[name], True, args.repeat)
            log(f"{name} client: {client['wall']:.2f} s ({client['kind']})")
            if (direct["runs"], direct["points"]) != (client["runs"], client["points"]):
                raise SystemExit(f"{name}: the readers disagree: {direct} vs {client}")
            rows.append((name, direct, client))
    shape = f"{rows[0][1]['runs']:,} runs, {rows[0][1]['points']:,} metric points"
    print(f"\n### Reading one store ({shape}; {os.cpu_count()} cores; fastest of "
          f"{args.repeat})\n")  # fmt: skip
    print("| Backend | Direct SQL wall (s) | CPU (s) | MLflow client wall (s) | CPU (s) "
          "| Direct faster by (wall) | Load |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, d, c in rows:
        load = max(d["load"], c["load"])
        print(f"| {name} | {d['wall']:.2f} | {d['cpu']:.2f} | {c['wall']:.2f} | {c['cpu']:.2f} "
              f"| **{c['wall'] / d['wall']:.1f}×** | {load:.1f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
