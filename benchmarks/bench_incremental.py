"""Time `daybook pull` on a sqlite store: a full pull, an incremental pull with nothing new, and an
incremental pull after N new runs logged with MLflow's real client; print a Markdown table.

    python benchmarks/make_store.py --runs 100000 --experiments 50 --metrics 5 --steps 100 \\
        --out /tmp/s100k
    python benchmarks/bench_incremental.py --store /tmp/s100k/mlflow.db --new-runs 100

THE STORE IS WRITTEN TO (the new runs): use a scratch store, never a team's.

Each pull is the real command (`python -m daybook.cli pull`) in its own process, into a scratch
site's `.daybook/snapshot.json.gz`. "Wall" is the whole command, interpreter and imports included;
"CPU" is its user + system time (from `os.wait4`), which hardly moves when other work shares the
machine; "Load" is the 1-minute load average when the pull started. The counts come from the
pull's own summary line ("incremental pull: 100 new runs, 0 updated, …").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUMMARY = re.compile(r"(full pull \(.*|incremental pull: .*)$", re.M)


def pull(site: Path, uri: str, *extra: str) -> dict[str, object]:
    """One `daybook pull` in a fresh process: wall, CPU, peak RSS, and its summary line."""
    load = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "daybook.cli", "pull", "-C", str(site), "--tracking-uri", uri]
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*cmd, *extra], stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        log = err.read()
    if proc.returncode:
        raise SystemExit(f"daybook pull failed ({proc.returncode}):\n{log}")
    found = SUMMARY.search(log)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "load": load,
        "summary": found.group(1) if found else "?",
        "log": log,
    }


def add_runs(uri: str, count: int, seed: int = 1) -> float:
    """`count` finished runs, 5 metrics x 100 steps each, a few params and tags, in experiments
    picked at random, logged with MlflowClient as a training script would. Returns seconds."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag, ViewType

    rng = random.Random(seed)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiments = [
        e.experiment_id
        for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY, max_results=1000)
        if e.name != "Default"
    ]
    start = time.perf_counter()
    now = int(time.time() * 1000)
    for i in range(count):
        run = client.create_run(rng.choice(experiments), run_name=f"bench-new-{i}")
        rid = run.info.run_id
        metrics = [
            Metric(key, rng.random() / (step + 1), now + step, step)
            for key in ("val_loss", "train_loss", "val_accuracy", "train_accuracy", "val_f1")
            for step in range(100)
        ]
        client.log_batch(
            rid,
            metrics=metrics,
            params=[Param("learning_rate", f"{rng.random():.5f}"), Param("seed", str(i))],
            tags=[RunTag("team", "bench")],
        )
        client.set_terminated(rid, "FINISHED")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--store", type=Path, required=True, help="a scratch mlflow.db (written to)")
    ap.add_argument("--new-runs", type=int, default=100)
    ap.add_argument("--site", type=Path, help="scratch site folder (default: a temporary one)")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    uri = f"sqlite:///{args.store.resolve()}"
    site = args.site or Path(tempfile.mkdtemp(prefix="daybook-bench-incremental-"))
    if not (site / "mkdocs.yml").exists():
        subprocess.run([sys.executable, "-m", "daybook.cli", "init", str(site)], check=True,
                       capture_output=True)  # fmt: skip
    rows = []
    store = f"store: {args.store} ({args.store.stat().st_size / 1e9:.1f} GB)"
    print(f"{store}; cores: {os.cpu_count()}; site: {site}", flush=True)
    rows.append(("full pull (`daybook pull --full`)", pull(site, uri, "--full")))
    rows.append(("incremental, nothing new", pull(site, uri)))
    seconds = add_runs(uri, args.new_runs)
    print(f"logged {args.new_runs} new runs with MlflowClient in {seconds:.1f}s", flush=True)
    rows.append((f"incremental, {args.new_runs} new runs", pull(site, uri)))
    snapshot = site / ".daybook" / "snapshot.json.gz"
    print(f"snapshot: {snapshot.stat().st_size / 1e6:.1f} MB\n")
    print("| Pull | Wall | CPU | Peak RSS | Load | What it read |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, r in rows:
        print(
            f"| {label} | {r['wall']:.1f} s | {r['cpu']:.1f} s | {r['rss_mb']:.0f} MB "
            f"| {r['load']:.1f} | {r['summary']} |"
        )
    if args.json:
        args.json.write_text(json.dumps([{"label": label, **r} for label, r in rows], indent=1))
    print("\nProgress of the last pull:\n")
    print("```text\n" + str(rows[-1][1]["log"]).strip() + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
