"""The snapshot: everything Daybook read from the outside world, as plain immutable data.

Only the source layer builds these; everything downstream (analysis, pages) reads them. No MLflow
object ever crosses this line, so a snapshot can be saved, compared and reused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, make_dataclass
from datetime import date, time
from typing import TypeVar

# Tag keys MLflow uses for fields that are not columns of their own.
TAG_DESCRIPTION = "mlflow.note.content"
TAG_PARENT = "mlflow.parentRunId"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_RUN_NAME = "mlflow.runName"
TAG_USER = "mlflow.user"

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset a run consumed, as MLflow records it (digest identifies the data's version)."""

    name: str
    digest: str
    source_type: str
    source: str
    context: str  # "training", "validation", … ("" when the run did not say)


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """Every logged point of one metric of one run, ordered by step then time."""

    key: str
    steps: tuple[int, ...]
    values: tuple[float, ...]
    timestamps: tuple[int, ...]

    @property
    def finite(self) -> list[float]:
        return [v for v in self.values if math.isfinite(v)]

    @property
    def minimum(self) -> float | None:
        vals = self.finite
        return min(vals) if vals else None

    @property
    def maximum(self) -> float | None:
        vals = self.finite
        return max(vals) if vals else None

    @property
    def last(self) -> float | None:
        return self.values[-1] if self.values else None


@dataclass(frozen=True, slots=True)
class Artifact:
    path: str  # relative to the run's artifact root, "/"-separated
    is_dir: bool
    size: int | None


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    experiment_id: str
    name: str
    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    start_time: int | None  # epoch ms
    end_time: int | None  # epoch ms; None while running
    user: str
    artifact_uri: str
    params: dict[str, str] = field(default_factory=dict)
    # The latest value of each metric (what MLflow keeps in `latest_metrics`), by key, and its
    # step and time (epoch ms) in the two dicts at the end. Plain floats, not an object per
    # metric: a store of 100,000 runs has 500,000 of them, each made by the reader and by every
    # load of the snapshot file (docs/guide/scale.md, "The full pull, round six").
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: tuple[DatasetInput, ...] = ()
    metric_steps: dict[str, int] = field(default_factory=dict)
    metric_times: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Every metric has a step and a time, 0 where none was given, and no other key does:
        two runs that hold the same compare equal. (The readers and the snapshot file make
        runs through `new_run`, with both dicts whole, and skip this.)"""
        for name in ("metric_steps", "metric_times"):
            given = getattr(self, name)
            if given.keys() != self.metrics.keys():
                object.__setattr__(self, name, {k: given.get(k, 0) for k in self.metrics})

    @property
    def description(self) -> str:
        return self.tags.get(TAG_DESCRIPTION, "")

    @property
    def parent_id(self) -> str | None:
        return self.tags.get(TAG_PARENT) or None

    @property
    def git_commit(self) -> str:
        return self.tags.get(TAG_GIT_COMMIT, "")

    @property
    def duration_ms(self) -> int | None:
        if self.start_time is None or self.end_time is None:
            return None
        return max(0, self.end_time - self.start_time)

    def metric(self, key: str) -> float | None:
        return self.metrics.get(key)


@dataclass(frozen=True, slots=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.tags.get(TAG_DESCRIPTION, "")


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: int
    creation_time: int | None
    last_updated_time: int | None
    description: str
    status: str
    source: str  # e.g. "models:/m-…" (MLflow 3 LoggedModel) or "runs:/<id>/model"
    run_id: str  # "" when the version came from outside a run
    user: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    description: str
    creation_time: int | None
    last_updated_time: int | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    versions: tuple[ModelVersion, ...] = ()  # ascending by version

    def aliases_of(self, version: int) -> list[str]:
        return sorted(a for a, v in self.aliases.items() if v == version)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one pull saw. Collections are sorted so equal stores give equal snapshots."""

    tracking_uri: str  # display form: credentials removed
    experiments: tuple[Experiment, ...]
    runs: tuple[Run, ...]  # every run of the included experiments
    models: tuple[RegisteredModel, ...]
    histories: dict[str, tuple[MetricHistory, ...]] = field(default_factory=dict)  # run id ->
    artifacts: dict[str, tuple[Artifact, ...]] = field(default_factory=dict)  # run id ->
    warnings: tuple[str, ...] = ()  # problems met while reading, shown on the site
    model_files: tuple[ModelFiles, ...] = ()  # per model version read, sorted by (name, version)
    # Source runs of model versions that are not in `runs`: run id -> "deleted" | "not found" |
    # "not on this site" (its experiment is excluded).
    absent_runs: dict[str, str] = field(default_factory=dict)
    # Set only when pages are built from a saved snapshot without reading the store (`--offline`):
    # when that snapshot was pulled (epoch ms). The home page then says "data as of …".
    data_as_of: int | None = None
    # The masking its values went through (`Redactor.masking`: the redaction settings and the
    # scanner's code), set by the pull that masked them; "" when not known. The publishing pass
    # skips the secret scan where this is its own masking, and only rewrites local paths.
    masked_by: str = ""

    def files_of(self, name: str, version: int) -> ModelFiles | None:
        for f in self.model_files:
            if f.name == name and f.version == version:
                return f
        return None

    def runs_of(self, experiment_id: str) -> list[Run]:
        return [r for r in self.runs if r.experiment_id == experiment_id]


