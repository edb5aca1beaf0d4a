"""What the run-page policy saw of each experiment, kept in the snapshot file, so that an
incremental pull can choose the leaders from the runs that changed alone.

Choosing the top N runs of an experiment needs every run's metrics: at 100,000 runs, decoding
them all from the snapshot was most of an incremental pull. The memo keeps, per experiment,
what the choice depends on: how many runs log each metric (the primary metric is guessed from
that) and the best `KEEP` runs' rank keys, with how many runs rank at all. Runs that changed
are taken out and put back in; the result is exact or the caller is told to decide from every
run (`None`), never a guess.

Why exact: every run not kept ranks after every run kept. After taking out the runs removed, the
candidates (those kept, and those added) that rank before the last one kept are the true head
of the new order; when fewer than N of them are known, `None`.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from daybook.analysis.ranking import (
    Primary,
    RankKey,
    metric_counts,
    primary_from_counts,
    rank_key,
    ranked_best,
)
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Experiment, Run

MARGIN = 2  # the memo keeps the best MARGIN × N runs: N of them can go before it cannot tell


@dataclass(frozen=True)
class Leaders:
    """One experiment's ranking as the policy saw it."""

    primary: Primary | None
    counts: Mapping[str, int]  # metric key -> runs that log it
    ranked: int  # runs with a finite primary value
    best: tuple[RankKey, ...]  # the best of them, best first (all of them when few)

    @property
    def complete(self) -> bool:
        return len(self.best) == self.ranked

    def top(self, size: int) -> list[str]:
        return [k[2] for k in self.best[:size]]


@dataclass(frozen=True)
class PolicyMemo:
    top: int  # the N of `run_pages.top` it was kept for
    experiments: Mapping[str, Leaders]  # experiment id -> its leaders

    def to_data(self) -> dict[str, Any]:
        """JSON-ready: the snapshot file keeps it in its head."""
        return {
            "top": self.top,
            "experiments": {
                eid: {
                    "primary": None
                    if (p := lead.primary) is None
                    else [p.metric, p.direction, p.configured],
                    "counts": dict(sorted(lead.counts.items())),
                    "ranked": lead.ranked,
                    "best": [list(k) for k in lead.best],
                }
                for eid, lead in sorted(self.experiments.items())
            },
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PolicyMemo:
        """The inverse of `to_data` (KeyError, TypeError or ValueError when it is not one)."""
        experiments = {}
        for eid, d in data["experiments"].items():
            p = d["primary"]
            best = tuple((float(v), int(s), str(rid)) for v, s, rid in d["best"])
            experiments[str(eid)] = Leaders(
                None if p is None else Primary(str(p[0]), p[1], bool(p[2])),
                {str(k): int(n) for k, n in d["counts"].items()},
                int(d["ranked"]),
                best,
            )
        return cls(int(data["top"]), experiments)


def leaders_of(
    config: DaybookConfig, experiment: Experiment, runs: Sequence[Run], top: int
) -> Leaders:
    """The leaders of `runs` (one experiment's), from every run."""
    counts = metric_counts(runs)
    primary = primary_from_counts(config, experiment, counts)
    best, ranked = ranked_best(runs, primary, MARGIN * top)
    return Leaders(primary, dict(counts), ranked, tuple(t[:3] for t in best))


def updated_leaders(
    config: DaybookConfig,
    experiment: Experiment,
    old: Leaders,
    removed: Iterable[Run],
    added: Iterable[Run],
    top: int,
) -> Leaders | None:
    """`old` with the runs `removed` (as they were) taken out and `added` put in; None when
    the result cannot be told without every run (the primary metric changed, or too many of
    the best went)."""
    removed, added = list(removed), list(added)
    counts = Counter(old.counts)
    counts.subtract(metric_counts(removed))
    counts.update(metric_counts(added))
    counts = Counter({k: n for k, n in counts.items() if n > 0})
    primary = primary_from_counts(config, experiment, counts)
    if primary != old.primary:
        return None
    if primary is None:
        return Leaders(None, dict(counts), 0, ())
    gone = {r.run_id for r in removed}
    gone_ranked = sum(rank_key(r, primary) is not None for r in removed)
    kept = [k for k in old.best if k[2] not in gone]
    new = [k for r in added if (k := rank_key(r, primary)) is not None]
    merged = heapq.nsmallest(MARGIN * top, [*kept, *new])
    if not old.complete:
        if not kept:
            return None
        last = kept[-1]  # every run the memo did not keep ranks after it
        merged = [k for k in merged if k <= last]
        if len(merged) < top:
            return None
    ranked = old.ranked - gone_ranked + len(new)
    return Leaders(primary, dict(counts), ranked, tuple(merged))


def merged_leaders(
    config: DaybookConfig, experiment: Experiment, shares: Sequence[Leaders], top: int
) -> Leaders | None:
    """The leaders of runs shared out, from each share's (`leaders_of` of it, for the same
    `top`): what `leaders_of` makes of them all, without them. None when a share was ranked by
    another primary metric than the one guessed from every share's counts and has runs that
    log that one (their rank keys are not known).

    Why exact: each share keeps its best MARGIN × N of the whole's order (or all it ranks), and
    every run of the best MARGIN × N of the whole is among its own share's best MARGIN × N."""
    counts: Counter[str] = Counter()
    for share in shares:
        counts.update(share.counts)
    primary = primary_from_counts(config, experiment, counts)
    if primary is None:
        return Leaders(None, dict(counts), 0, ())
    best: list[RankKey] = []
    ranked = 0
    for share in shares:
        if share.primary == primary:
            best += share.best
            ranked += share.ranked
        elif share.counts.get(primary.metric):
            return None
    return Leaders(primary, dict(counts), ranked, tuple(heapq.nsmallest(MARGIN * top, best)))
