"""What a reader waits for and downloads: a big experiment page of a built site (or any page),
in headless Chromium with an empty cache, served on 127.0.0.1. Prints a Markdown table.

    python benchmarks/bench_reader.py --runs 20000              # build a store and site, measure
    python benchmarks/bench_reader.py --site path/to/site/site  # measure a built site (HTML dir)
    python benchmarks/bench_reader.py --site S --page index.html --anchor ""   # the home page

Per repeat (a fresh browser profile each time, so nothing is cached):

    first row      the first row of the page's "All runs" table (on other pages: of its first
                   table) is in the DOM, painted (the next animation frame) and visible (not
                   before the first contentful paint), in ms since navigation start
    FCP, DCL, load first contentful paint, DOMContentLoaded and the load event
    bytes          everything the page transferred until the network is idle for a second (HTML,
                   CSS, JS, search index, chart library, fonts if any), as Chromium's DevTools
                   counted it on the wire; and which scripts (and JSON files) it fetched
    last page      clicking "Last »": runs.json fetched, parsed, and the last page drawn (ms)
    sort           clicking the primary metric's header once the data is loaded (ms)

Targets (issue #14): first row <= 0.5 s, <= 1 MB transferred until the page settles, from a
plain static server that never compresses (as `python -m http.server`, the default here; --gzip
compresses text as GitHub Pages or nginx do), the page opened at `#all-runs`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the browser helper the tests use

from browser import Browser, browser, browser_available, page_url, serve  # noqa: E402

ROW = "#all-runs ~ div tbody tr"
ANY_ROW = "article table tbody tr"  # pages without a runs table: their first table's first row
PROBE = """
(() => {
  const t = (window.__daybookProbe = {});
  const seen = () => {
    if (t.row || !document.querySelector(%s)) return;
    t.row = performance.now();
    requestAnimationFrame(() => { t.paint = performance.now(); });
    observer.disconnect();
  };
  const observer = new MutationObserver(seen);
  observer.observe(document, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", seen);
})();
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_site(work: Path, runs: int, steps: int, metrics: int, config: str) -> Path:
    """A store with one experiment of `runs` runs (make_store.py) and its site, built."""
    store = work / "store"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISABLE_MKDOCS_2_WARNING="true")
    if not (store / "mlflow.db").exists():
        log(f"building a {runs}-run store in {store}")
        subprocess.run(
            [sys.executable, str(HERE / "make_store.py"), "--runs", str(runs), "--experiments",
             "1", "--metrics", str(metrics), "--steps", str(steps), "--out", str(store)],
            check=True, env=env,
        )  # fmt: skip
    site = work / "site"
    if not (site / "mkdocs.yml").exists():
        subprocess.run([sys.executable, "-m", "daybook.cli", "init", str(site)], check=True)
    if config:
        with (site / "daybook.yml").open("a", encoding="utf-8") as fh:
            fh.write("\n" + config + "\n")
    log("daybook build")
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "daybook.cli", "build", "-q", "-C", str(site), "--tracking-uri",
         f"sqlite:///{store / 'mlflow.db'}"],
        check=True, env=env,
    )  # fmt: skip
    log(f"built in {time.perf_counter() - t0:.1f} s")
    return site / "site"


def biggest_experiment(html: Path) -> str:
    """The experiment page with the most runs (by its runs.json, else its HTML size)."""
    pages = sorted(
        html.glob("experiments/*/index.html"),
        key=lambda p: (
            (p.parent / "runs.json").stat().st_size
            if (p.parent / "runs.json").exists()
            else p.stat().st_size
        ),
    )
    if not pages:
        raise SystemExit(f"{html}: no experiments/*/index.html (is this a built Daybook site?)")
    return pages[-1].parent.relative_to(html).as_posix() + "/"


def wait_for(driver: Any, script: str, timeout: float = 30.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(script)


def idle(b: Browser, quiet_s: float = 1.0, timeout: float = 30.0) -> None:
    """Wait until no new request has been logged for `quiet_s` seconds."""
    end = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < end:
        n = len(b.drain().requests)
        if n != count:
            count, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.1)


