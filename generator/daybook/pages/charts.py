"""Charts: Vega-Lite specs built from analysis results, shown on pages that work offline.

Each chart is three files and two lines on the page:

- the spec, as JSON in `assets/daybook/charts/<key>.json` (the key a hash of the spec; run
  names and metric keys are untrusted, so they are only ever data values or titles, and the JSON
  is escaped as for a `<script>` all the same);
- a static SVG of the same chart (`<key>.svg`), drawn in Python by pages/svg_chart.py and shown
  as an image, for readers without JavaScript (Backstage TechDocs strips scripts) and until the
  live chart is drawn; browser-only charts share one "needs JavaScript" image;
- one small bootstrap script per page that loads `assets/daybook/charts.js`, which loads
  `assets/daybook/vega.js` (vega + vega-lite + vega-embed, copied at build time from the
  vl-convert-python package, never from a CDN) only when a chart is about to scroll into view,
  fetches its spec and draws it with the page's palette.

The page holds only `<div class="daybook-chart" data-daybook-spec="<key>">` and the image: no
chart data, so the HTML stays small however many runs a chart draws, and Material's instant
navigation (which re-creates scripts) has nothing to lose.

Specs use fixed field names only (`x`, `y`, `label` …): an untrusted string is only ever a data
value or a title, never a field name or an expression.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from typing import Any, Protocol

from markupsafe import Markup

from daybook.analysis.compare import Sweep
from daybook.analysis.monitors import MonitorResult, VersionMark, threshold_text
from daybook.analysis.series import Point, best_so_far, downsample, is_finite, prepare
from daybook.core.config import Direction
from daybook.core.snapshot import MetricHistory, Run
from daybook.pages.json_text import compact
from daybook.pages.paths import relative
from daybook.pages.svg_chart import Figure, Panel, Rule, render
from daybook.pages.svg_chart import Series as Line
from daybook.safety.escape import md_text

ASSETS = "assets/daybook"
CHART_DIR = f"{ASSETS}/charts"
BUNDLE = f"{ASSETS}/vega.js"
LIVE_ONLY = f"{CHART_DIR}/needs-javascript.svg"  # the one fallback of every browser-only chart
GREY = "#7f7f7f"
STATUS_COLORS = {"ok": "#43a047", "warn": "#fb8c00", "fail": "#e53935", "error": "#8e24aa"}
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
    # The static picture (pages/svg_chart.py) shown without JavaScript and until the live chart
    # is drawn; None: drawn in the browser only, with one shared "needs JavaScript" image, for
    # secondary charts whose numbers a table on the same or a linked page already carries.
    figure: Figure | None = None

    @property
    def static(self) -> bool:
        return self.figure is not None


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
    back unchanged. NaN and infinities (not JSON) are written as null, as JSON.stringify does
    (chart data holds finite points only; see analysis/series.py)."""
    text = compact(value, sort_keys=True)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@functools.lru_cache(maxsize=4096)
