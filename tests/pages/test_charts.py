# ruff: noqa: F811  (the session fixtures imported from review_store are used as arguments)
"""Chart specs: safe inside a <script> whatever the names are, finite numbers only, fixed field
names, nothing left out without a note; the static SVG and the chart library at build time."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from daybook.analysis.compare import Sweep, sweep
from daybook.analysis.monitors import evaluate_monitors, version_marks
from daybook.analysis.ranking import Primary
from daybook.core.snapshot import AliasEvent, MetricHistory, Run, Snapshot
from daybook.pages.charts import (
    BUNDLE,
    LIVE_ONLY,
    THIS_RUN,
    TIME_FORMAT,
    Chart,
    ChartEmbedder,
    ChartSet,
    Overlay,
    best_so_far_chart,
    history_chart,
    monitor_chart,
    parallel_chart,
    script_json,
    sweep_curves_chart,
    vega_bundle,
)
from daybook.pages.svg_chart import render
from review_store import (  # noqa: F401
    HOSTILE,
    HOSTILE_METRIC,
    review_config,
    review_snapshot,
    review_store,
)

FIELDS = {"x", "y", "time", "step", "run", "value", "status", "version", "label", "level",
          "series", "axis", "pos", "metric", "side", "s", "time_utc"}  # fmt: skip
DAY_MS = 86_400_000


@given(
    st.recursive(
        st.text() | st.integers() | st.booleans(),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4),
        max_leaves=20,
    )
)
def test_script_json_round_trips_and_cannot_end_a_script(value: object) -> None:
    text = script_json(value)
    assert json.loads(text) == value
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text


def test_script_json_writes_nan_and_infinities_as_null_so_the_spec_stays_json() -> None:
    text = script_json({"y": [math.nan, math.inf, -math.inf, 1.5], "title": None})
    assert json.loads(text) == {"title": None, "y": [None, None, None, 1.5]}
    assert "NaN" not in text and "Infinity" not in text


def _fields(spec: object) -> set[str]:
    out: set[str] = set()
    if isinstance(spec, dict):
        if isinstance(spec.get("field"), str):
            out.add(spec["field"])
        for v in spec.values():
            out |= _fields(v)
    elif isinstance(spec, list):
        for v in spec:
            out |= _fields(v)
    return out


def _numbers(spec: object) -> list[float]:
    if isinstance(spec, float):
        return [spec]
    if isinstance(spec, dict):
        return [n for v in spec.values() for n in _numbers(v)]
    if isinstance(spec, list):
        return [n for v in spec for n in _numbers(v)]
    return []


def test_history_chart_of_hostile_long_and_broken_histories(review_snapshot) -> None:
    [hostile] = [r for r in review_snapshot.runs if r.name == HOSTILE]
    [child] = [r for r in review_snapshot.runs if r.name == "sweep-lr-0.1"]
    hist = list(review_snapshot.histories[hostile.run_id]) + list(
        review_snapshot.histories[child.run_id]
    )
    chart = history_chart(hist, max_points=300)
    assert chart is not None
    assert _fields(chart.spec) <= FIELDS  # untrusted names are values and titles, never fields
    assert all(math.isfinite(n) for n in _numbers(chart.spec))
    titles = [p["title"]["text"] for p in chart.spec["concat"]]
    assert HOSTILE_METRIC in titles
    notes = " ".join(chart.notes)
    assert "val_loss: 1 of 2 points are NaN" in notes  # the hostile run's NaN
    assert "val_loss: 1 of 3000 points are NaN" in notes  # the child's
    assert "2,999 points shown as" in notes and "one point only, so no line: single" in notes
    [panel] = [p for p in chart.spec["concat"] if p["title"]["text"] == "val_loss"
               and len(p["data"]["values"]) > 10]  # fmt: skip
    ys = [v["y"] for v in panel["data"]["values"]]
    assert len(ys) <= 300 and max(ys) == 5.0  # the spike survived thinning


def test_a_history_point_writes_each_value_once() -> None:
    # Issue #14: run histories were 60 % of a build's chart bytes, most of it a label and a
    # formatted time repeated per point. Now the step chart's x is the step and its time epoch
    # ms; the time chart's x is the time and its step rides along; the tooltip's text is
    # computed in the browser by a fixed expression.
    by_step = MetricHistory(
        "loss", (0, 1, 2), (0.5, 0.4, 0.3), (DAY_MS, DAY_MS + 1000, DAY_MS + 2000)
    )
    by_time = MetricHistory(
        "lat", (7, 7, 7), (1.0, 2.5, 3.0), (DAY_MS, DAY_MS + 60_000, DAY_MS + 120_000)
    )
    chart = history_chart([by_step, by_time], 100)
    assert chart is not None
    panels = {p["title"]["text"]: p for p in chart.spec["concat"]}
    assert panels["loss"]["data"]["values"][1] == {"x": 1, "y": 0.4, "time": DAY_MS + 1000}
    assert panels["lat"]["data"]["values"][1] == {"x": DAY_MS + 60_000, "y": 2.5, "step": 7}
    for name, field in (("loss", "time"), ("lat", "x")):
        [calc] = panels[name]["transform"]
        assert calc == {"calculate": f"utcFormat(datum.{field}, '%Y-%m-%d %H:%M:%S') + ' UTC'",
                        "as": "time_utc"}  # fmt: skip
        tooltip = {t["title"]: t["field"] for t in panels[name]["encoding"]["tooltip"]}
        assert tooltip == {"step": "x" if name == "loss" else "step", "value": "y",
                           "time": "time_utc"}  # fmt: skip


def test_no_chart_from_one_point_or_nothing() -> None:
    one = MetricHistory("acc", (0,), (0.5,), (1,))
    nan = MetricHistory("loss", (0, 1), (math.nan, math.nan), (1, 2))
    assert history_chart([one, nan], 100) is None
    assert history_chart([], 100) is None


def test_a_page_holds_the_charts_key_and_picture_not_its_data(review_snapshot) -> None:
    # Issue #14: specs inline in the page made a big experiment's HTML grow with its runs; the
    # page now names the spec file by its hash and shows the static picture.
    [hostile] = [r for r in review_snapshot.runs if r.name == HOSTILE]
    chart = best_so_far_chart([*review_snapshot.runs, hostile], "val_loss", "minimize")
    assert chart is not None and chart.static
    charts = ChartSet()
    embed = ChartEmbedder(charts, "experiments/train/index.md")
    html = str(embed(chart))
    [key] = re.findall(r'<div class="daybook-chart" data-daybook-spec="([0-9a-f]{20})"', html)
    assert "<script" not in html and HOSTILE not in html
    assert re.search(rf"!\[[^\]]*\]\(\.\./\.\./assets/daybook/charts/{key}\.svg\)"
                     r"\{ \.daybook-chart-fallback \}", html)  # fmt: skip
    assert embed.bootstrap().count("<script>") == 1 and "../charts.js" in embed.bootstrap()
    files = charts.files()
    assert json.loads(files[f"assets/daybook/charts/{key}.json"]) == chart.spec
    svg = files[f"assets/daybook/charts/{key}.svg"]
    root = ET.fromstring(svg)  # well-formed, whatever the run names
    assert root.tag.endswith("svg") and "<script" not in svg
    assert BUNDLE in files and charts.failures == []
    off = ChartEmbedder(None, "index.md")
    assert str(off(chart)) == "" and off.bootstrap() == ""


def _svg_texts(chart: Chart) -> list[str]:
    assert chart.figure is not None
    root = ET.fromstring(render(chart.figure))
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_each_static_chart_pictures_what_its_live_chart_shows(review_config,
                                                              review_snapshot) -> None:  # fmt: skip
    runs = _runs(review_snapshot)
    h = review_snapshot.histories
    me, best = runs["sweep-lr-0.1"], runs["new-best"]
    run_chart = history_chart(
        h[me.run_id],
        300,
        [
            Overlay("sweep (parent)", h[runs["sweep"].run_id]),
            Overlay("new-best (best)", h[best.run_id]),
        ],
    )
    assert run_chart is not None
    texts = _svg_texts(run_chart)
    # One panel per metric, titled by its key; the legend names this run and each reference.
    assert {p["title"]["text"] for p in run_chart.spec["concat"]} <= set(texts)
    assert {THIS_RUN, "sweep (parent)", "new-best (best)"} <= set(texts)
    result = evaluate_monitors(review_config, review_snapshot).results[0]
    monitor = monitor_chart(result, version_marks(result))
    assert monitor is not None
    assert {"fail: min 0.9", "warn: min 0.93", "v1 → v2"} <= set(_svg_texts(monitor))
    progress = best_so_far_chart(review_snapshot.runs, "val_loss", "minimize")
    assert progress is not None and "run start (UTC)" in _svg_texts(progress)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", t) for t in _svg_texts(progress))
    [bad] = [r for r in review_snapshot.runs if r.name == HOSTILE]
    hostile = history_chart(review_snapshot.histories[bad.run_id], 300)
    assert hostile is not None and HOSTILE_METRIC in _svg_texts(hostile)


def test_monitor_chart_names_each_threshold_and_marks_the_version_change(
    review_config, review_snapshot
) -> None:
    result = evaluate_monitors(review_config, review_snapshot).results[0]
    chart = monitor_chart(result, version_marks(result))
    assert isinstance(chart, Chart)
    layers = chart.spec["layer"]
    points = layers[1]["data"]["values"]
    assert [p["status"] for p in points][-1] == "fail"
    rules = layers[2]["data"]["values"]
    # Each line says what it is: its level, its rule and its value (min 0.9 and max_drop 0.912
    # are close: they were two unlabelled red lines).
    assert {r["label"] for r in rules} == {"fail: min 0.9", "fail: max_drop 0.912",
                                           "warn: min 0.93"}  # fmt: skip
    assert layers[2]["encoding"]["strokeDash"]["scale"]["range"][0] != \
        layers[2]["encoding"]["strokeDash"]["scale"]["range"][1]  # fmt: skip
    texts = [layer for layer in layers if layer["mark"]["type"] == "text"]
    named = {v["label"]: layer["mark"]["align"] for layer in texts[:2]
             for v in layer["data"]["values"]}  # fmt: skip
    assert set(named) == {r["label"] for r in rules}
    assert named["fail: min 0.9"] != named["fail: max_drop 0.912"]  # opposite ends
    # The champion moved from v1 to v2 between two evaluations: a labelled rule there.
    [move] = texts[2]["data"]["values"]
    assert move["label"] == "v1 → v2"
    assert move["x"] == next(p["x"] for p in points if p["version"] == "v2")
    assert _fields(chart.spec) <= FIELDS


def test_alias_moves_a_pull_saw_are_marked_once(review_config, review_snapshot) -> None:
    result = evaluate_monitors(review_config, review_snapshot).results[0]
    [first, *_, last] = result.evaluations
    seen = [AliasEvent(first.time + 1, "m", "champion", 1, 2, "moved"),  # shown by evaluations
            AliasEvent(last.time - 1, "m", "champion", 2, 3, "moved"),
            AliasEvent(last.time - 1, "other", "champion", 2, 3, "moved"),
            AliasEvent(last.time + DAY_MS, "m", "champion", 3, 4, "moved")]  # fmt: skip
    assert [m.label for m in version_marks(result, seen)] == ["v1 → v2", "@champion → v3"]


def test_every_time_axis_writes_dates_one_way(review_config, review_snapshot) -> None:
    result = evaluate_monitors(review_config, review_snapshot).results[0]
    charts = [monitor_chart(result),
              best_so_far_chart(review_snapshot.runs, "val_loss", "minimize")]  # fmt: skip
    axes = [enc["axis"] for c in charts if c for enc in _encodings(c.spec)
            if enc.get("type") == "temporal"]  # fmt: skip
    assert axes and all(a["format"] == TIME_FORMAT and a["formatType"] == "time" for a in axes)


def _encodings(spec: object) -> list[dict[str, object]]:
    if isinstance(spec, dict):
        found = [spec] if "field" in spec and "type" in spec else []
        return found + [e for v in spec.values() for e in _encodings(v)]
    if isinstance(spec, list):
        return [e for v in spec for e in _encodings(v)]
    return []


def _runs(snapshot: Snapshot) -> dict[str, Run]:
    return {r.name: r for r in snapshot.runs}


def test_a_run_chart_overlays_its_references_as_toggleable_series(review_snapshot) -> None:
    runs = _runs(review_snapshot)
    h = review_snapshot.histories
    me, champion, best = runs["sweep-lr-0.1"], runs["sweep-lr-0.01"], runs["new-best"]
    chart = history_chart(h[me.run_id], 300, [
        Overlay("sweep (parent)", h[runs["sweep"].run_id]),  # its final value only
        Overlay("new-best (best)", h[best.run_id]),
        Overlay("sweep-lr-0.01 (@champion of m (v2))", h[champion.run_id]),
    ])  # fmt: skip
    assert chart is not None
    [panel] = [p for p in chart.spec["concat"] if p["title"]["text"] == "val_loss"]
    line, level = panel["layer"]
    # Each point names its series by index; the layer's lookup turns the index into the label.
    [lookup] = [t for t in line["transform"] if "lookup" in t]
    assert lookup["lookup"] == "s" and lookup["from"]["fields"] == ["series"]
    label = {row["s"]: row["series"] for row in lookup["from"]["data"]["values"]}
    series = Counter(label[v["s"]] for v in line["data"]["values"])
    assert set(series) == {THIS_RUN, "new-best (best)", "sweep-lr-0.01 (@champion of m (v2))"}
    assert series["new-best (best)"] == 2 and series[THIS_RUN] <= 300  # each thinned alone
    # A reference that logged one value (the parent's final score) is a level line.
    assert level["mark"]["type"] == "rule"
    assert level["data"]["values"] == [{"y": 0.55, "series": "sweep (parent)", "step": 0}]
    # One legend for all of them, which shows or dims each series.
    assert line["params"][0]["bind"] == "legend"
    assert line["encoding"]["opacity"]["condition"]["param"] == "series"
    assert level["encoding"]["opacity"] == line["encoding"]["opacity"]
    assert line["encoding"]["color"]["scale"]["domain"] == [
        THIS_RUN,
        "sweep (parent)",
        "new-best (best)",
        "sweep-lr-0.01 (@champion of m (v2))",
    ]
    assert "with sweep (parent); new-best (best); sweep-lr-0.01" in chart.title
    assert _fields(chart.spec) <= FIELDS
    # Nothing in common: the plain chart of the run alone, no legend.
    other = h[runs["eval-day0"].run_id]
    alone = history_chart(h[me.run_id], 300, [Overlay("eval (best)", other)])
    assert alone == history_chart(h[me.run_id], 300)


def _sweep(snapshot: Snapshot) -> Sweep:
    runs = _runs(snapshot)
    parent = runs["sweep"]
    kids = [r for r in snapshot.runs if r.parent_id == parent.run_id]
    return sweep(parent, kids, Primary("val_loss", "minimize", True))


def test_a_sweep_overlays_every_child_curve(review_snapshot) -> None:
    sw = _sweep(review_snapshot)
    chart = sweep_curves_chart(sw, review_snapshot.histories)
    assert chart is not None and not chart.static
    values = chart.spec["data"]["values"]
    order = [c.name for c in sw.children]
    assert chart.spec["encoding"]["color"]["sort"] == order  # best first
    assert {v["series"] for v in values} == set(order)
    assert chart.spec["params"][0]["bind"] == "legend"
    assert all(math.isfinite(n) for n in _numbers(chart.spec))
    # Children without a stored history (no page of their own) are counted, not hidden.
    some = {k: v for k, v in review_snapshot.histories.items() if k != sw.children[0].run_id}
    fewer = sweep_curves_chart(sw, some)
    assert fewer is not None and "1 child runs have no stored history" in fewer.notes[0]


def test_parallel_coordinates_of_a_sweep(review_snapshot) -> None:
    sw = _sweep(review_snapshot)
    chart = parallel_chart(sw)
    assert chart is not None and not chart.static
    rules, lines, ticks = chart.spec["layer"]
    assert [a["axis"] for a in rules["data"]["values"]] == ["lr", "val_loss"]  # depth is constant
    rows = lines["data"]["values"]
    assert len(rows) == 2 * len(sw.children) and lines["encoding"]["detail"]["field"] == "run"
    assert all(0 <= r["pos"] <= 1 for r in rows)
    by_run = {(r["run"], r["axis"]): r for r in rows}
    best, worst = sw.children[0].name, sw.children[-1].name
    assert by_run[(best, "val_loss")]["pos"] == 0 and by_run[(worst, "val_loss")]["pos"] == 1
    assert by_run[(best, "lr")]["value"] == "0.01"
    assert {t["label"] for t in ticks["data"]["values"] if t["axis"] == "lr"} == {"0.001", "0.1"}
    assert _fields(chart.spec) <= FIELDS


def test_a_browser_only_chart_costs_no_static_render(review_snapshot) -> None:
    chart = parallel_chart(_sweep(review_snapshot))
    assert chart is not None
    charts = ChartSet()
    html = str(ChartEmbedder(charts, "experiments/train/compare/sweep.md")(chart))
    assert f"(../../../{LIVE_ONLY})" in html and "daybook-chart-fallback" in html
    assert set(charts.svgs) == {LIVE_ONLY} and "needs JavaScript" in charts.svgs[LIVE_ONLY]


def test_the_bundle_is_wrapped_so_it_can_load_twice() -> None:
    text = vega_bundle()
    assert text.startswith("/*! vega ") and "(function () {" in text
    assert text.rstrip().endswith("}).call(window);") and "window.vegaEmbed" in text


def test_a_big_experiment_progress_chart_is_thinned_but_keeps_every_best() -> None:
    from daybook.core.snapshot import Run
    from daybook.pages.charts import MAX_RUN_POINTS

    runs = [
        Run(
            run_id=f"{i:032x}", experiment_id="1", name=f"r{i}", status="FINISHED",
            start_time=1_700_000_000_000 + i * 60_000, end_time=None, user="u", artifact_uri="",
            metrics={"loss": 1.0 / (1 + i % 97) + (5000 - i) / 1e4},
        )
        for i in range(5000)
    ]  # fmt: skip
    chart = best_so_far_chart(runs, "loss", "minimize")
    assert chart is not None
    layers = chart.spec["layer"]
    drawn = layers[1]["data"]["values"]
    best = layers[0]["data"]["values"]
    assert len(drawn) <= MAX_RUN_POINTS + 2
    assert min(p["y"] for p in drawn) == min(r.metric("loss") for r in runs)
    assert all(b["y"] < a["y"] for a, b in pairwise(best[:-1]))
    assert any("5000 runs" in n for n in chart.notes)
