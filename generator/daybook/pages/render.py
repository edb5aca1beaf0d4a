"""Snapshot + analysis -> `{page path: Markdown}`, through Jinja2 templates.

Templates are looked up in the site's `templates/` first, then in the package; `default:NAME`
always means the package's, so an override can extend it. The most specific name wins
(`experiment-<slug>.md.j2` before `experiment.md.j2`). Every `{{ value }}` is escaped for
Markdown unless it is already Markup (see `daybook.safety.escape.finalize`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from daybook import __version__
from daybook.analysis.attention import Attention, StaleCard
from daybook.core.config import DaybookConfig
from daybook.core.errors import DaybookError
from daybook.core.fork import halves, processes_wanted, why_not
from daybook.core.numbers import format_delta, format_number, plural
from daybook.core.snapshot import ModelRecords, Snapshot
from daybook.pages import context as ctx
from daybook.pages.artifacts import run_previews
from daybook.pages.charts import ChartEmbedder, utc_day
from daybook.pages.columns_data import column_names, table_files
from daybook.pages.journal_view import JournalView, open_action_items
from daybook.pages.mlflow_ui import MlflowUi
from daybook.pages.models import ModelPages
from daybook.pages.paths import EXPERIMENTS, HOME, MODELS, VIEWER, Linker, SitePaths
from daybook.pages.review_pages import MONITORS, Extras, delta_badge, status_badge
from daybook.pages.run_lists import RunListMaker
from daybook.pages.run_viewer import DATA_DIR, shards, viewer_page
from daybook.pages.runs_table import run_table
from daybook.pages.sweep_table import sweep_page
from daybook.pages.words import attr, column_head, one_line, run_status, status_word
from daybook.safety import escape
from daybook.safety.sanitize import markdown_block

if TYPE_CHECKING:
    from daybook.core.artifacts import ArtifactPreviews
    from daybook.core.site import ReferencePoint
    from daybook.pages.charts import ChartSet
    from daybook.pages.journal_view import JournalView

BUILTIN_TEMPLATES = Path(__file__).resolve().parent / "templates"


def when(ms: int | None) -> str:
    """Times in UTC, to the minute: the same store renders the same everywhere."""
    if ms is None:
        return "—"
    if type(ms) is int and 0 <= ms < _YEAR_10000_MS:  # ~200,000 a build at 100k runs
        days, seconds = divmod(ms // 1000, 86_400)
        return f"{utc_day(days)} {seconds // 3600:02d}:{seconds % 3600 // 60:02d} UTC"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


_YEAR_10000_MS = 253_402_300_800_000


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


# How templates are compiled: the bytecode cache is keyed by these as well as by the source,
# so a Daybook or Jinja that compiles differently never runs another's bytecode.
_OPTIONS = {
    "autoescape": False,  # Markdown, not HTML: `finalize` escapes instead
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


@functools.cache
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in Jinja's per-user cache folder (owner-only, checked by Jinja),
    keyed by each template's source and how it is compiled: compiling them is ~0.5 s of every
    build. None where no safe folder can be had."""
    how = repr((sorted(_OPTIONS.items()), "finalize", __version__, jinja2.__version__))
    tag = hashlib.sha256(how.encode()).hexdigest()[:12]
    try:
        return jinja2.FileSystemBytecodeCache(pattern=f"__daybook_{tag}_%s.cache")
    except (OSError, RuntimeError):
        return None


def make_environment(site_templates: Path | None) -> jinja2.Environment:
    builtin = jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES))
    loaders: list[jinja2.BaseLoader] = []
    if site_templates is not None and site_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(site_templates)))
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"default": builtin}, delimiter=":"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        bytecode_cache=_bytecode_cache(),
        finalize=escape.finalize,
        undefined=jinja2.StrictUndefined,
        **_OPTIONS,
    )
    env.filters.update(
        {
            "when": when,
            "day": day,
            "duration": duration,
            "num": format_number,  # {{ v | num(exp.decimals[k]) }}: the column's decimals
            "signed": format_delta,
            "plural": plural,  # {{ n | plural("run") }} → "1 run", "2 runs"
            "status_word": status_word,
            "head": column_head,  # a dense table's column header, may wrap after _ . - /
            "attr": attr,  # untrusted text for an HTML attribute in a Markdown table
            "cell": escape.md_cell,
            "code": escape.md_code,
            "markdown": markdown_block,
            "text": escape.md_text,
            "yaml_title": escape.yaml_string,
        }
    )
    env.globals["Markup"] = Markup
    env.globals["status"] = status_badge
    env.globals["delta"] = delta_badge
    env.globals["run_status"] = run_status  # a run's state as a badge, one spelling everywhere
    env.globals["one_line"] = one_line  # a name cut to one line, the whole name on hover
    return env


