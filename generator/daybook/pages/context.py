"""What each page type's template may use (documented in docs/templates.md).

Plain data computed once per build; templates only lay it out.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from operator import attrgetter
from typing import Any

from daybook.analysis.columns import all_keys, param_columns
from daybook.analysis.ranking import Primary, key_columns, leaderboard, logged, primary_metric
from daybook.core.config import DaybookConfig
from daybook.core.fork import halves, processes_wanted, why_not
from daybook.core.numbers import decimals_for
from daybook.core.snapshot import (
    Artifact,
    Experiment,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
    Snapshot,
)
from daybook.pages.paths import SitePaths

SYSTEM_TAG_PREFIXES = ("mlflow.",)
STATUS_ORDER = ("FINISHED", "RUNNING", "SCHEDULED", "FAILED", "KILLED")


@dataclass
class TableRow:
    run: Run
    depth: int  # 0 for top-level runs, 1+ for nested children


@dataclass
class ExperimentView:
    experiment: Experiment
    runs: list[Run]  # newest first
    primary: Primary | None
    leaders: list[Run]
    rows: list[TableRow]  # all runs, each parent followed by its children
    param_columns: list[str]  # params that vary across the runs (analysis/columns.py)
    metric_columns: list[str]
    leader_params: list[str]  # params that vary across the leaders: the leaderboard's columns
    decimals: dict[str, int | None]  # per metric, one precision for its every cell and delta
    status_counts: list[tuple[str, int]]
    users: list[str]
    first_start: int | None
    last_start: int | None
    numeric_params: frozenset[str] = frozenset()  # shown columns whose values are all numbers

    @property
    def best(self) -> Run | None:
        return self.leaders[0] if self.leaders else None

    @cached_property
    def keys(self) -> tuple[list[str], list[str]]:
        """Every param key and every metric key its runs logged, sorted (computed once: a wide
        experiment has thousands, asked for by its table, its columns and its Columns list)."""
        return all_keys(self.runs)

    @cached_property
    def by_id(self) -> dict[str, Run]:
        return {r.run_id: r for r in self.runs}


@dataclass
class VersionView:
    version: ModelVersion
    aliases: list[str]
    run: Run | None
    primary: Primary | None
    value: float | None  # the source run's primary metric
    delta: float | None  # against the previous version with a value


@dataclass
class ModelView:
    model: RegisteredModel
    versions: list[VersionView]  # newest first
    aliases: list[tuple[str, int]]
    decimals: int | None = None  # one precision for the versions' values and their deltas


@dataclass
class SiteModel:
    config: DaybookConfig
    title: str
    tracking_uri: str
    experiments: list[ExperimentView]
    models: list[ModelView]
    run_count: int
    page_run_count: int
    versions_by_run: dict[str, list[ModelVersion]] = field(default_factory=dict)
    experiments_by_id: dict[str, ExperimentView] = field(default_factory=dict)
    children: dict[str, list[Run]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    data_as_of: int | None = None  # offline build: when the snapshot was pulled

    @classmethod
    def build(cls, config: DaybookConfig, snapshot: Snapshot, paths: SitePaths) -> SiteModel:
        by_exp: dict[str, list[Run]] = {}
        children: dict[str, list[Run]] = {}
        known = {r.run_id for r in snapshot.runs}
        for r in snapshot.runs:
            by_exp.setdefault(r.experiment_id, []).append(r)
            if r.parent_id and r.parent_id in known:
                children.setdefault(r.parent_id, []).append(r)
        for kids in children.values():
            kids[:] = newest_first(kids)
        experiments = _experiment_views(
            config,
            sorted(snapshot.experiments, key=lambda e: (e.name.lower(), e.experiment_id)),
            by_exp,
            children,
            shared=(*snapshot.runs, *snapshot.experiments),
        )
        exp_by_id = {v.experiment.experiment_id: v for v in experiments}
        runs = {r.run_id: r for r in snapshot.runs}
        versions_by_run: dict[str, list[ModelVersion]] = {}
        models = []
        for m in sorted(snapshot.models, key=lambda m: m.name.lower()):
            for v in m.versions:
                if v.run_id:
                    versions_by_run.setdefault(v.run_id, []).append(v)
            models.append(_model_view(m, runs, exp_by_id))
        return cls(
            config=config,
            title=config.title,
            tracking_uri=snapshot.tracking_uri,
            experiments=experiments,
            models=models,
            run_count=len(snapshot.runs),
            page_run_count=len(paths.run_pages),
            versions_by_run=versions_by_run,
            experiments_by_id=exp_by_id,
            children=children,
            warnings=snapshot.warnings,
            data_as_of=snapshot.data_as_of,
        )

    @property
    def version_count(self) -> int:
        return sum(len(m.versions) for m in self.models)

    def decimals_of(self, experiment_id: str, metric: str) -> int | None:
        """The decimals one metric is written with across its experiment (core.numbers)."""
        exp = self.experiments_by_id.get(experiment_id)
        return exp.decimals.get(metric) if exp else None


VIEWS_APART_FROM = 20_000  # runs: below, a store's experiment views cost less than a fork


def _experiment_views(
    config: DaybookConfig,
    experiments: list[Experiment],
    by_exp: dict[str, list[Run]],
    children: dict[str, list[Run]],
    shared: tuple[object, ...],
) -> list[ExperimentView]:
    """Each experiment's view, in order. A big store's are shared with a forked second process
    (daybook.core.fork; 100,000 runs: 5.1 s in one, 4.2 s in two): it makes the views of the
    experiments it is given, about half of the runs, and sends them back with their runs and
    experiments as references to this process's own (`shared`). A view depends on its
    experiment's runs and the settings alone, so it is the same made in either process."""

    def views(chosen: list[Experiment]) -> list[ExperimentView]:
        return [
            _experiment_view(config, e, by_exp.get(e.experiment_id, []), children) for e in chosen
        ]

    wanted = processes_wanted()
    small = len(shared) < VIEWS_APART_FROM and wanted != 2
    if len(experiments) < 2 or small or why_not(wanted):
        return views(experiments)
    theirs = _half_of_the_runs(experiments, by_exp)
    handed = {e.experiment_id for e in theirs}
    both = halves(
        lambda: views([e for e in experiments if e.experiment_id not in handed]),
        functools.partial(views, theirs),
        shared=shared,
    )
    if both is None:  # other threads are running
        return views(experiments)
    made = {v.experiment.experiment_id: v for v in [*both[0], *both[1]]}
    return [made[e.experiment_id] for e in experiments]


