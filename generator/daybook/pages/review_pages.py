"""What the morning review, monitors, run comparisons and charts add to the pages (issue #5).

Computed once per build by `Extras.build`; each page type gets a dict of extra template context
from one method (`home`, `experiment`, `run`, `model`), and two page types are new: the monitors
page and one compare page per sweep. Templates only lay these out (docs/guide/templates.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from markupsafe import Markup

from daybook.analysis.attention import Attention, StaleCard, needs_attention, per_kind
from daybook.analysis.compare import (
    Comparison,
    Delta,
    Reference,
    Sweep,
    compare,
    is_sweep,
    references,
    sweep,
)
from daybook.analysis.journal import Item
from daybook.analysis.monitors import (
    MonitorReport,
    MonitorResult,
    evaluate_monitors,
    version_marks,
)
from daybook.analysis.review import Review, build_review
from daybook.core.config import DaybookConfig
from daybook.core.numbers import format_delta
from daybook.core.site import ReferencePoint
from daybook.core.snapshot import AliasEvent, MetricHistory, RegisteredModel, Run, Snapshot
from daybook.pages.charts import (
    Chart,
    Overlay,
    best_so_far_chart,
    history_chart,
    monitor_chart,
    parallel_chart,
    sweep_chart,
    sweep_curves_chart,
    versions_chart,
)
from daybook.pages.context import ExperimentView, ModelView, RunView, SiteModel
from daybook.pages.paths import SitePaths
from daybook.safety.slug import page_path, slugify

MONITORS = "monitors/index.md"
MAX_SWEEPS = 10  # sweeps charted on an experiment page (page weight)
# Rows of the morning review's run tables on the home page, all experiments together: a row is
# ~550 bytes of HTML, and a day with 100 new runs over 20 experiments made the page 91 KB
# against the 60 KB budget (68 KB with 40 rows; docs/guide/scale.md).
HOME_RUN_ROWS = 20
_STATUS_TEXT = {"ok": "✔ ok", "warn": "⚠ warn", "fail": "✖ fail", "error": "✖ error"}
_VERDICT_ARROW = {"better": "▲", "worse": "▼", "equal": "="}


def status_badge(status: str) -> Markup:
    """A monitor's status as a coloured badge (text first, so it reads without CSS too)."""
    if status not in _STATUS_TEXT:
        raise ValueError(f"unknown status: {status!r}")
    return Markup(f'<span class="daybook-status daybook-status-{status}">'
                  f"{_STATUS_TEXT[status]}</span>")  # fmt: skip


def delta_badge(
    delta: Delta | float | None,
    verdict: str | None = None,
    decimals: int | None = None,
    value: float | None = None,
) -> Markup:
    """A difference with its direction-aware colour and arrow: `▲ +0.012 (+1.3%)` is better
    whichever way the metric points (lower is better for a loss). Written in the column's
    `decimals` (core.numbers.format_delta): never more digits than the values beside it."""
    relative = None
    if isinstance(delta, Delta):
        verdict, relative, other, delta = delta.verdict, delta.relative, delta.other, delta.delta
        if value is None and other is not None and delta is not None:
            value = other + delta
    if delta is None or verdict not in _VERDICT_ARROW:
        return Markup("—")
    rel = f" ({'+' if relative > 0 else '−'}{abs(relative):.1%})" if relative else ""
    title = {"better": "better", "worse": "worse", "equal": "the same"}[verdict]
    return Markup(f'<span class="daybook-{verdict}" title="{title}">{_VERDICT_ARROW[verdict]} '
                  f"{format_delta(delta, decimals, value)}{rel}</span>")  # fmt: skip


@dataclass
class SweepView:
    sweep: Sweep
    path: str  # the compare page
    experiment: ExperimentView
    chart: Chart | None
    curves: Chart | None = None  # every child's primary metric by step (compare page only)
    parallel: Chart | None = None  # parallel coordinates: varied params -> primary metric


@dataclass
class MonitorView:
    result: MonitorResult
    chart: Chart | None
    where: str  # daybook.yml:LINE of the monitor
    problems: list[tuple[str, str, str]]  # (daybook.yml:LINE, key, message) of config problems