def utc_day(day: int) -> str:
    """`YYYY-MM-DD` of a day counted from 1970-01-01 (cached: asked per point)."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _utc(ms: int) -> str:
    """`%Y-%m-%d %H:%M:%S UTC`, computed by hand (strftime was a third of drawing a chart):
    the text of a time in charts with a few hundred points (run histories write epoch ms, which
    their tooltips format)."""
    day, second = divmod(int(ms) // 1000, 86_400)
    hour, rest = divmod(second, 3600)
    return f"{utc_day(day)} {hour:02d}:{rest // 60:02d}:{rest % 60:02d} UTC"


def _num(value: float) -> float | int:
    """A finite number as JSON keeps it (ints stay ints)."""
    if isinstance(value, int):
        return value
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


TIME_FORMAT = "%Y-%m-%d %H:%M"  # every time axis, so no chart mixes "12 PM" with "December"
TIME_TEXT = "time_utc"  # the field a history chart computes from a point's epoch ms


def _time_axis(title: str) -> dict[str, Any]:
    # UTC scale (its labels are formatted in UTC too): the static SVG must not depend on the time
    # zone of the machine that built it, and every chart writes time the same way (issue #11).
    axis = {"labelOverlap": True, "format": TIME_FORMAT, "formatType": "time"}
    return {"field": "x", "type": "temporal", "title": title, "scale": {"type": "utc"},
            "axis": axis}  # fmt: skip


def _value_axis(title: str | None) -> dict[str, Any]:
    return {"field": "y", "type": "quantitative", "title": title, "scale": {"zero": False},
            "axis": {"format": "~g"}}  # fmt: skip


def _base(spec: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA, **spec}


# --- run page: metric histories ------------------------------------------------------------------


@dataclass(frozen=True)
class Overlay:
    """Another run's histories drawn over this run's, under a legend label such as
    `baseline (parent)`; the label is a data value, never a field name."""

    label: str
    histories: Sequence[MetricHistory]


THIS_RUN = "this run"
# Fixed colours: this run always in the accent-like blue, references after it, the same on every
# page (so "best" is not orange here and green there).
SERIES_COLORS = ("#1e88e5", "#9e9e9e", "#fb8c00", "#43a047", "#8e24aa", "#e53935", "#00897b")
LEGEND_PARAM = "series"


def _legend_toggle() -> dict[str, Any]:
    """A selection bound to the legend: clicking a series name shows it alone, shift-click adds
    more, a click on empty space shows all again (the Vega-Lite legend binding)."""
    return {"name": LEGEND_PARAM, "select": {"type": "point", "fields": ["series"]},
            "bind": "legend"}  # fmt: skip


def _toggle_opacity() -> dict[str, Any]:
    return {"condition": {"param": LEGEND_PARAM, "value": 1, "empty": True}, "value": 0.08}


def _history_values(h: MetricHistory, by_time: bool, max_points: int,
                    series: int | None = None) -> tuple[list[dict[str, Any]], Any]:  # fmt: skip
    """A history's points as chart data, each field written once: `x` is the step (or, on a
    time chart, the time), the other of the two rides along (`time` as epoch ms, formatted in
    UTC by the tooltip; `step`), and `s` is the series' index in the panel's lookup table
    (`_series_lookup`), not its label. A run page's chart holds ~1,000 points, a build writes
    ~200,000: one label and one formatted time per point were 60 % of the specs' bytes."""
    xs = h.timestamps if by_time else h.steps  # ints: JSON writes them as they are
    prepared = prepare(xs, h.values, h.timestamps, max_points)
    points = prepared.points
    # Column by column with C-level map: the same values as one dict per point built in
    # Python, at a fraction of the calls.
    x = map(_num, map(_POINT_X, points))
    y = map(_num, map(_POINT_Y, points))
    if by_time:
        step_of = dict(zip(h.timestamps, h.steps, strict=True))
        other, name = map(step_of.get, map(_POINT_T, points), repeat(0)), "step"
    else:
        other, name = map(int, map(_POINT_T, points)), "time"
    if series is None:
        values = [{"x": a, "y": b, name: c} for a, b, c in zip(x, y, other, strict=True)]
    else:
        values = [{"x": a, "y": b, name: c, "s": series}
                  for a, b, c in zip(x, y, other, strict=True)]  # fmt: skip
    return values, prepared


def _time_text(field: str) -> dict[str, Any]:
    """The transform that writes a point's time (epoch ms in `field`) as UTC text for its
    tooltip, in the browser: a fixed expression over a fixed field name."""
    return {"calculate": f"utcFormat(datum.{field}, '%Y-%m-%d %H:%M:%S') + ' UTC'",
            "as": TIME_TEXT}  # fmt: skip


def _series_lookup(labels: Mapping[str, int]) -> dict[str, Any]:
    """The transform that names each point's series from its index `s` (`labels`: label ->
    index). Labels are untrusted text, so they stay data values (never a field name or an
    expression), written once per panel."""
    table = [{"s": i, "series": label} for label, i in labels.items()]
    return {"lookup": "s", "from": {"data": {"values": table}, "key": "s", "fields": ["series"]}}


_POINT_X, _POINT_Y, _POINT_T = attrgetter("x"), attrgetter("y"), attrgetter("t")


def _with_finals(panel: dict[str, Any]) -> dict[str, Any]:
    """A panel with the one-value references (a parent that logged only its final score) as
    dashed level lines in their series' colour, toggled with the rest."""
    finals = panel.pop("finals", None)
    if not finals:
        return panel
    enc = panel["encoding"]
    line = {k: panel.pop(k) for k in ("data", "transform", "mark", "encoding", "params")
            if k in panel}  # fmt: skip
    rule = {
        "data": {"values": finals},
        "mark": {"type": "rule", "strokeDash": [5, 3], "strokeWidth": 1.5},
        "encoding": {
            "y": {"field": "y", "type": "quantitative"},
            "color": enc["color"],
            "opacity": enc["opacity"],
            "tooltip": [
                {"field": "series", "type": "nominal", "title": "run"},
                {"field": "y", "type": "quantitative", "title": "value", "format": ".6~g"},
                {"field": "step", "type": "quantitative", "title": "logged at step"},
            ],
        },
    }
    return {**panel, "layer": [line, rule]}


