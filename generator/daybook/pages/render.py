"""Snapshot + analysis -> `{page path: Markdown}`, through Jinja2 templates.

Templates are looked up in the site's `templates/` first, then in the package; `default:NAME`
always means the package's, so an override can extend it. The most specific name wins
(`experiment-<slug>.md.j2` before `experiment.md.j2`). Every `{{ value }}` is escaped for
Markdown unless it is already Markup (see `daybook.escape.finalize`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from daybook import escape
from daybook.config import DaybookConfig
from daybook.errors import DaybookError
from daybook.pages import context as ctx
from daybook.pages.paths import EXPERIMENTS, HOME, MODELS, Linker, SitePaths
from daybook.snapshot import Snapshot

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def when(ms: int | None) -> str:
    """Times in UTC, to the minute: the same store renders the same everywhere."""
    if ms is None:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(ms: int | None) -> str:
    if ms is None:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    s = ms // 1000
    if s < 60:
        return f"{ms / 1000:.1f} s" if ms < 10_000 else f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m:02d} min"
    return f"{h // 24} d {h % 24} h"


def make_environment(site_templates: Path | None) -> jinja2.Environment:
    builtin = jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES))
    loaders: list[jinja2.BaseLoader] = []
    if site_templates is not None and site_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(site_templates)))
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"default": builtin}, delimiter=":"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # Markdown, not HTML: `finalize` escapes instead
        finalize=escape.finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        {
            "when": when,
            "day": day,
            "duration": duration,
            "num": escape.format_number,
            "cell": escape.md_cell,
            "code": escape.md_code,
            "markdown": escape.markdown_block,
            "text": escape.md_text,
            "yaml_title": escape.yaml_string,
        }
    )
    env.globals["Markup"] = Markup
    return env


class Renderer:
    """Renders every page of the site from one snapshot."""

    def __init__(
        self,
        config: DaybookConfig,
        snapshot: Snapshot,
        page_runs: set[str],
        site_templates: Path | None,
    ) -> None:
        self.config = config
        self.snapshot = snapshot
        self.paths = SitePaths.build(snapshot, page_runs)
        self.env = make_environment(site_templates)
        self.runs = {r.run_id: r for r in snapshot.runs}
        self.model = ctx.SiteModel.build(config, snapshot, self.paths)

    def _render(self, names: list[str], page: str, context: dict[str, Any]) -> str:
        try:
            template = self.env.select_template(names)
            text = template.render(
                page=page,
                link=Linker(self.paths, page, self.runs),
                site=self.model,
                config=self.config,
                **context,
            )
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or names[0]
            line = getattr(exc, "lineno", None)
            loc = f"{where}:{line}" if line else where
            raise DaybookError(f"template {loc}: {exc.message or exc}") from None
        return text.rstrip() + "\n"

    def render_all(self, progress: Callable[[str], None] | None = None) -> dict[str, str]:
        pages: dict[str, str] = {}
        m = self.model
        pages[HOME] = self._render(["home.md.j2"], HOME, ctx.home(m))
        pages[EXPERIMENTS] = self._render(["experiments.md.j2"], EXPERIMENTS, {})
        for exp in m.experiments:
            path = self.paths.experiment(exp.experiment.experiment_id)
            slug = self.paths.experiment_slugs[exp.experiment.experiment_id]
            pages[path] = self._render(
                [f"experiment-{slug}.md.j2", "experiment.md.j2"], path, {"exp": exp}
            )
        if progress:
            progress(f"rendered {len(m.experiments)} experiment pages")
        for run_id, path in sorted(self.paths.run_pages.items()):
            view = ctx.run_view(m, self.snapshot, self.runs[run_id])
            pages[path] = self._render(["run.md.j2"], path, {"run": view})
        if progress:
            progress(f"rendered {len(self.paths.run_pages)} run pages")
        pages[MODELS] = self._render(["models.md.j2"], MODELS, {})
        for model in m.models:
            path = self.paths.model(model.model.name)
            slug = self.paths.model_slugs[model.model.name]
            pages[path] = self._render([f"model-{slug}.md.j2", "model.md.j2"], path, {"m": model})
        return pages
