"""Check a built Daybook site against the output targets of issue #6, and print a Markdown table.

    python benchmarks/check_output.py --site path/to/site            # the folder with mkdocs.yml
    python benchmarks/check_output.py --site path/to/site --html DIR --markdown GENERATED

Targets: every HTML page <= 60 KB; search_index.json <= 2 MB gzipped; the navigation at most 50
entries on any level (read from the SUMMARY.md Daybook generates) with `navigation.prune` on; no
experiment page holding more table rows than `run_table.page_size` when it has a runs.json.
What pages load (issue #14): no page loads the chart library (vega.js) by itself (charts.js
loads it when a chart nears the viewport), no page without a chart loads charts.js, no page
carries chart data inline, and every page holds back the search index until the search box is
used. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import yaml

PAGE_LIMIT = 60 * 1024
SEARCH_LIMIT_GZ = 2 * 1024 * 1024
NAV_LIMIT = 50


def nav_widths(summary: str) -> tuple[int, int]:
    """(most entries under one parent, depth) of a literate-nav SUMMARY.md (4-space indents)."""
    counts: dict[tuple[int, ...], int] = {}
    path: list[int] = []
    depth = 0
    for line in summary.splitlines():
        stripped = line.lstrip(" ")
        if not stripped.startswith("- "):
            continue
        level = (len(line) - len(stripped)) // 4
        del path[level:]
        parent = tuple(path)
        counts[parent] = counts.get(parent, 0) + 1
        path.append(counts[parent])
        depth = max(depth, level + 1)
    return max(counts.values(), default=0), depth


def prune_on(mkdocs_yml: Path) -> bool:
    node = yaml.compose(mkdocs_yml.read_text(encoding="utf-8"))  # compose: no tags constructed
    for key, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if key.value == "theme" and isinstance(value, yaml.MappingNode):
            for k, v in value.value:
                if k.value == "features" and isinstance(v, yaml.SequenceNode):
                    return any(item.value == "navigation.prune" for item in v.value)
    return False


def check(
    site: Path, html: Path, markdown: Path | None = None
) -> tuple[list[tuple[str, str, str, bool]], list[str]]:
    rows: list[tuple[str, str, str, bool]] = []
    pages = sorted(html.rglob("*.html"), key=lambda p: p.stat().st_size, reverse=True)
    over = [p for p in pages if p.stat().st_size > PAGE_LIMIT]
    biggest = pages[0] if pages else None
    rows.append(
        (
            "largest HTML page",
            f"{biggest.stat().st_size / 1024:.1f} KB ({biggest.relative_to(html)})"
            if biggest
            else "—",
            "≤ 60 KB",
            not over,
        )
    )
    rows.append((f"HTML pages over 60 KB (of {len(pages)})", str(len(over)), "0", not over))
    index = html / "search" / "search_index.json"
    if index.exists():
        raw = index.read_bytes()
        gz = len(gzip.compress(raw, 6))
        docs = len(json.loads(raw)["docs"])
        rows.append(
            ("search_index.json raw", f"{len(raw) / 1e6:.2f} MB ({docs} entries)", "", True)
        )
        rows.append(
            ("search_index.json gzipped", f"{gz / 1e6:.2f} MB", "≤ 2 MB", gz <= SEARCH_LIMIT_GZ)
        )
    data = sorted(html.glob("experiments/*/runs.json"), key=lambda p: p.stat().st_size)
    if data:
        top = data[-1]
        gz = len(gzip.compress(top.read_bytes(), 6))
        rows.append(
            (
                f"largest runs.json (of {len(data)})",
                f"{top.stat().st_size / 1e6:.2f} MB, {gz / 1e6:.2f} MB gzipped ({top.parent.name})",
                "on demand",
                True,
            )
        )
    text = nav_text(site, markdown)
    if text is None:
        rows.append(
            ("most nav entries on one level", "— (no SUMMARY.md, no snapshot)", "≤ 50", True)
        )
    else:
        width, depth = nav_widths(text)
        rows.append(
            (
                "most nav entries on one level",
                f"{width} (depth {depth})",
                "≤ 50",
                width <= NAV_LIMIT,
            )
        )
    rows.extend(script_budgets(pages))
    pruned = prune_on(site / "mkdocs.yml")
    rows.append(("navigation.prune", "on" if pruned else "off", "on", pruned))
    return rows, [label for label, _value, _target, ok in rows if not ok]


def script_budgets(pages: list[Path]) -> list[tuple[str, str, str, bool]]:
    """Which scripts the pages load (issue #14), as rows of the table."""
    eager = chartless = inline = undeferred = with_charts = 0
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        charts = 'class="daybook-chart"' in text
        with_charts += charts
        eager += 'src="' in text and 'vega.js"' in text.replace("vega.js'", 'vega.js"')
        chartless += "daybook-charts-js" in text and not charts
        inline += '<script type="application/json">[' in text
        undeferred += "javascripts/bundle." in text and "daybook: the search index" not in text
    return [
        (f"pages that load vega.js themselves (of {with_charts} with charts)", str(eager), "0",
         eager == 0),
        ("pages without a chart that load charts.js", str(chartless), "0", chartless == 0),
        ("pages with chart data inline", str(inline), "0", inline == 0),
        ("pages that fetch the search index at load", str(undeferred), "0", undeferred == 0),
    ]  # fmt: skip


def nav_text(site: Path, markdown: Path | None) -> str | None:
    """The navigation Daybook generates: from a `daybook generate` tree, a hand-written
    docs/SUMMARY.md, or rendered again from the site's saved snapshot."""
    for path in (markdown / "SUMMARY.md" if markdown else None, site / "docs" / "SUMMARY.md"):
        if path is not None and path.exists():
            return path.read_text(encoding="utf-8")
    from daybook.commands.generate import load_site, render_site
    from daybook.commands.pull import offline_snapshot
    from daybook.store.snapshot_file import SnapshotError

    loaded = load_site(site)
    try:
        return render_site(loaded, offline_snapshot(loaded)).pages.get("SUMMARY.md", "")
    except SnapshotError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--site", type=Path, required=True, help="the site folder (mkdocs.yml)")
    ap.add_argument("--html", type=Path, help="the built HTML (default: SITE/site)")
    ap.add_argument("--markdown", type=Path, help="a `daybook generate --out` tree (for the nav)")
    args = ap.parse_args(argv)
    rows, problems = check(args.site, args.html or args.site / "site", args.markdown)
    print("| Output | Value | Target | |")
    print("| --- | --- | --- | --- |")
    for label, value, target, ok in rows:
        print(f"| {label} | {value} | {target} | {'ok' if ok else '**missed**'} |")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