def history_chart(
    histories: Sequence[MetricHistory], max_points: int, overlays: Sequence[Overlay] = ()
) -> Chart | None:
    """Each metric's history of a run, one small chart per metric (steps on x; when every
    point has the same step, time). Metrics with fewer than two finite points are named in
    a note instead: one value is not a trend, and the table shows it.

    `overlays` (the parent, the experiment's best, the champion's run) are drawn over this run's
    curve where they logged the same metric by step, as series a reader toggles in the legend:
    "is this run better than the one it should beat, and since which step?"."""
    panels = []
    notes = []
    single = []
    labels = [THIS_RUN]
    every = dict.fromkeys([THIS_RUN, *(o.label for o in overlays)])
    index = {label: i for i, label in enumerate(every)}  # a series' `s` in the data
    for h in sorted(histories, key=lambda h: h.key):
        by_time = len(set(h.steps)) == 1 and len(set(h.timestamps)) > 1
        values, series = _history_values(h, by_time, max_points, 0 if overlays else None)
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
        overlaid = False
        drawn = [THIS_RUN]  # the series of this panel's curves, in the lookup table
        finals: list[dict[str, Any]] = []  # references with one value: a level line, not a curve
        for o in overlays:
            other = next((oh for oh in o.histories if oh.key == h.key), None)
            if other is None:
                continue
            if len(set(other.steps)) <= 1:
                last = [v for v in other.values if is_finite(v)][-1:]
                if last:
                    finals.append({"y": _num(last[0]), "series": o.label,
                                   "step": _num(other.steps[-1])})  # fmt: skip
            elif not by_time:  # runs logged at different times: only steps line up
                more, _ = _history_values(other, False, max_points, index[o.label])
                values.extend(more)
                overlaid = overlaid or bool(more)
                if not more:
                    continue
                if o.label not in drawn:
                    drawn.append(o.label)
            else:
                continue
            if o.label not in labels:
                labels.append(o.label)
        encoding: dict[str, Any] = {
            "x": _time_axis("time (UTC)") if by_time else
            {"field": "x", "type": "quantitative", "title": "step", "axis": {"format": "~s"}},
            "y": _value_axis(None),
            "tooltip": [
                *([{"field": "series", "type": "nominal", "title": "run"}] if overlays else []),
                {"field": "step" if by_time else "x", "type": "quantitative", "title": "step"},
                {"field": "y", "type": "quantitative", "title": "value", "format": ".6~g"},
                {"field": TIME_TEXT, "type": "nominal", "title": "time"},
            ],
        }  # fmt: skip
        mark: dict[str, Any] = {"type": "line", "point": {"filled": True, "size": 16}}
        if overlays:
            encoding["color"] = {"field": "series", "type": "nominal", "title": None}
            encoding["opacity"] = _toggle_opacity()
            if overlaid:
                mark["point"] = False  # several curves: points would hide the lines
        panels.append({
            "title": {"text": h.key, "anchor": "start", "limit": 280},
            "width": 280,
            "height": 130,
            "data": {"values": values},
            "mark": mark,
            "encoding": encoding,
        })  # fmt: skip
        panels[-1]["transform"] = [_time_text("x" if by_time else "time")]
        if overlays:
            panels[-1]["transform"].append(_series_lookup({d: index[d] for d in drawn}))
        if finals:
            panels[-1]["finals"] = finals
    if len(panels) > MAX_CONCAT:
        notes.append(f"{len(panels) - MAX_CONCAT} more metrics are not charted here; the table "
                     "below has every metric")  # fmt: skip
        panels = panels[:MAX_CONCAT]
    if single:
        notes.append("one point only, so no line: " + ", ".join(single))
    if not panels:
        return None
    keys = ", ".join(p["title"]["text"] for p in panels)
    spec: dict[str, Any] = {"concat": panels, "columns": 2,
                            "resolve": {"scale": {"y": "independent"}}}  # fmt: skip
    title = f"Chart of each metric's history: {keys}"
    shown = [label for label in labels if label != THIS_RUN] if overlays else []
    figure = _history_figure(panels, labels if shown else [])
    if overlays:
        if shown:
            # One colour scale for every panel (one legend); the toggle lives in the first panel
            # and every panel's opacity follows it.
            palette = [SERIES_COLORS[i % len(SERIES_COLORS)] for i in range(len(labels))]
            colors = {"domain": labels, "range": palette}
            for panel in panels:
                panel["encoding"]["color"]["scale"] = colors
                panel["encoding"]["color"]["legend"] = {"orient": "top", "labelLimit": 320,
                                                        "direction": "vertical"}  # fmt: skip
            panels[0]["params"] = [_legend_toggle()]
            spec["concat"] = [_with_finals(p) for p in panels]
            spec["resolve"] = {"scale": {"y": "independent", "color": "shared"},
                               "legend": {"color": "shared"}}  # fmt: skip
            title += ", with " + "; ".join(shown)
        else:
            for panel in panels:  # nothing to overlay after all: the plain chart
                panel.pop("finals", None)
                del panel["encoding"]["color"], panel["encoding"]["opacity"]
                panel["encoding"]["tooltip"] = panel["encoding"]["tooltip"][1:]
                panel["mark"] = {"type": "line", "point": {"filled": True, "size": 16}}
                panel["transform"] = panel["transform"][:1]  # no series to name
                for v in panel["data"]["values"]:
                    del v["s"]
    return Chart("history", title, _base(spec), tuple(notes), figure)


