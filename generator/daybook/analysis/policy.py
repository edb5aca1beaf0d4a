"""Which runs get a page of their own.

A page per run does not scale (thousands of Material pages take minutes and gigabytes), so by
default only the runs a reader would look for get one; every run is still in its experiment's table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from operator import attrgetter, methodcaller

from daybook.analysis.policy_memo import Leaders, PolicyMemo, leaders_of
from daybook.analysis.review import recent_runs
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import TAG_PARENT, Experiment, RegisteredModel, Run

_TAGS = attrgetter("tags")
_PARENT = methodcaller("get", TAG_PARENT)


def shown_experiments(
    config: DaybookConfig, experiments: Sequence[Experiment], runs: Sequence[Run]
) -> tuple[Experiment, ...]:
    """The experiments the site shows: with `experiments.hide_empty`, only those with a run, so
    an empty one (MLflow's `Default`) costs no nav entry, table row or page that says nothing."""
    if not config.experiments.hide_empty:
        return tuple(experiments)
    with_runs = {r.experiment_id for r in runs}
    return tuple(e for e in experiments if e.experiment_id in with_runs)


def page_run_ids(
    config: DaybookConfig,
    experiments: Sequence[Experiment],
    runs: Sequence[Run],
    models: Sequence[RegisteredModel],
    extra: Iterable[str] = (),
    recent_since: int | None = None,
) -> set[str]:
    """Top N per experiment by primary metric, every parent, every run behind a model version,
    any run named in `extra` (e.g. mentioned by a note), and the newest runs started or ended
    since `recent_since` (the morning review links to them)."""
    return page_runs(config, experiments, runs, models, extra, recent_since)[0]


def page_runs(
    config: DaybookConfig,
    experiments: Sequence[Experiment],
    runs: Sequence[Run],
    models: Sequence[RegisteredModel],
    extra: Iterable[str] = (),
    recent_since: int | None = None,
) -> tuple[set[str], PolicyMemo | None]:
    """`page_run_ids`, and the memo a pull saves so the next one can choose the leaders from
    the runs that changed alone (None with `run_pages.all`: nothing is ranked)."""
    policy = config.run_pages
    known = {r.run_id for r in runs}
    if policy.all:
        return set(known), None
    by_exp = _by_experiment(runs)
    leaders = _leaders(config, experiments, by_exp)
    parents = parent_ids(runs) if policy.parents else ()
    chosen = chosen_runs(config, leaders, known, parents, models, extra)
    if recent_since is not None and policy.recent:
        for exp_runs in by_exp.values():
            chosen.update(r.run_id for r in recent_runs(exp_runs, recent_since)[: policy.recent])
    return chosen, PolicyMemo(policy.top, leaders)


def experiment_leaders(
    config: DaybookConfig, experiments: Sequence[Experiment], runs: Sequence[Run]
) -> dict[str, Leaders]:
    """Each experiment's leaders among `runs` (`leaders_of`; none without a top): what
    `page_runs` ranks by, and what each process of a split pull ranks its share by."""
    return _leaders(config, experiments, _by_experiment(runs))


def parent_ids(runs: Iterable[Run]) -> Iterator[str | None]:
    """Each run's parent tag, in C (`Run.parent_id` is a Python call a run): "" or None for none."""
    return map(_PARENT, map(_TAGS, runs))


def _by_experiment(runs: Iterable[Run]) -> dict[str, list[Run]]:
    by_exp: dict[str, list[Run]] = {}
    for r in runs:
        by_exp.setdefault(r.experiment_id, []).append(r)
    return by_exp


def _leaders(
    config: DaybookConfig, experiments: Sequence[Experiment], by_exp: Mapping[str, list[Run]]
) -> dict[str, Leaders]:
    top = config.run_pages.top
    if not top:
        return {}
    return {
        e.experiment_id: leaders_of(config, e, by_exp.get(e.experiment_id, []), top)
        for e in experiments
    }


def chosen_runs(
    config: DaybookConfig,
    leaders: Mapping[str, Leaders],
    known: Set[str],
    parents: Iterable[str | None],
    models: Sequence[RegisteredModel],
    extra: Iterable[str],
) -> set[str]:
    """The page runs but the recent ones, given each experiment's leaders and every run's
    parent: what an incremental pull can tell without decoding every run."""
    policy = config.run_pages
    chosen: set[str] = {rid for rid in extra if rid in known}
    for lead in leaders.values():
        chosen.update(lead.top(policy.top))
    if policy.parents:
        chosen.update(filter(known.__contains__, parents))  # type: ignore[arg-type]
    if policy.registered:
        chosen.update(v.run_id for m in models for v in m.versions if v.run_id in known)
    return chosen
