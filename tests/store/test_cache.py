"""The rebuildable cache: what a build stored reads back the same, a rebuild forgets what it no
longer uses, and a cache that cannot be written only makes the build slower."""

from __future__ import annotations

from pathlib import Path

from daybook.pages.charts import ChartSet, vega_bundle
from daybook.store.cache import FileCache


def test_stored_text_reads_back_and_unused_files_are_pruned(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "cache")
    assert cache.get("charts/a.svg") is None
    cache.put("charts/a.svg", "<svg>a</svg>")
    cache.put("charts/b.svg", "<svg>b</svg>")
    cache.put("vega-1.js", "bundle")
    assert cache.get("charts/a.svg") == "<svg>a</svg>"
    cache.keep_only("charts", {"b.svg"})
    assert sorted(p.name for p in (tmp_path / "cache" / "charts").iterdir()) == ["b.svg"]
    assert cache.get("vega-1.js") == "bundle"  # outside the pruned folder
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_an_unwritable_cache_is_only_slower(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    cache = FileCache(blocker)
    cache.put("charts/a.svg", "<svg/>")  # no error
    assert cache.get("charts/a.svg") is None


def test_charts_drawn_once_are_served_from_the_cache(tmp_path: Path) -> None:
    from daybook.pages.charts import Chart

    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 3}]},
        "mark": "line",
        "encoding": {"x": {"field": "x", "type": "quantitative"},
                     "y": {"field": "y", "type": "quantitative"}},
    }  # fmt: skip
    first = ChartSet(FileCache(tmp_path))
    path = first.asset(Chart("line", "t", spec))
    [stored] = (tmp_path / "charts").iterdir()
    stored.write_text("<svg>from the cache</svg>")  # a second build must not redraw it
    second = ChartSet(FileCache(tmp_path))
    assert second.asset(Chart("line", "t", spec)) == path
    assert second.svgs[path] == "<svg>from the cache</svg>"
    assert vega_bundle(FileCache(tmp_path)).startswith("/*! vega")
