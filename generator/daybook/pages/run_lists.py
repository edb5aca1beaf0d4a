"""A wide run's params and metrics as a person scans them (issue #15).

A run with 2,000 params and 500 metrics made a 265 KB page of one 138,000-px table. Most of those
params are the same in every run of the experiment, and say nothing about this run. So above
`INLINE_PARAMS` params or `INLINE_METRICS` metrics a run page shows:

- one line for the params equal in every run of the experiment ("1,800 params equal in every
  run of this experiment"), their list in `constant-params.json` beside the experiment page,
  written once per experiment and loaded when the reader opens it;
- the rest grouped by prefix (`optimizer.`, `model.`), up to `INLINE_PARAMS` of them inline;
- the first `INLINE_METRICS` metrics (the primary, the experiment's table columns, then by name);
- a filter box over keys and values of every param and metric (static/run-lists.js), reading the
  run viewer's shard of the run (pages/run_viewer.py), which holds all of them already.

`constant-params.json` (format 1): `{"format": 1, "params": {key: value}}`, sorted, ASCII only.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from markupsafe import Markup

from daybook.analysis.columns import constant_params, prefix_groups
from daybook.pages.context import ExperimentView, MetricRow, RunView
from daybook.pages.json_text import compact
from daybook.pages.paths import SitePaths
from daybook.pages.run_viewer import shard_path

INLINE_PARAMS = 300  # params shown on a wide run page; the rest through the filter
INLINE_METRICS = 50
WIDE_PARAMS = 60  # a run with more params than this (or more metrics) gets the wide layout
WIDE_METRICS = 60
CONSTANT_JSON = "constant-params.json"
SCRIPT = "assets/daybook/run-lists.js"  # shipped from daybook/pages/static by every generate
VALUE_LIMIT = 200  # characters of a value in the page (the filter shows the whole value)


@dataclass(frozen=True)
class RunLists:
    """What run.md.j2 gets as `lists` (None for a run that fits the plain tables)."""

    constant_count: int  # params equal in every run of the experiment, folded into one line
    constant_url: Markup  # their JSON, relative to the run page ("" when none)
    groups: list[tuple[str, list[tuple[str, str]]]]  # the other params, by prefix
    hidden_params: int  # other params beyond INLINE_PARAMS, reachable through the filter
    metrics: list[MetricRow]  # the metrics shown inline
    hidden_metrics: int
    shard_url: Markup  # the run viewer's shard holding every param and metric of this run
    script_url: Markup
    param_count: int
    metric_count: int


class RunListMaker:
    """Builds each wide run page's lists; the experiment's constant params once per experiment."""

    def __init__(self, paths: SitePaths) -> None:
        self.paths = paths
        self.constants: dict[str, dict[str, str]] = {}  # experiment id ->
        self.files: dict[str, str] = {}  # constant-params.json of each experiment that needs one

    def lists(self, view: RunView, page: str) -> RunLists | None:
        run = view.run
        if len(run.params) <= WIDE_PARAMS and len(view.metrics) <= WIDE_METRICS:
            return None
        exp = view.experiment
        constant = self._constant(exp) if exp is not None else {}
        folded = {k for k, v in constant.items() if run.params.get(k) == v}
        others = [(k, v) for k, v in sorted(run.params.items()) if k not in folded]
        inline = others[:INLINE_PARAMS]
        values = dict(inline)
        groups = [(prefix, [(k, values[k]) for k in keys])
                  for prefix, keys in prefix_groups(list(values))]  # fmt: skip
        constant_url = ""
        if folded and exp is not None:
            target = posixpath.join(
                posixpath.dirname(self.paths.experiment(exp.experiment.experiment_id)),
                CONSTANT_JSON,
            )
            self.files[target] = _dump({"format": 1, "params": constant})
            constant_url = self.paths.url(page, target)
        metrics = _metric_order(view.metrics, exp)
        return RunLists(
            constant_count=len(folded),
            constant_url=Markup(constant_url),
            groups=groups,
            hidden_params=len(others) - len(inline),
            metrics=metrics[:INLINE_METRICS],
            hidden_metrics=max(0, len(metrics) - INLINE_METRICS),
            shard_url=Markup(self.paths.url(page, shard_path(run.run_id))),
            script_url=Markup(self.paths.url(page, SCRIPT)),
            param_count=len(run.params),
            metric_count=len(view.metrics),
        )

    def _constant(self, exp: ExperimentView) -> dict[str, str]:
        eid = exp.experiment.experiment_id
        if eid not in self.constants:
            self.constants[eid] = constant_params(exp.runs)
        return self.constants[eid]


def _metric_order(rows: list[MetricRow], exp: ExperimentView | None) -> list[MetricRow]:
    """The primary metric, then the experiment table's metric columns, then the rest by name."""
    first: list[str] = []
    if exp is not None:
        first = ([exp.primary.metric] if exp.primary else []) + list(exp.metric_columns)
    rank = {k: i for i, k in enumerate(dict.fromkeys(first))}
    return sorted(rows, key=lambda m: (rank.get(m.key, len(rank)), m.key))


def _dump(doc: object) -> str:
    return compact(doc, sort_keys=True, ascii_only=True) + "\n"
