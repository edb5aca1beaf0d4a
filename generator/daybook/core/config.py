"""daybook.yml: the site's settings, validated by a typed model.

A mistake names the file, the line and the key (`daybook.yml:7: experiments.inlcude: unknown
key`), so nobody has to guess which of forty lines is wrong.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from daybook.core.errors import ConfigError
from daybook.core.front_matter import line_of

# Keys whose values are masked (`redact:` in daybook.yml); safety.redact says how they match.
DEFAULT_PATTERNS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "credential",
    "credentials",
)

CONFIG_NAME = "daybook.yml"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

Direction = Literal["minimize", "maximize"]
_MINIMIZE_WORDS = ("loss", "error", "mae", "mse", "rmse", "mape", "perplexity")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExperimentFilter(_Strict):
    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=list)
    # An experiment with no runs (MLflow's `Default` on most stores) has nothing to read: no nav
    # entry, home or index row, nor page. Applied at render time, so not part of the pull.
    hide_empty: bool = True
    # Columns a wide experiment's runs table starts with (issue #15): experiment name (or glob)
    # -> param or metric names, shown until a reader picks others in the browser.
    columns: dict[str, list[str]] = Field(default_factory=dict)

    def columns_for(self, name: str) -> list[str]:
        """The preset columns of experiment `name`: the first entry whose pattern matches."""
        for pattern, keys in self.columns.items():
            if pattern == name or fnmatch.fnmatchcase(name, pattern):
                return list(keys)
        return []

    def wants(self, name: str) -> bool:
        inc = any(fnmatch.fnmatchcase(name, p) for p in self.include)
        return inc and not any(fnmatch.fnmatchcase(name, p) for p in self.exclude)


class PrimaryMetric(_Strict):
    """Which metric ranks an experiment's runs, for experiments whose name matches `experiment`."""

    experiment: str = "*"
    metric: str
    direction: Direction | None = None  # None: guessed from the metric's name


class RunPages(_Strict):
    """Which runs get a page of their own; every run is always in its experiment's table."""

    top: int = Field(default=10, ge=0, le=1000)  # best N per experiment by primary metric
    parents: bool = True  # every run that has child runs
    registered: bool = True  # every run behind a model version
    all: bool = False  # a page for every run (small stores only)
    # Runs started or ended since the review's reference point, newest first, per experiment:
    # the morning review links to them.
    recent: int = Field(default=20, ge=0, le=1000)


class RunTable(_Strict):
    # Param columns of leaderboards and runs tables: up to `params` of them, the keys in
    # `param_keys` first (in that order, when the experiment has them), then the params that
    # vary most; a constant or masked param never gets a column (analysis/columns.py).
    params: int = Field(default=4, ge=0, le=20)
    param_keys: list[str] = Field(default_factory=list)
    metrics: int = Field(default=4, ge=0, le=20)  # key metrics shown as columns
    # Above this many runs the page holds only the first `page_size` rows and a small script pages,
    # sorts and filters all of them from runs.json beside the page. A row costs ~370 bytes of
    # HTML (4 params, 4 metrics): 100 rows keep a page near the 60 KB budget, 20,000 would weigh
    # 7 MB and freeze the browser.
    paged_above: int = Field(default=100, ge=0)
    page_size: int = Field(default=50, ge=5, le=1000)


def _site_relative(value: str) -> str:
    """A path inside the site folder, "/"-separated: never absolute, never climbing out."""
    parts = value.replace("\\", "/").strip("/").split("/")
    if not value.strip() or value.startswith(("/", "\\")) or ".." in parts or ":" in value:
        raise ValueError("must be a relative path inside the site folder, e.g. docs/models")
    return "/".join(p for p in parts if p not in ("", "."))


class Models(_Strict):
    """Model pages, model cards and the alias (deployment) history; see docs/guide/models.md."""

    cards_dir: str = "docs/models"  # hand-written cards: <model name>.md, one per model
    alias_history: str = "history/aliases.jsonl"  # appended by each build; commit it
    record_history: bool = True  # False: read the history, never append (e.g. preview builds)
    # Which version a card describes: the first of these aliases the model has, else the newest.
    card_aliases: list[str] = Field(default_factory=lambda: ["champion", "production", "prod"])
    # MLmodel files are read for every aliased version and this many of the newest per model.
    files_versions: int = Field(default=3, ge=0, le=100)

    @field_validator("cards_dir", "alias_history")
    @classmethod
    def _relative(cls, value: str) -> str:
        return _site_relative(value)