# --- The journal: notes people wrote in docs/ -----------------------------------------------------

NOTE_TYPES: tuple[str, ...] = ("daily", "meeting", "decision", "postmortem")
TYPE_LABELS = {t: t.capitalize() for t in NOTE_TYPES}  # the blog category of each type


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a file a person wrote, said as `path:line: message` so an editor or
    CI can jump to it. `level` "error" fails `daybook check`; "warning" only informs."""

    path: str  # relative to the site root, "/"-separated (e.g. docs/notes/2026-11-26.md)
    line: int  # 1-based; 1 when the whole file is at fault; 0 when `path` is not a file
    message: str
    level: str = "error"  # "error" | "warning"
    code: str = ""  # a stable rule id for tools, e.g. "note.date"

    def __str__(self) -> str:
        # Registry problems have no file: their path is a URI (`models:/name/3`), with no line.
        if not self.line:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Author:
    """An entry of the blog's `.authors.yml` (what the blog plugin shows beside a post)."""

    author_id: str
    name: str
    description: str = ""
    avatar: str = ""


@dataclass(frozen=True, slots=True)
class Note:
    """One Markdown note under the notes folder, as far as it could be read.

    A note with problems is still a Note: the build shows what it can, with the problems on top.
    """

    source: str  # path under docs/, "/"-separated, exactly as the person named the file
    page: str  # path under docs/ the built copy is served from (= source unless unlinkable)
    date: date | None  # None: no usable date; the note is not published
    time: time | None  # when the front matter gave a date and a time
    authors: tuple[str, ...]  # known author ids only
    type: str  # one of NOTE_TYPES
    tags: tuple[str, ...]
    title: str
    body: str  # the Markdown after the front matter
    body_line: int  # line number (1-based) of the body's first line in the file
    draft: bool = False
    problems: tuple[Problem, ...] = ()

    @property
    def published(self) -> bool:
        """Built as a page of its own (so other pages may link to it)."""
        return self.date is not None and not self.draft

    @property
    def sort_key(self) -> tuple[date, time, str]:
        return (self.date or date.min, self.time or time.min, self.source)


@dataclass(frozen=True, slots=True)
class Journal:
    """Every note of the site and the authors it may name, read in one pass."""

    notes: tuple[Note, ...] = ()  # sorted by source path
    authors: dict[str, Author] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()  # problems of the journal's own files (.authors.yml)
    docs_prefix: str = "docs"  # docs/ relative to the site root, for `path:line` messages

    @property
    def all_problems(self) -> list[Problem]:
        out = list(self.problems)
        for n in self.notes:
            out.extend(n.problems)
        return sorted(out, key=lambda p: (p.path, p.line, p.message))


# --- The registry's files, hand-written model cards, and observed alias moves (issue #4) ---------


