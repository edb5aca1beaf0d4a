"""The morning review: what changed in the store since a reference point. Pure, no I/O.

Everything is measured against one instant, `since_ms` (the previous build, or 24 hours before
this one, or `--since`): the same store and the same reference point always give the same review,
so the home page never depends on the clock beyond the reference point it names.

The new bests, failed runs, new versions and alias moves come from the journal's `digest` (the
same definitions the daily note's digest uses); this module adds the runs per experiment with
their standing against the best before, and data updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from daybook.analysis.journal import AliasChange, NewBest, digest
from daybook.analysis.ranking import Primary, primary_metric
from daybook.analysis.series import better, is_finite
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import AliasEvent, Experiment, ModelVersion, Run, Snapshot

FOREVER = 2**62  # the review's window has no end: everything in the store after `since_ms`
Verdict = Literal["better", "worse", "equal"]


@dataclass(frozen=True, slots=True)
class RunChange:
    """A run that started or ended since the reference point, measured against the best run of
    its experiment that finished before it."""

    run: Run
    started: bool  # started since the reference point (else it only ended since)
    value: float | None  # its primary metric (None: none, or not a finite number)
    best_before: float | None  # the experiment's best before the reference point
    delta: float | None  # value - best_before
    verdict: Verdict | None


@dataclass(frozen=True, slots=True)
class ExperimentActivity:
    experiment: Experiment
    primary: Primary | None
    changes: tuple[RunChange, ...]  # newest first
    started: int
    finished: int
    failed: int  # FAILED or KILLED
    running: int


@dataclass(frozen=True, slots=True)
class DataUpdate:
    """A dataset (by name and context) that runs before the reference point used with other
    digests, used since with a digest never seen before: the data changed under the name."""

    name: str
    context: str
    digest: str
    previous: tuple[str, ...]  # digests seen before the reference point, latest first
    runs: tuple[Run, ...]  # runs since the reference point that used the new digest, oldest first
    first_seen: int  # epoch ms: the first of those runs' start


@dataclass
class Review:
    since_ms: int
    activity: list[ExperimentActivity] = field(default_factory=list)
    bests: list[NewBest] = field(default_factory=list)
    failed: list[Run] = field(default_factory=list)
    versions: list[ModelVersion] = field(default_factory=list)
    aliases: list[AliasChange] = field(default_factory=list)
    data_updates: list[DataUpdate] = field(default_factory=list)
    aliases_known: bool = False  # True: an earlier build observed the aliases (history)

    @property
    def run_ids(self) -> set[str]:
        """Runs the review names (each should have a page to link to)."""
        ids = {c.run.run_id for a in self.activity for c in a.changes}
        ids |= {r.run_id for r in self.failed}
        ids |= {b.run.run_id for b in self.bests}
        ids |= {r.run_id for u in self.data_updates for r in u.runs}
        return ids

    @property
    def empty(self) -> bool:
        return not (self.activity or self.bests or self.failed or self.versions or self.aliases
                    or self.data_updates)  # fmt: skip


def _since(run: Run, since_ms: int) -> tuple[bool, bool]:
    started = run.start_time is not None and run.start_time >= since_ms
    ended = run.end_time is not None and run.end_time >= since_ms
    return started, ended


def recent_runs(runs: Iterable[Run], since_ms: int) -> list[Run]:
    """Runs started or ended at or after `since_ms`, newest first."""
    out = [r for r in runs if any(_since(r, since_ms))]
    return sorted(out, key=lambda r: (-(r.start_time or r.end_time or 0), r.run_id))


def _activity(
    config: DaybookConfig, exp: Experiment, runs: list[Run], since_ms: int
) -> ExperimentActivity | None:
    recent = recent_runs(runs, since_ms)
    if not recent:
        return None
    primary = primary_metric(config, exp, runs)
    best_before: float | None = None
    if primary is not None:
        for r in runs:
            v = r.metric(primary.metric)
            done_before = r.status == "FINISHED" and (r.end_time or FOREVER) < since_ms
            if (
                done_before
                and v is not None
                and is_finite(v)
                and (best_before is None or better(v, best_before, primary.direction))
            ):
                best_before = v
    changes = []
    for r in recent:
        started, _ = _since(r, since_ms)
        value = r.metric(primary.metric) if primary else None
        value = value if value is not None and is_finite(value) else None
        delta = verdict = None
        if primary and value is not None and best_before is not None:
            delta = value - best_before
            verdict = (
                "better" if better(value, best_before, primary.direction)
                else "equal" if value == best_before else "worse"
            )  # fmt: skip
        changes.append(RunChange(r, started, value, best_before, delta, verdict))
    return ExperimentActivity(
        experiment=exp,
        primary=primary,
        changes=tuple(changes),
        started=sum(c.started for c in changes),
        finished=sum(c.run.status == "FINISHED" and _since(c.run, since_ms)[1] for c in changes),
        failed=sum(c.run.status in ("FAILED", "KILLED") for c in changes),
        running=sum(c.run.status in ("RUNNING", "SCHEDULED") for c in changes),
    )


def data_updates(runs: Sequence[Run], since_ms: int) -> list[DataUpdate]:
    """Datasets whose name (and context) runs used before `since_ms`, used since with a new
    digest. A name never seen before is a new dataset, not an update, and is not listed."""
    before: dict[tuple[str, str], list[tuple[int, str]]] = {}
    after: dict[tuple[str, str, str], list[Run]] = {}
    for r in runs:
        start = r.start_time or 0
        for d in r.datasets:
            key = (d.name, d.context)
            if start < since_ms:
                before.setdefault(key, []).append((start, d.digest))
            else:
                after.setdefault((d.name, d.context, d.digest), []).append(r)
    out = []
    for (name, context, dig), users in after.items():
        seen = before.get((name, context))
        if not seen or dig in {d for _, d in seen}:
            continue
        previous: list[str] = []
        for _, d in sorted(seen, reverse=True):
            if d not in previous:
                previous.append(d)
        unique = {r.run_id: r for r in users}.values()
        users = sorted(unique, key=lambda r: (r.start_time or 0, r.run_id))
        out.append(DataUpdate(name, context, dig, tuple(previous), tuple(users),
                              users[0].start_time or 0))  # fmt: skip
    return sorted(out, key=lambda u: (u.name.lower(), u.context, u.first_seen, u.digest))


def build_review(
    config: DaybookConfig,
    snapshot: Snapshot,
    since_ms: int,
    alias_history: Sequence[AliasEvent] = (),
) -> Review:
    """The review of everything in `snapshot` at or after `since_ms`."""
    d = digest(config, snapshot, since_ms, FOREVER, alias_history)
    by_exp: dict[str, list[Run]] = {}
    for r in snapshot.runs:
        by_exp.setdefault(r.experiment_id, []).append(r)
    activity = []
    for exp in sorted(snapshot.experiments, key=lambda e: (e.name.lower(), e.experiment_id)):
        a = _activity(config, exp, by_exp.get(exp.experiment_id, []), since_ms)
        if a is not None:
            activity.append(a)
    return Review(
        since_ms=since_ms,
        activity=activity,
        bests=list(d.bests),
        failed=list(d.failed),
        versions=sorted(d.versions, key=lambda v: (-(v.creation_time or 0), v.name, v.version)),
        aliases=list(d.aliases),
        data_updates=data_updates(snapshot.runs, since_ms),
        aliases_known=any(e.observed_at < since_ms for e in alias_history),
    )