# --- Morning review, monitors and charts (issue #5; docs/guide/review.md) ------------------------

_MODEL_URI = re.compile(r"^models:/(?P<name>[^@/]+)(?:@(?P<alias>[^@/]+)|/(?P<version>[0-9]+))?$")
_PERCENT = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*%\s*$")


def parse_model_uri(uri: str) -> tuple[str, str | None, int | None] | None:
    """`models:/NAME@ALIAS`, `models:/NAME/VERSION` or `models:/NAME` as (name, alias, version)."""
    m = _MODEL_URI.match(uri.strip())
    if not m:
        return None
    version = m.group("version")
    return m.group("name"), m.group("alias"), int(version) if version else None


class MonitorRules(_Strict):
    """Thresholds on a monitor's latest evaluation. `max_drop` is how far the value may worsen
    from the baseline: a number in the metric's own units, or a share of the baseline ("5%")."""

    min: float | None = None
    max: float | None = None
    max_drop: float | str | None = None

    @field_validator("max_drop")
    @classmethod
    def _drop(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, str):
            m = _PERCENT.match(value)
            if not m:
                raise ValueError('must be a number (in the metric\'s units) or a share like "5%"')
            return f"{m.group('num')}%"
        if value is not None and value < 0:
            raise ValueError("must not be negative")
        return value

    def drop_allowed(self, baseline: float) -> float | None:
        """`max_drop` in the metric's units for this baseline."""
        if self.max_drop is None:
            return None
        if isinstance(self.max_drop, str):
            return abs(baseline) * float(self.max_drop.rstrip("%")) / 100
        return float(self.max_drop)

    @property
    def empty(self) -> bool:
        return self.min is None and self.max is None and self.max_drop is None


class Monitor(MonitorRules):
    """Watches one metric of a model's evaluation runs (or of an experiment's runs)."""

    name: str = Field(min_length=1, max_length=100)
    model: str | None = None  # models:/NAME@ALIAS, models:/NAME/VERSION or models:/NAME
    experiment: str | None = None  # where the evaluation runs are (with `model`: only there)
    metric: str = Field(min_length=1)
    direction: Direction | None = None  # which way is worse, for max_drop; None: guessed
    baseline: str | None = None  # a run id; default for a model: its first evaluation
    warn: MonitorRules | None = None  # softer thresholds: status "warn" instead of "fail"
    model_tag: str = "model_name"  # tags that say which model version a run evaluated
    version_tag: str = "model_version"
    history: int = Field(default=30, ge=2, le=1000)  # evaluations shown in the trend

    @field_validator("model")
    @classmethod
    def _model_uri(cls, value: str | None) -> str | None:
        if value is not None and parse_model_uri(value) is None:
            raise ValueError(
                "must be models:/NAME@ALIAS, models:/NAME/VERSION or models:/NAME, "
                "e.g. models:/churn@champion"
            )
        return value

    @model_validator(mode="after")
    def _complete(self) -> Monitor:
        if not self.model and not self.experiment:
            raise ValueError("give `model` (models:/NAME@ALIAS) or `experiment` to watch")
        if self.empty and (self.warn is None or self.warn.empty):
            raise ValueError("give at least one rule: min, max or max_drop (or warn: {...})")
        drops = self.max_drop is not None or (self.warn and self.warn.max_drop is not None)
        if drops and not self.model and not self.baseline:
            raise ValueError("max_drop of an experiment monitor needs `baseline: RUN_ID`")
        return self

    @property
    def model_ref(self) -> tuple[str, str | None, int | None] | None:
        return parse_model_uri(self.model) if self.model else None


class Charts(_Strict):
    enabled: bool = True  # False: tables only, no chart and no chart script
    max_points: int = Field(default=600, ge=20, le=20_000)  # per series; longer: min/max kept


