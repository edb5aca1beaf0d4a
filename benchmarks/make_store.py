"""Build a synthetic MLflow sqlite store of any size, for Daybook's benchmarks.

    python benchmarks/make_store.py --runs 100000 --experiments 20 --metrics 5 --steps 100 \
        --out /tmp/store100k

writes OUT/mlflow.db (MLflow's default file name, so `daybook build` run in OUT finds it).

MLflow itself creates the schema (at the installed version's alembic head), the experiments and
the registered models. Runs, params, tags, latest metrics and metric points are written in bulk
with `sqlite3` in one transaction, row for row what `MlflowClient.create_run` + `log_batch` +
`set_terminated` write (`--via-client` writes the same plan through that client instead, for
small stores and for checking the bulk path: see check_store.py). Metric values are computed
inside SQLite from a per-run spec, which is what makes 50M points take minutes, not hours.

Everything derives from `--seed`: the same arguments give the same runs, ids and values (only the
creation times MLflow stamps on experiments and models vary).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

T_END = 1_764_000_000_000  # 2025-11-24 16:00 UTC: the newest run starts before this
SPAN_MS = 365 * 86_400_000  # runs start over the year before T_END
CHILD_SHARE = 0.10  # share of runs that are nested children of a sweep parent

METRIC_POOL = (
    "val_loss", "train_loss", "val_accuracy", "train_accuracy", "val_f1", "val_auc",
    "learning_rate", "grad_norm", "epoch_time_s", "val_precision", "val_recall", "throughput",
)  # fmt: skip
TEAMS = ("vision", "nlp", "tabular", "speech", "recsys", "forecasting")
TASKS = ("classifier", "ranker", "detector", "tagger", "regressor", "embedder", "segmenter")
USERS = ("alice", "bob", "chen", "dana", "emeka", "farah", "goran", "hana", "ivan", "julia")
ADJECTIVES = ("bold", "calm", "eager", "fuzzy", "gentle", "honest", "lucky", "nimble", "quiet")
NOUNS = ("otter", "falcon", "maple", "comet", "badger", "lynx", "heron", "cedar", "quokka")
STATUSES = (("FINISHED", 0.88), ("FAILED", 0.94), ("KILLED", 0.98), ("RUNNING", 1.0))

Progress = Callable[[str], None]
BUILD_PRAGMAS = (  # only while building: the file is valid once the build completes
    "journal_mode = OFF",
    "synchronous = OFF",
    "cache_size = -2000000",  # 2 GB page cache
    "temp_store = MEMORY",
    "threads = 2",  # sorter threads for CREATE INDEX
)


@dataclass
class ExperimentPlan:
    name: str
    team: str
    description: str
    commits: tuple[str, ...]


@dataclass
class RunPlan:
    """One run as it will be logged; `index` is its place in start-time order."""

    index: int
    run_id: str  # the id the bulk path writes (the client path gets its own from MLflow)
    experiment: int  # index into Plan.experiments
    name: str
    parent: int | None  # index of the sweep parent run
    status: str
    start: int
    end: int | None
    user: str
    interval_ms: int  # time between logged steps
    quality: float  # 0..1: how good the run's curves get
    lr0: float
    diverge: int | None  # step from which the loss metrics are NaN
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # without mlflow.runName/parentRunId


@dataclass
class ModelPlan:
    name: str
    description: str
    experiment: int
    versions: list[int]  # run indexes, in version order
    champion: int  # version number that gets the alias "champion"


@dataclass
class Plan:
    seed: int
    metrics: list[str]  # sorted
    steps: int
    experiments: list[ExperimentPlan]
    runs: list[RunPlan]  # in start-time order
    models: list[ModelPlan]

    @property
    def points(self) -> int:
        return len(self.runs) * len(self.metrics) * self.steps


def metric_names(count: int) -> list[str]:
    """`count` metric keys: familiar names first, then metric_000, metric_001, …"""
    names = list(METRIC_POOL[:count])
    names += [f"metric_{i:03d}" for i in range(count - len(names))]
    return sorted(names)


def metric_kind(name: str) -> int:
    """0: falls like a loss, 1: rises to a plateau like a score, 2: LR schedule, 3: flat noise."""
    if "loss" in name or name == "grad_norm":
        return 0
    if name == "learning_rate":
        return 2
    if name in ("epoch_time_s", "throughput") or name.startswith("metric_"):
        return 3
    return 1


def _run_id(rng: random.Random) -> str:
    """A uuid4 hex, as MLflow makes run ids, but from the seeded generator."""
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def make_plan(
    runs: int, experiments: int, metrics: int, steps: int, seed: int, models: int = 2
) -> Plan:
    """Decide every run, its experiment, sweep, status, times, params and tags."""
    if runs < 0 or experiments < 1 or metrics < 0 or steps < 1:
        raise ValueError("need runs >= 0, experiments >= 1, metrics >= 0, steps >= 1")
    rng = random.Random(seed)
    names = metric_names(metrics)
    exps = []
    for j in range(experiments):
        team = TEAMS[j % len(TEAMS)]
        task = TASKS[(j // len(TEAMS)) % len(TASKS)]
        exps.append(
            ExperimentPlan(
                name=f"{team}-{task}-{j:03d}",
                team=team,
                description=f"Synthetic {task} experiments of the {team} team (benchmark store).",
                commits=tuple(f"{rng.getrandbits(160):040x}" for _ in range(3)),
            )
        )
    serial = 0
    drafts: list[RunPlan] = []
    for j, exp in enumerate(exps):
        budget = runs // experiments + (1 if j < runs % experiments else 0)
        children_left = round(budget * CHILD_SHARE)
        users = rng.sample(USERS, k=rng.randint(2, 4))
        jobs: list[int] = []  # 0: a single run; n > 0: a sweep parent with n children
        used = 0
        while children_left >= 2 and budget - used >= 3:
            n = min(rng.randint(4, 12), children_left, budget - used - 1)
            jobs.append(n)
            used += n + 1
            children_left -= n
        jobs += [0] * (budget - used)
        for n in jobs:
            serial += 1
            start = T_END - rng.randrange(86_400_000, SPAN_MS)
            user = rng.choice(users)
            if n == 0:
                name = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{serial}"
                drafts.append(_draft(rng, j, exp, name, start, user, steps))
                continue
            parent = _draft(rng, j, exp, f"sweep-{serial}", start, user, steps)
            parent.status = "FINISHED"
            parent.params = {"search": "random", "n_trials": str(n), "objective": "val_loss"}
            parent_pos = len(drafts)
            drafts.append(parent)
            t = start + 1000
            for c in range(n):
                child = _draft(rng, j, exp, f"sweep-{serial}-trial-{c}", t, user, steps)
                child.parent = parent_pos
                drafts.append(child)
                t = (child.end or t + child.interval_ms * steps) + 2000
            parent.end = t
    order = sorted(range(len(drafts)), key=lambda k: (drafts[k].start, k))
    position = {old: new for new, old in enumerate(order)}
    plan_runs = []
    for new, old in enumerate(order):
        r = drafts[old]
        r.index = new
        r.parent = position[r.parent] if r.parent is not None else None
        plan_runs.append(r)
    return Plan(seed, names, steps, exps, plan_runs, _plan_models(rng, exps, plan_runs, models))


def _draft(
    rng: random.Random,
    exp_index: int,
    exp: ExperimentPlan,
    name: str,
    start: int,
    user: str,
    steps: int,
) -> RunPlan:
    roll = rng.random()
    status = next(s for s, bound in STATUSES if roll < bound)
    interval = rng.randint(500, 20_000)
    end = None if status == "RUNNING" else start + interval * (steps + 1) + rng.randint(0, 5000)
    lr0 = 10 ** rng.uniform(-4.5, -1.5)
    tags = {
        "mlflow.user": user,
        "mlflow.source.name": "train.py",
        "mlflow.source.type": "LOCAL",
        "mlflow.source.git.commit": rng.choice(exp.commits),
        "team": exp.team,
    }
    if rng.random() < 0.05:
        tags["mlflow.note.content"] = f"Trying a **{rng.choice(NOUNS)}** variant; see the notes."
    return RunPlan(
        index=-1,
        run_id=_run_id(rng),
        experiment=exp_index,
        name=name,
        parent=None,
        status=status,
        start=start,
        end=end,
        user=user,
        interval_ms=interval,
        quality=rng.random(),
        lr0=lr0,
        diverge=rng.randrange(steps // 4, steps) if steps >= 4 and rng.random() < 0.01 else None,
        params={
            "learning_rate": f"{lr0:.3g}",
            "batch_size": str(rng.choice((16, 32, 64, 128, 256))),
            "optimizer": rng.choice(("adam", "adamw", "sgd")),
            "dropout": str(rng.choice((0.0, 0.1, 0.2, 0.3, 0.5))),
            "seed": str(rng.randrange(10_000)),
            "epochs": str(steps),
        },
        tags=tags,
    )


def _plan_models(
    rng: random.Random, exps: list[ExperimentPlan], runs: list[RunPlan], count: int
) -> list[ModelPlan]:
    out = []
    for m in range(min(count, len(exps))):
        candidates = [
            r for r in runs if r.experiment == m and r.status == "FINISHED" and r.diverge is None
        ]
        best = sorted(candidates, key=lambda r: -r.quality)[: rng.randint(2, 4)]
        if not best:
            continue
        versions = sorted(best, key=lambda r: r.start)
        champion = 1 + versions.index(best[0])
        out.append(
            ModelPlan(
                name=f"{exps[m].team}-{exps[m].name.split('-')[1]}-{m}",
                description=f"Production model trained in `{exps[m].name}`.",
                experiment=m,
                versions=[r.index for r in versions],
                champion=champion,
            )
        )
    return out


# --- metric points, computed inside SQLite -------------------------------------------------------

# One row per (run, metric, step); kk orders the keys by name. The noise term is a hash of
# (run, step, key) scaled to [-0.5, 0.5): deterministic, no random() in SQL.
_POINTS_VIEW = """
CREATE TEMP VIEW points AS
SELECT i, rid, kk, key, step, ts, CASE WHEN nan THEN 0.0 ELSE v END AS value, nan AS is_nan
FROM (
  SELECT sp.i AS i, sp.rid AS rid, k.key AS key, st.s AS step, k.k AS kk,
         sp.start + (st.s + 1) * sp.interval AS ts,
         (k.kind = 0 AND sp.diverge IS NOT NULL AND st.s >= sp.diverge) AS nan,
         CASE k.kind
           WHEN 0 THEN 0.1 + 0.5 * (1 - sp.q)
                       + 2.0 * exp(-4.0 * (st.s * 1.0 / {last}) * (0.5 + sp.q))
                       + 0.04 * (((sp.i * 2654435761 + st.s * 40503 + k.k * 69069 + {seed})
                                  % 65521) / 65521.0 - 0.5)
           WHEN 1 THEN max(0.0, min(1.0, (0.55 + 0.4 * sp.q)
                       * (1 - exp(-5.0 * (st.s * 1.0 / {last}) * (0.5 + sp.q)))
                       + 0.01 * (((sp.i * 2654435761 + st.s * 40503 + k.k * 69069 + {seed})
                                  % 65521) / 65521.0 - 0.5)))
           WHEN 2 THEN sp.lr0 * 0.5 * (1 + cos(pi() * st.s * 1.0 / {last}))
           ELSE 10.0 + 2.0 * (((sp.i * 2654435761 + st.s * 40503 + k.k * 69069 + {seed})
                               % 65521) / 65521.0 - 0.5)
         END AS v
  FROM spec sp, keys k, steps st
)
"""


def load_spec(conn: sqlite3.Connection, plan: Plan) -> None:
    """Temp tables spec/keys/steps and the `points` view over them, on any connection."""
    conn.execute(
        "CREATE TEMP TABLE spec (i INTEGER PRIMARY KEY, rid TEXT, start INTEGER, "
        "interval INTEGER, q REAL, lr0 REAL, diverge INTEGER)"
    )
    rows = [
        (r.index, r.run_id, r.start, r.interval_ms, r.quality, r.lr0, r.diverge) for r in plan.runs
    ]
    conn.executemany("INSERT INTO spec VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("CREATE TEMP TABLE keys (k INTEGER PRIMARY KEY, key TEXT, kind INTEGER)")
    conn.executemany(
        "INSERT INTO keys VALUES (?, ?, ?)",
        ((k, name, metric_kind(name)) for k, name in enumerate(plan.metrics)),
    )
    conn.execute("CREATE TEMP TABLE steps (s INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO steps VALUES (?)", ((s,) for s in range(plan.steps)))
    conn.execute(_POINTS_VIEW.format(last=max(plan.steps - 1, 1), seed=plan.seed % 65521))


# --- writing -------------------------------------------------------------------------------------


def _artifact_root(out: Path, exp_index: int) -> str:
    return (out.resolve() / "mlartifacts" / f"{exp_index + 1}").as_uri()


def _client(db: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{db.resolve()}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def build_store(
    plan: Plan,
    out: Path,
    *,
    via_client: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write `plan` to OUT/mlflow.db (built as mlflow.db.partial, renamed when complete)."""
    progress = progress or log
    out.mkdir(parents=True, exist_ok=True)
    final = out / "mlflow.db"
    if final.exists() and not force:
        raise SystemExit(f"{final} exists; pass --force to replace it")
    work = out / "mlflow.db.partial"
    work.unlink(missing_ok=True)
    t0 = time.monotonic()
    client = _client(work)
    client.search_experiments()  # creates the schema at the installed MLflow's alembic head
    exp_ids = [
        client.create_experiment(
            e.name,
            artifact_location=_artifact_root(out, j),
            tags={"mlflow.note.content": e.description, "team": e.team},
        )
        for j, e in enumerate(plan.experiments)
    ]
    progress(
        f"schema and {len(exp_ids)} experiments via MlflowClient: {time.monotonic() - t0:.1f}s"
    )
    if via_client:
        run_ids = _write_runs_via_client(client, plan, exp_ids, progress)
    else:
        _write_runs_bulk(work, plan, exp_ids, out, progress)
        run_ids = [r.run_id for r in plan.runs]
    _write_models(client, plan, run_ids)
    _dispose(client)
    final.unlink(missing_ok=True)
    work.rename(final)
    progress(
        f"{final}: {len(plan.runs)} runs, {plan.points:,} metric points, "
        f"{final.stat().st_size / 1e6:,.0f} MB in {time.monotonic() - t0:.1f}s"
    )
    return final