def _history_figure(panels: Sequence[dict[str, Any]], labels: Sequence[str]) -> Figure:
    """The static picture of a run's histories: one panel per metric, this run in blue, each
    reference in its legend colour (a one-value reference as a dashed level line)."""
    colors = {label: SERIES_COLORS[i % len(SERIES_COLORS)] for i, label in enumerate(labels)}
    out = []
    for p in panels:
        lookup = [t["from"]["data"]["values"] for t in p.get("transform", ()) if "lookup" in t]
        name_of = {row["s"]: row["series"] for rows in lookup for row in rows}
        by_series: dict[str, list[tuple[float, float]]] = {}
        for v in p["data"]["values"]:
            name = name_of.get(v["s"], THIS_RUN) if "s" in v else THIS_RUN
            by_series.setdefault(name, []).append((v["x"], v["y"]))
        alone = len(by_series) == 1
        series = tuple(
            Line(tuple(xy), colors.get(name, SERIES_COLORS[0]), dots=alone and len(xy) <= 150)
            for name, xy in by_series.items()
        )
        rules = tuple(Rule(f["y"], "y", colors.get(f["series"], SERIES_COLORS[1]), dash="5 3")
                      for f in p.get("finals", ()))  # fmt: skip
        kind = "time" if p["encoding"]["x"]["type"] == "temporal" else "linear"
        out.append(Panel(series, rules, p["title"]["text"], kind,
                         "time (UTC)" if kind == "time" else "step"))  # fmt: skip
    return Figure(tuple(out), columns=2, legend=tuple((lb, colors[lb]) for lb in labels))


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
        {"x": int(p.x), "y": _num(p.y), "run": names[(p.x, p.y)], "time": _utc(p.t)} for p in shown
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
    figure = Figure(
        (
            Panel(
                (
                    Line(
                        tuple((p["x"], p["y"]) for p in run_values),
                        GREY,
                        line=False,
                        dots=True,
                        radius=3.5,
                        opacity=0.7,
                    ),
                    Line(tuple((p["x"], p["y"]) for p in best_values), SERIES_COLORS[0], step=True),
                ),
                x_kind="time",
                x_title="run start (UTC)",
                y_title=metric,
                width=600,
                height=220,
            ),
        )
    )
    return Chart("best-so-far", f"Chart of {metric} per run over time, with the {word} so far",
                 spec, notes, figure)  # fmt: skip


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
                 _base({"concat": panels, "columns": 3}), notes, _sweep_figure(panels))  # fmt: skip


def _sweep_figure(panels: Sequence[dict[str, Any]]) -> Figure:
    out = []
    for p in panels:
        rows = p["data"]["values"]
        if p["encoding"]["x"]["type"] == "ordinal":
            cats = tuple(dict.fromkeys(str(r["x"]) for r in rows))
            place = {c: i for i, c in enumerate(cats)}
            xy = tuple((float(place[str(r["x"])]), r["y"]) for r in rows)
            out.append(Panel((Line(xy, SERIES_COLORS[0], line=False, dots=True, radius=3),),
                             title=p["title"]["text"], x_kind="category", categories=cats,
                             width=190, height=150))  # fmt: skip
        else:
            xy = tuple((r["x"], r["y"]) for r in rows)
            out.append(Panel((Line(xy, SERIES_COLORS[0], line=False, dots=True, radius=3),),
                             title=p["title"]["text"], width=190, height=150))  # fmt: skip
    return Figure(tuple(out), columns=3)


# --- compare page: a sweep's curves and its parallel coordinates --------------------------------

MAX_SWEEP_CURVES = 60  # children's curves drawn on one compare page (page weight)
SWEEP_CURVE_POINTS = 150  # points per child curve