_SPAN = re.compile(r"^\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>m|min|h|d|w)\s*$", re.I)
_UNIT_MS = {"m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_CLOCK = re.compile(r"^(?P<h>[01]?[0-9]|2[0-3]):(?P<m>[0-5][0-9])$")


def span_ms(text: str) -> int | None:
    """A span such as `90m`, `12h`, `3d`, `1w` in ms; None when `text` is not one."""
    m = _SPAN.match(text)
    if not m:
        return None
    return round(float(m.group("n")) * _UNIT_MS[m.group("unit").lower()])


class Review(_Strict):
    """The home page's morning review: what changed since the reference point."""

    default_hours: float = Field(default=24, gt=0, le=24 * 366)  # when nothing else says
    items: int = Field(default=15, ge=1, le=500)  # per section, then "and N more"
    notes: int = Field(default=5, ge=0, le=100)  # latest notes shown
    # A fixed daily cut, "HH:MM" in `timezone`: the review starts at the latest one before now.
    since: str | None = None
    timezone: str = "UTC"  # the site's time zone (IANA name), for `since`
    stuck_after: str = "12h"  # a run RUNNING longer than this needs attention
    # The published builds (`daybook build --publish` appends a line): commit it.
    published_log: str = "history/published.jsonl"

    @field_validator("since", mode="before")
    @classmethod
    def _clock(cls, value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            value = f"{value // 60}:{value % 60:02d}"  # YAML 1.1 reads an unquoted 10:30 as 630
        m = _CLOCK.match(str(value).strip())
        if not m:
            raise ValueError('must be a time of day "HH:MM", e.g. "09:00" (quote it in YAML)')
        return f"{int(m.group('h')):02d}:{m.group('m')}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                             "Europe/Berlin or UTC") from None  # fmt: skip
        return value

    @field_validator("stuck_after")
    @classmethod
    def _span(cls, value: str) -> str:
        if span_ms(str(value)) in (None, 0):
            raise ValueError('must be a span such as "90m", "12h", "2d"')
        return str(value).strip()

    @field_validator("published_log")
    @classmethod
    def _relative(cls, value: str) -> str:
        return _site_relative(value)

    @property
    def stuck_ms(self) -> int:
        return span_ms(self.stuck_after) or 12 * 3_600_000


class JournalSettings(_Strict):
    """The team journal: notes under docs/notes/ (where exactly is the blog plugin's `post_dir`
    in mkdocs.yml, the one place the blog reads it from); see docs/writing-notes.md."""

    enabled: bool = True  # read the notes, link their references, show backlinks
    digest_hours: int = Field(default=24, ge=1, le=24 * 31)  # `daybook note` without earlier note
    digest_lines: int = Field(default=10, ge=1, le=200)  # at most this many lines per digest list


# --- Artifact previews and links to the MLflow UI (issue #11; docs/guide/configuration.md) --------

_UI_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/%-]*)?$")


class ArtifactSettings(_Strict):
    """Run pages preview images and small text files of their runs' artifacts, copied into the
    site within a budget so a store of large checkpoints cannot bloat it; larger files are
    listed, not copied."""

    previews: bool = True  # False: listings only, no file of the store is read
    budget_mb: float = Field(default=5, ge=0, le=1000)  # all previews of the site together
    max_file_kb: int = Field(default=512, ge=1, le=100_000)  # an image above: listed only
    text_kb: int = Field(default=16, ge=1, le=1024)  # a text preview shows at most this much
    per_run: int = Field(default=6, ge=0, le=50)  # previews on one run page

    @property
    def budget_bytes(self) -> int:
        return int(self.budget_mb * 1024 * 1024)


def _ui_url(value: str | None) -> str | None:
    """The MLflow UI's address, without a trailing "/": http(s), a host, an optional path."""
    if value is None:
        return None
    value = value.strip().rstrip("/")
    if not _UI_URL.match(value):
        raise ValueError(
            "must be the http(s) address of the MLflow UI, e.g. https://mlflow.example.com "
            "(no query, fragment or credentials)"
        )
    return value


class SiteOptions(_Strict):
    """How the built site is published (`daybook build`)."""

    # A site that works opened from disk (file://, zipped and mailed, a shared drive): pages at
    # x.html and offline search. Same as `daybook build --file-urls`.
    file_urls: bool = False


