"""Wide experiments (issue #15): page weights, build time against MkDocs, first runs-table row.

    python benchmarks/bench_wide.py --workdir /tmp/wide-bench       # builds the store first
    python benchmarks/bench_wide.py --store /tmp/wide/mlflow.db --workdir /tmp/wide-bench

1. the store: `--store`, or make_wide_store.py's default (300 runs × 2,000 params, 200 varying,
   × 500 metrics, a sweep of 150 children) built into WORKDIR/store;
2. bench_pipeline.py's stages pull, generate (cold: chart cache emptied) and mkdocs on it;
3. the weight of what a reader opens: the experiment page, runs.json, columns/ (index and the
   largest group file), the wide run pages, the sweep's compare page and its files, the search
   index;
4. bench_reader.py on the experiment page: the first runs-table row, cold, median of --repeat.

Prints Markdown tables. Targets: first row ≤ 0.6 s, wide run page ≤ 100 KB, generate ≤ 2× the
MkDocs build. Wall times are noisy on a shared machine: compare CPU, and repeat.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = """primary_metrics:
  - experiment: "*"
    metric: val_loss
    direction: minimize
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def weights(html: Path) -> list[tuple[str, int, str]]:
    """(what, bytes, note) of the pages and files a reader of the wide experiment opens."""
    [exp] = [p.parent for p in html.glob("experiments/*/columns/index.json")
             if (p.parent.parent / "index.html").is_file()]  # fmt: skip
    exp = exp.parent
    out: list[tuple[str, int, str]] = []
    out.append(("experiment page HTML", (exp / "index.html").stat().st_size, "first paint"))
    out.append(("runs.json", (exp / "runs.json").stat().st_size, "on the first sort/filter"))
    out.append(("columns/index.json", (exp / "columns/index.json").stat().st_size,
                "when the picker opens"))  # fmt: skip
    groups = sorted((p.stat().st_size, p.name) for p in (exp / "columns").glob("*.json")
                    if p.name != "index.json")  # fmt: skip
    out.append((f"columns/ group files ({len(groups)})", sum(s for s, _ in groups),
                f"largest {groups[-1][1]} {groups[-1][0] / 1e3:.0f} KB, one per pick"))  # fmt: skip
    runs = sorted(p.stat().st_size for p in exp.glob("runs/*/index.html"))
    if runs:
        out.append((f"run pages HTML ({len(runs)})", runs[-1], "the largest; target ≤ 100 KB"))
    constant = exp / "constant-params.json"
    if constant.is_file():
        out.append(("constant-params.json", constant.stat().st_size, "when a reader opens it"))
    for page in sorted(exp.glob("compare/*/index.html")):
        rows = json.loads((page.parent / "runs.json").read_text())["total"] \
            if (page.parent / "runs.json").is_file() else 0  # fmt: skip
        out.append((f"compare page HTML ({rows} children)", page.stat().st_size, page.parent.name))
    index = html / "search/search_index.json"
    out.append(("search/search_index.json", index.stat().st_size, "whole site"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, help="a wide mlflow.db (else one is built)")
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=3, help="cold loads of the experiment page")
    ap.add_argument("--skip-reader", action="store_true", help="no browser measurement")
    args = ap.parse_args(argv)
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    store = args.store
    if store is None:
        store = work / "store" / "mlflow.db"
        if not store.exists():
            subprocess.run([sys.executable, str(HERE / "make_wide_store.py"), "--out",
                            str(store.parent)], check=True)  # fmt: skip
    cfg = work / "daybook-wide.yml"
    cfg.write_text(CONFIG)
    pipeline = work / "pipeline.json"
    subprocess.run([sys.executable, str(HERE / "bench_pipeline.py"), "--store", str(store),
                    "--workdir", str(work / "pipeline"), "--stages", "pull,generate,mkdocs",
                    "--daybook-yml", str(cfg), "--json", str(pipeline)], check=True)  # fmt: skip
    res = json.loads(pipeline.read_text())["results"]
    html = work / "pipeline" / "html"
    print("\n### Wide experiment: what a reader opens (on disk, uncompressed)\n")
    print("| File | Size | When |")
    print("| --- | ---: | --- |")
    for what, size, note in weights(html):
        print(f"| {what} | {size / 1e3:,.1f} KB | {note} |")

    def work_of(stage: str) -> tuple[float, float]:
        r = res[stage].get("result", {})
        return r.get("work", res[stage]["wall"]), r.get("cpu", float("nan"))

    gen, gen_cpu = work_of("generate")
    mk, mk_cpu = work_of("mkdocs")
    print("\n### Build\n")
    print("| Stage | Wall | CPU |")
    print("| --- | ---: | ---: |")
    for stage in ("pull", "generate", "mkdocs"):
        wall, cpu = work_of(stage)
        print(f"| {stage} | {wall:.1f} s | {cpu:.1f} s |")
    print(f"| generate / mkdocs | {gen / mk:.2f}× | {gen_cpu / mk_cpu:.2f}× |")
    if not args.skip_reader:
        exp = next(html.glob("experiments/*/columns/index.json")).parent.parent
        subprocess.run([sys.executable, str(HERE / "bench_reader.py"), "--site", str(html),
                        "--page", exp.relative_to(html).as_posix(), "--repeat",
                        str(args.repeat)], check=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
