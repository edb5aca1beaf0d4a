"""Time Daybook's pipeline stage by stage on one MLflow sqlite store, and print a Markdown table.

    python benchmarks/bench_pipeline.py --runs 2000 --experiments 20 --metrics 5 --steps 50
    python benchmarks/bench_pipeline.py --store /path/to/mlflow.db

Stages, each in its own subprocess (peak RSS from `os.wait4`, so one stage's memory never
shows up in another's):

    floor     read-only sqlite3 SELECTs of what Daybook reads (experiments, runs, params, tags,
              latest metrics, models, and the metric points of the runs Daybook reads histories
              for): the least any reader can cost
    pull      daybook.store.pull.refresh(config, uri, snapshot, full=True): read, mask and save
              the snapshot file (as `daybook pull --full`); then a fresh process loads that
              file with every run decoded, as the next command does (its time is added)
    generate  daybook.commands.generate.render_site + write_pages, with the site's Daybook
              cache (.daybook/: chart SVGs) and the pages' folder emptied first, as on a first
              build (moved aside, and deleted when every stage has run: see `_move_aside`)
    generate-warm  the same again, cache filled and the pages there (only pages that changed
              are written again: none): what every later generate pays
    mkdocs    daybook.mkdocs.runner.build_site on a scaffolded site, pages precomputed, in one
              process as plain `mkdocs build` runs: the yardstick of the generate ratios
    mkdocs-2  the same in two processes, as `daybook build` runs it (daybook.mkdocs.parallel)
    e2e       `daybook build -C SITE --tracking-uri URI -q` on a fresh site, then once more
              (incremental pull, warm caches), with --e2e

"Work" is timed inside the stage; "Process" is the whole subprocess, interpreter and imports
included. CPU is user + system time (the child's own, with the second process that renders half
of a big site's pages, for "Work"; wait4's for "Process"): unlike wall time it hardly moves when
other work shares the machine; "Load" is the 1-minute load average when the stage started. With
--repeat N each stage (or each of --repeat-only's) runs N times and the fastest run is shown
(peak RSS: the largest); each pull is followed by its own load, and the fastest is chosen with
it. A stage that outlives --timeout or --max-rss-gb is killed and so reported.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import json
import os
import pickle
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STAGES = ("pull", "floor", "generate", "generate-warm", "mkdocs", "mkdocs-2")
CHUNK = 900  # run ids per `IN (...)`, as Daybook's sqlite reader does


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the stages (each runs in a child process) ---------------------------------------------------


class Clock:
    """Marks taken through a stage, for the breakdown column (also a Daybook progress callback)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.cpu = self._cpu()
        self.marks: list[tuple[float, str]] = []

    @staticmethod
    def _cpu() -> float:
        """This process's CPU time and its reaped children's: the second process that renders
        half the pages (daybook.core.fork) is part of a stage's work."""
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + kids.ru_utime + kids.ru_stime

    def __call__(self, message: str) -> None:
        self.marks.append((time.perf_counter() - self.start, message))

    def done(self, **extra: Any) -> dict[str, Any]:
        """The stage's result: work time, marks, and the process's peak RSS so far (the work's
        own peak, before the stage saves anything for the next one)."""
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        work = time.perf_counter() - self.start
        cpu = self._cpu() - self.cpu
        return {"work": work, "cpu": cpu, "marks": self.marks, "rss_work_mb": rss, **extra}


def _site(state: dict[str, Any]) -> Any:
    from daybook.commands.generate import load_site

    return load_site(Path(state["site"]), state["uri"])


def stage_pull(state: dict[str, Any]) -> dict[str, Any]:
    """`daybook pull --full` as the command does it: read, mask, save the snapshot file. Its
    Work also counts the load that follows it (`_add_load`)."""
    from daybook.analysis.policy import page_run_ids
    from daybook.store.pull import refresh
    from daybook.store.snapshot_file import SNAPSHOT_DIR, SNAPSHOT_FILE

    site = _site(state)
    path = site.root / SNAPSHOT_DIR / SNAPSHOT_FILE
    clock = Clock()
    pulled = refresh(site.config, site.tracking_uri, path, full=True, progress=clock)
    result = clock.done()
    t0 = time.perf_counter()
    # Decoded after the clock stops: `daybook pull` never decodes the runs a split pull left
    # as the file's parts (its `_from_split`); the load below, which the work counts, does.
    snap = pulled.snapshot
    wanted = sorted(page_run_ids(site.config, snap.experiments, snap.runs, snap.models))
    work_dir = Path(state["work"])
    (work_dir / "wanted.json").write_text(json.dumps(wanted))
    with (work_dir / "snapshot.pkl").open("wb") as fh:
        pickle.dump(snap, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        **result,
        "save": time.perf_counter() - t0,
        "experiments": len(snap.experiments),
        "runs": len(snap.runs),
        "models": len(snap.models),
        "history_runs": len(wanted),
        "history_points": sum(len(h.values) for hs in snap.histories.values() for h in hs),
    }


