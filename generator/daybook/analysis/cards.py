"""Model cards: a hand-written card merged with what the registry knows, scored for completeness.

The card a person writes (Hugging Face's format) and the facts MLflow holds about a version are
kept apart until here: the written sections stay exactly as written, the generated facts are
structured data the templates lay out (and mark as generated), so neither can go stale behind
the other's back. Pure functions; no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from daybook.analysis.mdscan import prose_mask
from daybook.core.snapshot import (
    CardFile,
    DatasetInput,
    Experiment,
    ModelFiles,
    ModelVersion,
    Problem,
    RegisteredModel,
    Run,
)
from daybook.safety.secrets import find_secrets

# The sections of Hugging Face's model card template that every card should have, in order.
STANDARD_SECTIONS: tuple[tuple[str, str], ...] = (
    ("model-details", "Model Details"),
    ("uses", "Uses"),
    ("bias-risks-limitations", "Bias, Risks, and Limitations"),
    ("training-details", "Training Details"),
    ("evaluation", "Evaluation"),
    ("environmental-impact", "Environmental Impact"),
    ("technical-specifications", "Technical Specifications"),
    ("citation", "Citation"),
    ("model-card-authors", "Model Card Authors"),
    ("model-card-contact", "Model Card Contact"),
)
SECTION_TITLES = dict(STANDARD_SECTIONS)
# Sections Daybook fills from the registry (model details, training data and hyperparameters,
# evaluation results); they count as covered when the generated part has something to show.
GENERATED_SECTIONS = ("model-details", "training-details", "evaluation")
PLACEHOLDER = "[More Information Needed]"
EVAL_CONTEXTS = ("validation", "eval", "evaluation", "test", "testing", "holdout")

_H2 = re.compile(r"^ {0,3}##(?!#)[ \t]+(?P<title>.*?)[ \t]*#*[ \t]*$", re.MULTILINE)
_H1 = re.compile(r"^ {0,3}#(?!#)[ \t]+.*$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}(\s|$)")
_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
_EMPTY_FIELD = re.compile(r"^\s*[-*+]\s*\*\*[^*]+\*\*:?\s*:?\s*$")
_OPTIONAL = re.compile(r"\[optional\]|\(optional\)", re.IGNORECASE)
# Lines of Hugging Face's template that are boilerplate, not information about the model.
_BOILERPLATE = (
    "use the code below to get started with the model.",
    "carbon emissions can be estimated using the",
    "**bibtex:**",
    "**apa:**",
    "users (both direct and downstream) should be made aware of the risks, biases and "
    "limitations of the model. more information needed for further recommendations.",
)


def section_key(title: str) -> str | None:
    """The standard section a heading names (tolerant of case, `[optional]` and "and")."""
    words = re.findall(r"[a-z0-9]+", _OPTIONAL.sub("", title).lower())
    key = "-".join(w for w in words if w != "and")
    return key if key in SECTION_TITLES else None


@dataclass(frozen=True, slots=True)
class WrittenSection:
    """One `## ` section of a card as the person wrote it."""

    title: str
    key: str | None  # a standard section, or None for a section of the card's own
    text: str  # Markdown below the heading, up to the next `## `
    line: int  # line of the heading in the card file


@dataclass(frozen=True, slots=True)
class CardBody:
    summary: str  # text before the first section, without a leading `# ` title
    sections: tuple[WrittenSection, ...]


def split_sections(body: str, body_line: int = 1) -> CardBody:
    """A card body cut at its `## ` headings (never at one inside a code block)."""
    masked = prose_mask(body)
    heads = list(_H2.finditer(masked))
    summary = body[: heads[0].start()] if heads else body
    title = _H1.search(prose_mask(summary))
    if title and not prose_mask(summary)[: title.start()].strip():
        summary = summary[title.end() :]
    sections = []
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        text = body[h.end() : end].strip("\n")
        name = body[h.start("title") : h.end("title")].strip()
        sections.append(
            WrittenSection(
                name, section_key(name), text, body_line + body.count("\n", 0, h.start())
            )
        )
    return CardBody(summary.strip("\n"), tuple(sections))


def has_content(text: str) -> bool:
    """Whether a section says anything beyond the template: comments, headings, the
    "[More Information Needed]" placeholder, empty `- **Field:**` lines and boilerplate do
    not count."""
    text = _COMMENT.sub("", text)
    for line in text.split("\n"):
        s = line.strip()
        if not s or _HEADING.match(s) or PLACEHOLDER.lower() in s.lower():
            continue
        if _EMPTY_FIELD.match(s) or set(s) <= set("-*_=|: "):
            continue
        if any(s.lower().startswith(b) for b in _BOILERPLATE):
            continue
        return True
    return False


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the merged card: what was written, and whether registry facts join it."""

    key: str | None
    title: str
    text: str  # hand-written Markdown ("" when none)
    line: int  # line in the card file (0: the card does not have this section)
    written: bool  # the hand-written part has content
    generated: bool  # Daybook adds registry facts here (and has some to add)

    @property
    def status(self) -> str:
        if self.written:
            return "written" if not self.generated else "written + generated"
        return "generated" if self.generated else "needs input"

    @property
    def needs_input(self) -> bool:
        return not self.written and not self.generated


