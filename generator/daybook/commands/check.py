"""`daybook check`: validate what people wrote in the site, for CI and pre-commit.

Each check is a function from the site to `Problem`s (`path:line: message`), so a new kind of
check (monitors, cards …) is one more entry in `CHECKS`. Nothing is written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from daybook.analysis.cards import card_secret_problems
from daybook.analysis.journal import journal_problems
from daybook.analysis.monitors import STATUS_ORDER, MonitorReport, evaluate_monitors
from daybook.analysis.policy import page_run_ids
from daybook.analysis.references import resolve_journal
from daybook.core.config import (
    CONFIG_NAME,
    DaybookConfig,
    config_line,
    key_line,
    load_config,
    resolve_tracking_uri,
)
from daybook.core.errors import ConfigError, DaybookError
from daybook.core.site import JournalLayout, Site
from daybook.core.snapshot import Journal, Problem, Snapshot
from daybook.pages.context import SiteModel
from daybook.pages.models import ModelPages
from daybook.pages.paths import SitePaths
from daybook.safety.redact import strip_credentials
from daybook.sources.catalog import read_catalog, registry_snapshot, store_exists
from daybook.sources.mkdocs_yml import read_layout
from daybook.sources.notes import read_journal
from daybook.store.records import read_records

_LOCATED = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<message>.*)$", re.S)


@dataclass
class CheckContext:
    """What the checks share: read once, in order."""

    root: Path
    tracking_uri: str | None  # --tracking-uri
    use_store: bool
    config: DaybookConfig = field(default_factory=DaybookConfig)
    layout: JournalLayout | None = None
    journal: Journal | None = None


Check = Callable[[CheckContext], list[Problem]]


def check_config(ctx: CheckContext) -> list[Problem]:
    if not (ctx.root / "mkdocs.yml").is_file():
        return [Problem("mkdocs.yml", 1, "not found: this is not a Daybook site (daybook init)")]
    try:
        ctx.config = load_config(ctx.root)
    except ConfigError as exc:
        # Every mistake of the file, one problem each (load_config reports them all at once).
        return [_located(line, ctx.root, "daybook.yml", "config") for line in str(exc).splitlines()]
    return []


def check_journal(ctx: CheckContext) -> list[Problem]:
    """Notes and .authors.yml: front matter, dates, authors, secrets, duplicate days."""
    if not ctx.config.journal.enabled:
        return []
    ctx.layout = read_layout(ctx.root)
    if ctx.layout is None:
        notes = ctx.root / "docs" / "notes"
        if notes.is_dir() and any(notes.rglob("*.md")):
            return [
                Problem(
                    "mkdocs.yml",
                    1,
                    "docs/notes/ holds notes but the blog plugin is not "
                    "enabled, so they are not published as the journal",
                    "warning",
                    "mkdocs.blog",
                )
            ]
        return []
    problems = list(ctx.layout.problems)
    index = ctx.layout.docs_dir / ctx.layout.index_page
    if not index.is_file():
        problems.append(
            Problem(
                "mkdocs.yml",
                1,
                f"{ctx.layout.site_path(ctx.layout.index_page)} is missing: the "
                "blog plugin would write a placeholder there; `daybook note` writes a proper one",
                "warning",
                "journal.index",
            )
        )
    ctx.journal = read_journal(ctx.layout)
    problems += journal_problems(ctx.journal, ctx.config.redact, ctx.config.redact_values)
    return problems


def check_references(ctx: CheckContext) -> list[Problem]:
    """Every `runs:/`, `models:/` and `experiments:/` URI in a note resolves."""
    if ctx.journal is None or not ctx.use_store or not ctx.journal.notes:
        return []
    uri = resolve_tracking_uri(ctx.config, ctx.root, ctx.tracking_uri)
    shown = strip_credentials(uri)
    if not store_exists(uri):
        return [
            Problem(
                "daybook.yml",
                1,
                f"no MLflow store at {shown}: references in notes were not "
                "checked (set tracking_uri, or pass --tracking-uri or --no-store)",
                "warning",
                "store",
            )
        ]
    try:
        snapshot = read_catalog(ctx.config, uri)
    except DaybookError as exc:
        return [
            Problem("daybook.yml", 1, f"cannot read the tracking store: {exc}", "error", "store")
        ]
    return resolve_journal(ctx.journal, snapshot).problems


def check_cards(ctx: CheckContext) -> list[Problem]:
    """Model cards and the alias history file; with the store, also the cards against the
    registry (stale cards, unknown models, deleted source runs, unreadable model files)."""
    uri = resolve_tracking_uri(ctx.config, ctx.root, ctx.tracking_uri)
    site = Site(ctx.root, ctx.config, uri)
    if not ctx.use_store or not store_exists(uri):
        return card_problems(site)  # the files alone (check_references says the store is missing)
    try:
        snapshot = registry_snapshot(ctx.config, uri)
    except DaybookError:
        return card_problems(site)  # check_references reports the unreadable store
    return card_problems(site, snapshot)


def card_problems(site: Site, snapshot: Snapshot | None = None) -> list[Problem]:
    """Everything wrong with the site's cards and alias history, as `path:line: message`. With a
    snapshot it also checks them against the registry (stale cards, cards for unknown models,
    deleted source runs, unreadable model files, the Hub metadata rules)."""
    records = read_records(site)
    leaks = card_secret_problems(records.cards, site.config.redact, site.config.redact_values)
    if snapshot is None:
        found = [*records.problems, *leaks]
        for card in records.cards:
            found.extend(card.problems)
        return sorted(set(found), key=lambda p: (p.path, p.line, p.message))
    runs = page_run_ids(site.config, snapshot.experiments, snapshot.runs, snapshot.models)
    paths = SitePaths.build(snapshot, runs)
    view = SiteModel.build(site.config, snapshot, paths)
    pages = ModelPages.build(view, snapshot, records, paths)
    found = [*pages.problems, *leaks]
    for card in records.cards:  # cards of unknown models still get their own problems
        found.extend(card.problems)
    return sorted(set(found), key=lambda p: (p.path, p.line, p.message))


def check_monitors(ctx: CheckContext) -> list[Problem]:
    """Monitors name a model, alias, version, experiment, metric and baseline run that the
    store has (their syntax is checked with the rest of daybook.yml)."""
    if not ctx.config.monitors or not ctx.use_store:
        return []
    gate = evaluate_site_monitors(ctx.root, ctx.tracking_uri, ctx.config)
    if gate.report is None:
        line = key_line(ctx.root, ("monitors",)) or 1
        return [Problem(CONFIG_NAME, line, f"monitors were not checked: {gate.error}", "warning",
                        "monitor.store")]  # fmt: skip
    return [
        Problem(CONFIG_NAME, key_line(ctx.root, p.loc) or 1, f"{p.key}: {p.message}", "error",
                "monitor.config")
        for p in gate.report.problems
    ]  # fmt: skip


@dataclass
class MonitorGate:
    """The monitors of a site, evaluated against its store (`daybook check --monitors`)."""

    report: MonitorReport | None  # None: they could not be evaluated
    error: str = ""  # why not

    @property
    def failing(self) -> bool:
        return self.report is None or bool(self.report.failing)


def evaluate_site_monitors(
    root: Path, tracking_uri: str | None = None, config: DaybookConfig | None = None
) -> MonitorGate:
    """Read the store's runs and registry (no histories) and evaluate every monitor."""
    try:
        config = config or load_config(root)
    except ConfigError as exc:
        return MonitorGate(None, str(exc))
    uri = resolve_tracking_uri(config, root, tracking_uri)
    if not store_exists(uri):
        return MonitorGate(None, f"no MLflow store at {strip_credentials(uri)}")
    try:
        snapshot = read_catalog(config, uri)
    except DaybookError as exc:
        return MonitorGate(None, f"cannot read the tracking store: {exc}")
    return MonitorGate(evaluate_monitors(config, snapshot))