class DaybookConfig(_Strict):
    tracking_uri: str | None = None
    experiments: ExperimentFilter = Field(default_factory=ExperimentFilter)
    primary_metrics: list[PrimaryMetric] = Field(default_factory=list)
    leaderboard_size: int = Field(default=10, ge=1, le=100)
    run_pages: RunPages = Field(default_factory=RunPages)
    run_table: RunTable = Field(default_factory=RunTable)
    redact: list[str] = Field(default_factory=lambda: list(DEFAULT_PATTERNS))
    redact_values: list[str] = Field(default_factory=list)  # regexes: more secret shapes
    # What the site shows instead of the building machine's paths (see safety/paths.py).
    display_uri: str | None = None  # the store, e.g. "the team's MLflow (mlflow.example.com)"
    public_artifact_root: str | None = None  # shown in place of a local artifact root
    title: str = "Daybook"
    models: Models = Field(default_factory=Models)

    monitors: list[Monitor] = Field(default_factory=list)
    charts: Charts = Field(default_factory=Charts)
    review: Review = Field(default_factory=Review)
    journal: JournalSettings = Field(default_factory=JournalSettings)
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    mlflow_ui_url: str | None = None  # e.g. https://mlflow.example.com: "Open in MLflow" links
    site: SiteOptions = Field(default_factory=SiteOptions)

    @field_validator("mlflow_ui_url")
    @classmethod
    def _mlflow_ui(cls, value: str | None) -> str | None:
        return _ui_url(value)

    @field_validator("redact_values")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from None
        return value

    @field_validator("monitors")
    @classmethod
    def _unique_monitors(cls, value: list[Monitor]) -> list[Monitor]:
        seen: set[str] = set()
        for m in value:
            if m.name in seen:
                raise ValueError(f"two monitors are named {m.name!r}; names must be unique")
            seen.add(m.name)
        return value

    def primary_for(self, experiment_name: str) -> PrimaryMetric | None:
        for pm in self.primary_metrics:
            if fnmatch.fnmatchcase(experiment_name, pm.experiment):
                return pm
        return None


def guess_direction(metric: str) -> Direction:
    """Error-like names are minimized; everything else (accuracy, auc, r2 …) is maximized."""
    name = metric.lower()
    return "minimize" if any(w in name for w in _MINIMIZE_WORDS) else "maximize"


def load_config(site_dir: Path) -> DaybookConfig:
    """Read `daybook.yml` beside mkdocs.yml; a missing file means all defaults."""
    path = site_dir / CONFIG_NAME
    if not path.exists():
        return DaybookConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error(path, exc)) from None
    if data is None:
        return DaybookConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of settings, got {type(data).__name__}")
    twice = [(line, f"{path}:{line}: {text}") for line, text in duplicate_keys(node)]
    try:
        config = DaybookConfig.model_validate(data)
    except ValidationError as exc:
        found = [(_line_number(t, path), t) for t in validation_lines(path, node, exc, data)]
        raise ConfigError("\n".join(t for _, t in sorted([*twice, *found]))) from None
    if twice:
        raise ConfigError("\n".join(t for _, t in twice))
    return config