def sweep_curves_chart(sw: Sweep, histories: Mapping[str, Sequence[MetricHistory]]
                       ) -> Chart | None:  # fmt: skip
    """Every child's history of the primary metric by step, overlaid, coloured best first, and
    toggleable in the legend. Children without a stored history (no page of their own) are
    counted in a note."""
    if sw.primary is None:
        return None
    metric = sw.primary.metric
    values: list[dict[str, Any]] = []
    order: list[str] = []
    missing = 0
    labels = _child_labels(sw.children)
    for c in sw.children[:MAX_SWEEP_CURVES]:
        h = next((h for h in histories.get(c.run_id, ()) if h.key == metric), None)
        if h is None or len(set(h.steps)) <= 1:
            missing += h is None
            continue
        series = prepare([float(s) for s in h.steps], h.values, h.timestamps, SWEEP_CURVE_POINTS)
        if not series.drawable:
            continue
        order.append(labels[c.run_id])
        values.extend({"x": _num(p.x), "y": _num(p.y), "series": labels[c.run_id]}
                      for p in series.points)  # fmt: skip
    if len(order) < 2:
        return None
    notes: list[str] = []
    if missing:
        notes.append(f"{missing} child runs have no stored history of {metric} "
                     "(histories are kept for runs with a page of their own)")  # fmt: skip
    if len(sw.children) > MAX_SWEEP_CURVES:
        notes.append(f"the best {MAX_SWEEP_CURVES} of {len(sw.children)} child runs are drawn")
    spec = _base({
        "width": 600,
        "height": 260,
        "data": {"values": values},
        "params": [_legend_toggle()],
        "mark": {"type": "line", "strokeWidth": 1.5},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": "step", "axis": {"format": "~s"}},
            "y": _value_axis(metric),
            "color": {"field": "series", "type": "ordinal", "title": "best first", "sort": order,
                      "scale": {"scheme": "viridis"},
                      "legend": {"labelLimit": 220, "symbolLimit": 20}},
            "opacity": _toggle_opacity(),
            "tooltip": [
                {"field": "series", "type": "nominal", "title": "run"},
                {"field": "x", "type": "quantitative", "title": "step"},
                {"field": "y", "type": "quantitative", "title": metric, "format": ".6~g"},
            ],
        },
    })  # fmt: skip
    return Chart("sweep-curves", f"Chart of {metric} by step for each child run of "
                 f"{sw.parent.name or sw.parent.run_id[:8]}", spec, tuple(notes))  # fmt: skip


def _child_labels(children: Sequence[Run]) -> dict[str, str]:
    """A legend label per child: its name, with the id prefix when names repeat."""
    counts: dict[str, int] = {}
    for c in children:
        counts[c.name] = counts.get(c.name, 0) + 1
    return {c.run_id: (c.name if c.name and counts[c.name] == 1 else
                       f"{c.name or 'run'} {c.run_id[:8]}") for c in children}  # fmt: skip


def parallel_chart(sw: Sweep) -> Chart | None:
    """Parallel coordinates: one vertical axis per varied param and one for the primary metric,
    one line per child, coloured by the metric, so a reader sees which settings lead to the
    good runs. Positions are computed here (numbers scaled to [0, 1], other values evenly by
    sorted value) so the spec needs no expression over an untrusted param name."""
    if sw.primary is None or not sw.varying:
        return None
    metric = sw.primary.metric
    kids = [c for c in sw.children if is_finite(c.metric(metric))]
    if len(kids) < 2:
        return None
    params = list(sw.varying[:MAX_CONCAT])
    axes = [*params, metric]
    labels = _child_labels(kids)
    rows: list[dict[str, Any]] = []
    ticks: list[dict[str, Any]] = []
    for axis in axes:
        if axis == metric and axis not in params:
            raw = {c.run_id: _num(float(c.metric(metric) or 0.0)) for c in kids}
            shown = {rid: f"{v:.6g}" for rid, v in raw.items()}
            numeric = True
        else:
            texts = {c.run_id: c.params.get(axis) for c in kids}
            numbers = {rid: _as_number(t) for rid, t in texts.items()}
            numeric = all(v is not None for v in numbers.values())
            raw = numbers if numeric else {rid: t if t is not None else "—"
                                           for rid, t in texts.items()}  # fmt: skip
            shown = {rid: (t if t is not None else "—") for rid, t in texts.items()}
        positions, axis_ticks = _positions(raw, numeric)
        for c in kids:
            score = _num(float(c.metric(metric) or 0))
            rows.append({"axis": axis, "pos": positions[c.run_id], "value": shown[c.run_id],
                         "run": labels[c.run_id], "metric": score})  # fmt: skip
        ticks.extend({"axis": axis, "pos": pos, "label": text} for pos, text in axis_ticks)
    x = {"field": "axis", "type": "nominal", "sort": axes, "title": None,
         "axis": {"orient": "top", "labelAngle": 0, "labelLimit": 140, "domain": False,
                  "ticks": False, "offset": 12, "labelFontWeight": "bold"}}  # fmt: skip
    y = {"field": "pos", "type": "quantitative", "axis": None, "scale": {"domain": [0, 1]}}
    spec = _base({
        "width": max(360, min(900, 150 * len(axes))),
        "height": 260,
        "config": {"view": {"stroke": None}},
        "layer": [
            {"data": {"values": [{"axis": a} for a in axes]},
             "mark": {"type": "rule", "color": "#9e9e9e"},
             "encoding": {"x": x, "y": {"datum": 0, "type": "quantitative",
                                        "scale": {"domain": [0, 1]}, "axis": None},
                          "y2": {"datum": 1}}},
            {"data": {"values": rows},
             "mark": {"type": "line", "strokeWidth": 1.5, "opacity": 0.8},
             "encoding": {
                 "x": x, "y": y, "detail": {"field": "run", "type": "nominal"},
                 "color": {"field": "metric", "type": "quantitative", "title": metric,
                           "scale": {"scheme": "viridis",
                                     "reverse": sw.primary.direction == "minimize"}},
                 "tooltip": [
                     {"field": "run", "type": "nominal", "title": "run"},
                     {"field": "axis", "type": "nominal", "title": "axis"},
                     {"field": "value", "type": "nominal", "title": "value"},
                     {"field": "metric", "type": "quantitative", "title": metric,
                      "format": ".6~g"},
                 ]}},
            {"data": {"values": ticks},
             "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 10,
                      "color": "#7f7f7f"},
             "encoding": {"x": x, "y": y, "text": {"field": "label", "type": "nominal"}}},
        ],
    })  # fmt: skip
    notes = ()
    if len(sw.varying) > MAX_CONCAT:
        notes = (f"{len(sw.varying) - MAX_CONCAT} more varied params are not drawn",)
    return Chart("parallel", f"Parallel coordinates of the varied params of "
                 f"{sw.parent.name or sw.parent.run_id[:8]} and {metric}", spec, notes)  # fmt: skip


