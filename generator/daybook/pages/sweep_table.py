"""A sweep's compare page that scales and lets the reader choose (issue #15).

With 8 children or fewer the page keeps its side-by-side table. Above that, when the sweep has
more children than `run_table.paged_above` or more params and metrics than a table shows, its
children get the experiment page's runs table (pages/runs_table.py): the first rows in the page,
every child in `runs.json` in the page's folder, every param and metric in `columns/` for the
picker, which the parallel coordinates follow (static/sweep-parallel.js). The params equal in
every child fold into one line above `FOLD_CONSTANT`, their list in `constant-params.json`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup

from daybook.analysis.compare import Sweep
from daybook.core.config import DaybookConfig
from daybook.pages.columns_data import table_files
from daybook.pages.context import ExperimentView, TableRow
from daybook.pages.json_text import compact
from daybook.pages.paths import SitePaths
from daybook.pages.runs_table import run_table
from daybook.safety.redact import MASK

SIDE_BY_SIDE = 8  # children shown as columns of one table (compare.md.j2)
FOLD_CONSTANT = 20  # more params equal in every child than this: one line, the list on demand
CONSTANT_JSON = "constant-params.json"
SCRIPTS = ("assets/daybook/sweep-parallel.js", "assets/daybook/run-lists.js")


@dataclass(frozen=True)
class SweepPage:
    """What compare.md.j2 gets as `sweep_page`."""

    table_exp: ExperimentView | None  # the children as an experiment view, for run_table.md.j2
    table: Any  # a RunTableView when the children get the script-driven table, else None
    constant_url: Markup  # the JSON of the params equal in every child ("" when not folded)
    script_urls: tuple[Markup, ...]


def sweep_page(
    config: DaybookConfig,
    exp: ExperimentView,
    sw: Sweep,
    paths: SitePaths,
    page: str,
    directory_urls: bool = True,
) -> tuple[SweepPage, dict[str, str]]:
    """The compare page's table and folded list, and the files beside the page."""
    files: dict[str, str] = {}
    # The page's own folder (`compare/<sweep>.md` is served at `compare/<sweep>/`): two sweeps
    # of one experiment never share a file.
    folder = page.removesuffix(".md")
    children = list(sw.children)
    settings = config.run_table
    view = replace(
        exp,
        runs=children,
        rows=[TableRow(c, 0) for c in children],  # best first, as the sweep orders them
        param_columns=_param_columns(sw, settings.params, settings.param_keys),
        metric_columns=list(sw.metrics[: max(settings.metrics, 1)]),
        leaders=[],
    )
    table = None
    if len(children) > SIDE_BY_SIDE:
        key = f"sweep-{sw.parent.run_id}"
        candidate = run_table(config, view, paths, page, directory_urls, key=key, folder=folder)
        if candidate.paged and candidate.data_path:
            table = candidate
            files.update(table_files(config, view, paths, page, candidate.data_path,
                                     directory_urls, folder))  # fmt: skip
    constant_url = ""
    if len(sw.constant) > FOLD_CONSTANT:
        target = posixpath.join(folder, CONSTANT_JSON)
        doc = {"format": 1, "params": dict(sw.constant)}
        files[target] = compact(doc, sort_keys=True, ascii_only=True) + "\n"
        constant_url = paths.url(page, target)
    scripts = tuple(Markup(paths.url(page, s)) for s in SCRIPTS) if table or constant_url else ()
    return SweepPage(view if table else None, table, Markup(constant_url), scripts), files


def _param_columns(sw: Sweep, limit: int, chosen: list[str]) -> list[str]:
    """analysis.columns.param_columns for the children, from the sweep's own list of varied
    params (200 of 2,000 in a wide sweep, so the other 1,800 are never counted again)."""
    children = sw.children

    def usable(k: str) -> bool:
        return any(k in c.params for c in children) and all(
            c.params.get(k) != MASK for c in children
        )

    picked = [k for k in dict.fromkeys(chosen) if usable(k)]
    distinct = {k: len({c.params.get(k) for c in children})
                for k in sw.varying if k not in picked and usable(k)}  # fmt: skip
    present = {k: sum(k in c.params for c in children) for k in distinct}
    rest = sorted(distinct, key=lambda k: (-distinct[k], -present[k], k))
    return (picked + rest)[: max(limit, 0)]
