"""Static chart pictures drawn in Python: well-formed SVG whatever the labels are, the same bytes
for the same figure, round ticks, and each kind of Daybook chart drawn with what it shows."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from daybook.pages.svg_chart import (
    Figure,
    Panel,
    Rule,
    Series,
    linear_ticks,
    number,
    render,
    time_ticks,
    utc,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "</text><script>alert(1)</script>&amp;<!--\x00\x1b\ud800\u2028 \"'"


def _texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{NS}text")]


def _figure(label: str) -> Figure:
    line = Series(((0, 1.0), (1, 0.5), (2, 0.25)), "#1e88e5", label=label, dots=True)
    panel = Panel((line,), (Rule(0.4, "y", "#e53935", label), Rule(1, "x", "#5e35b1", label)),
                  title=label, x_title=label, y_title=label)  # fmt: skip
    cats = Panel((Series(((0, 1.0), (1, 2.0)), "#1e88e5"),), x_kind="category",
                 categories=(label, label + "2"))  # fmt: skip
    return Figure((panel, cats), columns=2, legend=((label, "#1e88e5"),))


def test_hostile_labels_are_text_in_a_well_formed_file() -> None:
    svg = render(_figure(HOSTILE))
    root = ET.fromstring(svg)  # raises on anything malformed
    assert root.tag == f"{NS}svg"
    assert not list(root.iter(f"{NS}script")) and "<script" not in svg and "<!--" not in svg
    texts = _texts(svg)
    # The label survives as characters (cut, minus what XML cannot hold), never as markup.
    assert any(t.startswith("</text><script>alert(1)</script>&amp;<!--") for t in texts)
    assert all("\x00" not in t and "\ud800" not in t for t in texts)
    svg.encode("utf-8")  # no lone surrogate left to break the file


@given(st.text(max_size=80))
def test_any_label_gives_a_well_formed_file(label: str) -> None:
    svg = render(_figure(label))
    ET.fromstring(svg)
    svg.encode("utf-8")


def test_the_same_figure_gives_the_same_bytes() -> None:
    assert render(_figure("a")) == render(_figure("a"))
    assert render(_figure("a")) != render(_figure("b"))


def test_ticks_are_round_and_cover_the_values() -> None:
    lo, hi, ticks = linear_ticks(0.013, 0.97, 5)
    assert (lo, hi) == (0.0, 1.0) and ticks == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    lo, hi, ticks = linear_ticks(3, 3, 4)  # one value: a band around it
    assert lo < 3 < hi and len(ticks) >= 2
    assert [number(t) for t in linear_ticks(0.1, 0.3, 4)[2]] == ["0.1", "0.15", "0.2", "0.25",
                                                                  "0.3"]  # fmt: skip
    assert number(12000, si=True) == "12k" and number(12000) == "12000"


def test_time_ticks_fall_on_round_utc_instants() -> None:
    day = 86_400_000
    start = dt.datetime(2026, 1, 3, 7, 13, tzinfo=dt.UTC).timestamp() * 1000
    hourly = time_ticks(start, start + day / 4, 6)
    assert all(t % 3_600_000 == 0 for t in hourly) and len(hourly) <= 6
    monthly = time_ticks(start, start + 300 * day, 5)
    assert [utc(t)[8:] for t in monthly] == ["01 00:00"] * len(monthly)  # first of a month
    assert len(monthly) >= 2 and all(start <= t <= start + 300 * day for t in monthly)


def test_a_step_line_dots_in_their_colours_and_level_lines_with_their_names() -> None:
    best = Series(((0, 3.0), (5, 2.0), (9, 1.0)), "#1e88e5", step=True)
    dots = Series(((0, 3.0), (5, 2.0)), "", line=False, dots=True,
                  dot_colors=("#43a047", "#e53935"))  # fmt: skip
    svg = render(Figure((Panel((best, dots), (Rule(2.5, "y", "#fb8c00", "warn: min 2.5"),)),)))
    root = ET.fromstring(svg)
    [path] = [p for p in root.iter(f"{NS}path")]
    assert "H" in path.get("d", "") and "V" in path.get("d", "")  # steps, not slopes
    assert [c.get("fill") for c in root.iter(f"{NS}circle")] == ["#43a047", "#e53935"]
    assert "warn: min 2.5" in _texts(svg)


def test_a_figure_without_points_draws_its_title_only() -> None:
    svg = render(Figure((Panel((), title="empty"),)))
    assert _texts(svg) == ["empty"]
    assert render(Figure(())) == ""