@dataclass(frozen=True, slots=True)
class Completeness:
    items: tuple[tuple[str, str], ...]  # (what, status) — status "needs input" when missing

    @property
    def done(self) -> int:
        return sum(1 for _, s in self.items if s != "needs input")

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True, slots=True)
class Staleness:
    updated: int  # epoch ms the hand-written part was last updated
    version: int  # the newest version, registered after that
    registered: int  # epoch ms


@dataclass(frozen=True)
class MergedCard:
    """Everything a card page (or an exported README.md) shows for one model version."""

    model: RegisteredModel
    version: ModelVersion | None
    chosen_by: str  # why this version: "alias champion", "the newest version", "--version 2"
    aliases: tuple[str, ...]
    run: Run | None
    run_state: str  # "" when the run is known, else why not ("deleted", "not found", …)
    experiment: Experiment | None
    files: ModelFiles | None
    card: CardFile | None
    card_kind: str  # "repo" (docs/models/…), "artifact" (logged with the run) or "" (none)
    summary: str
    sections: tuple[Section, ...]
    metadata: Mapping[str, object]  # the hand-written metadata, as written
    params: tuple[tuple[str, str], ...]
    metrics: tuple[tuple[str, float], ...]
    datasets: tuple[DatasetInput, ...]
    completeness: Completeness
    stale: Staleness | None
    updated: int | None  # when the hand-written part was last updated, when known
    problems: tuple[Problem, ...] = field(default=())

    @property
    def needs_input(self) -> list[str]:
        return [s.title for s in self.sections if s.key and s.needs_input]

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def extra_sections(self) -> list[Section]:
        return [s for s in self.sections if s.key is None]

    @property
    def training_datasets(self) -> list[DatasetInput]:
        return [d for d in self.datasets if d.context.lower() not in EVAL_CONTEXTS]

    @property
    def evaluation_datasets(self) -> list[DatasetInput]:
        return [d for d in self.datasets if d.context.lower() in EVAL_CONTEXTS]


def choose_version(
    model: RegisteredModel,
    prefer_aliases: Sequence[str],
    *,
    version: int | None = None,
    alias: str | None = None,
) -> tuple[ModelVersion | None, str]:
    """Which version a card describes: an explicit version or alias, else the first of the
    preferred aliases the model has, else the newest version. Returns (version, why); a version
    or alias that does not exist gives (None, what is wrong)."""
    by_number = {v.version: v for v in model.versions}
    if version is not None:
        if version not in by_number:
            known = ", ".join(str(v) for v in sorted(by_number)) or "none"
            return None, f"{model.name} has no version {version} (versions: {known})"
        return by_number[version], f"version {version}"
    if alias is not None:
        target = model.aliases.get(alias)
        if target is None or target not in by_number:
            known = ", ".join(sorted(model.aliases)) or "none"
            return None, f"{model.name} has no alias {alias!r} (aliases: {known})"
        return by_number[target], f"alias {alias}"
    for a in prefer_aliases:
        target = model.aliases.get(a)
        if target in by_number:
            return by_number[target], f"alias {a}"
    if model.versions:
        return model.versions[-1], "the newest version"
    return None, f"{model.name} has no versions yet"


def find_card(model: RegisteredModel, slug: str, cards: Sequence[CardFile]) -> CardFile | None:
    """The hand-written card for a model: named after the model exactly, else after its slug."""
    exact = next((c for c in cards if c.key == model.name), None)
    return exact or next((c for c in cards if c.key == slug), None)


