"""Monitors: is a production metric still good? Pure functions over the snapshot, no I/O.

A monitor (daybook.yml `monitors:`) watches one metric of the evaluation runs of a model version
(runs tagged `model_name` / `model_version`, the version found through an alias such as
`models:/churn@champion`) or of an experiment's runs. Its status comes from the latest
evaluation:

- `fail`: a `min`, `max` or `max_drop` rule is broken (or the value is NaN/infinite);
- `warn`: a `warn:` rule is broken, or there is nothing to judge yet (no evaluation of the
  version under watch);
- `ok`: every rule holds;
- `error`: the monitor names something the store does not have (a model, alias, version,
  experiment, metric or baseline run). The problem carries the config key, so `daybook check`
  can say `daybook.yml:LINE: monitors.0.model: …`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

from daybook.analysis.series import is_finite
from daybook.core.config import DaybookConfig, Direction, Monitor, MonitorRules, guess_direction
from daybook.core.numbers import format_number
from daybook.core.snapshot import AliasEvent, RegisteredModel, Run, Snapshot
from daybook.safety.slug import unique_slugs

Status = Literal["ok", "warn", "fail", "error"]
STATUS_ORDER: tuple[Status, ...] = ("fail", "error", "warn", "ok")  # worst first
EVALUATED = ("FINISHED",)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """A monitor refers to something the store does not have; `loc` is the daybook.yml key."""

    loc: tuple[Any, ...]  # e.g. ("monitors", 0, "model")
    message: str

    @property
    def key(self) -> str:
        return ".".join(str(p) for p in self.loc)


@dataclass(frozen=True, slots=True)
class Check:
    """One rule applied to one value."""

    level: Literal["fail", "warn"]
    rule: str  # "min", "max", "max_drop", "finite"
    threshold: float | None  # the bound the value was held to, in the metric's units
    passed: bool
    text: str  # "0.874 < min 0.9"


@dataclass(frozen=True, slots=True)
class Evaluation:
    run: Run
    value: float  # may be NaN: the run logged it so
    version: int | None  # model monitors: the evaluated version (from the run's tag)
    time: int  # epoch ms: the run's start (or end) time
    status: Status  # this evaluation against the rules ("ok" / "warn" / "fail")


@dataclass(frozen=True, slots=True)
class Baseline:
    run: Run
    value: float
    how: str  # "baseline run" | "first evaluation of v2"


@dataclass(frozen=True, slots=True)
class MonitorResult:
    index: int  # position in daybook.yml's `monitors:` list
    monitor: Monitor
    slug: str  # anchor on the monitors page
    status: Status
    summary: str  # one line, for tables and the command line
    direction: Direction
    model: str | None = None  # the registered model watched
    alias: str | None = None
    version: int | None = None  # the version under watch (resolved from the alias)
    latest: Evaluation | None = None
    baseline: Baseline | None = None
    checks: tuple[Check, ...] = ()  # the rules applied to the latest evaluation
    evaluations: tuple[Evaluation, ...] = ()  # oldest first, at most `monitor.history`
    total_evaluations: int = 0  # before the history limit
    evidence: tuple[str, ...] = ()  # further facts worth a line
    problems: tuple[ConfigProblem, ...] = ()
    thresholds: tuple[tuple[str, float, str], ...] = ()  # (label, value, level) for charts

    @property
    def failing(self) -> bool:
        """What `daybook check --monitors` treats as a failed gate."""
        return self.status in ("fail", "error")


@dataclass(frozen=True, slots=True)
class MonitorReport:
    results: tuple[MonitorResult, ...] = ()

    @property
    def problems(self) -> list[ConfigProblem]:
        return [p for r in self.results for p in r.problems]

    @property
    def failing(self) -> list[MonitorResult]:
        return [r for r in self.results if r.failing]

    def counts(self) -> list[tuple[Status, int]]:
        return [(s, n) for s in STATUS_ORDER if (n := sum(r.status == s for r in self.results))]

    def for_model(self, name: str) -> list[MonitorResult]:
        return [r for r in self.results if r.model == name]


def evaluate_monitors(config: DaybookConfig, snapshot: Snapshot) -> MonitorReport:
    """Every monitor of daybook.yml, evaluated against the snapshot, in config order."""
    slugs = unique_slugs(m.name for m in config.monitors)
    return MonitorReport(
        tuple(
            evaluate_monitor(i, m, snapshot, slugs[m.name]) for i, m in enumerate(config.monitors)
        )
    )


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    shown = ", ".join(repr(c) for c in sorted(choices)[:8])
    return f" (there are: {shown}{', …' if len(choices) > 8 else ''})" if choices else ""


def _error(index: int, monitor: Monitor, slug: str, direction: Direction,
           key: str, message: str, **found: Any) -> MonitorResult:  # fmt: skip
    problem = ConfigProblem(("monitors", index, key), message)
    return MonitorResult(index, monitor, slug, "error", message, direction,
                         problems=(problem,), **found)  # fmt: skip


def _time(run: Run) -> int:
    return run.start_time or run.end_time or 0


def _find_run(runs: Sequence[Run], key: str) -> Run | None:
    exact = [r for r in runs if r.run_id == key]
    if exact:
        return exact[0]
    if len(key) >= 8:
        prefixed = [r for r in runs if r.run_id.startswith(key)]
        if len(prefixed) == 1:
            return prefixed[0]
    return None


def evaluate_monitor(index: int, monitor: Monitor, snapshot: Snapshot, slug: str) -> MonitorResult:
    direction = monitor.direction or guess_direction(monitor.metric)
    err = lambda key, msg, **kw: _error(index, monitor, slug, direction, key, msg, **kw)  # noqa: E731
    runs = list(snapshot.runs)
    if monitor.experiment is not None:
        exps = {e.name: e for e in snapshot.experiments}
        exp = exps.get(monitor.experiment)
        if exp is None:
            return err(
                "experiment",
                f"no experiment named {monitor.experiment!r} in the store, or it is left out "
                f"by `experiments:` in daybook.yml{_suggest(monitor.experiment, list(exps))}",
            )
        runs = [r for r in runs if r.experiment_id == exp.experiment_id]

    model: RegisteredModel | None = None
    alias: str | None = None
    version: int | None = None
    if monitor.model_ref is not None:
        name, alias, version = monitor.model_ref
        models = {m.name: m for m in snapshot.models}
        model = models.get(name)
        if model is None:
            return err("model", f"no registered model named {name!r}{_suggest(name, list(models))}")
        if alias is not None:
            if alias not in model.aliases:
                return err(
                    "model",
                    f"model {name!r} has no alias @{alias}{_suggest(alias, list(model.aliases))}",
                    model=name, alias=alias,
                )  # fmt: skip
            version = model.aliases[alias]
        elif version is not None:
            if version not in {v.version for v in model.versions}:
                return err("model", f"model {name!r} has no version {version}", model=name)
        elif model.versions:
            version = max(v.version for v in model.versions)
        runs = [r for r in runs if r.tags.get(monitor.model_tag) == name]
    found = {"model": model.name if model else None, "alias": alias, "version": version}

    if runs and not any(monitor.metric in r.metrics for r in runs):
        logged = sorted({k for r in runs for k in r.metrics})
        what = "evaluation run" if model else "run"
        return err(
            "metric",
            f"no {what} logged metric {monitor.metric!r}{_suggest(monitor.metric, logged)}",
            **found,
        )

    baseline: Baseline | None = None
    if monitor.baseline is not None:
        base_run = _find_run(snapshot.runs, monitor.baseline)
        if base_run is None:
            return err("baseline", f"no run with id {monitor.baseline!r} in the store", **found)
        base_value = base_run.metric(monitor.metric)
        if base_value is None or not is_finite(base_value):
            return err(
                "baseline",
                f"baseline run {base_run.name or base_run.run_id[:8]!r} has no finite "
                f"{monitor.metric!r}",
                **found,
            )
        baseline = Baseline(base_run, base_value, "baseline run")

    def version_of(run: Run) -> int | None:
        raw = run.tags.get(monitor.version_tag, "")
        return int(raw) if raw.strip().isdigit() else None

    evaluated = sorted(
        (r for r in runs if r.status in EVALUATED and monitor.metric in r.metrics),
        key=lambda r: (_time(r), r.run_id),
    )
    watched = [r for r in evaluated if model is None or version_of(r) == version]
    if baseline is None and model is not None:
        first = next((r for r in watched if is_finite(r.metric(monitor.metric))), None)
        if first is not None:
            baseline = Baseline(first, first.metric(monitor.metric) or 0.0,
                                f"first evaluation of v{version}")  # fmt: skip

    def judge(value: float, run_version: int | None) -> tuple[Status, list[Check]]:
        use_baseline = baseline if (model is None or run_version == version) else None
        checks = _apply(monitor, "fail", monitor, value, use_baseline, direction)
        if monitor.warn is not None:
            checks += _apply(monitor, "warn", monitor.warn, value, use_baseline, direction)
        if any(c.level == "fail" and not c.passed for c in checks):
            return "fail", checks
        if any(not c.passed for c in checks):
            return "warn", checks
        return "ok", checks

    all_evals = []
    for r in evaluated:
        value = r.metric(monitor.metric)
        assert value is not None
        status, _ = judge(value, version_of(r))
        all_evals.append(Evaluation(r, value, version_of(r), _time(r), status))
    shown = tuple(all_evals[-monitor.history :])
    thresholds = _thresholds(monitor, baseline, direction)
    common = {"evaluations": shown, "total_evaluations": len(all_evals), "baseline": baseline,
              "thresholds": thresholds, **found}  # fmt: skip

    metric = monitor.metric
    if not watched:
        if model is not None and version is None:
            summary = f"model {model.name!r} has no versions yet"
        elif model is not None:
            target = f"@{alias} (v{version})" if alias else f"v{version}"
            summary = f"no evaluation of {model.name} {target} with {metric!r} yet"
            if all_evals:
                last = all_evals[-1]
                summary += f"; the latest evaluation was of v{last.version}"
        else:
            summary = f"no finished run logged {metric!r} yet"
        return MonitorResult(index, monitor, slug, "warn", summary, direction, **common)

    latest_run = watched[-1]
    latest = next(e for e in reversed(all_evals) if e.run.run_id == latest_run.run_id)
    status, checks = judge(latest.value, latest.version)
    label = latest_run.name or latest_run.run_id[:8]
    on = f"{label}" + (f", v{latest.version}" if model is not None else "")
    broken = [c for c in checks if not c.passed]
    if status == "ok":
        summary = f"{metric} = {format_number(latest.value)} on {on}: every rule holds"
    else:
        worst = [c for c in broken if c.level == status] or broken
        summary = f"{metric} {worst[0].text} on {on}"
    evidence = []
    recent = all_evals[-7:]
    if len(recent) > 1:
        fails = sum(e.status == "fail" for e in recent)
        warns = sum(e.status == "warn" for e in recent)
        if fails or warns:
            parts = [f"{n} {s}" for n, s in ((fails, "fail"), (warns, "warn")) if n]
            evidence.append(f"the last {len(recent)} evaluations: {', '.join(parts)}")
        else:
            evidence.append(f"the last {len(recent)} evaluations all passed")
    return MonitorResult(index, monitor, slug, status, summary, direction, latest=latest,
                         checks=tuple(checks), evidence=tuple(evidence), **common)  # fmt: skip


def _apply(
    monitor: Monitor,
    level: Literal["fail", "warn"],
    rules: MonitorRules,
    value: float,
    baseline: Baseline | None,
    direction: Direction,
) -> list[Check]:
    num = format_number
    checks: list[Check] = []
    if not is_finite(value):
        if level == "fail":
            checks.append(Check(level, "finite", None, False, f"is {num(value)}, not a number"))
        return checks
    if rules.min is not None:
        ok = value >= rules.min
        sign = "≥" if ok else "<"
        checks.append(Check(level, "min", rules.min, ok,
                            f"= {num(value)} {sign} {'warn ' if level == 'warn' else ''}"
                            f"min {num(rules.min)}"))  # fmt: skip
    if rules.max is not None:
        ok = value <= rules.max
        sign = "≤" if ok else ">"
        checks.append(Check(level, "max", rules.max, ok,
                            f"= {num(value)} {sign} {'warn ' if level == 'warn' else ''}"
                            f"max {num(rules.max)}"))  # fmt: skip
    if rules.max_drop is not None and baseline is not None:
        allowed = rules.drop_allowed(baseline.value) or 0.0
        drop = baseline.value - value if direction == "maximize" else value - baseline.value
        bound = baseline.value - allowed if direction == "maximize" else baseline.value + allowed
        ok = drop <= allowed + 1e-12
        what = "dropped" if direction == "maximize" else "rose"
        amount = f"{num(abs(drop))}" + (
            f" ({abs(drop) / abs(baseline.value):.1%})" if baseline.value else ""
        )
        text = (
            f"= {num(value)}: {what} {amount} from baseline {num(baseline.value)}, "
            f"{'within' if ok else 'more than'} {'warn ' if level == 'warn' else ''}"
            f"max_drop {rules.max_drop}"
        )
        checks.append(Check(level, "max_drop", bound, ok, text))
    return checks


def _thresholds(
    monitor: Monitor, baseline: Baseline | None, direction: Direction
) -> tuple[tuple[str, float, str], ...]:
    out: list[tuple[str, float, str]] = []
    for level, rules in (("fail", monitor), ("warn", monitor.warn)):
        if rules is None:
            continue
        prefix = "warn " if level == "warn" else ""
        if rules.min is not None:
            out.append((f"{prefix}min", rules.min, level))
        if rules.max is not None:
            out.append((f"{prefix}max", rules.max, level))
        if rules.max_drop is not None and baseline is not None:
            allowed = rules.drop_allowed(baseline.value) or 0.0
            bound = baseline.value + (-allowed if direction == "maximize" else allowed)
            out.append((f"{prefix}max_drop", bound, level))
    return tuple(out)


# --- chart data ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionMark:
    """A moment the watched model changed, to mark on the monitor's trend: where the evaluated
    version changed from one evaluation to the next, or where a pull saw the alias move."""

    time: int  # epoch ms
    label: str  # "v2 → v3", or "@champion → v3" for an alias move a pull observed


def version_marks(result: MonitorResult, history: Sequence[AliasEvent] = ()
                  ) -> tuple[VersionMark, ...]:  # fmt: skip
    """Version changes within the charted evaluations, oldest first. An alias move from the
    history is added only when no evaluation already shows the change to that version (the
    history's time is when a pull noticed the move, not the move itself)."""
    evals = result.evaluations
    marks: list[VersionMark] = []
    for before, after in pairwise(evals):
        if before.version is not None and after.version is not None \
                and before.version != after.version:  # fmt: skip
            marks.append(VersionMark(after.time, f"v{before.version} → v{after.version}"))
    if not evals or result.model is None or result.alias is None:
        return tuple(marks)
    shown = {m.label.rsplit("→ ", 1)[-1] for m in marks}
    first, last = evals[0].time, evals[-1].time
    for e in history:
        if (e.model != result.model or e.alias != result.alias or e.kind not in ("set", "moved")
                or e.to_version is None or not first <= e.observed_at <= last
                or f"v{e.to_version}" in shown):  # fmt: skip
            continue
        marks.append(VersionMark(e.observed_at, f"@{e.alias} → v{e.to_version}"))
        shown.add(f"v{e.to_version}")
    return tuple(sorted(marks, key=lambda m: (m.time, m.label)))


def threshold_text(label: str, value: float, level: str) -> str:
    """How a chart names a threshold line: `fail: min 0.9`, `warn: max_drop 0.874`."""
    return f"{level}: {label.removeprefix('warn ')} {format_number(value)}"
