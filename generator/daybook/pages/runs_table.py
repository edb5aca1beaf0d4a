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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from daybook.core.config import DaybookConfig
from daybook.pages.context import ExperimentView, TableRow
from daybook.pages.json_text import compact
from daybook.pages.paths import SitePaths, relative_url, run_label

RUNS_JSON = "runs.json"
SCRIPT = "assets/daybook/runs-table.js"  # shipped from daybook/pages/static by every generate
FORMAT = 1
NAME_LIMIT = 200
PARAM_LIMIT = 40  # as the Markdown table cuts them
USER_LIMIT = 30
COLUMNS_INDEX = "columns/index.json"  # every column of the experiment (pages/columns_data.py)
WIDE_ABOVE = 24  # more params + metrics than this: the table gets the script and its picker
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
    columns_path: str | None  # columns/index.json in the site, when paged
    columns_url: Markup  # the same, relative to the page ("" when not paged)
    preset: Markup  # daybook.yml's preset columns, as a JSON list (or "")
    key: str  # what the browser remembers the reader's columns under (the experiment id)


def run_table(
    config: DaybookConfig,
    exp: ExperimentView,
    paths: SitePaths,
    page: str,
    directory_urls: bool = True,
    key: str | None = None,
    folder: str | None = None,
) -> RunTableView:
    """The table of `exp`'s rows on `page`; `key`: what the reader's column choice is kept
    under in the browser (default: the experiment id; a sweep's compare page has its own);
    `folder`: where runs.json and columns/ go (default: the page's folder)."""
    settings = config.run_table
    paged = len(exp.rows) > settings.paged_above or is_wide(exp)
    folder = posixpath.dirname(page) if folder is None else folder
    data_path = posixpath.join(folder, RUNS_JSON) if paged else None
    columns_path = posixpath.join(folder, COLUMNS_INDEX) if paged else None
    chosen = preset(config, exp)
    return RunTableView(
        rows=exp.rows[: settings.page_size] if paged else exp.rows,
        total=len(exp.rows),
        paged=paged,
        page_size=settings.page_size,
        data_path=data_path,
        data_url=Markup(relative_url(page, data_path, directory_urls) if data_path else ""),
        script_url=Markup(relative_url(page, SCRIPT, directory_urls)),
        columns_path=columns_path,
        columns_url=Markup(
            relative_url(page, columns_path, directory_urls) if columns_path else ""
        ),
        preset=Markup(json.dumps(chosen, ensure_ascii=True) if chosen and paged else ""),
        key=key or exp.experiment.experiment_id,
    )


def is_wide(exp: ExperimentView) -> bool:
    """True when the experiment logs more columns than its table shows and than a reader takes
    in at a glance: its runs table is then script-driven, with the picker over every column
    (loaded on demand from columns/, pages/columns_data.py), however few its runs."""
    params, metrics = exp.keys
    shown = len(exp.param_columns) + len(exp.metric_columns)
    return len(params) + len(metrics) > max(WIDE_ABOVE, shown)


def preset(config: DaybookConfig, exp: ExperimentView) -> list[str]:
    """The columns daybook.yml's `experiments.columns` presets for this experiment and that it
    has, as written there: the script shows them until the reader picks others."""
    params, metrics = exp.keys
    known = set(params) | set(metrics)
    return [k for k in dict.fromkeys(config.experiments.columns_for(exp.experiment.name))
            if k in known]  # fmt: skip


def cell_text(value: object, limit: int) -> str:
    text = str(value).translate(_CONTROL)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_number(value: float | None) -> float | int | str | None:
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value) or abs(value) >= sys.float_info.max:  # MLflow stores ±inf as ±max
        return "Infinity" if value > 0 else "-Infinity"
    rounded = float(f"{value:.7g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded


class Cells(dict[Any, Any]):
    """Cell values by value, each distinct value converted once: loops can then run in C (`map`
    over `dict.__getitem__`), calling Python only for a value not seen yet. One `Cells(
    json_number)` serves an experiment's runs.json and its column files, which write the same
    metric values (100,000 of them at 20,000 runs × 5 metrics)."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, value: Any) -> Any:
        self[value] = out = self._convert(value)
        return out


def runs_json(
    exp: ExperimentView,
    paths: SitePaths,
    page: str,
    directory_urls: bool = True,
    numbers: Cells | None = None,  # json_number's cells, shared with the column files
) -> str:
    """Every row of the experiment's table as runs.json (see the module docstring)."""
    number = (numbers if numbers is not None else Cells(json_number)).__getitem__
    rows = []
    for row in exp.rows:
        r = row.run
        target = paths.run(r.run_id)
        rows.append(
            [
                r.run_id,
                cell_text(run_label(r), NAME_LIMIT),
                row.depth,
                paths.url(page, target) if target else "",  # its page, or the run viewer
                r.status,
                r.start_time // 1000 if r.start_time is not None else None,
                r.duration_ms,
                cell_text(r.user, USER_LIMIT),
                *(cell_text(r.params.get(p, ""), PARAM_LIMIT) for p in exp.param_columns),
                *(number(r.metric(k)) for k in exp.metric_columns),
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
    return compact(doc, ascii_only=True)  # numbers via json_number + "\n"