def measure(url: str, row: str = ROW) -> dict[str, Any]:
    with browser() as b:  # a fresh profile: an empty cache
        b.on_new_document(PROBE % json.dumps(row))
        b.driver.get(url)
        probe = wait_for(b.driver, "return window.__daybookProbe.paint && window.__daybookProbe")
        timing = b.driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "const p = performance.getEntriesByName('first-contentful-paint')[0];"
            "return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
            " fcp: p ? p.startTime : null};"
        )
        idle(b)
        net = b.drain()
        page_bytes = net.total_bytes
        by_kind: dict[str, int] = {}
        for r in net.requests.values():
            kind = _kind(r.url)
            by_kind[kind] = by_kind.get(kind, 0) + r.bytes
        result: dict[str, Any] = {
            "row_dom": probe["row"],
            "row_paint": probe["paint"],
            # Nothing shows before the first contentful paint, whatever the frame callback says.
            "row_visible": max(probe["paint"], timing["fcp"] or 0),
            "fcp": timing["fcp"],
            "dcl": timing["dcl"],
            "load": timing["load"],
            "bytes": page_bytes,
            "requests": len(net.requests),
            "by_kind": by_kind,
            # What the page fetched on its own: scripts (is the chart library among them?) and
            # data (is the search index?), with their bytes.
            "fetched": sorted(
                (_name(r.url), r.bytes)
                for r in net.requests.values()
                if _kind(r.url) in ("js", "json", "search index", "runs.json")
            ),
            "foreign": net.foreign(),
        }
        if b.driver.execute_script("return !!document.querySelector('.daybook-runs-last')"):
            before = set(net.requests)
            result["last_page"] = _click_and_wait(
                b,
                ".daybook-runs-last",
                "const s = document.querySelector("
                "'.daybook-runs-page').textContent.match(/Page ([\\d,]+) of ([\\d,]+)/);"
                "return s && s[1] === s[2];",
            )
            result["last_rows"] = b.driver.execute_script(
                "return document.querySelectorAll('.daybook-runs tbody tr[data-run-id]').length"
            )
            result["sort"] = _click_and_wait(
                b,
                ".daybook-runs th:last-child .daybook-sort",
                "return !!document.querySelector('.daybook-runs th[aria-sort]') &&"
                " /Page 1 of/.test(document.querySelector('.daybook-runs-page').textContent)",
            )
            idle(b, 0.5)
            net = b.drain()
            result["data_bytes"] = sum(
                r.bytes for rid, r in net.requests.items() if rid not in before
            )
            result["foreign"] = net.foreign()
        result["errors"] = b.console_errors()
        return result


def _click_and_wait(b: Browser, selector: str, done: str) -> float:
    start = b.driver.execute_script(
        "const t = performance.now(); document.querySelector(arguments[0]).click(); return t;",
        selector,
    )
    wait_for(b.driver, done)
    return b.driver.execute_script("return performance.now()") - start


def _name(url: str) -> str:
    path = url.split("?")[0].split("#")[0]
    return "/".join(path.rstrip("/").split("/")[-2:])