@dataclass
class Extras:
    config: DaybookConfig
    snapshot: Snapshot
    site: SiteModel
    paths: SitePaths
    reference: ReferencePoint | None
    review: Review | None
    monitors: MonitorReport
    monitor_views: list[MonitorView]
    sweeps: dict[str, SweepView]  # parent run id ->
    where: Callable[[tuple[Any, ...]], str]
    problem_lines: list[str] = field(default_factory=list)

    @cached_property
    def registered(self) -> list[RegisteredModel]:
        return [m.model for m in self.site.models]

    @classmethod
    def build(
        cls,
        config: DaybookConfig,
        snapshot: Snapshot,
        site: SiteModel,
        paths: SitePaths,
        reference: ReferencePoint | None = None,
        alias_history: Sequence[AliasEvent] = (),
        where: Callable[[tuple[Any, ...]], str] | None = None,
    ) -> Extras:
        locate = where or (lambda loc: "daybook.yml")
        review = (
            build_review(config, snapshot, reference.since_ms, alias_history)
            if reference is not None else None
        )  # fmt: skip
        report = evaluate_monitors(config, snapshot)
        views = [
            MonitorView(r, monitor_chart(r, version_marks(r, alias_history)),
                        locate(("monitors", r.index)),
                        [(locate(p.loc), p.key, p.message) for p in r.problems])
            for r in report.results
        ]  # fmt: skip
        runs = {r.run_id: r for r in snapshot.runs}
        sweeps: dict[str, SweepView] = {}
        for parent_id, path in _sweep_paths(site, paths, runs).items():
            parent = runs[parent_id]
            exp = site.experiments_by_id[parent.experiment_id]
            sw = sweep(parent, site.children[parent_id], exp.primary)
            sweeps[parent_id] = SweepView(sw, path, exp, sweep_chart(sw),
                                          sweep_curves_chart(sw, snapshot.histories),
                                          parallel_chart(sw))  # fmt: skip
        lines = [f"{locate(p.loc)}: {p.key}: {p.message}" for p in report.problems]
        return cls(config, snapshot, site, paths, reference, review, report, views, sweeps,
                   locate, lines)  # fmt: skip

    def attention(
        self,
        stale_cards: Sequence[StaleCard] = (),
        overdue: Sequence[Item] = (),
        today: dt.date | None = None,
    ) -> list[Attention]:
        """The ranked "Needs attention" list (analysis.attention) of this build."""
        now = self.reference.now_ms if self.reference is not None else 0
        return needs_attention(self.config, self.snapshot, self.review, self.monitors, now,
                               stale_cards, overdue, today)  # fmt: skip

    # --- per page type ----------------------------------------------------------------------

    def home(self, attention: Sequence[Attention] = ()) -> dict[str, Any]:
        shown, more = per_kind(attention, max(self.config.review.items, 1))
        return {
            "review": self.review,
            "reference": self.reference,
            "attention": shown,
            "attention_total": len(attention),
            "attention_more": more,
            "monitors": self.monitor_views,
            "monitor_counts": self.monitors.counts(),
            "monitors_page": MONITORS if self.monitor_views else None,
            "review_limit": self.config.review.items,
            "run_rows": run_rows(
                [len(a.changes) for a in self.review.activity] if self.review else [],
                self.config.review.items,
                HOME_RUN_ROWS,
            ),
        }

    def experiment(self, exp: ExperimentView) -> dict[str, Any]:
        chart = None
        if exp.primary is not None:
            chart = best_so_far_chart(exp.runs, exp.primary.metric, exp.primary.direction)
        sweeps = [
            s
            for s in self.sweeps.values()
            if s.experiment.experiment.experiment_id == exp.experiment.experiment_id
        ]
        sweeps.sort(key=lambda s: (-(s.sweep.parent.start_time or 0), s.sweep.parent.run_id))
        # The newest sweeps only: every sweep keeps its compare page, linked from its parent run.
        shown = sweeps[:MAX_SWEEPS]
        return {"best_chart": chart, "sweeps": shown, "more_sweeps": len(sweeps) - len(shown)}

    def run(self, view: RunView) -> dict[str, Any]:
        run = view.run
        histories = self.snapshot.histories.get(run.run_id, ())
        exp = view.experiment
        comparison: Comparison | None = None
        refs: list[Reference] = []
        if exp is not None:
            refs = references(
                run, exp.runs, exp.primary, self.registered, index=exp.by_id, best=exp.best
            )
            if refs:
                comparison = compare(run, refs, exp.primary)
        chart = None
        if histories:
            chart = history_chart(histories, self.config.charts.max_points,
                                  _overlays(refs, self.snapshot.histories))  # fmt: skip
        return {
            "history_chart": chart,
            "comparison": comparison,
            "sweep": self.sweeps.get(run.run_id),
            "in_sweep": self.sweeps.get(run.parent_id) if run.parent_id else None,
        }

    def model(self, m: ModelView) -> dict[str, Any]:
        counts = Counter(vv.primary.metric for vv in m.versions
                         if vv.primary is not None and vv.value is not None)  # fmt: skip
        chart = None
        if counts:
            metric = min(counts, key=lambda k: (-counts[k], k))
            rows = [
                (vv.version.version, vv.value, vv.run.name if vv.run else "", vv.aliases)
                for vv in reversed(m.versions)
                if vv.primary is not None and vv.primary.metric == metric
            ]
            chart = versions_chart(rows, metric)
        monitors = [v for v in self.monitor_views if v.result.model == m.model.name]
        return {"versions_chart": chart, "model_monitors": monitors, "monitors_page": MONITORS}

    def monitors_page(self) -> dict[str, Any]:
        return {"monitors": self.monitor_views, "monitor_counts": self.monitors.counts()}

    def compare_page(self, sv: SweepView) -> dict[str, Any]:
        return {"sw": sv.sweep, "sweep_view": sv}