@dataclass(frozen=True, slots=True)
class SignatureField:
    """One input, output or parameter of a model's signature, as its MLmodel file states it."""

    name: str  # "" for an unnamed tensor
    type: str  # "double", "string", "tensor int64 (-1)" …
    required: bool = True


@dataclass(frozen=True, slots=True)
class ModelSignature:
    inputs: tuple[SignatureField, ...] = ()
    outputs: tuple[SignatureField, ...] = ()
    params: tuple[SignatureField, ...] = ()


@dataclass(frozen=True, slots=True)
class CardFile:
    """A model card people wrote: `docs/models/<name>.md` in the site, or a README.md /
    model_card.md logged with a version's run. Still a CardFile when it is broken: whatever could
    be read, plus the problems, so the page can show both."""

    path: str  # site-relative path ("docs/models/x.md") or artifact URI ("runs:/<id>/README.md")
    key: str  # which model it is for: the file's stem (a model name or a model's slug)
    metadata: dict[str, object] = field(default_factory=dict)  # YAML front matter; {} if broken
    body: str = ""  # the Markdown after the front matter
    body_line: int = 1  # 1-based line of the body's first line in the file
    metadata_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> its line
    updated: int | None = None  # epoch ms the hand-written text was last updated, when known
    updated_from: str = ""  # "front matter" | "git" | "run" (how `updated` was learned)
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """What a model version's own files say: its MLmodel file and any card logged with its run.

    `problems` are things that exist but could not be read (shown on the page and warned about);
    a file that simply is not there is a `note`, since versions registered from outside MLflow
    have no MLmodel file at all."""

    name: str
    version: int
    location: str = ""  # where the model's files are (credentials removed); "" when unknown
    logged_model_id: str = ""  # MLflow 3 LoggedModel id (from a `models:/m-…` source)
    flavors: tuple[str, ...] = ()  # e.g. ("python_function", "sklearn")
    library: str = ""  # the flavor that is not python_function, e.g. "sklearn"
    library_version: str = ""  # that library's version, when the flavor records it
    mlflow_version: str = ""
    size_bytes: int | None = None
    created: str = ""  # utc_time_created, as the MLmodel file writes it
    signature: ModelSignature | None = None
    card: CardFile | None = None  # a README.md / model_card.md logged with the version's run
    notes: tuple[str, ...] = ()  # what is absent (not an error)
    problems: tuple[str, ...] = ()  # what could not be read


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One alias move Daybook observed. MLflow keeps only where each alias points now, so the
    history is what successive pulls saw: `observed_at` is the pull's time, not the move's."""

    observed_at: int  # epoch ms
    model: str
    alias: str
    from_version: int | None  # None: the alias did not exist (or this is the first observation)
    to_version: int | None  # None: the alias was removed
    kind: str  # "baseline" (first observation) | "set" | "moved" | "removed"


@dataclass(frozen=True, slots=True)
class ModelRecords:
    """What the site repository holds about models: hand-written cards and the alias history."""

    cards: tuple[CardFile, ...] = ()  # sorted by path
    history: tuple[AliasEvent, ...] = ()  # in file order (oldest first)
    history_path: str = ""  # site-relative
    problems: tuple[Problem, ...] = ()  # of the cards folder and the history file itself


def maker(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of `cls`, a frozen slotted dataclass, from every field in order: ~2.4x as
    fast as calling `cls`, for the loops that build one object per run of a store
    (the SQL reader and the snapshot file's loader build one per run: 100,000 at 100,000 runs).

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`. This builds a
    mutable twin with the same slots, which stores its fields plainly, then gives it `cls` as
    its class (CPython allows it between classes of the same layout). The result is a `cls`
    like any other: equal, hashed, printed, pickled and frozen as one (tests/core)."""
    twin = make_dataclass(f"_{cls.__name__}Fields", [f.name for f in fields(cls)], slots=True)
    if twin.__slots__ != getattr(cls, "__slots__", None):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")

    def make(*values: object) -> _T:
        obj = twin(*values)
        obj.__class__ = cls
        return obj  # type: ignore[return-value]

    return make


new_run: Callable[..., Run] = maker(Run)