class Renderer:
    """Renders every page of the site from one snapshot."""

    def __init__(
        self,
        config: DaybookConfig,
        snapshot: Snapshot,
        page_runs: set[str],
        site_templates: Path | None,
        directory_urls: bool = True,  # mkdocs.yml's use_directory_urls: where x.md is served
        journal: JournalView | None = None,  # notes: backlinks on run, experiment, model pages
        records: ModelRecords | None = None,  # hand-written model cards and the alias history
        reference: ReferencePoint | None = None,  # the morning review's "since" (None: no review)
        charts: ChartSet | None = None,  # renders each chart's static SVG (None: no charts)
        config_where: Callable[[tuple[Any, ...]], str] | None = None,  # daybook.yml:LINE of a key
        previews: ArtifactPreviews | None = None,  # artifact files read for run pages
    ) -> None:
        self.config = config
        self.previews = previews
        self.files: dict[str, bytes] = {}  # binary files beside the pages (artifact images)
        self.mlflow_ui = MlflowUi(config.mlflow_ui_url)
        self.journal = journal
        self.records = records or ModelRecords()
        self.snapshot = snapshot
        self.directory_urls = directory_urls
        self.paths = SitePaths.build(snapshot, page_runs, directory_urls)
        self.env = make_environment(site_templates)
        self.runs = {r.run_id: r for r in snapshot.runs}
        self.model = ctx.SiteModel.build(config, snapshot, self.paths)
        self.model_pages = ModelPages.build(self.model, snapshot, self.records, self.paths, journal)
        self.charts = charts if config.charts.enabled else None
        self.extras = Extras.build(config, snapshot, self.model, self.paths, reference,
                                   self.records.history, config_where)  # fmt: skip

    def _render(self, names: list[str], page: str, context: dict[str, Any]) -> str:
        chart = ChartEmbedder(self.charts, page)
        try:
            template = self.env.select_template(names)
            text = template.render(
                page=page,
                link=Linker(self.paths, page, self.runs),
                site=self.model,
                config=self.config,
                chart=chart,
                mlflow_ui=self.mlflow_ui,
                **context,
            )
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or names[0]
            line = getattr(exc, "lineno", None)
            tb = exc.__traceback__ if line is None else None
            while tb is not None:  # a render-time error: the innermost frame Jinja maps to a
                if tb.tb_frame.f_code.co_filename.endswith(".j2"):  # template line is the one
                    where, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
                tb = tb.tb_next
            loc = f"{where}:{line}" if line else where
            raise DaybookError(f"template {loc}: {exc.message or exc}") from None
        return text.rstrip() + "\n" + chart.bootstrap()

    def render_page(self, names: list[str], page: str, context: dict[str, Any]) -> str:
        """One page from the first of `names` that exists (for the journal's pages)."""
        return self._render(names, page, context)

    def render_all(self, progress: Callable[[str], None] | None = None) -> dict[str, str]:
        """Every page of the site. A big site's experiment, run and compare pages are shared
        with a second process (`_halves`)."""
        say = progress or _quiet
        m = self.model
        share = _Share(
            list(m.experiments),
            sorted(self.paths.run_pages.items()),
            list(self.extras.sweeps.values()),
        )
        mine, theirs, work = self._halves(share)

        def render_ours() -> dict[str, str]:
            say(f"pages: {theirs.size():,} of {share.size():,} rendered by a second process")
            return self._render_share(mine, share, say)

        both = None
        if work is not None:
            both = halves(render_ours, work)
            if both is None and processes_wanted() == 2:
                say("pages: one process (other threads are running)")
        if both is None:
            pages = self._render_share(share, share, say)
        else:
            pages, (their_pages, files, charts) = both
            pages.update(their_pages)
            self.files.update(files)
            if self.charts is not None:
                self.charts.take(charts)
            say(f"the second process rendered {theirs.size():,} pages")
        pages[VIEWER] = self._viewer_page([p for p in pages if p.startswith(SHARDS)])
        return pages

    def _render_share(
        self, ours: _Share, share: _Share, say: Callable[[str], None]
    ) -> dict[str, str]:
        """The pages this process renders: all but the second process's share."""
        m = self.model
        j = self.journal
        pages: dict[str, str] = {}
        home = {
            **ctx.home(m),
            "recent_notes": j.recent(self.config.review.notes) if j else [],
            "open_actions": open_action_items(self.paths, j, HOME) if j else [],
            "actions_page": j.pages.actions if j else "",
            **self.extras.home(self.attention()),
        }
        pages[HOME] = self._render(["home.md.j2"], HOME, home)
        if self.extras.monitor_views:
            pages[MONITORS] = self._render(["monitors.md.j2"], MONITORS,
                                           self.extras.monitors_page())  # fmt: skip
        pages[EXPERIMENTS] = self._render(["experiments.md.j2"], EXPERIMENTS, {})
        pages.update(self._experiment_pages(ours.experiments))
        say(f"rendered {_of(ours.experiments, share.experiments)} experiment pages")
        pages.update(self._run_pages(ours.runs))
        say(f"rendered {_of(ours.runs, share.runs)} run pages")
        pages.update(self._viewer_shards(ours.viewer))  # every run at runs/#<id>: its data
        pages.update(self._sweep_pages(ours.sweeps))
        pages.update(self._model_pages())
        return pages

    def _halves(
        self, share: _Share
    ) -> tuple[_Share, _Share, Callable[[], tuple[dict[str, str], dict[str, bytes], Any]] | None]:
        """This process's share of the experiment, run and compare pages, the second's
        (`_Share.halves`), and the work that renders the second's in a forked second process
        (daybook.core.fork; None: all in this one), when the site has
        `SPLIT_ABOVE` of them or more and nothing says one process. The pages are the same text
        either way (tests/pages/test_render_split.py): each depends on the snapshot and the
        site alone, never on another page's render. Forked before any chart is drawn: the chart
        library's thread (pages/charts.py) starts with the first chart, and a fork copies one
        thread."""
        wanted = processes_wanted()
        none = _Share([], [], [])
        if why_not(wanted) or share.size() < (1 if wanted == 2 else SPLIT_ABOVE):
            return share, none, None
        mine, theirs = share.halves()
        if not theirs.size():
            return share, none, None

        def render_theirs() -> tuple[dict[str, str], dict[str, bytes], Any]:
            if self.charts is not None:
                self.charts.without_library()  # the first process adds it
            pages = self._experiment_pages(theirs.experiments)
            pages.update(self._run_pages(theirs.runs))
            pages.update(self._sweep_pages(theirs.sweeps))
            pages.update(self._viewer_shards(theirs.viewer))
            return pages, self.files, self.charts.drawn() if self.charts is not None else None

        return mine, theirs, render_theirs

    def _experiment_pages(self, experiments: list[ctx.ExperimentView]) -> dict[str, str]:
        pages: dict[str, str] = {}
        j = self.journal
        for exp in experiments:
            path = self.paths.experiment(exp.experiment.experiment_id)
            slug = self.paths.experiment_slugs[exp.experiment.experiment_id]
            table = run_table(self.config, exp, self.paths, path, self.directory_urls)
            pages[path] = self._render(
                [f"experiment-{slug}.md.j2", "experiment.md.j2"],
                path,
                {"exp": exp, "table": table, "mentions": _exp_mentions(j, exp),
                 "columns": column_names(exp),
                 **self.extras.experiment(exp)},
            )  # fmt: skip
            if table.data_path:  # a big table: every row goes to runs.json beside the page
                pages.update(
                    table_files(
                        self.config, exp, self.paths, path, table.data_path, self.directory_urls
                    )
                )  # and every column (#15)
        return pages

    def _run_pages(self, runs: list[tuple[str, str]]) -> dict[str, str]:
        pages: dict[str, str] = {}
        j = self.journal
        lists = RunListMaker(self.paths)  # wide runs: folded, grouped, filterable (#15)
        for run_id, path in runs:
            view = ctx.run_view(self.model, self.snapshot, self.runs[run_id])
            mentions = j.mentions_for_run(run_id) if j else []
            shown = run_previews(self.previews, run_id, path)
            self.files.update(shown.files)
            pages[path] = self._render(
                ["run.md.j2"],
                path,
                {"run": view, "mentions": mentions, "previews": shown,
                 "lists": lists.lists(view, path), **self.extras.run(view)},
            )  # fmt: skip
        pages.update(lists.files)
        return pages

    def _sweep_pages(self, sweeps: list[Any]) -> dict[str, str]:
        pages: dict[str, str] = {}
        for sv in sweeps:
            sweep, files = sweep_page(self.config, sv.experiment, sv.sweep, self.paths, sv.path,
                                      self.directory_urls)  # fmt: skip
            pages[sv.path] = self._render(
                ["compare.md.j2"], sv.path, {**self.extras.compare_page(sv), "sweep_page": sweep}
            )
            pages.update(files)  # its runs.json, columns/ and folded params (#15)
        return pages

    def _model_pages(self) -> dict[str, str]:
        pages: dict[str, str] = {}
        j = self.journal
        mps = self.model_pages
        pages[MODELS] = self._render(["models.md.j2"], MODELS, {"model_pages": mps})
        for model in self.model.models:
            path = self.paths.model(model.model.name)
            slug = self.paths.model_slugs[model.model.name]
            mentions = j.mentions_for_model(model.model.name) if j else []
            mp = mps.pages[model.model.name]
            pages[path] = self._render(
                [f"model-{slug}.md.j2", "model.md.j2"],
                path,
                {"m": model, "mp": mp, "mentions": mentions, **self.extras.model(model)},
            )
            pages[mp.card_page] = self._render(
                [f"card-{slug}.md.j2", "card.md.j2"], mp.card_page, {"mp": mp, "card": mp.card}
            )
        return pages

    def attention(self) -> list[Attention]:
        """The home page's "Needs attention" box: the ranked list, with the stale cards the model
        pages found and the journal's overdue action items."""
        stale = [
            StaleCard(name, mp.card.stale.updated, mp.card.stale.version, mp.card.stale.registered)
            for name, mp in sorted(self.model_pages.pages.items())
            if mp.card.stale is not None
        ]
        j = self.journal
        overdue = j.items.overdue(j.as_of) if j else []
        return self.extras.attention(stale, overdue, j.as_of if j else None)

    def _viewer_shards(self, part: tuple[int, int]) -> dict[str, str]:
        """The run viewer's shards of `part` (pages/run_viewer.py): its data, every run."""
        decimals = {eid: ev.decimals for eid, ev in self.model.experiments_by_id.items()}
        return shards(self.snapshot, self.paths, when, duration, decimals, part)

    def _viewer_page(self, shard_paths: list[str]) -> str:
        """The run viewer page, which names the shards that exist."""
        viewer = viewer_page(self.paths, shard_paths, len(self.snapshot.runs))
        return self._render(["run_viewer.md.j2"], VIEWER, {"viewer": viewer})