def format_monitors(gate: MonitorGate, root: Path) -> str:
    """One line per monitor, worst first: `FAIL name: summary` (and where a config problem is)."""
    if gate.report is None:
        return f"monitors: not evaluated: {gate.error}\n"
    lines = []
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    for r in sorted(gate.report.results, key=lambda r: (order[r.status], r.index)):
        if r.problems:
            p = r.problems[0]
            lines.append(f"{r.status.upper():5} {r.monitor.name}: "
                         f"{config_line(root, p.loc)}: {p.key}: {p.message}")  # fmt: skip
        else:
            lines.append(f"{r.status.upper():5} {r.monitor.name}: {r.summary}")
    counts = ", ".join(f"{n} {s}" for s, n in gate.report.counts()) or "none configured"
    return "\n".join([*lines, f"monitors: {counts}"]) + "\n"


def monitors_json(gate: MonitorGate) -> list[dict[str, object]] | dict[str, str]:
    if gate.report is None:
        return {"error": gate.error}
    return [
        {"name": r.monitor.name, "status": r.status, "summary": r.summary,
         "model": r.model, "version": r.version, "metric": r.monitor.metric,
         "value": r.latest.value if r.latest and math.isfinite(r.latest.value) else None,
         "run_id": r.latest.run.run_id if r.latest else None,
         "problems": [{"key": p.key, "message": p.message} for p in r.problems]}
        for r in gate.report.results
    ]  # fmt: skip


