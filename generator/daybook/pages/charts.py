"""Charts: Vega-Lite specs built from analysis results, embedded in pages so they work offline.

Each chart is three things on the page:

- the spec, as JSON inside a `<script type="application/json">` (escaped so no value can end the
  script or open a comment: run names and metric keys are untrusted);
- a static SVG of the same spec, rendered at build time with vl-convert and shown as an image,
  for readers without JavaScript (Backstage TechDocs strips scripts) and until the script runs;
- one small bootstrap script per page that loads `assets/daybook/charts.js`, which loads
  `assets/daybook/vega.js` (vega + vega-lite + vega-embed, copied at build time from the
  vl-convert-python package, never from a CDN) and renders every chart with the page's palette.

Material's instant navigation re-runs the `<script>` tags of a new page's content, but copies
only their text (not `type` or `id`): so the spec is a JSON *array*, which is also a harmless
JavaScript expression, and charts.js finds it by position, inside its chart's `<div>`.

Specs use fixed field names only (`x`, `y`, `label` …): an untrusted string is only ever a data
value or a title, never a field name or an expression.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from markupsafe import Markup

from daybook.analysis.compare import Sweep
from daybook.analysis.monitors import MonitorResult
from daybook.analysis.series import Point, best_so_far, downsample, is_finite, prepare
from daybook.core.config import Direction
from daybook.core.snapshot import MetricHistory, Run
from daybook.pages.paths import relative
from daybook.safety.escape import md_text

ASSETS = "assets/daybook"
CHART_DIR = f"{ASSETS}/charts"
BUNDLE = f"{ASSETS}/vega.js"
STATUS_COLORS = {"ok": "#43a047", "warn": "#fb8c00", "fail": "#e53935", "error": "#8e24aa"}
# The static SVG has to read on Material's light and dark backgrounds alike: mid-grey text.
STATIC_CONFIG: dict[str, Any] = {
    "background": None,
    "font": "sans-serif",
    "axis": {"labelColor": "#7f7f7f", "titleColor": "#7f7f7f", "gridColor": "#7f7f7f33",
             "domainColor": "#7f7f7f", "tickColor": "#7f7f7f"},
    "legend": {"labelColor": "#7f7f7f", "titleColor": "#7f7f7f"},
    "title": {"color": "#7f7f7f", "fontSize": 12},
    "view": {"stroke": "#7f7f7f33"},
}  # fmt: skip
MAX_RUN_POINTS = 400  # runs drawn on an experiment's progress chart (page weight)
MAX_CONCAT = 12  # sub-charts of one chart (metrics of a run, params of a sweep)


@dataclass(frozen=True)
class Chart:
    """A chart for one page: its Vega-Lite spec, a description (the image's alt text) and notes
    that say what the chart leaves out (non-finite values, thinning), never silently."""

    kind: str
    title: str
    spec: dict[str, Any]
    notes: tuple[str, ...] = ()


def _schema() -> str:
    try:
        import vl_convert

        major = vl_convert.get_vegalite_versions()[-1].split(".")[0]
    except Exception:  # pragma: no cover - the package is a dependency
        major = "6"
    return f"https://vega.github.io/schema/vega-lite/v{major}.json"


SCHEMA = _schema()


def script_json(value: Any) -> str:
    """JSON that is safe inside a `<script>` element: `<`, `>` and `&` (so no `</script>` and no
    `<!--`) and the line separators U+2028/2029 are written as \\u escapes, which JSON.parse reads
    back unchanged. NaN and infinities are refused: they are not JSON."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True,
                      separators=(",", ":"))  # fmt: skip
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _utc(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _num(value: float) -> float | int:
    """A finite number as JSON keeps it (ints stay ints)."""
    if isinstance(value, int):
        return value
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _time_axis(title: str) -> dict[str, Any]:
    # UTC scale: the static SVG must not depend on the time zone of the machine that built it.
    return {"field": "x", "type": "temporal", "title": title, "scale": {"type": "utc"},
            "axis": {"labelOverlap": True}}  # fmt: skip


def _value_axis(title: str | None) -> dict[str, Any]:
    return {"field": "y", "type": "quantitative", "title": title, "scale": {"zero": False},
            "axis": {"format": "~g"}}  # fmt: skip


def _base(spec: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA, **spec}


# --- run page: metric histories ------------------------------------------------------------------


def history_chart(histories: Sequence[MetricHistory], max_points: int) -> Chart | None:
    """Each metric's history of a run, one small chart per metric (steps on x; when every
    point has the same step, time). Metrics with fewer than two finite points are named in
    a note instead: one value is not a trend, and the table shows it."""
    panels = []
    notes = []
    single = []
    for h in sorted(histories, key=lambda h: h.key):
        steps = [float(s) for s in h.steps]
        by_time = len(set(h.steps)) == 1 and len(set(h.timestamps)) > 1
        xs = [float(t) for t in h.timestamps] if by_time else steps
        series = prepare(xs, h.values, h.timestamps, max_points)
        if series.non_finite:
            notes.append(f"{h.key}: {series.non_finite} of {series.total} points are NaN or "
                         "infinite and are not drawn")  # fmt: skip
        if not series.drawable:
            if series.total:
                single.append(h.key)
            continue
        if series.downsampled:
            kept = len(series.points)
            finite = series.total - series.non_finite
            notes.append(f"{h.key}: {finite:,} points shown as {kept:,} (the lowest and highest "
                         "of each stretch kept)")  # fmt: skip
        step_of = dict(zip(h.timestamps, h.steps, strict=True)) if by_time else {}
        values = [
            {"x": _num(p.x), "y": _num(p.y), "time": _utc(p.t),
             "step": step_of.get(p.t, 0) if by_time else _num(p.x)}
            for p in series.points
        ]  # fmt: skip
        panels.append(
            {
                "title": {"text": h.key, "anchor": "start", "limit": 280},
                "width": 280,
                "height": 130,
                "data": {"values": values},
                "mark": {"type": "line", "point": {"filled": True, "size": 16}},
                "encoding": {
                    "x": _time_axis("time (UTC)") if by_time else
                    {"field": "x", "type": "quantitative", "title": "step",
                     "axis": {"format": "~s"}},
                    "y": _value_axis(None),
                    "tooltip": [
                        {"field": "step", "type": "quantitative", "title": "step"},
                        {"field": "y", "type": "quantitative", "title": "value",
                         "format": ".6~g"},
                        {"field": "time", "type": "nominal", "title": "time"},
                    ],
                },
            }
        )  # fmt: skip
    if len(panels) > MAX_CONCAT:
        notes.append(f"{len(panels) - MAX_CONCAT} more metrics are not charted here; the table "
                     "below has every metric")  # fmt: skip
        panels = panels[:MAX_CONCAT]
    if single:
        notes.append("one point only, so no line: " + ", ".join(single))
    if not panels:
        return None
    keys = ", ".join(p["title"]["text"] for p in panels)
    spec = _base({"concat": panels, "columns": 2, "resolve": {"scale": {"y": "independent"}}})
    return Chart("history", f"Chart of each metric's history: {keys}", spec, tuple(notes))


# --- experiment page -----------------------------------------------------------------------------


def best_so_far_chart(runs: Sequence[Run], metric: str, direction: Direction) -> Chart | None:
    """Every run's primary metric at its start time, with the best so far as a step line."""
    points = []
    names = {}
    skipped = 0
    for r in runs:
        v = r.metric(metric)
        if v is None or r.start_time is None:
            continue
        if not is_finite(v):
            skipped += 1
            continue
        points.append(Point(float(r.start_time), v, r.start_time))
        names[(float(r.start_time), v)] = r.name or r.run_id[:8]
    if len(points) < 2:
        return None
    best = best_so_far(points, direction)
    # A step line needs only the points where the best changes (and the last one).
    best = [p for i, p in enumerate(best) if i in (0, len(best) - 1) or p.y != best[i - 1].y]
    ordered = sorted(points, key=lambda p: (p.x, p.y))
    shown = downsample(ordered, MAX_RUN_POINTS)
    run_values = [
        {"x": int(p.x), "y": _num(p.y), "run": names[(p.x, p.y)], "time": _utc(p.t)}
        for p in shown
    ]
    best_values = [{"x": int(p.x), "y": _num(p.y)} for p in best]
    word = "lowest" if direction == "minimize" else "highest"
    spec = _base({
        "width": 600,
        "height": 220,
        "layer": [
            {
                "data": {"values": best_values},
                "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2},
                "encoding": {"x": _time_axis("run start (UTC)"), "y": _value_axis(metric)},
            },
            {
                "data": {"values": run_values},
                "mark": {"type": "point", "filled": True, "size": 40, "opacity": 0.7,
                         "color": "#7f7f7f"},
                "encoding": {
                    "x": _time_axis("run start (UTC)"),
                    "y": _value_axis(metric),
                    "tooltip": [
                        {"field": "run", "type": "nominal", "title": "run"},
                        {"field": "y", "type": "quantitative", "title": metric,
                         "format": ".6~g"},
                        {"field": "time", "type": "nominal", "title": "started"},
                    ],
                },
            },
        ],
    })  # fmt: skip
    notes: tuple[str, ...] = (
        (f"{skipped} runs with a NaN or infinite {metric} are not drawn",) if skipped else ()
    )
    if len(shown) < len(ordered):
        notes += (
            f"{len(shown)} of {len(ordered)} runs drawn: the lowest and highest of each stretch "
            "of time are kept; the best-so-far line uses every run",
        )
    return Chart("best-so-far", f"Chart of {metric} per run over time, with the {word} so far",
                 spec, notes)  # fmt: skip


def _as_number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and is_finite(value) else None


def sweep_chart(sw: Sweep) -> Chart | None:
    """The primary metric of a sweep's children against each param the sweep varied."""
    if sw.primary is None or not sw.varying:
        return None
    metric = sw.primary.metric
    panels = []
    for param in sw.varying[:MAX_CONCAT]:
        rows = []
        numeric = all(_as_number(c.params.get(param)) is not None for c in sw.children)
        for c in sw.children:
            v = c.metric(metric)
            raw = c.params.get(param)
            if v is None or not is_finite(v) or raw is None:
                continue
            x = _num(_as_number(raw) or 0.0) if numeric else raw
            rows.append({"x": x, "y": _num(v), "run": c.name or c.run_id[:8], "value": raw})
        if len(rows) < 2:
            continue
        rows.sort(key=lambda r: (str(r["x"]) if not numeric else r["x"], r["run"]))
        panels.append({
            "title": {"text": param, "anchor": "start", "limit": 190},
            "width": 190,
            "height": 150,
            "data": {"values": rows},
            "mark": {"type": "point", "filled": True, "size": 50},
            "encoding": {
                "x": {"field": "x", "type": "quantitative" if numeric else "ordinal",
                      "title": None, "scale": {"zero": False} if numeric else {}},
                "y": _value_axis(metric),
                "tooltip": [
                    {"field": "run", "type": "nominal", "title": "run"},
                    {"field": "value", "type": "nominal", "title": param},
                    {"field": "y", "type": "quantitative", "title": metric, "format": ".6~g"},
                ],
            },
        })  # fmt: skip
    if not panels:
        return None
    notes = ()
    if len(sw.varying) > MAX_CONCAT:
        notes = (f"{len(sw.varying) - MAX_CONCAT} more varied params are not charted",)
    return Chart("sweep", f"Chart of {metric} against each swept param of {sw.parent.name}",
                 _base({"concat": panels, "columns": 3}), notes)  # fmt: skip


# --- model page ----------------------------------------------------------------------------------


def versions_chart(rows: Sequence[tuple[int, float | None, str, Sequence[str]]],
                   metric: str) -> Chart | None:  # fmt: skip
    """The primary metric of each version's source run: rows of (version, value, run label,
    aliases), oldest version first."""
    values = [
        {"x": f"v{v}" + (" " + " ".join(f"@{a}" for a in aliases) if aliases else ""),
         "y": _num(value), "run": run, "version": v}
        for v, value, run, aliases in rows
        if value is not None and is_finite(value)
    ]  # fmt: skip
    if len(values) < 2:
        return None
    order = [row["x"] for row in values]
    spec = _base({
        "width": max(300, min(600, 120 * len(values))),
        "height": 200,
        "data": {"values": values},
        "mark": {"type": "line", "point": {"filled": True, "size": 60}},
        "encoding": {
            "x": {"field": "x", "type": "ordinal", "title": "version", "sort": order,
                  "axis": {"labelAngle": 0, "labelLimit": 110}},
            "y": _value_axis(metric),
            "tooltip": [
                {"field": "x", "type": "nominal", "title": "version"},
                {"field": "run", "type": "nominal", "title": "source run"},
                {"field": "y", "type": "quantitative", "title": metric, "format": ".6~g"},
            ],
        },
    })  # fmt: skip
    return Chart("versions", f"Chart of {metric} per model version", spec)


def monitor_chart(result: MonitorResult) -> Chart | None:
    """A monitor's evaluations over time, coloured by status, with its thresholds as rules."""
    evals = [e for e in result.evaluations if is_finite(e.value)]
    skipped = len(result.evaluations) - len(evals)
    if not evals:
        return None
    metric = result.monitor.metric
    values = [
        {"x": e.time, "y": _num(e.value), "run": e.run.name or e.run.run_id[:8],
         "status": e.status, "time": _utc(e.time),
         "version": f"v{e.version}" if e.version is not None else "—"}
        for e in evals
    ]  # fmt: skip
    rules = [{"y": _num(v), "label": label, "level": level}
             for label, v, level in result.thresholds if is_finite(v)]  # fmt: skip
    domain = ["ok", "warn", "fail"]
    layers: list[dict[str, Any]] = [
        {
            "data": {"values": values},
            "mark": {"type": "line", "color": "#9e9e9e", "strokeWidth": 1.5},
            "encoding": {"x": _time_axis("evaluated (UTC)"), "y": _value_axis(metric)},
        },
        {
            "data": {"values": values},
            "mark": {"type": "point", "filled": True, "size": 70, "opacity": 1},
            "encoding": {
                "x": _time_axis("evaluated (UTC)"),
                "y": _value_axis(metric),
                "color": {"field": "status", "type": "nominal", "title": "status",
                          "scale": {"domain": domain,
                                    "range": [STATUS_COLORS[s] for s in domain]}},
                "tooltip": [
                    {"field": "run", "type": "nominal", "title": "run"},
                    {"field": "version", "type": "nominal", "title": "version"},
                    {"field": "y", "type": "quantitative", "title": metric, "format": ".6~g"},
                    {"field": "status", "type": "nominal", "title": "status"},
                    {"field": "time", "type": "nominal", "title": "time"},
                ],
            },
        },
    ]  # fmt: skip
    if rules:
        layers.append({
            "data": {"values": rules},
            "mark": {"type": "rule", "strokeDash": [4, 3], "strokeWidth": 1.5},
            "encoding": {
                "y": {"field": "y", "type": "quantitative"},
                "color": {"field": "level", "type": "nominal", "legend": None,
                          "scale": {"domain": ["warn", "fail"],
                                    "range": [STATUS_COLORS["warn"], STATUS_COLORS["fail"]]}},
                "tooltip": [
                    {"field": "label", "type": "nominal", "title": "rule"},
                    {"field": "y", "type": "quantitative", "title": "threshold",
                     "format": ".6~g"},
                ],
            },
        })  # fmt: skip
    spec = _base({"width": 600, "height": 200, "layer": layers,
                  "resolve": {"scale": {"color": "independent"}}})  # fmt: skip
    notes = []
    if skipped:
        notes.append(f"{skipped} evaluations with a NaN or infinite {metric} are not drawn")
    if result.total_evaluations > len(result.evaluations):
        notes.append(f"the last {len(result.evaluations)} of {result.total_evaluations} "
                     "evaluations are shown")  # fmt: skip
    return Chart("monitor", f"Chart of {metric} of monitor {result.monitor.name} over time",
                 spec, tuple(notes))  # fmt: skip


# --- rendering and embedding ---------------------------------------------------------------------


def _vl_convert_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vl-convert-python")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _fallback_svg(message: str) -> str:
    text = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="420" height="40">'
            f'<text x="8" y="24" fill="#7f7f7f" font-family="sans-serif" font-size="13">'
            f"{text}</text></svg>")  # fmt: skip