def _exp_mentions(journal: JournalView | None, exp: ctx.ExperimentView) -> list[ctx.MentionView]:
    if journal is None:
        return []
    runs = {r.run_id for r in exp.runs}
    return journal.mentions_for_experiment(exp.experiment.experiment_id, runs)


SHARDS = DATA_DIR + "/"
SPLIT_ABOVE = 100  # experiment, run and compare pages below which a fork costs more than it saves
# Runs of an experiment's table that cost as much to render as one run page (its table and data
# files; the 20k store, cold charts: the experiment page 0.90 s, a run page 4.3 ms): `_Share`.
RUNS_PER_RUN_PAGE = 100


@dataclass(frozen=True)
class _Share:
    """Pages of the site that either process can render: experiments, runs, sweeps."""

    experiments: list[ctx.ExperimentView]
    runs: list[tuple[str, str]]  # (run id, page path)
    sweeps: list[Any]
    viewer: tuple[int, int] = (0, 1)  # the run viewer's shards: part (index, of), see in_part

    def size(self) -> int:
        return len(self.experiments) + len(self.runs) + len(self.sweeps)

    def halves(self) -> tuple[_Share, _Share]:
        """The first process's share and the second's, of about equal cost. The experiments
        are dealt largest first to the side that costs less so far, an experiment page costing
        as many run pages as its runs over `RUNS_PER_RUN_PAGE`; the run pages every second one,
        then as many moved from the dearer side's end to the other as even the experiments
        out; the compare pages every second one; the run viewer's shards half each.

        Dealt every second one of each kind, a site of one big experiment rendered its page
        (0.90 s at 20,000 runs) and half the run pages in the first process while the second
        waited 0.6 s (benchmarks/bench_pipeline.py's 20k store, a cold generate)."""
        sides: tuple[list[ctx.ExperimentView], list[ctx.ExperimentView]] = ([], [])
        cost = [0.0, 0.0]
        for exp in sorted(self.experiments, key=lambda e: -len(e.runs)):  # stable: ties in order
            side = 0 if cost[0] <= cost[1] else 1
            sides[side].append(exp)
            cost[side] += len(exp.runs) / RUNS_PER_RUN_PAGE
        runs = [self.runs[0::2], self.runs[1::2]]
        dear = 0 if cost[0] > cost[1] else 1
        move = min(int(abs(cost[0] - cost[1]) / 2), len(runs[dear]))
        if move:
            runs[1 - dear] = runs[1 - dear] + runs[dear][-move:]
            runs[dear] = runs[dear][:-move]
        return (
            _Share(sides[0], runs[0], self.sweeps[0::2], (0, 2)),
            _Share(sides[1], runs[1], self.sweeps[1::2], (1, 2)),
        )


def _of(ours: list[Any], every: list[Any]) -> str:
    return f"{len(ours)}" if len(ours) == len(every) else f"{len(ours)} of {len(every)}"


def _quiet(_: str) -> None:
    pass
