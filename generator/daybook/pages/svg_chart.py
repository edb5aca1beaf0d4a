"""Static SVG charts drawn in Python: the picture a reader without JavaScript sees, and the one
shown until the live chart is drawn.

vl-convert took ~100 ms a chart (80 s of a 105 s first build at 20,000 runs, issue #14); these
charts are lines, points, level lines and two axes, which take well under a millisecond to write
here. Only what Daybook's charts need: panels of series on a linear y axis and a linear, UTC time
or category x axis, with "nice" ticks, level lines with labels and a legend.

Deterministic (the same figure gives the same bytes: fixed decimals, no dict order, no clock) and
inert: every text (run names, metric keys, params are untrusted) is XML-escaped, and characters
XML cannot hold are dropped, so no label can end an element, add one, or break the file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

GREY = "#7f7f7f"  # reads on Material's light and dark backgrounds alike
GRID = "#7f7f7f33"
CHAR_W = 6.0  # average width of a 10 px sans-serif character, to cut and place labels
TIME_FORMAT = "%Y-%m-%d %H:%M"  # the charts' one way of writing time (issue #11)
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Series:
    """Points of one series, in x order: a line through them, dots on them, or both."""

    xy: tuple[tuple[float, float], ...]
    color: str
    label: str = ""  # legend label; "" for none
    line: bool = True
    dots: bool = False
    step: bool = False  # a step line (step-after): the best so far
    dot_colors: tuple[str, ...] = ()  # one per point (a monitor's statuses); else `color`
    radius: float = 2.0
    opacity: float = 1.0


@dataclass(frozen=True)
class Rule:
    """A level line across the panel: `axis="y"` horizontal at y=`at`, `"x"` vertical."""

    at: float
    axis: Literal["x", "y"]
    color: str
    label: str = ""
    dash: str = ""  # SVG stroke-dasharray, e.g. "5 3"
    end: bool = True  # the label at the right (top) end; False: the left (bottom) end


@dataclass(frozen=True)
class Panel:
    series: tuple[Series, ...]
    rules: tuple[Rule, ...] = ()
    title: str = ""
    x_kind: Literal["linear", "time", "category"] = "linear"
    x_title: str = ""
    y_title: str = ""
    categories: tuple[str, ...] = ()  # x_kind "category": x values are indexes into these
    width: int = 280
    height: int = 130


@dataclass(frozen=True)
class Figure:
    panels: tuple[Panel, ...]
    columns: int = 1
    legend: tuple[tuple[str, str], ...] = ()  # (label, colour), shown above the panels


def text(value: object, limit: int = 0) -> str:
    """Untrusted text as inert SVG character data, cut to `limit` characters (with …)."""
    s = _BAD_XML.sub("", str(value))
    if limit and len(s) > limit:
        s = s[: max(1, limit - 1)] + "…"
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))  # fmt: skip


def _f(v: float) -> str:
    """A coordinate with one decimal, never "-0.0"."""
    s = f"{v:.1f}"
    return "0.0" if s == "-0.0" else s


# --- ticks ---------------------------------------------------------------------------------------


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 × 10^k) giving about `count` ticks over `span` (as d3 does)."""
    raw = span / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    err = raw / power
    factor = 10 if err >= 7.07 else 5 if err >= 3.16 else 2 if err >= 1.41 else 1
    return factor * power


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def linear_ticks(lo: float, hi: float, count: int) -> tuple[float, float, list[float]]:
    """A domain widened to round values around [lo, hi], and its ticks."""
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, count)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    d = _decimals(step)
    ticks = [round(i * step, d + 1) for i in range(first, last + 1)]
    return ticks[0], ticks[-1], ticks


def number(v: float, si: bool = False) -> str:
    """A tick label as Vega's `~g` writes it (no trailing zeros); with `si`, 12000 as 12k."""
    if si and abs(v) >= 1000:
        for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(v) >= div:
                return f"{v / div:.6g}{suffix}"
    if v == 0:
        return "0"
    return f"{v:.6g}"


_SECOND = 1000
_TIME_STEPS = [s * _SECOND for s in (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600,
                                     6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400)]  # fmt: skip