CHECKS: list[Check] = [check_config, check_journal, check_references, check_cards, check_monitors]


def run_check(
    root: Path, tracking_uri: str | None = None, *, use_store: bool = True
) -> list[Problem]:
    """Every problem in the site, sorted by file and line."""
    ctx = CheckContext(root.resolve(), tracking_uri, use_store)
    problems: list[Problem] = []
    for check in CHECKS:
        problems += check(ctx)
    unique = {(p.path, p.line, p.level, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.path, p.line, p.level, p.message))


def format_text(problems: list[Problem]) -> str:
    lines = [
        str(p) if p.level == "error" else str(replace(p, message=f"{p.level}: {p.message}"))
        for p in problems  # (registry problems have no line: `models:/x/3: message`)
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(problems: list[Problem]) -> str:
    data = {
        "errors": sum(p.level == "error" for p in problems),
        "warnings": sum(p.level != "error" for p in problems),
        "problems": [asdict(p) for p in problems],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class CheckReport:
    """What `daybook check` prints: the report (stdout), a count line (stderr, text format
    only), and the exit code (1 on any error or failing monitor)."""

    output: str
    summary: str
    exit_code: int


def check_site(
    root: Path,
    tracking_uri: str | None = None,
    *,
    fmt: str = "text",
    use_store: bool = True,
    monitors: bool = False,
) -> CheckReport:
    """`daybook check`, start to end: the problems, and with `monitors` the monitor gate."""
    problems = run_check(root, tracking_uri, use_store=use_store)
    gate = evaluate_site_monitors(root.resolve(), tracking_uri) if monitors else None
    if fmt == "json":
        text = format_json(problems)
        if gate is not None:
            data = json.loads(text)
            data["monitors"] = monitors_json(gate)
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = format_text(problems)
        if gate is not None:
            text += format_monitors(gate, root.resolve())
    errors = sum(p.level == "error" for p in problems)
    summary = f"{errors} error(s), {len(problems) - errors} warning(s)" if fmt == "text" else ""
    failed = bool(errors) or (gate is not None and gate.failing)
    return CheckReport(text, summary, 1 if failed else 0)


def _located(message: str, root: Path, default: str, code: str) -> Problem:
    """A `path:line: message` error string as a Problem with a site-relative path."""
    m = _LOCATED.match(message)
    if not m:
        return Problem(default, 1, message, "error", code)
    path = m.group("path")
    with contextlib.suppress(ValueError):
        path = Path(path).resolve().relative_to(root).as_posix()
    return Problem(path, int(m.group("line")), m.group("message"), "error", code)