def _positions(raw: Mapping[str, Any], numeric: bool
               ) -> tuple[dict[str, float], list[tuple[float, str]]]:  # fmt: skip
    """Each run's place on one axis, in [0, 1], and the axis's labelled ticks (min and max for
    numbers; every value, up to 12, for words)."""
    if numeric:
        lo, hi = min(raw.values()), max(raw.values())
        span = (hi - lo) or 1.0
        pos = {rid: (v - lo) / span if hi != lo else 0.5 for rid, v in raw.items()}
        ticks = [(0.0, f"{lo:.4g}"), (1.0, f"{hi:.4g}")] if hi != lo else [(0.5, f"{lo:.4g}")]
        return pos, ticks
    values = sorted({str(v) for v in raw.values()})
    step = 1 / (len(values) - 1) if len(values) > 1 else 0.0
    place = {v: (i * step if len(values) > 1 else 0.5) for i, v in enumerate(values)}
    shown = values if len(values) <= 12 else [values[0], values[-1]]
    return ({rid: place[str(v)] for rid, v in raw.items()},
            [(place[v], v[:24]) for v in shown])  # fmt: skip


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
    figure = Figure(
        (
            Panel(
                (
                    Line(
                        tuple((float(i), row["y"]) for i, row in enumerate(values)),
                        SERIES_COLORS[0],
                        dots=True,
                        radius=4,
                    ),
                ),
                x_kind="category",
                categories=tuple(order),
                x_title="version",
                y_title=metric,
                width=max(300, min(600, 120 * len(values))),
                height=200,
            ),
        )
    )
    return Chart("versions", f"Chart of {metric} per model version", spec, (), figure)