def merge_card(
    model: RegisteredModel,
    version: ModelVersion | None,
    chosen_by: str,
    *,
    repo_card: CardFile | None,
    run: Run | None,
    run_state: str,
    experiment: Experiment | None,
    files: ModelFiles | None,
) -> MergedCard:
    """One merged card. The hand-written part is the repo's card, else a card logged with the
    version's run (`analysis.hub.checked` adds the metadata checks)."""
    card, kind = (repo_card, "repo") if repo_card is not None else (None, "")
    if card is None and files is not None and files.card is not None:
        card, kind = files.card, "artifact"
    body = split_sections(card.body, card.body_line) if card else CardBody("", ())
    params = tuple(sorted(run.params.items())) if run else ()
    metrics = (
        tuple((k, v) for k, v in sorted(run.metrics.items()) if math.isfinite(v)) if run else ()
    )
    datasets = run.datasets if run else ()
    has_generated = {
        "model-details": version is not None,
        "training-details": bool(params or datasets),
        "evaluation": bool(metrics),
    }
    written: dict[str, WrittenSection] = {}
    extras: list[WrittenSection] = []  # the card's own sections, and repeats of standard ones
    for w in body.sections:
        if w.key and w.key not in written:
            written[w.key] = w
        else:
            extras.append(w)
    sections: list[Section] = []
    for key, title in STANDARD_SECTIONS:
        w = written.get(key)
        sections.append(
            Section(
                key=key,
                title=title,
                text=w.text if w else "",
                line=w.line if w else 0,
                written=bool(w and has_content(w.text)),
                generated=has_generated.get(key, False),
            )
        )
    sections.extend(
        Section(None, w.title, w.text, w.line, has_content(w.text), False) for w in extras
    )

    meta = dict(card.metadata) if card else {}
    license_ok = isinstance(meta.get("license"), str) and bool(str(meta["license"]).strip())
    items = [(s.title, s.status) for s in sections if s.key]
    items.append(("License (metadata)", "written" if license_ok else "needs input"))
    completeness = Completeness(tuple(items))

    updated = card.updated if card else None
    if card is not None and kind == "artifact" and updated is None and run is not None:
        updated = run.end_time or run.start_time
    # A card logged with a version's run predates that version's registration by nature: only
    # versions registered after it can make it stale.
    after = version.version if kind == "artifact" and version is not None else 0
    stale = staleness(model, updated, after=after)

    problems: list[Problem] = list(card.problems) if card else []
    where = card.path if card else f"models:/{model.name}"
    if card is not None and kind == "repo" and not model.versions:
        problems.append(
            Problem(
                card.path,
                1,
                f"{model.name} has no versions yet: the card has no registry facts to merge",
                "error",
                "card.no-versions",
            )
        )
    if stale is not None and card is not None:
        line = card.metadata_lines.get("last_updated", 1) if kind == "repo" else 0
        problems.append(
            Problem(
                where,
                line,
                f"the hand-written card was last updated {_day(stale.updated)}, "
                f"before v{stale.version} was registered ({_day(stale.registered)}): review "
                "it and update `last_updated`",
                "warning",
                "card.stale",
            )
        )
    return MergedCard(
        model=model,
        version=version,
        chosen_by=chosen_by,
        aliases=tuple(model.aliases_of(version.version)) if version else (),
        run=run,
        run_state=run_state,
        experiment=experiment,
        files=files,
        card=card,
        card_kind=kind,
        summary=body.summary,
        sections=tuple(sections),
        metadata=meta,
        params=params,
        metrics=metrics,
        datasets=datasets,
        completeness=completeness,
        stale=stale,
        updated=updated,
        problems=tuple(problems),
    )


def staleness(model: RegisteredModel, updated: int | None, after: int = 0) -> Staleness | None:
    """Stale when the newest version (numbered above `after`) was registered on a later day than
    the hand-written part was last updated (days, since `last_updated` is a date)."""
    versions = [v for v in model.versions if v.version > after]
    if updated is None or not versions:
        return None
    newest = max(versions, key=lambda v: (v.creation_time or 0, v.version))
    if newest.creation_time is None or _day(newest.creation_time) <= _day(updated):
        return None
    return Staleness(updated, newest.version, newest.creation_time)


def _day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def card_secret_problems(
    cards: Sequence[CardFile], redact: Sequence[str], redact_values: Sequence[str] = ()
) -> list[Problem]:
    """Secret-looking text in model cards (body and front matter). The site masks it, but the
    secret is in the repository (or the run's artifacts): remove it there, and rotate it."""
    out = []
    for card in cards:
        for s in find_secrets(card.body, redact, redact_values):
            line = card.body_line + card.body.count("\n", 0, s.start)
            out.append(Problem(card.path, line, _LEAK.format(s.what), "error", "card.secret"))
        for key, value in sorted(card.metadata.items()):
            for s in find_secrets(f"{key}: {value}", redact, redact_values):
                line = card.metadata_lines.get(key, 1)
                out.append(Problem(card.path, line, _LEAK.format(s.what), "error", "card.secret"))
    return out


_LEAK = "secret-looking text ({}): remove it from the card and rotate the secret"