def _kind(url: str) -> str:
    path = url.split("?")[0]
    if path.endswith("search_index.json"):
        return "search index"
    if path.endswith("runs.json"):
        return "runs.json"
    for ext, kind in ((".js", "js"), (".css", "css"), (".json", "json"), (".png", "img"),
                      (".svg", "img"), (".woff2", "font")):  # fmt: skip
        if path.endswith(ext):
            return kind
    return "html"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--site", type=Path, help="a built site (the HTML folder)")
    ap.add_argument("--page", help="page to open, relative to the site (default: the biggest "
                    "experiment)")  # fmt: skip
    ap.add_argument("--runs", type=int, default=20000, help="runs of the built store's experiment")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--metrics", type=int, default=5)
    ap.add_argument("--config", default="", help="YAML appended to the built site's daybook.yml")
    ap.add_argument("--workdir", type=Path, help="keep the store and site here")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gzip", action="store_true", help="compress text as static hosts do "
                    "(default: never, as python -m http.server)")  # fmt: skip
    ap.add_argument("--anchor", default="all-runs", help="open the page at #ANCHOR (\"\" for "
                    "none; default all-runs, as a reader looking for a run does)")  # fmt: skip
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    why = browser_available()
    if why:
        raise SystemExit(f"bench_reader: {why}")
    html = args.site
    if html is None:
        work = args.workdir or Path(tempfile.mkdtemp(prefix="daybook-reader-"))
        html = build_site(work, args.runs, args.steps, args.metrics, args.config)
    page = args.page or biggest_experiment(html)
    data = html / page / "runs.json"
    results = []
    row = ROW if (html / page / "runs.json").exists() or "experiments/" in page else ANY_ROW
    with serve(html, gzip=args.gzip) as server:
        url = page_url(server.url, page) + (f"#{args.anchor}" if args.anchor else "")
        log(f"measuring {url} ({os.cpu_count()} cores)")
        for i in range(args.repeat):
            results.append(measure(url, row))
            log(f"  run {i + 1}: first row visible {results[-1]['row_visible']:.0f} ms, "
                f"{results[-1]['bytes'] / 1e6:.3f} MB")  # fmt: skip
    _report(page, html, data, results, gzip=args.gzip)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    foreign = sorted({u for r in results for u in r["foreign"]})
    if foreign:
        log(f"requests that left 127.0.0.1: {foreign}")
        return 1
    return 0


def _report(page: str, html: Path, data: Path, results: list[dict[str, Any]], gzip: bool) -> None:
    def med(key: str) -> float:
        values = [r[key] for r in results if r.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    index = html / page if page.endswith(".html") else html / page / "index.html"
    size = index.stat().st_size
    print(f"\n### Reader side: `{page}` ({os.cpu_count()} cores, {len(results)} cold loads, "
          f"{'gzip' if gzip else 'no compression'}, median)\n")  # fmt: skip
    print("| Measure | Value | Target |")
    print("| --- | ---: | ---: |")
    print(f"| page HTML on disk | {size / 1024:.1f} KB | ≤ 60 KB |")
    if data.exists():
        print(f"| runs.json on disk | {data.stat().st_size / 1e6:.2f} MB | on demand |")
    print(f"| first run row in the DOM | {med('row_dom'):.0f} ms | |")
    print(f"| first run row painted (next frame) | {med('row_paint'):.0f} ms | |")
    print(f"| first run row visible (≥ FCP) | {med('row_visible'):.0f} ms | ≤ 500 ms |")
    print(f"| first contentful paint | {med('fcp'):.0f} ms | |")
    print(f"| DOMContentLoaded | {med('dcl'):.0f} ms | |")
    print(f"| load event | {med('load'):.0f} ms | |")
    print(f"| transferred on open | {med('bytes') / 1e6:.3f} MB ({results[0]['requests']} "
          "requests) | ≤ 1 MB |")  # fmt: skip
    kinds = sorted({k for r in results for k in r["by_kind"]})
    for k in kinds:
        value = statistics.median(r["by_kind"].get(k, 0) for r in results)
        print(f"| … of which {k} | {value / 1e3:.1f} KB | |")
    fetched = results[0]["fetched"]
    scripts = ", ".join(f"`{n}` {b / 1e3:.1f} KB" for n, b in fetched) or "none"
    print(f"| fetched until settled (first load): scripts and data | {scripts} | no vega.js, "
          "no search index |")  # fmt: skip
    if any("last_page" in r for r in results):
        print(f"| “Last »” (fetch + parse runs.json, draw) | {med('last_page'):.0f} ms | |")
        print(f"| sort by a metric, all runs | {med('sort'):.0f} ms | |")
        print(f"| runs.json transferred on demand | {med('data_bytes') / 1e6:.3f} MB | |")
    errors = sorted({e for r in results for e in r["errors"]})
    if errors:
        print(f"\nConsole errors: {errors}")


if __name__ == "__main__":
    sys.exit(main())
