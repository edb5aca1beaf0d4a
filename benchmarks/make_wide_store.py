"""Build a wide MLflow sqlite store (issue #15): one experiment of many params and metrics.

    python benchmarks/make_wide_store.py --out /tmp/wide   # 300 runs × 2,000 params × 500 metrics

writes OUT/mlflow.db: one experiment of `--runs` runs, each with `--params` params (`p0000` …;
the first `--varying` differ from run to run, the rest are the same in every run) and
`--metrics` metrics (`val_loss`, `val_accuracy`, `m0002` …) of `--steps` steps, and one sweep
parent with `--sweep` children. It is make_store.py's plan with wider runs, written by
make_store's own bulk writer (600,000 params in seconds; through the client, 100 params a
`log_batch`, ~10 minutes). `python benchmarks/check_store.py --wide` builds a small wide plan
both ways and checks they read back the same.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from make_store import Plan, build_store, log, make_plan


def wide_params(run: int, params: int, varying: int) -> dict[str, str]:
    """`params` params; the first `varying` depend on the run, the rest never do."""
    out = {}
    for k in range(params):
        if k < varying:
            out[f"p{k:04d}"] = f"{(run * 7919 + k * 104_729) % 1000 / 1000:.3f}"
        else:
            out[f"p{k:04d}"] = f"same-{k % 17}"
    return out


def wide_metric_names(count: int) -> list[str]:
    names = ["val_loss", "val_accuracy"][:count]
    return sorted(names + [f"m{i:04d}" for i in range(len(names), count)])


def make_wide_plan(
    runs: int = 300,
    params: int = 2000,
    varying: int = 200,
    metrics: int = 500,
    sweep: int = 150,
    steps: int = 5,
    seed: int = 0,
) -> Plan:
    """make_store's plan for one experiment, made wide, with one sweep of `sweep` children."""
    if not 0 <= sweep < runs or not 0 <= varying <= params:
        raise ValueError("need 0 <= sweep < runs and 0 <= varying <= params")
    plan = make_plan(runs, 1, 1, steps, seed, models=1)
    plan.metrics = wide_metric_names(metrics)
    plan.experiments[0].name = "wide"
    for r in plan.runs:
        r.parent = None
        r.params = wide_params(r.index, params, varying)
        r.name = f"wide-{r.index:04d}"
    parent = plan.runs[0]  # the oldest run: every child starts after it
    parent.name, parent.status = "sweep", "FINISHED"
    for r in plan.runs[1 : sweep + 1]:
        r.parent = parent.index
        r.name = f"sweep-trial-{r.index:04d}"
    parent.end = max((r.end or r.start) for r in plan.runs[: sweep + 1]) + 1000
    return plan


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--params", type=int, default=2000, help="params per run (default 2000)")
    ap.add_argument("--varying", type=int, default=200, help="params that differ (default 200)")
    ap.add_argument("--metrics", type=int, default=500, help="metrics per run (default 500)")
    ap.add_argument("--sweep", type=int, default=150, help="children of the sweep (default 150)")
    ap.add_argument("--steps", type=int, default=5, help="steps per metric (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="folder for mlflow.db")
    ap.add_argument("--via-client", action="store_true", help="log through MlflowClient (slow)")
    ap.add_argument("--force", action="store_true", help="replace an existing OUT/mlflow.db")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    plan = make_wide_plan(args.runs, args.params, args.varying, args.metrics, args.sweep,
                          args.steps, args.seed)  # fmt: skip
    log(f"plan: {len(plan.runs)} runs × {args.params} params × {len(plan.metrics)} metrics, "
        f"{plan.points:,} points: {time.monotonic() - t0:.1f}s")  # fmt: skip
    build_store(plan, args.out, via_client=args.via_client, force=args.force, progress=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
