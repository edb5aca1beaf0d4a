"""Every param and metric of an experiment, one click away from its runs table (issue #15).

A wide experiment (300 runs × 2,000 params × 500 metrics) cannot put its width into the page or
into `runs.json`: that would be megabytes before the first row. So the table shows its few
columns as before, and beside the page a folder `columns/` holds the rest, loaded only when a
reader picks a column in the table script's picker (`static/runs-table.js`):

    columns/index.json  {"format": 1, "total": N, "shown": {"params": [...], "metrics": [...]},
                         "preset": [name, …],
                         "groups": [{"kind": "param" | "metric", "name": prefix, "keys": [...],
                                     "size": K, "files": [file name, …]}, …]}
    columns/<kind>-<slug of prefix>[--p<n>].json
                        {"format": 1, "kind": ..., "total": N, "keys": [...],
                         "values": [[one value per row of runs.json] or {"same": value}
                                    (every row has it), … one per key],
                         "decimals": [...] (metrics only)}

Groups are the keys' prefixes (`optimizer.`, `model.`; "" for keys without one), cut into files
of `GROUP_FILE_KEYS` keys: key i of a group is in `files[i // size]`. Values are in the order
of runs.json's rows and written like its cells (pages/runs_table.py). File names are made only
through daybook.safety.slug (keys are untrusted text); every key and value stays data.
"""

from __future__ import annotations

import posixpath
from typing import Any

from daybook.analysis.columns import prefix_groups
from daybook.core.config import DaybookConfig
from daybook.pages.context import ExperimentView
from daybook.pages.json_text import compact
from daybook.pages.paths import SitePaths
from daybook.pages.runs_table import (
    PARAM_LIMIT,
    Cells,
    cell_text,
    json_number,
    preset,
    runs_json,
)
from daybook.safety.slug import slugify

FORMAT = 1
COLUMNS_DIR = "columns"
INDEX = "index.json"
GROUP_FILE_KEYS = 50  # 300 runs × 50 params ≈ 100 KB a file: one pick costs one small fetch


def table_files(
    config: DaybookConfig,
    exp: ExperimentView,
    paths: SitePaths,
    page: str,
    data_path: str,
    directory_urls: bool = True,
    beside: str | None = None,
) -> dict[str, str]:
    """A script-driven table's data: every row at `data_path` (runs.json) and every column in
    the columns folder, each metric value written once for both (one `Cells`)."""
    numbers = Cells(json_number)
    files = {data_path: runs_json(exp, paths, page, directory_urls, numbers)}
    files.update(column_files(config, exp, page, beside, numbers))
    return files


def column_files(
    config: DaybookConfig,
    exp: ExperimentView,
    page: str,
    beside: str | None = None,
    numbers: Cells | None = None,  # json_number's cells, shared with runs.json
) -> dict[str, str]:
    """`{site path: JSON}` of the experiment's columns folder (see the module docstring), in
    `beside` (default: the page's folder)."""
    folder = posixpath.join(posixpath.dirname(page) if beside is None else beside, COLUMNS_DIR)
    params, metrics = exp.keys
    runs = [row.run for row in exp.rows]
    # 600,000 cells in a 300-run × 2,000-param experiment: read run by run (one dict at a time
    # is kind to the CPU's cache), turned into columns by zip, each distinct value cut once,
    # and every loop a `map` in C.
    texts = Cells(_text)
    texts[None] = ""  # a run without the param
    if numbers is None:  # by value: None for a run that does not log the metric
        numbers = Cells(json_number)
    columns = {
        "param": _columns(params, [list(map(r.params.get, params)) for r in runs]),
        "metric": _columns(metrics, [list(map(r.metrics.get, metrics)) for r in runs]),
    }  # fmt: skip
    cells = {"param": texts, "metric": numbers}
    files: dict[str, str] = {}
    groups: list[dict[str, object]] = []
    taken: set[str] = set()
    for kind, keys in (("param", params), ("metric", metrics)):
        for prefix, members in prefix_groups(keys):
            base = f"{kind}-{slugify(prefix) if prefix else 'other'}"
            name, n = base, 1
            while name in taken:  # two prefixes with one slug (`a.b.` and `a-b.`)
                n += 1
                name = f"{base}--{n}"  # a slug never holds "--": no clash with another
            taken.add(name)
            chunks = [members[i : i + GROUP_FILE_KEYS]
                      for i in range(0, len(members), GROUP_FILE_KEYS)]  # fmt: skip
            names = [name if len(chunks) == 1 else f"{name}--p{i + 1}" for i in range(len(chunks))]
            for file_name, chunk in zip(names, chunks, strict=True):
                doc: dict[str, object] = {"format": FORMAT, "kind": kind, "total": len(runs),
                                          "keys": chunk}  # fmt: skip
                doc["values"] = [_values(columns[kind][k], cells[kind]) for k in chunk]
                if kind == "metric":
                    doc["decimals"] = [exp.decimals.get(k) for k in chunk]
                files[f"{folder}/{file_name}.json"] = _dump(doc)
            files_of = [f"{f}.json" for f in names]
            groups.append({"kind": kind, "name": prefix, "keys": members,
                           "size": GROUP_FILE_KEYS, "files": files_of})  # fmt: skip
    index = {
        "format": FORMAT,
        "total": len(runs),
        "shown": {"params": exp.param_columns, "metrics": exp.metric_columns},
        "preset": preset(config, exp),
        "groups": groups,
    }
    files[f"{folder}/{INDEX}"] = _dump(index)
    return files


def _columns(keys: list[str], rows: list[list[object]]) -> dict[str, tuple[object, ...]]:
    """`{key: its column}` from one list per run (in `keys` order)."""
    if not rows:
        return dict.fromkeys(keys, ())
    return dict(zip(keys, zip(*rows, strict=True), strict=True))


def _values(column: tuple[object, ...], cells: dict[Any, Any]) -> object:
    """A column as its file writes it: `{"same": cell}` when every run has one value (most
    params of a wide experiment: 1,800 of 2,000), else one cell per run."""
    if len(column) > 1 and len(set(column)) == 1:
        return {"same": cells[column[0]]}
    return list(map(cells.__getitem__, column))


def _text(value: str) -> str:
    """A param cell as runs.json writes it (cell_text), without its cost for the usual short,
    printable value: 600,000 of them in a 300-run × 2,000-param experiment."""
    if len(value) <= PARAM_LIMIT and value.isprintable():
        return value
    return cell_text(value, PARAM_LIMIT)


def _dump(doc: object) -> str:
    # ASCII only: a lone surrogate in a hostile name stays a valid \u escape, never a write error.
    return compact(doc, ascii_only=True)  # numbers via json_number + "\n"


def column_names(exp: ExperimentView) -> list[tuple[str, int, list[tuple[str, list[str]]]]]:
    """Every param and metric name of the experiment, once, grouped by prefix, as
    `[("Params" | "Metrics", count, [(prefix, [name, …]), …]), …]`: the experiment page lists
    them so the site's search finds the experiments that log a name, without a name per run in
    the index."""
    params, metrics = exp.keys
    return [(label, len(keys), prefix_groups(keys))
            for label, keys in (("Params", params), ("Metrics", metrics)) if keys]  # fmt: skip