class TextCache(Protocol):
    """Where rendered charts are kept between builds (`store.cache.FileCache`); pages never
    write files themselves."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, text: str) -> None: ...

    def keep_only(self, folder: str, names: set[str]) -> None: ...


@dataclass
class ChartSet:
    """Every chart of one build: each spec's static SVG, rendered once (and kept in `cache`,
    keyed by the spec and the vl-convert version, so a rebuild renders only what changed),
    published under assets/daybook/charts/."""

    cache: TextCache | None = None
    svgs: dict[str, str] = field(default_factory=dict)  # asset path -> SVG text
    failures: list[str] = field(default_factory=list)

    def asset(self, chart: Chart) -> str:
        text = script_json(chart.spec)
        key = hashlib.sha256(f"{_vl_convert_version()}\n{text}".encode()).hexdigest()[:20]
        path = f"{CHART_DIR}/{key}.svg"
        if path not in self.svgs:
            self.svgs[path] = self._render(key, chart)
        return path

    def _render(self, key: str, chart: Chart) -> str:
        name = f"charts/{key}.svg"
        cached = self.cache.get(name) if self.cache is not None else None
        if cached is not None:
            return cached
        try:
            import vl_convert

            svg = vl_convert.vegalite_to_svg(chart.spec, config=STATIC_CONFIG)
        except Exception as exc:  # a chart that cannot be drawn must not stop the build
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            self.failures.append(f"{chart.title}: {first}")
            return _fallback_svg("This chart could not be drawn; see the table.")
        if self.cache is not None:
            self.cache.put(name, svg)
        return svg

    def files(self) -> dict[str, str]:
        """The SVGs and the chart library, as files for the built site."""
        if not self.svgs:
            return {}
        return {**self.svgs, BUNDLE: vega_bundle(self.cache)}

    def prune_cache(self) -> None:
        """Forget cached SVGs this build did not use, so the cache never outgrows the site."""
        if self.cache is not None:
            self.cache.keep_only("charts", {posixpath.basename(p) for p in self.svgs})


_BUNDLES: dict[str, str] = {}


def vega_bundle(cache: TextCache | None = None) -> str:
    """vega + vega-lite + vega-embed as one script, from the installed vl-convert-python.

    Wrapped in a function so its top-level `const`s stay private: loaded twice, the bare bundle
    would throw "Identifier has already been declared". It sets window.vegaEmbed."""
    version = _vl_convert_version()
    if version in _BUNDLES:
        return _BUNDLES[version]
    name = f"vega-{version}.js"
    text = cache.get(name) if cache is not None else None
    if text is None:
        import vl_convert

        body = vl_convert.javascript_bundle()
        text = (
            f"/*! vega {vl_convert.get_vega_version()}, vega-lite "
            f"{vl_convert.get_vegalite_versions()[-1]}, vega-embed "
            f"{vl_convert.get_vega_embed_version()} (BSD-3-Clause, the Vega project): bundled "
            f"by vl-convert-python {version}, copied by Daybook at build time. */\n"
            "(function () {\n" + body + "\n}).call(window);\n"
        )
        if cache is not None:
            cache.put(name, text)
    _BUNDLES[version] = text
    return text


_BOOTSTRAP = (
    "<script>(function(){var i=document.querySelector(\"img.daybook-chart-fallback\");"
    "if(!i)return;if(window.daybookCharts){window.daybookCharts.render();return}"
    "if(document.getElementById(\"daybook-charts-js\"))return;"
    "var s=document.createElement(\"script\");s.id=\"daybook-charts-js\";"
    "s.src=new URL(\"../charts.js\",i.src).href;document.head.appendChild(s)})();</script>"
)


class ChartEmbedder:
    """Charts as seen from one page: `{{ chart(c) }}` in a template embeds chart `c` (nothing
    when charts are off or `c` is None); the page's bootstrap script is added once at the end."""

    def __init__(self, charts: ChartSet | None, page: str) -> None:
        self.charts = charts
        self.page = page
        self.count = 0

    def __call__(self, chart: Chart | None) -> Markup:
        if chart is None or self.charts is None:
            return Markup("")
        self.count += 1
        svg = relative(self.page, self.charts.asset(chart))
        notes = "".join(
            f'\n<p class="daybook-chart-note">{md_text(n)}</p>\n' for n in chart.notes
        )
        return Markup(
            '<div class="daybook-chart" data-search-exclude markdown>\n\n'
            f"![{md_text(chart.title)}]({svg}){{ .daybook-chart-fallback }}\n\n"
            f'<script type="application/json">[{script_json(chart.spec)}]</script>\n\n'
            f"</div>\n{notes}\n"
        )

    def bootstrap(self) -> str:
        """The script that loads charts.js; "" when the page has no chart."""
        return f"\n{_BOOTSTRAP}\n" if self.count else ""

