"""What the model page and the model card page may use (documented in docs/guide/templates.md).

Built once per build from the snapshot, the site's model records (cards, alias history) and the
journal's backlinks; templates only lay it out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from daybook.analysis import deployments
from daybook.analysis.cards import MergedCard, choose_version, find_card, merge_card
from daybook.analysis.deployments import Holding
from daybook.analysis.hub import checked, hub_metadata
from daybook.core.snapshot import (
    AliasEvent,
    CardFile,
    DatasetInput,
    Experiment,
    ModelFiles,
    ModelRecords,
    Problem,
    RegisteredModel,
    Run,
    Snapshot,
)
from daybook.pages.context import MentionView, ModelView, SiteModel, VersionView
from daybook.pages.paths import SitePaths

if TYPE_CHECKING:
    from daybook.pages.journal_view import JournalView

_ABOUT_VERSION = re.compile(r"(?:^|\s)v(?P<n>\d+)$")


@dataclass
class VersionLineage:
    """One version's line of descent: version → model files → run → data → commit → notes."""

    view: VersionView  # version, aliases, run, primary metric value, delta
    files: ModelFiles | None  # None when its files were not read (older, unaliased versions)
    logged_model_id: str  # MLflow 3 LoggedModel id ("" for other sources)
    run_state: str  # "" (the run has a page or row), "deleted", "not found", "not on this site"
    experiment: Experiment | None
    datasets: tuple[DatasetInput, ...]
    git_commit: str
    holdings: list[Holding]  # when it held which alias, oldest first
    mentions: list[MentionView]  # notes that mention this version or its run
    problems: list[Problem]

    @property
    def version(self) -> int:
        return self.view.version.version

    @property
    def size(self) -> str:
        return human_size(self.files.size_bytes) if self.files else ""


@dataclass
class ModelPage:
    """The model page's context (`mp` in model.md.j2; the plain ModelView stays `m`)."""

    m: ModelView
    lineage: list[VersionLineage]  # newest first
    timeline: list[AliasEvent]  # observed alias moves, newest first
    current: dict[str, Holding]  # alias -> the stretch it is in now (from the history)
    card: MergedCard
    card_page: str
    hub: dict[str, Any]  # the card's Hub metadata (what `daybook card export` writes)
    history_path: str
    problems: list[Problem]  # everything wrong with this model, its versions and its card

    @property
    def name(self) -> str:
        return self.m.model.name

    @property
    def metadata(self) -> list[MetaRow]:
        return metadata_rows(self.hub, self.card.metadata)

    @property
    def first_observed(self) -> bool:
        """Whether some holding began with the baseline (its start is only an upper bound)."""
        return any(not h.start_known for x in self.lineage for h in x.holdings)

    @property
    def metric(self) -> str:
        """The primary metric every version's run shares ("" when they differ or have none),
        so the versions table can name it once in its header."""
        names = {x.view.primary.metric for x in self.lineage if x.view.primary is not None}
        return names.pop() if len(names) == 1 else ""


@dataclass
class ModelPages:
    pages: dict[str, ModelPage] = field(default_factory=dict)  # model name ->
    problems: list[Problem] = field(default_factory=list)  # every model's, plus the site's own
    site_problems: list[Problem] = field(default_factory=list)  # history file, stray cards

    @classmethod
    def build(
        cls,
        site: SiteModel,
        snapshot: Snapshot,
        records: ModelRecords,
        paths: SitePaths,
        journal: JournalView | None = None,
    ) -> ModelPages:
        runs = {r.run_id: r for r in snapshot.runs}
        experiments = {e.experiment_id: e for e in snapshot.experiments}
        files = {(f.name, f.version): f for f in snapshot.model_files}
        history: dict[str, list[AliasEvent]] = {}
        for e in records.history:  # grouped once: a long history and many models stay cheap
            history.setdefault(e.model, []).append(e)
        pages = {}
        problems: list[Problem] = list(records.problems)
        for mv in site.models:
            model = mv.model
            slug = paths.model_slugs[model.name]
            repo_card = find_card(model, slug, records.cards)
            page = model_page(
                mv,
                snapshot,
                records,
                runs,
                experiments,
                repo_card,
                site.config.models.card_aliases,
                journal,
                files=files,
                history=history.get(model.name, []),
            )
            page.card_page = paths.card(model.name)
            pages[model.name] = page
            problems.extend(page.problems)
        stray = unmatched_cards(snapshot.models, paths.model_slugs, records.cards)
        site_problems = sorted([*records.problems, *stray], key=_problem_key)
        problems.extend(stray)
        problems.sort(key=_problem_key)
        return cls(pages, problems, site_problems)


def unmatched_cards(
    models: Sequence[RegisteredModel], slugs: Mapping[str, str], cards: Sequence[CardFile]
) -> list[Problem]:
    """Cards named after no registered model: not published, since they describe nothing."""
    known = {m.name for m in models} | set(slugs.values())
    out = []
    for c in cards:
        if c.key not in known:
            names = ", ".join(sorted(m.name for m in models)) or "none"
            out.append(
                Problem(
                    c.path,
                    1,
                    f"no registered model is named {c.key!r}, so this card is not published; "
                    f"name the file after the model (registered models: {names})",
                    "error",
                    "card.unknown-model",
                )
            )
    return out