def monitor_chart(result: MonitorResult, marks: Sequence[VersionMark] = ()) -> Chart | None:
    """A monitor's evaluations over time, coloured by status, with its thresholds as named
    lines and each version change (`marks`) as a labelled vertical rule."""
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
    rules = [{"y": _num(v), "label": threshold_text(label, v, level), "level": level}
             for label, v, level in result.thresholds if is_finite(v)]  # fmt: skip
    rules.sort(key=lambda r: (r["y"], r["label"]))
    for i, rule in enumerate(rules):  # neighbours named at opposite ends: labels never collide
        rule["side"] = "right" if i % 2 == 0 else "left"
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
        # Each threshold a line of its level's colour and dash, named at one end, neighbours at
        # opposite ends, so two close thresholds keep readable labels.
        level_scale = {"domain": ["warn", "fail"],
                       "range": [STATUS_COLORS["warn"], STATUS_COLORS["fail"]]}  # fmt: skip
        color = {"field": "level", "type": "nominal", "legend": None, "scale": level_scale}
        tooltip = [
            {"field": "label", "type": "nominal", "title": "threshold"},
            {"field": "y", "type": "quantitative", "title": metric, "format": ".6~g"},
        ]
        layers.append({
            "data": {"values": rules},
            "mark": {"type": "rule", "strokeWidth": 1.5},
            "encoding": {
                "y": {"field": "y", "type": "quantitative"},
                "color": color,
                "strokeDash": {"field": "level", "type": "nominal", "legend": None,
                               "scale": {"domain": ["warn", "fail"],
                                         "range": [[2, 3], [7, 3]]}},
                "tooltip": tooltip,
            },
        })  # fmt: skip
        for x, align in ((600, "right"), (0, "left")):
            layers.append({
                "data": {"values": [r for r in rules if r["side"] == align]},
                "mark": {"type": "text", "align": align, "baseline": "bottom", "dy": -2,
                         "dx": -3 if align == "right" else 3, "fontSize": 10},
                "encoding": {"x": {"value": x}, "y": {"field": "y", "type": "quantitative"},
                             "text": {"field": "label", "type": "nominal"},
                             "color": color, "tooltip": tooltip},
            })  # fmt: skip
    if marks:
        moves = [{"x": m.time, "label": m.label, "time": _utc(m.time)} for m in marks]
        move_tip = [{"field": "label", "type": "nominal", "title": "version change"},
                    {"field": "time", "type": "nominal", "title": "time"}]  # fmt: skip
        layers.append({
            "data": {"values": moves},
            "mark": {"type": "rule", "color": "#5e35b1", "strokeWidth": 1.5},
            "encoding": {"x": _time_axis("evaluated (UTC)"), "tooltip": move_tip},
        })  # fmt: skip
        layers.append({
            "data": {"values": moves},
            "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 3, "dy": 2,
                     "fontSize": 10, "color": "#5e35b1"},
            "encoding": {"x": _time_axis("evaluated (UTC)"), "y": {"value": 0},
                         "text": {"field": "label", "type": "nominal"}, "tooltip": move_tip},
        })  # fmt: skip
    spec = _base({"width": 600, "height": 200, "layer": layers,
                  "resolve": {"scale": {"color": "independent"}}})  # fmt: skip
    notes = []
    if skipped:
        notes.append(f"{skipped} evaluations with a NaN or infinite {metric} are not drawn")
    if result.total_evaluations > len(result.evaluations):
        notes.append(f"the last {len(result.evaluations)} of {result.total_evaluations} "
                     "evaluations are shown")  # fmt: skip
    xy = tuple((float(v["x"]), v["y"]) for v in values)
    dots = tuple(STATUS_COLORS.get(v["status"], GREY) for v in values)
    series = (Line(xy, "#9e9e9e"), Line(xy, "", line=False, dots=True, radius=4, dot_colors=dots))
    level = {"warn": STATUS_COLORS["warn"], "fail": STATUS_COLORS["fail"]}
    lines = tuple(Rule(r["y"], "y", level.get(r["level"], GREY), r["label"],
                       "2 3" if r["level"] == "warn" else "7 3", r["side"] == "right")
                  for r in rules)  # fmt: skip
    lines += tuple(Rule(float(m.time), "x", "#5e35b1", m.label) for m in marks)
    figure = Figure((Panel(series, lines, x_kind="time", x_title="evaluated (UTC)",
                           y_title=metric, width=600, height=200),))  # fmt: skip
    return Chart("monitor", f"Chart of {metric} of monitor {result.monitor.name} over time",
                 spec, tuple(notes), figure)  # fmt: skip


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
    """Every chart of one build, as files under assets/daybook/charts/: each chart's spec
    (`<key>.json`, fetched by charts.js when the chart nears the viewport, so pages carry no
    chart data) and its static SVG (`<key>.svg`, drawn in Python: no cache needed, issue #14).
    The key is a hash of the spec, so the same chart on two pages is one pair of files."""

    cache: TextCache | None = None  # keeps the chart library between builds
    svgs: dict[str, str] = field(default_factory=dict)  # asset path -> SVG text
    specs: dict[str, str] = field(default_factory=dict)  # asset path -> spec JSON
    failures: list[str] = field(default_factory=list)
    _bundle: Future[str] | None = None

    def add(self, chart: Chart) -> tuple[str, str]:
        """The chart's key and its fallback image's asset path."""
        if self._bundle is None:
            # The library takes vl-convert seconds to bundle when not cached (a first build);
            # its thread waits on a child interpreter (`_bundle_in_child`) while pages are
            # rendered.
            pool = ThreadPoolExecutor(1, thread_name_prefix="daybook-vega")
            self._bundle = pool.submit(vega_bundle, self.cache)
            pool.shutdown(wait=False)  # the thread ends with its one task
        text = script_json(chart.spec)
        key = hashlib.sha256(text.encode()).hexdigest()[:20]
        self.specs.setdefault(f"{CHART_DIR}/{key}.json", text)
        if chart.figure is None:
            self.svgs.setdefault(LIVE_ONLY, _fallback_svg("This chart needs JavaScript."))
            return key, LIVE_ONLY
        path = f"{CHART_DIR}/{key}.svg"
        if path not in self.svgs:
            try:
                self.svgs[path] = render(chart.figure)
            except (ValueError, OverflowError, ZeroDivisionError) as exc:  # never stop a build
                self.failures.append(f"{chart.title}: {type(exc).__name__}: {exc}"[:200])
                self.svgs[path] = _fallback_svg("This chart could not be drawn; see the table.")
        return key, path

    def asset(self, chart: Chart) -> str:
        return self.add(chart)[1]

    def without_library(self) -> None:
        """In a second process that renders some of the pages (pages/render.py): the charts of
        its pages only; the first process adds the chart library."""
        done: Future[str] = Future()
        done.set_result("")
        self._bundle = done

    def drawn(self) -> tuple[dict[str, str], dict[str, str], list[str]]:
        """What this set drew, for `take` in the first process."""
        return self.svgs, self.specs, self.failures

    def take(self, drawn: tuple[dict[str, str], dict[str, str], list[str]]) -> None:
        """The charts a second process drew (the same key is the same chart)."""
        svgs, specs, failures = drawn
        for path, svg in svgs.items():
            self.svgs.setdefault(path, svg)
        for path, spec in specs.items():
            self.specs.setdefault(path, spec)
        self.failures.extend(f for f in failures if f not in self.failures)

    def files(self) -> dict[str, str]:
        """The SVGs, the specs and the chart library, as files for the built site."""
        if not self.svgs:
            return {}
        bundle = self._bundle.result() if self._bundle is not None else vega_bundle(self.cache)
        return {**self.svgs, **self.specs, BUNDLE: bundle}

    def prune_cache(self) -> None:
        """Forget the SVGs earlier versions cached (charts are no longer cached)."""
        if self.cache is not None:
            self.cache.keep_only("charts", set())


