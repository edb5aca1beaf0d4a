"""Check that make_store's bulk path writes what MLflow's own client writes.

    python benchmarks/check_store.py --runs 120 --experiments 4 --metrics 5 --steps 30
    python benchmarks/check_store.py --wide          # a small wide store (make_wide_store.py)

Builds the same plan twice, once in bulk and once through `MlflowClient` (create_run, log_batch,
set_terminated), then compares, with run ids replaced by run names (the client picks its own ids):
every row of every MLflow table (only the times MLflow stamps on experiments and models may
differ), what `MlflowClient.search_runs` and `get_metric_history` return, and Daybook's pull.
Exits 1 on the first table or reader that differs.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from make_store import build_store, log, make_plan
from make_wide_store import make_wide_plan

# Columns stamped with the wall clock when MLflow creates the object: not part of the plan.
CLOCK_COLUMNS = {"creation_time", "last_update_time", "last_updated_time"}


def _names(conn: sqlite3.Connection, db: Path) -> dict[str, str]:
    """Run id -> run name, and the store's folder -> "root" (artifact URIs live under it)."""
    return {
        str(db.parent.resolve()): "root",
        **dict(conn.execute("SELECT run_uuid, name FROM runs")),
    }


def _norm(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for rid, name in ids.items():
            if rid in value:
                value = value.replace(rid, f"<{name}>")
        return value
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def table_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, ids replaced by names, clock columns dropped, sorted."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = _names(conn, db)
        out = {}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in sorted(tables):
            cur = conn.execute(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            keep = [i for i, c in enumerate(cols) if c not in CLOCK_COLUMNS]
            rows = [tuple(_norm(row[i], ids) for i in keep) for row in cur]
            out[table] = sorted(rows, key=repr)
        # MLflow's migrations emit a table's constraints in a varying order (set iteration):
        # compare each CREATE statement as a sorted list of its lines.
        out["(schema)"] = sorted(
            (kind, name, tbl, sorted((sql or "").replace(",", "").splitlines()))
            for kind, name, tbl, sql in conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
            )
        )
        return out
    finally:
        conn.close()


def client_view(db: Path, history_runs: int = 8) -> dict[str, Any]:
    """search_runs of every run and get_metric_history of a few, keyed by run name."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp_ids = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exp_ids, max_results=50_000)
    ids = {str(db.parent.resolve()): "root", **{r.info.run_id: r.info.run_name for r in runs}}
    view: dict[str, Any] = {}
    for r in runs:
        info = {k: _norm(v, ids) for k, v in vars(r.info).items()}
        view[r.info.run_name] = {
            "info": info,
            "params": r.data.params,
            "metrics": {k: _norm(v, ids) for k, v in r.data.metrics.items()},
            "tags": {k: _norm(v, ids) for k, v in r.data.tags.items()},
        }
    # The runs with NaN, the sweep parents, and the first few others.
    picked = sorted(
        runs,
        key=lambda r: (
            not any(math.isnan(v) for v in r.data.metrics.values()),
            not r.info.run_name.startswith("sweep"),
            r.info.run_name,
        ),
    )[:history_runs]
    for r in picked:
        for key in sorted(r.data.metrics):
            history = client.get_metric_history(r.info.run_id, key)
            view[f"history {r.info.run_name} {key}"] = [
                (m.key, _norm(m.value, ids), m.timestamp, m.step) for m in history
            ]
    for m in client.search_registered_models():
        view[f"model {m.name}"] = (m.description, m.tags, m.aliases)
        for v in client.search_model_versions(f"name = '{m.name}'"):
            view[f"version {m.name} {v.version}"] = [
                _norm(x, ids) for x in (v.source, v.run_id, v.status, v.description, v.tags)
            ]
    return view


def daybook_view(db: Path) -> dict[str, Any]:
    """Daybook's pull: runs, histories and models, keyed by run name."""
    from daybook.core.config import DaybookConfig
    from daybook.store.pull import pull

    snap = pull(DaybookConfig(), f"sqlite:///{db}")
    names = {r.run_id: r.name for r in snap.runs}
    ids = {str(db.parent.resolve()): "root", **names}
    view: dict[str, Any] = {f"run {r.name}": _norm(repr(r), ids) for r in snap.runs}
    view.update({f"history {names[k]}": _norm(repr(v), ids) for k, v in snap.histories.items()})
    view["models"] = _norm(
        repr([(m.name, m.description, m.tags, m.aliases, len(m.versions)) for m in snap.models]),
        ids,
    )
    view["versions"] = _norm(
        repr([(v.version, v.run_id, v.source) for m in snap.models for v in m.versions]), ids
    )
    view["experiments"] = _norm(
        repr([(e.name, e.tags, e.artifact_location) for e in snap.experiments]), ids
    )
    return view


def compare(label: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a == b:
        log(f"{label}: identical ({len(a)} entries)")
        return True
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            log(f"{label}: differs at {key!r}:\n  bulk:   {a.get(key)!r:.600}")
            log(f"  client: {b.get(key)!r:.600}")
            break
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=120)
    ap.add_argument("--experiments", type=int, default=4)
    ap.add_argument("--metrics", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path, help="keep the two stores here (default: a temp dir)")
    ap.add_argument(
        "--wide",
        action="store_true",
        help="a small wide plan (make_wide_store.py): "
        "--runs runs × 250 params (25 varying) × --metrics metrics, a sweep of 8",
    )
    args = ap.parse_args(argv)
    if args.wide:
        plan = make_wide_plan(min(args.runs, 24), 250, 25, max(args.metrics, 30), 8,
                              args.steps, args.seed)  # fmt: skip
    else:
        plan = make_plan(args.runs, args.experiments, args.metrics, args.steps, args.seed)
    with tempfile.TemporaryDirectory(prefix="daybook-check-") as tmp:
        root = args.out or Path(tmp)
        bulk = build_store(plan, root / "bulk", force=True)
        via = build_store(plan, root / "client", via_client=True, force=True)
        checks: list[tuple[str, Callable[[Path], dict[str, Any]]]] = [
            ("sqlite tables", table_rows),
            ("MlflowClient search_runs/get_metric_history/registry", client_view),
            ("daybook pull", daybook_view),
        ]
        ok = all([compare(label, fn(bulk), fn(via)) for label, fn in checks])
    log("OK: the bulk store reads back like the client-written one" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