def model_page(
    mv: ModelView,
    snapshot: Snapshot,
    records: ModelRecords,
    runs: Mapping[str, Run],
    experiments: Mapping[str, Experiment],
    repo_card: CardFile | None,
    card_aliases: Sequence[str],
    journal: JournalView | None = None,
    *,
    version: int | None = None,
    alias: str | None = None,
    files: Mapping[tuple[str, int], ModelFiles] | None = None,
    history: Sequence[AliasEvent] | None = None,
) -> ModelPage:
    """One model's page context; `version`/`alias` choose what its card describes. `files` and
    `history` (the model's events) may be given pre-indexed; else they come from the inputs."""
    model = mv.model
    if files is None:
        files = {(f.name, f.version): f for f in snapshot.model_files}
    if history is None:
        history = [e for e in records.history if e.model == model.name]
    mentions = journal.mentions_for_model(model.name) if journal else []
    by_version = deployments.holdings_by_version(model.name, history)
    lineage = []
    problems: list[Problem] = []
    for vv in mv.versions:
        v = vv.version
        run = runs.get(v.run_id)
        state = "" if run or not v.run_id else snapshot.absent_runs.get(v.run_id, "not found")
        vfiles = files.get((model.name, v.version))
        where = f"models:/{model.name}/{v.version}"
        found: list[Problem] = []
        if state in ("deleted", "not found"):
            found.append(
                Problem(
                    where,
                    0,
                    f"source run {v.run_id} was {state} in the tracking store: the version's "
                    "lineage ends here",
                    "error",
                    "model.run-missing",
                )
            )
        if vfiles is not None:
            found += [Problem(where, 0, p, "error", "model.files") for p in vfiles.problems]
        notes = [m for m in mentions if v.version in {_about_version(a) for a in m.abouts}]
        if journal and v.run_id:
            listed = {m.page for m in notes}  # a note once, whichever way it names the version
            notes += [m for m in journal.mentions_for_run(v.run_id) if m.page not in listed]
        lineage.append(
            VersionLineage(
                view=vv,
                files=vfiles,
                logged_model_id=vfiles.logged_model_id if vfiles else "",
                run_state=state,
                experiment=experiments.get(run.experiment_id) if run else None,
                datasets=run.datasets if run else (),
                git_commit=run.git_commit if run else "",
                holdings=by_version.get(v.version, []),
                mentions=notes,
                problems=found,
            )
        )
        problems.extend(found)

    if not model.versions and repo_card is None:
        problems.append(
            Problem(
                f"models:/{model.name}",
                0,
                "has no versions yet: its page and card stay empty until one is registered",
                "warning",
                "model.no-versions",
            )
        )
    chosen, why = choose_version(model, card_aliases, version=version, alias=alias)
    run = runs.get(chosen.run_id) if chosen else None
    state = ""
    if chosen is not None and run is None and chosen.run_id:
        state = snapshot.absent_runs.get(chosen.run_id, "not found")
    card = checked(
        merge_card(
            model,
            chosen,
            why,
            repo_card=repo_card,
            run=run,
            run_state=state,
            experiment=experiments.get(run.experiment_id) if run else None,
            files=files.get((model.name, chosen.version)) if chosen else None,
        )
    )
    problems.extend(card.problems)
    current = {
        h.alias: h
        for h in deployments.holdings(model.name, history)
        if h.end is None and model.aliases.get(h.alias) == h.version
    }
    return ModelPage(
        m=mv,
        lineage=lineage,
        timeline=deployments.timeline(model.name, history),
        current=current,
        card=card,
        card_page="",
        hub=hub_metadata(card),
        history_path=records.history_path,
        problems=sorted(set(problems), key=lambda p: (p.path, p.line, p.message)),
    )


def _problem_key(p: Problem) -> tuple[str, int, str]:
    return (p.path, p.line, p.message)


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def metadata_rows(hub: Mapping[str, Any], written: Mapping[str, object]) -> list[MetaRow]:
    """The card's Hub metadata as rows for a table: each value said in words, and whether a
    person wrote it or Daybook filled it in from the registry."""
    rows = []
    for key, value in hub.items():
        if key == "model-index" and isinstance(value, list):
            results = [r for e in value if isinstance(e, dict) for r in e.get("results") or []]
            parts = []
            for r in results:
                if not isinstance(r, dict):
                    continue
                task = (r.get("task") or {}).get("type", "?")
                data = (r.get("dataset") or {}).get("name", "?")
                count = len(r.get("metrics") or [])
                parts.append(f"{task} on {data}: {count} metric{'s' if count != 1 else ''}")
            text = "; ".join(parts) or "empty"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            text = str(value)
        if key not in written:
            origin = "generated"
        elif key == "tags" and value != written.get(key):
            origin = "written + generated"
        else:
            origin = "written"
        rows.append(MetaRow(key, text, origin))
    return rows


@dataclass(frozen=True)
class MetaRow:
    key: str
    value: str
    origin: str  # "written", "generated" or "written + generated"


def _about_version(about: str) -> int | None:
    """The version a backlink's `about` names ("v3", "@champion → v3")."""
    m = _ABOUT_VERSION.search(about or "")
    return int(m.group("n")) if m else None
