"""An experiment's table of all runs: one Markdown table when small, paged from JSON when large.

A 20,000-row HTML table weighs megabytes and freezes the browser, and a page should stay under
60 KB. So above `run_table.paged_above` runs the page holds only the first `page_size` rows
(readable without JavaScript, by search engines and by the no-JS reader) and `runs.json` beside
the page holds every row for Daybook's own table script (`static/runs-table.js`), which fetches it
on the reader's first sort, filter or page turn.

`runs.json` (format 1) is compact, deterministic JSON:

    {"format": 1, "total": N, "params": [key, …], "metrics": [key, …],
     "decimals": [decimals or null, …],
     "rows": [[run_id, label, depth, href, status, start_s, duration_ms, user,
               param values…, metric values…], …]}

Rows come in the page's own order (newest first, children under their parent; `depth` is the
nesting). `href` is the URL of the run's page relative to the experiment page, or of the run
viewer (`…/runs/#<run id>`) when the run has no page of its own; `start_s` is epoch seconds;
metric values are numbers rounded to 7 significant digits, null when missing, and "NaN" /
"Infinity" / "-Infinity" when not finite; `decimals` (one per metric) is how many decimals the
page writes that metric with (core/numbers.py), null for the plain 4-significant-digit rule.
Values come from the snapshot, which is redacted at pull: nothing here is masked again.
"""

from __future__ import annotations

import json
import math
import posixpath
import sys
from dataclasses import dataclass

from markupsafe import Markup

from daybook.core.config import DaybookConfig
from daybook.pages.context import ExperimentView, TableRow
from daybook.pages.paths import SitePaths, relative_url, run_label

RUNS_JSON = "runs.json"
SCRIPT = "assets/daybook/runs-table.js"  # shipped from daybook/pages/static by every generate
FORMAT = 1
NAME_LIMIT = 200
PARAM_LIMIT = 40  # as the Markdown table cuts them
USER_LIMIT = 30
_CONTROL = {c: " " for c in [*range(32), 127, 0x85, 0x2028, 0x2029]}


@dataclass(frozen=True)
class RunTableView:
    """What run_table.md.j2 gets as `table`."""

    rows: list[TableRow]  # the rows written into the page: all of them, or the first page
    total: int  # every run of the experiment
    paged: bool  # True when the rest comes from runs.json
    page_size: int
    data_path: str | None  # where runs.json goes in the site, when paged
    data_url: Markup  # runs.json relative to the page
    script_url: Markup  # the table script relative to the page


def run_table(
    config: DaybookConfig,
    exp: ExperimentView,
    paths: SitePaths,
    page: str,
    directory_urls: bool = True,
) -> RunTableView:
    settings = config.run_table
    paged = len(exp.rows) > settings.paged_above
    data_path = posixpath.join(posixpath.dirname(page), RUNS_JSON) if paged else None
    return RunTableView(
        rows=exp.rows[: settings.page_size] if paged else exp.rows,
        total=len(exp.rows),
        paged=paged,
        page_size=settings.page_size,
        data_path=data_path,
        data_url=Markup(relative_url(page, data_path, directory_urls) if data_path else ""),
        script_url=Markup(relative_url(page, SCRIPT, directory_urls)),
    )


def _cut(value: object, limit: int) -> str:
    text = str(value).translate(_CONTROL)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float | None) -> float | int | str | None:
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value) or abs(value) >= sys.float_info.max:  # MLflow stores ±inf as ±max
        return "Infinity" if value > 0 else "-Infinity"
    rounded = float(f"{value:.7g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded


def runs_json(exp: ExperimentView, paths: SitePaths, page: str, directory_urls: bool = True) -> str:
    """Every row of the experiment's table as runs.json (see the module docstring)."""
    rows = []
    for row in exp.rows:
        r = row.run
        target = paths.run(r.run_id)
        rows.append(
            [
                r.run_id,
                _cut(run_label(r), NAME_LIMIT),
                row.depth,
                paths.url(page, target) if target else "",  # its page, or the run viewer
                r.status,
                r.start_time // 1000 if r.start_time is not None else None,
                r.duration_ms,
                _cut(r.user, USER_LIMIT),
                *(_cut(r.params.get(p, ""), PARAM_LIMIT) for p in exp.param_columns),
                *(_number(r.metric(k)) for k in exp.metric_columns),
            ]
        )
    doc = {
        "format": FORMAT,
        "total": len(rows),
        "params": exp.param_columns,
        "metrics": exp.metric_columns,
        "decimals": [exp.decimals.get(k) for k in exp.metric_columns],
        "rows": rows,
    }
    # ASCII only: a lone surrogate in a hostile name stays a valid \u escape, never a write error.
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True, allow_nan=False) + "\n"