def _dispose(client: Any) -> None:
    """Close the pooled SQLAlchemy connections MLflow keeps open on the file."""
    for store in (client._tracking_client.store, client._get_registry_client().store):
        engine = getattr(store, "engine", None)
        if engine is not None:
            engine.dispose()


def _tag_rows(plan: Plan, run_ids: list[str]) -> Iterator[tuple[str, str, str]]:
    for r in plan.runs:
        rid = run_ids[r.index]
        yield ("mlflow.runName", r.name, rid)
        for k, v in r.tags.items():
            yield (k, v, rid)
        if r.parent is not None:
            yield ("mlflow.parentRunId", run_ids[r.parent], rid)


def _write_runs_bulk(
    db: Path, plan: Plan, exp_ids: list[str], out: Path, progress: Progress
) -> None:
    t0 = time.monotonic()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for pragma in BUILD_PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        load_spec(conn, plan)
        conn.execute("BEGIN")
        ids = [r.run_id for r in plan.runs]
        roots = [_artifact_root(out, j) for j in range(len(plan.experiments))]
        conn.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, deleted_time, source_version, "
            "lifecycle_stage, artifact_uri, experiment_id) "
            "VALUES (?, ?, 'UNKNOWN', '', '', ?, ?, ?, ?, NULL, '', 'active', ?, ?)",
            (
                (
                    r.run_id,
                    r.name,
                    r.user,
                    r.status,
                    r.start,
                    r.end,
                    f"{roots[r.experiment]}/{r.run_id}/artifacts",
                    int(exp_ids[r.experiment]),
                )
                for r in plan.runs
            ),
        )
        conn.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", _tag_rows(plan, ids)
        )
        conn.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            ((k, v, r.run_id) for r in plan.runs for k, v in r.params.items()),
        )
        progress(f"runs, tags, params: {time.monotonic() - t0:.1f}s")
        # Secondary indexes are rebuilt once at the end (a sort) instead of updated per row.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('metrics', 'latest_metrics')"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "SELECT key, value, ts, rid, step, is_nan FROM points ORDER BY i, kk, step"
        )
        progress(f"{plan.points:,} metric points: {time.monotonic() - t0:.1f}s")
        conn.execute(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "SELECT key, value, ts, step, is_nan, rid FROM points WHERE step = ? "
            "ORDER BY i, kk",
            (plan.steps - 1,),
        )
        for _, sql in indexes:
            conn.execute(sql)
        progress(f"latest metrics and indexes: {time.monotonic() - t0:.1f}s")
        conn.execute("COMMIT")
        progress(f"committed: {time.monotonic() - t0:.1f}s")
    finally:
        conn.close()