_BUNDLES: dict[str, str] = {}


def vega_bundle(cache: TextCache | None = None) -> str:
    """vega + vega-lite + vega-embed as one script, from the installed vl-convert-python.

    Wrapped in a function so its top-level `const`s stay private: loaded twice, the bare bundle
    would throw "Identifier has already been declared". It sets window.vegaEmbed."""
    version = _vl_convert_version()
    name = f"vega-{version}.js"
    if version in _BUNDLES:
        if cache is not None and cache.get(name) is None:
            cache.put(name, _BUNDLES[version])  # a second site built in the same process
        return _BUNDLES[version]
    text = cache.get(name) if cache is not None else None
    if text is None:
        import vl_convert

        body = _bundle_in_child() or vl_convert.javascript_bundle()
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


_CHILD_BUNDLE = (
    "import sys, vl_convert; "
    "sys.stdout.buffer.write(vl_convert.javascript_bundle().encode('utf-8', 'surrogatepass'))"
)


def _bundle_in_child() -> str | None:
    """vl-convert's bundle, made by a child interpreter: `javascript_bundle()` holds the GIL
    for its whole run (3-4 s of CPU), so in a thread of this process it stalled the pages being
    rendered meanwhile; in a child it runs on the other core. None when the child fails (the
    caller then bundles here, as before)."""
    try:
        done = subprocess.run(  # this interpreter, a fixed script, no shell
            [sys.executable, "-c", _CHILD_BUNDLE], capture_output=True, check=True, timeout=600
        )
        return done.stdout.decode("utf-8", "surrogatepass") or None
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return None


_BOOTSTRAP = (
    '<script>(function(){var i=document.querySelector("img.daybook-chart-fallback");'
    "if(!i)return;if(window.daybookCharts){window.daybookCharts.render();return}"
    'if(document.getElementById("daybook-charts-js"))return;'
    'var s=document.createElement("script");s.id="daybook-charts-js";'
    's.src=new URL("../charts.js",i.src).href;document.head.appendChild(s)})();</script>'
)


class ChartEmbedder:
    """Charts as seen from one page: `{{ chart(c) }}` in a template embeds chart `c` (nothing
    when charts are off or `c` is None); the page's bootstrap script is added once at the end.

    A chart on the page is its static image and the key of its spec (`data-daybook-spec`, a hex
    hash): no chart data in the HTML, so a page's weight does not grow with its runs."""

    def __init__(self, charts: ChartSet | None, page: str) -> None:
        self.charts = charts
        self.page = page
        self.count = 0

    def __call__(self, chart: Chart | None) -> Markup:
        if chart is None or self.charts is None:
            return Markup("")
        self.count += 1
        key, asset = self.charts.add(chart)
        svg = relative(self.page, asset)
        notes = "".join(f'\n<p class="daybook-chart-note">{md_text(n)}</p>\n' for n in chart.notes)
        return Markup(
            f'<div class="daybook-chart" data-daybook-spec="{key}" data-search-exclude markdown>'
            f"\n\n![{md_text(chart.title)}]({svg}){{ .daybook-chart-fallback }}\n\n"
            f"</div>\n{notes}\n"
        )

    def bootstrap(self) -> str:
        """The script that loads charts.js; "" when the page has no chart."""
        return f"\n{_BOOTSTRAP}\n" if self.count else ""