def _half_of_the_runs(
    experiments: list[Experiment], by_exp: dict[str, list[Run]]
) -> list[Experiment]:
    """Experiments holding about half of the runs (the biggest first, each to the lighter side)."""
    sizes = {e.experiment_id: len(by_exp.get(e.experiment_id, ())) for e in experiments}
    ours, theirs = 0, 0
    chosen: list[Experiment] = []
    for e in sorted(experiments, key=lambda e: (-sizes[e.experiment_id], e.experiment_id)):
        if theirs < ours:
            chosen.append(e)
            theirs += sizes[e.experiment_id]
        else:
            ours += sizes[e.experiment_id]
    return chosen


_RUN_ID, _START = attrgetter("run_id"), attrgetter("start_time")


def newest_first(runs: Iterable[Run]) -> list[Run]:
    """`runs` newest first (a run with no start time as if started at 0), ties by run id; keys
    read in C: by id, then (a stable sort keeps that order among equal starts, reversed or not)
    by start time."""
    out = sorted(runs, key=_RUN_ID)
    if None in map(_START, out):
        out.sort(key=lambda r: r.start_time or 0, reverse=True)
    else:
        out.sort(key=_START, reverse=True)
    return out


def _experiment_view(
    config: DaybookConfig, exp: Experiment, runs: list[Run], children: dict[str, list[Run]]
) -> ExperimentView:
    runs = newest_first(runs)
    primary = primary_metric(config, exp, runs)
    ids = {r.run_id for r in runs}
    rows: list[TableRow] = []

    def add(run: Run, depth: int, seen: set[str]) -> None:
        if run.run_id in seen:  # a cycle of parent tags: show each run once
            return
        seen.add(run.run_id)
        rows.append(TableRow(run, depth))
        for child in children.get(run.run_id, []):
            if child.run_id in ids:
                add(child, depth + 1, seen)

    seen: set[str] = set()
    for r in runs:
        if not r.parent_id or r.parent_id not in ids:
            add(r, 0, seen)
    for r in runs:  # runs caught in a parent cycle
        if r.run_id not in seen:
            add(r, 0, seen)
    statuses = Counter(r.status for r in runs)
    starts = [r.start_time for r in runs if r.start_time is not None]
    leaders = leaderboard(runs, primary, config.leaderboard_size)
    settings = config.run_table
    columns = param_columns(runs, settings.params, settings.param_keys)
    # The leaderboard's own columns: what varies among its runs (with one run, the experiment's).
    leaders_columns = columns
    if len(leaders) > 1:
        leaders_columns = param_columns(leaders, settings.params, settings.param_keys)
    # Each metric's values in run order, a column at a time in C.
    metrics = [r.metrics for r in runs]
    values = {k: logged(list(map(dict.get, metrics, repeat(k)))) for k in set().union(*metrics)}
    params = [r.params for r in runs]
    return ExperimentView(
        experiment=exp,
        runs=runs,
        primary=primary,
        leaders=leaders,
        rows=rows,
        param_columns=columns,
        leader_params=leaders_columns,
        decimals={k: decimals_for(vs) for k, vs in sorted(values.items())},
        numeric_params=frozenset(
            k
            for k in {*columns, *leaders_columns}
            if _all_numbers(set(map(dict.get, params, repeat(k))))  # each distinct value once
        ),
        metric_columns=key_columns(
            runs, config.run_table.metrics, params=False, first=primary.metric if primary else None
        ),
        status_counts=sorted(
            statuses.items(),
            key=lambda kv: (STATUS_ORDER.index(kv[0]) if kv[0] in STATUS_ORDER else 99, kv[0]),
        ),
        users=sorted({r.user for r in runs if r.user}),
        first_start=min(starts) if starts else None,
        last_start=max(starts) if starts else None,
    )


