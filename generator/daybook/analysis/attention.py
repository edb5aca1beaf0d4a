"""What needs a person's attention, ranked: the box at the top of the home page and the first
section of `daybook review`. Pure, no I/O.

Seven kinds of trouble were spread over the home page's sections; here they are one list,
worst first, one line each:

1. monitors that fail (or name what the store does not have), then monitors that warn;
2. runs that failed or were killed in the review's window;
3. runs RUNNING for longer than `review.stuck_after` (12 h) at the build's "now";
4. challengers: versions newer than a model's `@champion` whose run beats the champion's run on
   the experiment's primary metric;
5. model cards older than their model's newest version;
6. open action items past their due date.

Each item says what to link to (`target`) rather than a path: the site links it relative to
the page, `daybook review` absolute from `site_url`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from daybook.analysis.compare import delta
from daybook.analysis.journal import Item
from daybook.analysis.monitors import MonitorReport
from daybook.analysis.ranking import primary_metric
from daybook.analysis.review import Review
from daybook.core.config import DaybookConfig
from daybook.core.numbers import format_number
from daybook.core.snapshot import Run, Snapshot

Kind = Literal["monitor", "failed", "stuck", "challenger", "card", "action"]
Level = Literal["fail", "error", "warn"]  # error: a monitor names what the store lacks
CHAMPION = "champion"
_RANK: dict[Kind, int] = {
    "monitor": 0, "failed": 2, "stuck": 3, "challenger": 4, "card": 5, "action": 6
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Attention:
    """One line of the box. `title` and `detail` are plain, untrusted text (escape them);
    `target` says what to link to: ("monitor", slug), ("run", run id), ("model", name,
    version), ("card", model name) or ("note", page)."""

    kind: Kind
    level: Level
    title: str
    detail: str
    target: tuple[str, ...]

    @property
    def key(self) -> str:
        """A stable id (the browser's "new since your last visit" remembers it)."""
        return ":".join((self.kind, *self.target[1:]))

    @property
    def rank(self) -> int:
        """Failing monitors 0, warning monitors 1, failed runs 2 … overdue items 6."""
        return _RANK[self.kind] + (self.kind == "monitor" and self.level == "warn")


@dataclass(frozen=True, slots=True)
class StaleCard:
    """A model's card written before its newest version was registered (pages/models knows)."""

    model: str
    updated: int  # epoch ms the hand-written part was last updated
    version: int
    registered: int


def needs_attention(
    config: DaybookConfig,
    snapshot: Snapshot,
    review: Review | None,
    monitors: MonitorReport,
    now_ms: int,
    stale_cards: Sequence[StaleCard] = (),
    overdue: Sequence[Item] = (),
    today: dt.date | None = None,
) -> list[Attention]:
    """Everything of the list above, worst first (ties in a stable order)."""
    out: list[Attention] = []
    for r in monitors.results:
        if r.status != "ok":
            out.append(Attention("monitor", r.status, r.monitor.name, r.summary,
                                 ("monitor", r.slug)))  # fmt: skip
    if review is not None:
        for run in review.failed:
            out.append(Attention("failed", "fail", _run_name(run),
                                 f"{run.status.lower()} at {_when(run.end_time or run.start_time)}",
                                 ("run", run.run_id)))  # fmt: skip
    out += stuck_runs(snapshot.runs, now_ms, config.review.stuck_ms)
    out += challengers(config, snapshot)
    for card in stale_cards:
        out.append(Attention("card", "warn", card.model,
                             f"card last updated {_day(card.updated)}, before v{card.version} "
                             f"(registered {_day(card.registered)})",
                             ("card", card.model)))  # fmt: skip
    for item in overdue:
        late = (today - item.due).days if today and item.due else 0
        text = " ".join(item.text.split())
        text = text if len(text) <= 100 else text[:99] + "…"
        out.append(Attention("action", "warn", text,
                             f"due {item.due}, {late} day{'s' if late != 1 else ''} overdue",
                             ("note", item.note.page, str(item.line))))  # fmt: skip
    # The list keeps each kind's own order (monitors as configured, runs newest first …).
    return sorted(out, key=lambda a: a.rank)


def per_kind(
    items: Sequence[Attention], limit: int
) -> tuple[list[Attention], list[tuple[Kind, int]]]:
    """The first `limit` items of each kind, still in rank order, and for each kind cut, how
    many more it has: a store where 2,000 runs were left RUNNING gets ten lines and "…and 1,990
    more stuck runs", not a 700 KB home page."""
    seen: dict[Kind, int] = {}
    shown: list[Attention] = []
    for a in items:
        seen[a.kind] = seen.get(a.kind, 0) + 1
        if seen[a.kind] <= limit:
            shown.append(a)
    more = [(kind, n - limit) for kind, n in seen.items() if n > limit]
    return shown, more


def stuck_runs(runs: Sequence[Run], now_ms: int, after_ms: int) -> list[Attention]:
    """Runs still RUNNING `after_ms` or more after they started, the longest first."""
    stuck = [r for r in runs if r.status == "RUNNING" and r.start_time is not None
             and now_ms - r.start_time >= after_ms]  # fmt: skip
    stuck.sort(key=lambda r: (r.start_time or 0, r.run_id))
    return [
        Attention("stuck", "warn", _run_name(r),
                  f"RUNNING for {_hours(now_ms - (r.start_time or now_ms))} (since "
                  f"{_when(r.start_time)})", ("run", r.run_id))
        for r in stuck
    ]  # fmt: skip


def challengers(config: DaybookConfig, snapshot: Snapshot) -> list[Attention]:
    """Versions newer than `@champion` whose run beats the champion's run on the primary metric
    of the champion's experiment."""
    runs = {r.run_id: r for r in snapshot.runs}
    experiments = {e.experiment_id: e for e in snapshot.experiments}
    by_exp: dict[str, list[Run]] = {}
    for r in snapshot.runs:
        by_exp.setdefault(r.experiment_id, []).append(r)
    out = []
    for m in sorted(snapshot.models, key=lambda m: m.name.lower()):
        number = m.aliases.get(CHAMPION)
        champ = next((v for v in m.versions if v.version == number), None)
        champ_run = runs.get(champ.run_id) if champ else None
        if champ is None or champ_run is None or champ_run.experiment_id not in experiments:
            continue
        exp = experiments[champ_run.experiment_id]
        primary = primary_metric(config, exp, by_exp.get(exp.experiment_id, []))
        if primary is None:
            continue
        base = champ_run.metric(primary.metric)
        for v in sorted(m.versions, key=lambda v: v.version):
            run = runs.get(v.run_id)
            if v.version <= champ.version or run is None:
                continue
            d = delta(run.metric(primary.metric), base, primary.direction)
            if d.verdict == "better":
                value = run.metric(primary.metric)
                out.append(Attention(
                    "challenger", "warn", f"{m.name} v{v.version}",
                    f"{primary.metric} {format_number(value)} beats @{CHAMPION} "
                    f"v{champ.version} ({format_number(base)})",
                    ("model", m.name, str(v.version)),
                ))  # fmt: skip
    return out


def _run_name(run: Run) -> str:
    return f"{run.name} ({run.run_id[:8]})" if run.name else run.run_id[:8]


def _when(ms: int | None) -> str:
    if ms is None:
        return "an unknown time"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def _hours(ms: int) -> str:
    hours = ms // 3_600_000
    return f"{hours} h" if hours < 48 else f"{hours // 24} d {hours % 24} h"
