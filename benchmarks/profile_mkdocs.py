"""Where the MkDocs build of a Daybook site spends its time: one build under cProfile.

    daybook generate -C SITE --offline --out /tmp/tree        # the pages, from the saved snapshot
    python benchmarks/profile_mkdocs.py --site SITE --tree /tmp/tree --out /tmp/mk.prof
    python -m pstats /tmp/mk.prof                             # then: sort cumulative, stats 60

The tree is handed to MkDocs as `daybook build` hands it (gen-files, no second generate), so the
profile holds MkDocs, Material and Daybook's MkDocs hooks only. `--no-profile` times the same
build without the profiler (~2.5× faster), for before/after pairs. Two experiments recorded in
docs/guide/scale.md: `--without-sweeps-in-nav` drops the navigation's Sweeps sections;
`--tables-as-html` hands MkDocs every top-level Markdown table already converted to an HTML
block (by Python-Markdown, before the clock starts), the cost of a build whose tables were
written as HTML.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import re
import time
from pathlib import Path
from typing import Any

from daybook.commands.generate import GENERATED_MARKER, load_site, precompute
from daybook.core.site import Generated
from daybook.mkdocs.runner import build_site


def read_tree(tree: Path) -> Generated:
    """The files `daybook generate --out` wrote, as gen-files publishes them: text pages, and
    binary files (artifact images) as they are."""
    pages: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.name == GENERATED_MARKER:
            continue
        rel, data = path.relative_to(tree).as_posix(), path.read_bytes()
        try:
            pages[rel] = data.decode("utf-8")
        except UnicodeDecodeError:
            files[rel] = data
    return Generated(pages, files=files)


def without_sweeps(summary: str) -> str:
    """SUMMARY.md less every `- Sweeps` entry and what is nested under it."""
    out: list[str] = []
    cut: int | None = None
    for line in summary.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip())
        if cut is not None and indent > cut:
            continue
        cut = indent if line.strip() == "- Sweeps" else None
        if cut is None:
            out.append(line)
    return "".join(out)


_TABLE_RULE = re.compile(r"^\|( *:?-+:? *\|)+ *$")


def tables_as_html(text: str, md: Any) -> str:
    """`text` with each table that starts a line (not one indented under an admonition) replaced
    by the HTML Python-Markdown makes of it, on one line, as a raw HTML block."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            out += ["", md.reset().convert("\n".join(lines[i:j])).replace("\n", ""), ""]
            i = j
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="the site folder")
    parser.add_argument("--tree", type=Path, required=True, help="`daybook generate --out` tree")
    parser.add_argument("--out", type=Path, default=Path("mkdocs.prof"), help="the profile")
    parser.add_argument("--html", type=Path, help="where to build (default: beside --out)")
    parser.add_argument("--no-profile", action="store_true", help="time it only")
    parser.add_argument("--without-sweeps-in-nav", action="store_true")
    parser.add_argument("--tables-as-html", action="store_true")
    args = parser.parse_args()

    site = load_site(args.site.resolve())
    generated = read_tree(args.tree)
    pages = generated.pages
    if args.without_sweeps_in_nav and "SUMMARY.md" in pages:
        pages["SUMMARY.md"] = without_sweeps(pages["SUMMARY.md"])
    if args.tables_as_html:
        import markdown

        md = markdown.Markdown(extensions=["tables", "attr_list"])
        for name, text in pages.items():
            if name.endswith(".md"):
                pages[name] = tables_as_html(text, md)
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    precompute(site, generated)
    html = args.html or args.out.with_suffix(".site")
    profile = None if args.no_profile else cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    build_site(site.root, site_dir=html.resolve())
    if profile:
        profile.disable()
        profile.dump_stats(args.out)
    pages_md = sum(1 for p in pages if p.endswith(".md"))
    print(
        f"{pages_md} Markdown pages built in {time.perf_counter() - wall:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU" + ("" if profile is None else f"; {args.out}")
    )


if __name__ == "__main__":
    main()