def duplicate_keys(node: yaml.Node | None) -> list[tuple[int, str]]:
    """`(line, problem)` for every key written twice in one mapping, at its second place. YAML
    loaders keep the last silently, so a setting fixed at the top of the file would otherwise
    be undone, unnoticed, by a forgotten copy further down."""
    found: list[tuple[int, str]] = []
    todo = [node] if node is not None else []
    while todo:
        current = todo.pop()
        if isinstance(current, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in first:
                        found.append((line, f"{key.value}: set twice (first on line "
                                            f"{first[key.value]}); remove one"))  # fmt: skip
                    else:
                        first[key.value] = line
                todo.append(value)
        elif isinstance(current, yaml.SequenceNode):
            todo.extend(current.value)
    return sorted(found)


def _line_number(message: str, path: Path) -> int:
    """The line of a `path:line: …` message (0 when it names none)."""
    number = message.removeprefix(f"{path}:").split(":", 1)[0]
    return int(number) if number.isdigit() else 0


# Where YAML notices a mistake is often far from its cause: an unclosed quote or bracket is
# reported where the file ends, or where the next key begins. The line where the quote or bracket
# opened is then the one to look at.
_OPENED_AT = {
    "while parsing a flow mapping": "in the `{…}` that opens here",
    "while parsing a flow sequence": "in the `[…]` that opens here",
}


def yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """`file:line: invalid YAML: …` at the line to fix, one line."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None) or ""
    at = f" (line {problem_mark.line + 1})" if problem_mark else ""
    if context_mark is not None:
        opened = context_mark.line + 1
        if context == "while scanning a quoted scalar" and "end of stream" in problem:
            return f"{path}:{opened}: invalid YAML: a quoted string opens here and is never closed"
        if context in _OPENED_AT:
            return f"{path}:{opened}: invalid YAML: {_OPENED_AT[context]}: {problem}{at}"
    where = f"{path}:{problem_mark.line + 1}" if problem_mark else str(path)
    return f"{where}: invalid YAML: {problem}"


def validation_lines(
    path: Path, node: yaml.Node | None, exc: ValidationError, data: Any = None
) -> list[str]:
    """Every mistake of the file, one `file:line: key: problem` each, in line order, so they
    are all fixed in one round; a misspelt key gets the closest known one. The key is as the
    file has it: the member names pydantic adds for a union (`max_drop.float`) are left out,
    and their messages joined on one line."""
    found: dict[tuple[int, str], list[str]] = {}
    for err in exc.errors():
        loc = _as_written(data, tuple(err["loc"]))
        line = line_of(node, loc) or 1
        key = ".".join(str(p) for p in loc) or "(top level)"
        unknown = err["type"] == "extra_forbidden"
        msg = "unknown key" + _did_you_mean(loc) if unknown else err["msg"]
        messages = found.setdefault((line, key), [])
        if msg not in messages:
            messages.append(msg)
    in_file_order = sorted(found, key=lambda where: where[0])  # stable: same line, model order
    return [f"{path}:{line}: {key}: {'; '.join(found[line, key])}" for line, key in in_file_order]


def _as_written(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """`loc` as deep as the file has it, plus a missing key of a mapping (a required field);
    with no `data`, `loc` itself."""
    if data is None:
        return loc
    out: list[Any] = []
    cur = data
    for part in loc:
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_list or (isinstance(cur, dict) and part in cur):
            cur = cur[part]
        else:
            if isinstance(cur, dict):
                out.append(part)  # a required key the mapping lacks
            break
        out.append(part)
    return tuple(out)


def _did_you_mean(loc: tuple[Any, ...]) -> str:
    """` (did you mean `run_pages`?)` when a known key of the same section is close."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    model = _section_model(loc[:-1])
    if model is None:
        return ""
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _section_model(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings class of the section at `loc` (list indexes skipped), if it is one."""
    model: type[BaseModel] | None = DaybookConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part)) if model is not None else None
        model = _model_in(field.annotation) if field is not None else None
        if model is None:
            return None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if (model := _model_in(arg)) is not None:
            return model
    return None


def key_line(site_dir: Path, loc: tuple[Any, ...]) -> int | None:
    """The line of a key in daybook.yml (as deep as the file has it), for problems found after
    loading, such as a monitor naming a model the store does not have."""
    path = site_dir / CONFIG_NAME
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return line_of(node, loc)


def config_line(site_dir: Path, loc: tuple[Any, ...]) -> str:
    """`daybook.yml:LINE` of a key, as pages and messages show it."""
    line = key_line(site_dir, loc)
    return f"{CONFIG_NAME}:{line}" if line else CONFIG_NAME


_SQLITE_PREFIX = re.compile(r"^sqlite(\+\w+)?:///")


def resolve_tracking_uri(config: DaybookConfig, site_dir: Path, override: str | None) -> str:
    """`--tracking-uri` beats `MLFLOW_TRACKING_URI` beats daybook.yml beats MLflow's default.

    A relative sqlite path in daybook.yml (or the default) is relative to the site, so a build works
    from any directory; from the command line or the environment it is relative to where you are,
    as MLflow itself would read it.
    """
    if override:
        return _absolute_sqlite(override, Path.cwd())
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return _absolute_sqlite(env, Path.cwd())
    return _absolute_sqlite(config.tracking_uri or DEFAULT_TRACKING_URI, site_dir)


def _absolute_sqlite(uri: str, base: Path) -> str:
    m = _SQLITE_PREFIX.match(uri)
    if not m:
        if "://" not in uri and ":" not in uri.split("/")[0] and ("/" in uri or "." in uri):
            # A bare path is a local store, as MLflow reads it: make it absolute. (A bare word
            # such as `databricks` is left alone, so the error names it as given.)
            return str((base / uri).resolve())
        return uri
    rest = uri[m.end() :]
    if rest.startswith("/") or rest.startswith("file:") or rest == ":memory:" or not rest:
        return uri
    return "sqlite:///" + str((base / rest).resolve())
