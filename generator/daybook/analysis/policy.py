"""Which runs get a page of their own.

A page per run does not scale (thousands of Material pages take minutes and gigabytes), so by
default only the runs a reader would look for get one; every run is still in its experiment's table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from daybook.analysis.ranking import leaderboard, primary_metric
from daybook.analysis.review import recent_runs
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Experiment, RegisteredModel, Run


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
    policy = config.run_pages
    known = {r.run_id for r in runs}
    if policy.all:
        return set(known)
    chosen: set[str] = {rid for rid in extra if rid in known}
    by_exp: dict[str, list[Run]] = {}
    for r in runs:
        by_exp.setdefault(r.experiment_id, []).append(r)
    for exp in experiments:
        exp_runs = by_exp.get(exp.experiment_id, [])
        if policy.top:
            primary = primary_metric(config, exp, exp_runs)
            chosen.update(r.run_id for r in leaderboard(exp_runs, primary, policy.top))
    if recent_since is not None and policy.recent:
        for exp_runs in by_exp.values():
            chosen.update(r.run_id for r in recent_runs(exp_runs, recent_since)[: policy.recent])
    if policy.parents:
        chosen.update(r.parent_id for r in runs if r.parent_id in known)  # type: ignore[misc]
    if policy.registered:
        chosen.update(v.run_id for m in models for v in m.versions if v.run_id in known)
    return chosen