_MONTHS = (1, 3, 6, 12, 24, 60, 120)


def time_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round UTC instants (epoch ms) between lo and hi, about `count` of them."""
    span = hi - lo
    for step in _TIME_STEPS:
        if span / step <= count:
            first = math.ceil(lo / step) * step
            return [float(t) for t in range(int(first), int(hi) + 1, step)]
    start = dt.datetime.fromtimestamp(lo / 1000, tz=dt.UTC)
    for months in _MONTHS:
        if span / (months * 30.44 * 86400 * 1000) <= count:
            break
    index = start.year * 12 + start.month - 1
    index += -index % months
    if dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC).timestamp() * 1000 < lo:
        index += months
    out = []
    while True:
        t = dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC).timestamp() * 1000
        if t > hi:
            return out
        out.append(t)
        index += months


def utc(ms: float) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime(TIME_FORMAT)


# --- drawing -------------------------------------------------------------------------------------

LEFT, RIGHT, TOP, BOTTOM = 52, 12, 20, 34
LEGEND_ROW = 16


def _legend_rows(legend: Sequence[tuple[str, str]], width: float) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = []
    used = width
    for label, color in legend:
        w = 18 + CHAR_W * min(len(label), 60) + 12
        if used + w > width and (not rows or rows[-1]):
            rows.append([])
            used = 0
        rows[-1].append((label, color))
        used += w
    return rows


def render(fig: Figure) -> str:
    """The figure as a standalone SVG document."""
    if not fig.panels:
        return ""
    cols = max(1, min(fig.columns, len(fig.panels)))
    cell_w = max(p.width for p in fig.panels) + LEFT + RIGHT
    cell_h = max(p.height for p in fig.panels) + TOP + BOTTOM
    rows = math.ceil(len(fig.panels) / cols)
    width = cols * cell_w
    legend = _legend_rows(fig.legend, width)
    top = len(legend) * LEGEND_ROW + (4 if legend else 0)
    height = top + rows * cell_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" '
           f'fill="{GREY}">']  # fmt: skip
    for r, items in enumerate(legend):
        x, y = 4.0, r * LEGEND_ROW + 12
        for label, color in items:
            out.append(f'<circle cx="{_f(x + 5)}" cy="{_f(y - 3.5)}" r="4" fill="{color}"/>'
                       f'<text x="{_f(x + 14)}" y="{_f(y)}">{text(label, 60)}</text>')  # fmt: skip
            x += 18 + CHAR_W * min(len(label), 60) + 12
    for i, panel in enumerate(fig.panels):
        ox, oy = (i % cols) * cell_w + LEFT, top + (i // cols) * cell_h + TOP
        out.append(f'<g transform="translate({ox},{oy})">')
        out.extend(_panel(panel))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _panel(p: Panel) -> list[str]:
    w, h = p.width, p.height
    xs = [x for s in p.series for x, _ in s.xy] + [r.at for r in p.rules if r.axis == "x"]
    ys = [y for s in p.series for _, y in s.xy] + [r.at for r in p.rules if r.axis == "y"]
    out: list[str] = []
    if p.title:
        out.append(f'<text x="0" y="-7" font-weight="bold">{text(p.title, int(w / CHAR_W))}'
                   "</text>")  # fmt: skip
    if not xs or not ys:
        return out
    y_lo, y_hi, y_ticks = linear_ticks(min(ys), max(ys), max(2, h // 40))

    def sy(v: float) -> float:
        return h - (v - y_lo) / (y_hi - y_lo) * h

    if p.x_kind == "category":
        n = max(1, len(p.categories))

        def sx(v: float) -> float:
            return (v + 0.5) / n * w

        x_ticks = [(sx(i), text(c, max(4, int(w / n / CHAR_W)))) for i, c in
                   enumerate(p.categories)]  # fmt: skip
    elif p.x_kind == "time":
        x_lo, x_hi = min(xs), max(xs)
        if x_hi == x_lo:
            x_lo, x_hi = x_lo - 3_600_000, x_hi + 3_600_000

        def sx(v: float) -> float:
            return (v - x_lo) / (x_hi - x_lo) * w

        x_ticks = [(sx(t), utc(t)) for t in time_ticks(x_lo, x_hi, max(2, w // 120))]
    else:
        x_lo, x_hi, ticks = linear_ticks(min(xs), max(xs), max(2, w // 60))

        def sx(v: float) -> float:
            return (v - x_lo) / (x_hi - x_lo) * w

        x_ticks = [(sx(t), number(t, si=True)) for t in ticks]
    # The frame, the grid and the axes.
    out.append(f'<rect width="{w}" height="{h}" fill="none" stroke="{GRID}"/>')
    for t in y_ticks:
        y = _f(sy(t))
        out.append(f'<line x1="0" x2="{w}" y1="{y}" y2="{y}" stroke="{GRID}"/>'
                   f'<text x="-5" y="{y}" dy="3" text-anchor="end">{number(t)}</text>')  # fmt: skip
    out.append(f'<line x1="0" x2="{w}" y1="{h}" y2="{h}" stroke="{GREY}"/>')
    for x, label in x_ticks:
        half = len(label) * CHAR_W / 2  # labels are cut or short; escapes only add a little
        anchor = "end" if x + half > w + RIGHT else "start" if x - half < -LEFT else "middle"
        out.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{h}" y2="{h + 4}" stroke="{GREY}"/>'
            f'<text x="{_f(x)}" y="{h + 14}" text-anchor="{anchor}">{label}</text>'
        )
    if p.x_title:
        out.append(f'<text x="{w / 2:.1f}" y="{h + 29}" text-anchor="middle" '
                   f'font-weight="bold">{text(p.x_title, int(w / CHAR_W))}</text>')  # fmt: skip
    if p.y_title:
        out.append(f'<text transform="translate(-40,{h / 2:.1f}) rotate(-90)" '
                   f'text-anchor="middle" font-weight="bold">'
                   f"{text(p.y_title, int(h / CHAR_W))}</text>")  # fmt: skip
    for s in p.series:
        pts = [(sx(x), sy(y)) for x, y in s.xy]
        if s.line and len(pts) > 1:
            if s.step:
                d = f"M{_f(pts[0][0])},{_f(pts[0][1])}" + "".join(
                    f"H{_f(x)}V{_f(y)}" for x, y in pts[1:]
                )
            else:
                d = "M" + "L".join(f"{_f(x)},{_f(y)}" for x, y in pts)
            width = 2 if s.step else 1.5
            out.append(f'<path d="{d}" fill="none" stroke="{s.color}" stroke-width="{width}"'
                       f'{_opacity(s.opacity)}/>')  # fmt: skip
        if s.dots:
            colors = s.dot_colors or (s.color,) * len(pts)
            fade = _opacity(s.opacity)
            out.extend(
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{s.radius}" fill="{c}"{fade}/>'
                for (x, y), c in zip(pts, colors, strict=False)
            )
    for rule in p.rules:
        dash = f' stroke-dasharray="{rule.dash}"' if rule.dash else ""
        if rule.axis == "y":
            y = _f(sy(rule.at))
            out.append(f'<line x1="0" x2="{w}" y1="{y}" y2="{y}" stroke="{rule.color}" '
                       f'stroke-width="1.5"{dash}/>')  # fmt: skip
            if rule.label:
                x, anchor = (w - 3, "end") if rule.end else (3, "start")
                out.append(f'<text x="{x}" y="{y}" dy="-3" text-anchor="{anchor}" '
                           f'fill="{rule.color}">{text(rule.label, 40)}</text>')  # fmt: skip
        else:
            x = _f(sx(rule.at))
            out.append(f'<line x1="{x}" x2="{x}" y1="0" y2="{h}" stroke="{rule.color}" '
                       f'stroke-width="1.5"{dash}/>')  # fmt: skip
            if rule.label:
                out.append(f'<text x="{x}" y="10" dx="3" fill="{rule.color}">'
                           f"{text(rule.label, 30)}</text>")  # fmt: skip
    return out


def _opacity(value: float) -> str:
    return "" if value >= 1 else f' opacity="{value:g}"'