_LOAD = """
import json, resource, sys, time
from pathlib import Path
from daybook.store.snapshot_file import load
t0, c0 = time.perf_counter(), time.process_time()
runs = len(load(Path(sys.argv[1])).snapshot.runs)  # every run decoded
work, cpu = time.perf_counter() - t0, time.process_time() - c0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"work": work, "cpu": cpu, "rss_mb": rss, "runs": runs}))
"""


def _add_load(r: dict[str, Any], path: Path) -> None:
    """Adds to a pull stage's result `r` the load of the file it saved, with every run decoded,
    by a fresh process once the pull's has ended, as the next command loads it (`daybook
    generate --offline`, `daybook build --offline`; an incremental pull decodes only the runs
    that changed). Its interpreter and imports are not counted, as for every stage.

    Why not in the pull's process: no command loads there (a pull's process ends after the
    save; a build renders from the snapshot it pulled), and on this machine the same load costs
    twice as much there. Memory a process touches for the first time is dear on this VM (system
    time), and the pull's has grown to ~1 GB: the 100k-run load took 2.5 s there (1.2 s of it
    system time) and 1.2–1.4 s in a fresh process (0.3 s), on the same file."""
    loaded = _load_apart(path)
    result = r["result"]
    result["work"] += loaded["work"]
    result["cpu"] += loaded["cpu"]
    result["rss_work_mb"] = max(result["rss_work_mb"], loaded["rss_mb"])
    result["marks"].append(
        [
            result["work"],
            f"loaded the snapshot in a fresh process, every run decoded "
            f"({path.stat().st_size / 1e6:.1f} MB, {loaded['runs']} runs)",
        ]
    )


