# ruff: noqa: F811  (the session fixtures imported from review_store are used as arguments)
"""Chart specs: safe inside a <script> whatever the names are, finite numbers only, fixed field
names, nothing left out without a note; the static SVG and the chart library at build time."""

from __future__ import annotations

import json
import math
import re
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from daybook.analysis.monitors import evaluate_monitors
from daybook.core.snapshot import MetricHistory
from daybook.pages.charts import (
    BUNDLE,
    Chart,
    ChartEmbedder,
    ChartSet,
    best_so_far_chart,
    history_chart,
    monitor_chart,
    script_json,
    vega_bundle,
)
from review_store import (  # noqa: F401
    HOSTILE,
    HOSTILE_METRIC,
    review_config,
    review_snapshot,
    review_store,
)

FIELDS = {"x", "y", "time", "step", "run", "value", "status", "version", "label", "level"}


@given(st.recursive(st.text() | st.integers() | st.booleans(),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(), kids, max_size=4), max_leaves=20))
def test_script_json_round_trips_and_cannot_end_a_script(value: object) -> None:
    text = script_json(value)
    assert json.loads(text) == value
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text


def test_script_json_refuses_nan() -> None:
    try:
        script_json({"y": math.nan})
    except ValueError:
        return
    raise AssertionError("NaN is not JSON")


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


def test_no_chart_from_one_point_or_nothing() -> None:
    one = MetricHistory("acc", (0,), (0.5,), (1,))
    nan = MetricHistory("loss", (0, 1), (math.nan, math.nan), (1, 2))
    assert history_chart([one, nan], 100) is None
    assert history_chart([], 100) is None


def test_embedding_is_safe_and_positional(review_snapshot, review_config) -> None:
    [hostile] = [r for r in review_snapshot.runs if r.name == HOSTILE]
    chart = best_so_far_chart([*review_snapshot.runs, hostile], "val_loss", "minimize")
    assert chart is not None
    charts = ChartSet()
    embed = ChartEmbedder(charts, "experiments/train/index.md")
    html = str(embed(chart))
    script = re.search(r'<script type="application/json">(.*?)</script>', html, re.S)
    assert script and html.count("</script>") == 1 and "<!--" not in script.group(1)
    assert json.loads(script.group(1))[0] == chart.spec  # an array: harmless if run as JS
    assert re.search(r"!\[[^\]]*\]\(\.\./\.\./assets/daybook/charts/[0-9a-f]{20}\.svg\)"
                     r"\{ \.daybook-chart-fallback \}", html)  # fmt: skip
    assert embed.bootstrap().count("<script>") == 1 and "../charts.js" in embed.bootstrap()
    files = charts.files()
    [svg] = [v for k, v in files.items() if k.endswith(".svg")]
    assert svg.startswith("<svg") and "<script" not in svg
    assert BUNDLE in files and charts.failures == []
    off = ChartEmbedder(None, "index.md")
    assert str(off(chart)) == "" and off.bootstrap() == ""


def test_monitor_chart(review_config, review_snapshot) -> None:
    result = evaluate_monitors(review_config, review_snapshot).results[0]
    chart = monitor_chart(result)
    assert isinstance(chart, Chart)
    points = chart.spec["layer"][1]["data"]["values"]
    assert [p["status"] for p in points][-1] == "fail"
    assert {r["label"] for r in chart.spec["layer"][2]["data"]["values"]} == {
        "min", "max_drop", "warn min"}  # fmt: skip


def test_the_bundle_is_wrapped_so_it_can_load_twice() -> None:
    text = vega_bundle()
    assert text.startswith("/*! vega ") and "(function () {" in text
    assert text.rstrip().endswith("}).call(window);") and "window.vegaEmbed" in text


def test_a_big_experiment_progress_chart_is_thinned_but_keeps_every_best() -> None:
    from daybook.core.snapshot import Metric, Run
    from daybook.pages.charts import MAX_RUN_POINTS

    runs = [
        Run(
            run_id=f"{i:032x}", experiment_id="1", name=f"r{i}", status="FINISHED",
            start_time=1_700_000_000_000 + i * 60_000, end_time=None, user="u", artifact_uri="",
            metrics={"loss": Metric("loss", 1.0 / (1 + i % 97) + (5000 - i) / 1e4, 0, 0)},
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