def _all_numbers(values: Iterable[str | None]) -> bool:
    """True when every value present reads as a number: the column is right-aligned."""
    seen = False
    for v in values:
        if v is None or v == "":
            continue
        try:
            float(v)
        except ValueError:
            return False
        seen = True
    return seen


def _model_view(
    model: RegisteredModel, runs: dict[str, Run], exps: dict[str, ExperimentView]
) -> ModelView:
    views: list[VersionView] = []
    previous: float | None = None
    for v in model.versions:  # ascending, so each delta compares with the version before
        run = runs.get(v.run_id)
        primary = exps[run.experiment_id].primary if run and run.experiment_id in exps else None
        value = run.metric(primary.metric) if run and primary else None
        if value is not None and math.isnan(value):
            value = None
        delta = value - previous if value is not None and previous is not None else None
        if value is not None:
            previous = value
        views.append(VersionView(v, model.aliases_of(v.version), run, primary, value, delta))
    views.reverse()
    decimals = decimals_for(v.value for v in views)
    return ModelView(model, views, sorted(model.aliases.items()), decimals)


@dataclass
class MetricRow:
    key: str
    last: float
    step: int
    minimum: float | None
    maximum: float | None
    points: int | None  # None when the history was not read


@dataclass
class RunView:
    run: Run
    experiment: ExperimentView | None
    parent: Run | None
    children: list[Run]
    metrics: list[MetricRow]
    user_tags: list[tuple[str, str]]
    system_tags: list[tuple[str, str]]
    artifacts: tuple[Artifact, ...]
    versions: list[ModelVersion]
    rank: int | None  # place on the experiment's leaderboard, 1-based


def run_view(site: SiteModel, snapshot: Snapshot, run: Run) -> RunView:
    histories: dict[str, MetricHistory] = {h.key: h for h in snapshot.histories.get(run.run_id, ())}
    metrics = []
    for key, value in sorted(run.metrics.items()):
        h = histories.get(key)
        metrics.append(
            MetricRow(
                key=key,
                last=value,
                step=run.metric_steps.get(key, 0),
                minimum=h.minimum if h else None,
                maximum=h.maximum if h else None,
                points=len(h.values) if h else None,
            )
        )
    exp = site.experiments_by_id.get(run.experiment_id)
    runs = exp.by_id if exp else {}
    rank = None
    if exp:
        for i, leader in enumerate(exp.leaders, 1):
            if leader.run_id == run.run_id:
                rank = i
                break
    skip = {"mlflow.note.content"}
    return RunView(
        run=run,
        experiment=exp,
        parent=runs.get(run.parent_id) if run.parent_id else None,
        children=site.children.get(run.run_id, []),
        metrics=metrics,
        user_tags=[(k, v) for k, v in run.tags.items() if not k.startswith(SYSTEM_TAG_PREFIXES)],
        system_tags=[
            (k, v)
            for k, v in run.tags.items()
            if k.startswith(SYSTEM_TAG_PREFIXES) and k not in skip
        ],
        artifacts=snapshot.artifacts.get(run.run_id, ()),
        versions=sorted(
            site.versions_by_run.get(run.run_id, []), key=lambda v: (v.name, v.version)
        ),
        rank=rank,
    )


def home(site: SiteModel) -> dict[str, Any]:
    recent = newest_first(r for e in site.experiments for r in e.runs)[:15]
    return {"recent_runs": recent}


@dataclass
class MentionAnchor:
    """One place in a note that mentions the page's subject."""

    about: str  # what was mentioned: a run's label, "v3", "@champion → v3" ("" for the page itself)
    context: str  # the sentence around the mention, plain text
    target: str  # the note's page with the mention's anchor (`link.to(a.target, …)`)
    line: int  # in the note's file


@dataclass
class MentionView:
    """A note that mentions the page's subject, for the "Mentioned in" section (newest first):
    one per note, however often it mentions the subject, with every mention in `anchors`."""

    date: str  # YYYY-MM-DD
    page: str  # the note's page under docs/ (link with `link.to(m.page, m.title)`)
    title: str
    authors: list[str]  # display names
    anchors: list[MentionAnchor]  # in the note's order

    @property
    def context(self) -> str:
        """The first mention's sentence (for templates that show one)."""
        return self.anchors[0].context if self.anchors else ""

    @property
    def sentences(self) -> list[tuple[list[MentionAnchor], str]]:
        """The anchors grouped by the sentence around them, in order: a sentence that names
        two runs is shown once, after both."""
        out: list[tuple[list[MentionAnchor], str]] = []
        for a in self.anchors:
            if out and out[-1][1] == a.context:
                out[-1][0].append(a)
            else:
                out.append(([a], a.context))
        return out

    @property
    def abouts(self) -> list[str]:
        """What the note mentions, each once, in order ("" items left out)."""
        return list(dict.fromkeys(a.about for a in self.anchors if a.about))


@dataclass
class NoteView:
    """A note in a list (the home page's latest notes)."""

    date: str
    page: str
    title: str
    authors: list[str]
    type: str
