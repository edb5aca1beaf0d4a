"""daybook.yml: the site's settings, validated by a typed model.

A mistake names the file, the line and the key (`daybook.yml:7: experiments.inlcude: unknown
key`), so nobody has to guess which of forty lines is wrong.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from daybook.errors import ConfigError
from daybook.redact import DEFAULT_PATTERNS

CONFIG_NAME = "daybook.yml"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

Direction = Literal["minimize", "maximize"]
_MINIMIZE_WORDS = ("loss", "error", "mae", "mse", "rmse", "mape", "perplexity")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExperimentFilter(_Strict):
    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=list)

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


class RunTable(_Strict):
    params: int = Field(default=4, ge=0, le=20)  # key params shown as columns
    metrics: int = Field(default=4, ge=0, le=20)  # key metrics shown as columns


class DaybookConfig(_Strict):
    tracking_uri: str | None = None
    experiments: ExperimentFilter = Field(default_factory=ExperimentFilter)
    primary_metrics: list[PrimaryMetric] = Field(default_factory=list)
    leaderboard_size: int = Field(default=10, ge=1, le=100)
    run_pages: RunPages = Field(default_factory=RunPages)
    run_table: RunTable = Field(default_factory=RunTable)
    redact: list[str] = Field(default_factory=lambda: list(DEFAULT_PATTERNS))
    title: str = "Daybook"

    def primary_for(self, experiment_name: str) -> PrimaryMetric | None:
        for pm in self.primary_metrics:
            if fnmatch.fnmatchcase(experiment_name, pm.experiment):
                return pm
        return None


def guess_direction(metric: str) -> Direction:
    """Error-like names are minimized; everything else (accuracy, auc, r2 …) is maximized."""
    name = metric.lower()
    return "minimize" if any(w in name for w in _MINIMIZE_WORDS) else "maximize"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line of the YAML node at a pydantic error location (1-based), as deep as it exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == part:
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


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
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        return DaybookConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of settings, got {type(data).__name__}")
    try:
        return DaybookConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(node, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}:{line}: {key}: {msg}{more}") from None


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
        if "://" not in uri and ":" not in uri.split("/")[0]:
            # A bare path is a local store, as MLflow reads it: make it absolute.
            return str((base / uri).resolve())
        return uri
    rest = uri[m.end() :]
    if rest.startswith("/") or rest.startswith("file:") or rest == ":memory:" or not rest:
        return uri
    return "sqlite:///" + str((base / rest).resolve())