def _write_runs_via_client(
    client: Any, plan: Plan, exp_ids: list[str], progress: Progress
) -> list[str]:
    """The real path: create_run, log_batch, set_terminated, as a training script would."""
    from mlflow.entities import Metric, Param

    t0 = time.monotonic()
    mem = sqlite3.connect(":memory:")
    load_spec(mem, plan)
    run_ids: list[str] = []
    for r in plan.runs:
        tags = dict(r.tags)
        if r.parent is not None:
            tags["mlflow.parentRunId"] = run_ids[r.parent]
        run = client.create_run(
            exp_ids[r.experiment], start_time=r.start, tags=tags, run_name=r.name
        )
        rid = run.info.run_id
        run_ids.append(rid)
        params = [Param(k, v) for k, v in r.params.items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params a batch
            client.log_batch(rid, params=params[i : i + 100])
        points = [
            Metric(key, float("nan") if nan else value, ts, step)
            for key, value, ts, step, nan in mem.execute(
                "SELECT key, value, ts, step, is_nan FROM points WHERE i = ? ORDER BY key, step",
                (r.index,),
            )
        ]
        for i in range(0, len(points), 1000):
            client.log_batch(rid, metrics=points[i : i + 1000])
        if r.status != "RUNNING":
            client.set_terminated(rid, r.status, end_time=r.end)
        if (r.index + 1) % 500 == 0:
            progress(f"{r.index + 1} runs via client: {time.monotonic() - t0:.1f}s")
    mem.close()
    progress(f"{len(run_ids)} runs via client: {time.monotonic() - t0:.1f}s")
    return run_ids


def _write_models(client: Any, plan: Plan, run_ids: list[str]) -> None:
    for m in plan.models:
        team = plan.experiments[m.experiment].team
        client.create_registered_model(m.name, tags={"team": team}, description=m.description)
        for n, index in enumerate(m.versions, 1):
            rid = run_ids[index]
            client.create_model_version(
                m.name,
                source=f"runs:/{rid}/model",
                run_id=rid,
                tags={"validated": "true"} if n == m.champion else {},
                description=f"Version {n} of {m.name}.",
            )
        client.set_registered_model_alias(m.name, "champion", m.champion)
        if m.champion != len(m.versions):
            client.set_registered_model_alias(m.name, "challenger", len(m.versions))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2000, help="runs in all (default 2000)")
    ap.add_argument("--experiments", type=int, default=20, help="experiments (default 20)")
    ap.add_argument("--metrics", type=int, default=5, help="metric keys per run (default 5)")
    ap.add_argument("--steps", type=int, default=50, help="steps per metric (default 50)")
    ap.add_argument("--models", type=int, default=2, help="registered models (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="folder for mlflow.db")
    ap.add_argument(
        "--via-client",
        action="store_true",
        help="log through MlflowClient.create_run/log_batch (slow: small stores, checks)",
    )
    ap.add_argument("--force", action="store_true", help="replace an existing OUT/mlflow.db")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    plan = make_plan(args.runs, args.experiments, args.metrics, args.steps, args.seed, args.models)
    log(f"plan: {len(plan.runs)} runs, {plan.points:,} points: {time.monotonic() - t0:.1f}s")
    build_store(plan, args.out, via_client=args.via_client, force=args.force, progress=log)
    return 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