def _overlays(refs: Sequence[Reference], histories: Mapping[str, Sequence[MetricHistory]]
              ) -> list[Overlay]:  # fmt: skip
    """The reference runs whose histories the snapshot holds (runs with a page of their own:
    parents, the best and registered runs are, by the default run_pages policy), labelled
    `name (roles)` so the legend says why each curve is there."""
    out = []
    names = Counter(ref.run.name for ref in refs)
    for ref in refs:
        if not histories.get(ref.run.run_id):
            continue
        name = ref.run.name or ref.run.run_id[:8]
        if names[ref.run.name] > 1:
            name += f" {ref.run.run_id[:8]}"
        out.append(Overlay(f"{name} ({', '.join(ref.roles)})", histories[ref.run.run_id]))
    return out


def _sweep_paths(site: SiteModel, paths: SitePaths, runs: dict[str, Run]) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for parent_id in sorted(site.children):
        kids = site.children[parent_id]
        parent = runs.get(parent_id)
        if parent is None or not is_sweep(kids):
            continue
        if parent.experiment_id not in paths.experiment_slugs:
            continue
        exp_slug = paths.experiment_slugs[parent.experiment_id]
        name = slugify(parent.name)[:40].rstrip("-") if parent.name else "sweep"
        rid = slugify(parent_id)
        path = page_path("experiments", exp_slug, "compare", f"{name}-{rid[:8]}")
        if path in used:
            path = page_path("experiments", exp_slug, "compare", f"{name}-{rid}")
        used.add(path)
        out[parent_id] = path
    return out


def run_rows(sizes: Sequence[int], each: int, total: int) -> list[int]:
    """How many of its new runs each active experiment lists on the home page: at most `each`
    and `total` in all, shared a row at a time in turn, so that on a busy day every experiment
    shows its newest runs rather than the first few experiments all of theirs."""
    want = [min(size, each) for size in sizes]
    rows = [0] * len(want)
    left = total
    while left > 0 and rows != want:
        for i, w in enumerate(want):
            if left > 0 and rows[i] < w:
                rows[i] += 1
                left -= 1
    return rows