def _load_apart(path: Path) -> dict[str, Any]:
    """The snapshot at `path` loaded with every run decoded, by a fresh Python process: its
    own wall and CPU time of the load, peak RSS and run count."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"loading {path} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def stage_floor(state: dict[str, Any]) -> dict[str, Any]:
    from daybook.sources.mlflow import sqlite_path

    path = sqlite_path(state["uri"])
    if path is None:
        raise SystemExit("the floor stage needs a sqlite store")
    wanted = json.loads((Path(state["work"]) / "wanted.json").read_text())
    clock = Clock()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows: dict[str, int] = {}

    def fetch(name: str, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> None:
        rows[name] = rows.get(name, 0) + len(conn.execute(sql, args).fetchall())

    active = "SELECT experiment_id FROM experiments WHERE lifecycle_stage = 'active'"
    runs = (
        "SELECT run_uuid FROM runs WHERE lifecycle_stage = 'active' "
        f"AND experiment_id IN ({active})"
    )
    fetch("experiments", "SELECT * FROM experiments WHERE lifecycle_stage = 'active'")
    fetch("experiment_tags", "SELECT key, value, experiment_id FROM experiment_tags")
    fetch("runs", f"SELECT * FROM runs WHERE run_uuid IN ({runs})")
    for table in ("params", "tags", "latest_metrics"):
        fetch(table, f"SELECT * FROM {table} WHERE run_uuid IN ({runs})")
    fetch(
        "inputs",
        "SELECT i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source "
        "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
        f"WHERE i.destination_type = 'RUN' AND i.destination_id IN ({runs})",
    )
    for table in ("registered_models", "model_versions", "registered_model_aliases"):
        fetch(table, f"SELECT * FROM {table}")
    clock("experiments, runs, params, tags, latest metrics, models")
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        fetch(
            "metrics",
            "SELECT run_uuid, key, value, timestamp, step, is_nan FROM metrics "
            f"WHERE run_uuid IN ({','.join('?' * len(chunk))})",
            chunk,
        )
    clock(f"metric points of {len(wanted)} runs")
    conn.close()
    return clock.done(rows=rows)


def _move_aside(folders: list[Path], trash: Path) -> None:
    """Moves `folders` into `trash` (a rename: instant); the run deletes it at its end, after
    every stage, since a first build deletes nothing first. Deleting the last output (2,137
    files and the 60 MB page memo) just before the cold render went with writes of 1.4-2.6 s
    in 11 of 13 runs on this VM, against 0.16-0.26 s in 9 with the folders moved aside: what
    the disk did in the seconds before a write moves its time more than the code does
    (docs/guide/scale.md)."""
    for folder in folders:
        if folder.exists():
            trash.mkdir(parents=True, exist_ok=True)
            folder.rename(trash / f"{time.time_ns()}-{folder.name}")


def stage_generate(state: dict[str, Any], cold: bool = True) -> dict[str, Any]:
    from daybook.commands.generate import render_site, write_pages

    site = _site(state)
    trash = Path(state["work"]) / "trash"
    if cold:  # a first build: no cache, and nothing written yet (write_pages keeps what is equal)
        _move_aside([site.root / ".daybook", Path(state["markdown"])], trash)
    t0 = time.perf_counter()
    with (Path(state["work"]) / "snapshot.pkl").open("rb") as fh:
        snap = pickle.load(fh)
    load = time.perf_counter() - t0
    clock = Clock()
    # memo: as an offline generate renders (store/page_memo.py); (c') is then a reuse
    pages = render_site(site, snap, progress=clock, memo=True).pages
    clock(f"render_site: {len(pages)} files")
    write_pages(pages, Path(state["markdown"]))
    clock("write_pages")
    result = clock.done(load=load)
    sizes = {p: len(t.encode()) for p, t in pages.items()}
    md = [p for p in sizes if p.endswith(".md")]
    largest = max(sizes, key=sizes.__getitem__)
    largest_md = max(md, key=sizes.__getitem__) if md else ""
    return {
        **result,
        "files": len(pages),
        "pages": len(md),
        "bytes": sum(sizes.values()),
        "md_bytes": sum(sizes[p] for p in md),
        "largest": [largest, sizes[largest]],
        "largest_md": [largest_md, sizes.get(largest_md, 0)],
    }


def stage_mkdocs(state: dict[str, Any], processes: str = "1") -> dict[str, Any]:
    """The MkDocs build of the generated pages. One process (the default): the build as plain
    `mkdocs build` runs it, the yardstick of issue #14's ratios. "2": as `daybook build` runs it
    (daybook.mkdocs.parallel); Work CPU counts both."""
    import logging

    from daybook.commands.generate import GENERATED_MARKER, precompute
    from daybook.core.fork import ENV_PROCESSES
    from daybook.mkdocs.runner import build_site

    os.environ[ENV_PROCESSES] = processes

    site = _site(state)
    md = Path(state["markdown"])
    pages = {
        p.relative_to(md).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(md.rglob("*"))
        if p.is_file() and p.name != GENERATED_MARKER
    }
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    clock = Clock()
    precompute(site, pages)
    out = build_site(site.root, site_dir=Path(state["html"]))
    clock("build_site")
    return clock.done(**html_stats(out))


def html_stats(site_dir: Path) -> dict[str, Any]:
    htmls = [
        (p.stat().st_size, p.relative_to(site_dir).as_posix()) for p in site_dir.rglob("*.html")
    ]
    index = site_dir / "search" / "search_index.json"
    raw = index.read_bytes() if index.exists() else b""
    return {
        "html_files": len(htmls),
        "html_bytes": sum(s for s, _ in htmls),
        "largest_html": list(max(htmls)) if htmls else None,
        "search_index": len(raw),
        "search_index_gz": len(gzip.compress(raw, 6)),
        "site_bytes": sum(p.stat().st_size for p in site_dir.rglob("*") if p.is_file()),
    }


CHILD_STAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "pull": stage_pull,
    "floor": stage_floor,
    "generate": stage_generate,
    "generate-warm": lambda state: stage_generate(state, cold=False),
    "mkdocs": stage_mkdocs,
    "mkdocs-2": lambda state: stage_mkdocs(state, processes="2"),
}


def child_main(stage: str, state_file: Path) -> int:
    state = json.loads(state_file.read_text())
    result = CHILD_STAGES[stage](state)
    (Path(state["work"]) / f"{stage}.json").write_text(json.dumps(result))
    return 0


# --- the parent: run the stages, measure, report -------------------------------------------------


def run_measured(
    cmd: list[str], *, timeout: float, max_rss_mb: float, log_file: Path
) -> dict[str, Any]:
    """Run cmd; its wall time, peak RSS (wait4) and how it ended: ok, failed, timeout, rss."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    t0 = time.perf_counter()
    with log_file.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        ended = "ok"
        rss_seen = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss_seen = max(rss_seen, _rss_mb(proc.pid))
            if time.perf_counter() - t0 > timeout:
                ended = "timeout"
            elif rss_seen > max_rss_mb:
                ended = "rss"
            if ended != "ok":
                proc.send_signal(signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if ended == "ok" and proc.returncode != 0:
        ended = "failed"
    return {
        "ended": ended,
        "wall": time.perf_counter() - t0,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,  # Linux: KiB
        "exit": proc.returncode,
    }


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def describe_store(db: Path) -> str:
    """Runs, experiments and metric keys of a store (cheap counts: no scan of `metrics`)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        runs, exps = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT experiment_id) FROM runs"
        ).fetchone()
        latest = conn.execute("SELECT COUNT(*) FROM latest_metrics").fetchone()[0]
    finally:
        conn.close()
    return f"{runs:,} runs over {exps} experiments, {latest:,} (run, metric) series"


def warm(db: Path) -> float:
    """Read the database file once, so every stage starts with it in the page cache."""
    t0 = time.perf_counter()
    with db.open("rb") as fh:
        while fh.read(1 << 24):
            pass
    return time.perf_counter() - t0


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} kB"


def _breakdown(marks: list[list[Any]]) -> str:
    out, last = [], 0.0
    for at, msg in marks:
        label = "open store" if msg.startswith("reading ") else msg.split(" (")[0]
        label = "save" if label.startswith("saved the snapshot") else label
        out.append(f"{label} +{at - last:.2f}s")
        last = at
    return "; ".join(out)


STAGE_NAMES = {
    "floor": "(a) raw floor: read-only sqlite3 SELECTs",
    "pull": "(b) pull: `refresh(full=True)` (read, mask, save the snapshot) + load it",
    "generate": "(c) generate: `render_site` + `write_pages`, cold cache",
    "generate-warm": "(c') generate again, warm cache",
    "mkdocs": "(d) mkdocs build: `build_site`, one process (as `mkdocs build`)",
    "mkdocs-2": "(d') mkdocs build: `build_site`, two processes (as `daybook build`)",
    "e2e": "end to end: `daybook build -q`, first build",
    "e2e-warm": "end to end: `daybook build -q` again",
}


def report(meta: dict[str, Any], res: dict[str, dict[str, Any]]) -> str:
    """The Markdown report: one table row per stage, then ratios and output sizes."""
    lines = [
        f"**Store**: {meta['shape']}; {_mb(meta['db_bytes'])} "
        f"(`{meta['store']}`). **Machine**: {meta['cores']} cores ({meta['affinity']} usable), "
        f"Python {meta['python']}, MLflow {meta['mlflow']}, MkDocs {meta['mkdocs']}, "
        f"Material {meta['material']}.",
        "",
        "| Stage | Work wall (s) | Work CPU (s) | Work peak RSS (MB) | Process wall (s) "
        "| Process CPU (s) | Process peak RSS (MB) | Load | Details |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for stage, name in STAGE_NAMES.items():
        r = res.get(stage)
        if r is None:
            continue
        out = r.get("result", {})
        work = f"{out['work']:.2f}" if "work" in out else "—"
        cpu = f"{out['cpu']:.2f}" if "cpu" in out else "—"
        rss = f"{out['rss_work_mb']:,.0f}" if "rss_work_mb" in out else "—"
        if r["ended"] != "ok":
            work = f"**{r['ended']}** (exit {r['exit']})"
        lines.append(
            f"| {name} | {work} | {cpu} | {rss} | {r['wall']:.2f} | {r['cpu']:.2f} "
            f"| {r['maxrss_mb']:,.0f} | {r['load']:.1f} | {_details(stage, out)} |"
        )
    lines.append("")
    w = {k: v.get("result", {}).get("work") for k, v in res.items()}
    c = {k: v.get("result", {}).get("cpu") for k, v in res.items()}
    if w.get("pull") and w.get("floor"):
        lines.append(
            f"- pull / floor = **{w['pull'] / w['floor']:.1f}×** wall, "
            f"{c['pull'] / c['floor']:.1f}× CPU"
        )
    if w.get("generate") and w.get("mkdocs"):
        ratio = (
            f"- generate / mkdocs build = **{w['generate'] / w['mkdocs']:.3f}** wall, "
            f"{c['generate'] / c['mkdocs']:.3f} CPU (cold cache)"
        )
        if w.get("generate-warm"):
            ratio += (
                f"; **{w['generate-warm'] / w['mkdocs']:.3f}** wall, "
                f"{c['generate-warm'] / c['mkdocs']:.3f} CPU (warm)"
            )
        lines.append(ratio)
    pull = res.get("pull", {}).get("result", {})
    gen = res.get("generate", {}).get("result", {})
    if pull and gen:
        lines.append(
            f"- not in Work: pickling the snapshot for the next stage {pull['save']:.1f}s "
            f"(in pull's Process), unpickling it {gen['load']:.1f}s (in generate's)"
        )
    if gen:
        lines.append(
            f"- Markdown: {gen['pages']:,} pages, {_mb(gen['md_bytes'])}; largest "
            f"`{gen['largest_md'][0]}` {_mb(gen['largest_md'][1])}. All generated files: "
            f"{gen['files']:,}, {_mb(gen['bytes'])}; largest `{gen['largest'][0]}` "
            f"{_mb(gen['largest'][1])}"
        )
    site = res.get("mkdocs", {}).get("result", {})
    if "html_files" in site:
        big = site["largest_html"]
        lines.append(
            f"- HTML: {site['html_files']:,} pages, {_mb(site['html_bytes'])} "
            f"(whole site {_mb(site['site_bytes'])}); largest `{big[1]}` {_mb(big[0])}"
        )
        lines.append(
            f"- search_index.json: {_mb(site['search_index'])} raw, "
            f"{_mb(site['search_index_gz'])} gzipped"
        )
    return "\n".join(lines)


def _details(stage: str, out: dict[str, Any]) -> str:
    if not out:
        return ""
    if stage == "floor":
        rows = out["rows"]
        return (
            f"{rows.get('runs', 0):,} runs, {rows.get('params', 0):,} params, "
            f"{rows.get('tags', 0):,} tags, {rows.get('latest_metrics', 0):,} latest, "
            f"{rows.get('metrics', 0):,} points. " + _breakdown(out["marks"])
        )
    if stage == "pull":
        return (
            f"{out['experiments']} exps, {out['runs']:,} runs, {out['models']} models; "
            f"histories of {out['history_runs']:,} runs = {out['history_points']:,} points. "
            + _breakdown(out["marks"])
        )
    if stage.startswith("generate"):
        return _breakdown(out["marks"])
    return ""


def versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {}
    for name in ("mlflow", "mkdocs", "mkdocs-material"):
        try:
            out[name] = version(name)
        except Exception:
            out[name] = "?"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, help="an existing mlflow.db (else one is built)")
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--experiments", type=int, default=20)
    ap.add_argument("--metrics", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, help="keep the store, pages and site here")
    ap.add_argument(
        "--daybook-yml", type=Path, help="settings for the scaffolded site (default: scaffold's)"
    )
    ap.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset")
    ap.add_argument("--e2e", action="store_true", help="also time `daybook build` as one command")
    ap.add_argument(
        "--e2e-first-only", action="store_true", help="with --e2e: the first (cold) build only"
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per stage; the fastest is shown")
    ap.add_argument(
        "--repeat-only",
        default="",
        help="comma-separated stages --repeat applies to (default: every stage)",
    )
    ap.add_argument("--timeout", type=float, default=600, help="seconds per stage (default 600)")
    ap.add_argument("--max-rss-gb", type=float, default=12, help="kill a stage above this RSS")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--child", choices=sorted(CHILD_STAGES), help=argparse.SUPPRESS)
    ap.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child, args.state)

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="daybook-bench-")
        args.workdir = Path(tmp.name)
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if tmp is not None:
            tmp.cleanup()


def run(args: argparse.Namespace, work: Path) -> int:
    from daybook.mkdocs.scaffold import init_site

    limits = {"timeout": args.timeout, "max_rss_mb": args.max_rss_gb * 1024}
    res: dict[str, dict[str, Any]] = {}
    shape = ""
    if args.store is None:
        store_dir = work / "store"
        db = store_dir / "mlflow.db"
        shape = (
            f"{args.runs:,} runs over {args.experiments} experiments, "
            f"{args.metrics} metrics × {args.steps} steps = "
            f"{args.runs * args.metrics * args.steps:,} points"
        )
        if not db.exists():
            log(f"building a store: {shape}")
            cmd = [sys.executable, str(HERE / "make_store.py"), "--out", str(store_dir)]
            for opt in ("runs", "experiments", "metrics", "steps", "seed"):
                cmd += [f"--{opt}", str(getattr(args, opt))]
            res["store"] = run_measured(cmd, log_file=work / "make_store.log", **limits)
            if res["store"]["ended"] != "ok":
                log((work / "make_store.log").read_text())
                return 1
            log(f"store built in {res['store']['wall']:.1f}s")
    else:
        db = args.store.resolve()
        shape = describe_store(db)
    site_root = work / "site"
    if not (site_root / "mkdocs.yml").exists():
        init_site(site_root)
    if args.daybook_yml:
        shutil.copyfile(args.daybook_yml, site_root / "daybook.yml")
    state = {
        "uri": f"sqlite:///{db}",
        "site": str(site_root),
        "work": str(work),
        "markdown": str(work / "markdown"),
        "html": str(work / "html"),
    }
    state_file = work / "state.json"
    state_file.write_text(json.dumps(state))
    log(f"page cache warm-up: read {_mb(db.stat().st_size)} in {warm(db):.1f}s")
    stages = [s for s in STAGES if s in args.stages.split(",")]
    me = [sys.executable, str(Path(__file__).resolve())]
    repeated = set(args.repeat_only.split(",")) if args.repeat_only else set(stages)
    for stage in stages:
        cmd = [*me, "--child", stage, "--state", str(state_file)]
        repeat = args.repeat if stage in repeated else 1
        snapshot = site_root / ".daybook" / "snapshot.json.gz"
        after = functools.partial(_add_load, path=snapshot) if stage == "pull" else None
        res[stage] = r = run_stage(stage, cmd, work, repeat, limits, after)
        if r["ended"] != "ok":
            break
    if args.e2e and all(r["ended"] == "ok" for r in res.values()):
        daybook = shutil.which("daybook", path=str(Path(sys.executable).parent)) or "daybook"
        cmd = [daybook, "build", "-C", str(site_root), "--tracking-uri", state["uri"], "-q"]
        cmd += ["--site-dir", str(work / "html-e2e")]
        shutil.rmtree(site_root / ".daybook", ignore_errors=True)  # a first build
        res["e2e"] = run_stage("e2e", cmd, work, 1, limits)
        if not args.e2e_first_only:
            res["e2e-warm"] = run_stage("e2e-warm", cmd, work, 1, limits)
    v = versions()
    meta = {
        "store": str(db),
        "db_bytes": db.stat().st_size,
        "shape": shape,
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "python": sys.version.split()[0],
        "mlflow": v["mlflow"],
        "mkdocs": v["mkdocs"],
        "material": v["mkdocs-material"],
    }
    print(report(meta, res))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": res}, indent=1))
    with contextlib.suppress(OSError):
        (work / "snapshot.pkl").unlink()
    shutil.rmtree(work / "trash", ignore_errors=True)  # what the stages moved aside
    return 0 if all(r["ended"] == "ok" for r in res.values()) else 1


def run_stage(
    stage: str,
    cmd: list[str],
    work: Path,
    repeat: int,
    limits: dict[str, float],
    after: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run one stage `repeat` times; the fastest run, with the largest peak RSS of all.
    `after` completes each run that ended well before the next begins (the pull's: the load
    of the file that run saved, `_add_load`), so the fastest is chosen on the whole of its
    work: with a single load after the fastest pull, that load was the one figure of the
    pull taken once, in whatever state the machine was then."""
    runs = []
    for i in range(repeat):
        log(f"stage {stage} ({i + 1}/{repeat}) …")
        load = os.getloadavg()[0]
        r = run_measured(cmd, log_file=work / f"{stage}.log", **limits)
        r["load"] = load
        out = work / f"{stage}.json"
        if r["ended"] == "ok" and out.exists():
            r["result"] = json.loads(out.read_text())
            out.unlink()
        elif r["ended"] != "ok":
            log(f"stage {stage} {r['ended']}; its log:\n" + _tail(work / f"{stage}.log"))
        if after is not None and "result" in r:
            after(r)
        log(f"stage {stage}: {r['ended']}, {r['wall']:.1f}s, {r['maxrss_mb']:,.0f} MB")
        runs.append(r)
        if r["ended"] != "ok":
            return r
    best = min(runs, key=lambda r: r.get("result", {}).get("work", r["wall"]))
    best["maxrss_mb"] = max(r["maxrss_mb"] for r in runs)
    if "result" in best:
        best["result"]["rss_work_mb"] = max(r["result"]["rss_work_mb"] for r in runs)
    best["runs"] = [round(r.get("result", {}).get("work", r["wall"]), 3) for r in runs]
    return best


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
