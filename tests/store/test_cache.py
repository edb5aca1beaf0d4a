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


def test_the_chart_library_is_kept_and_old_chart_pictures_forgotten(tmp_path: Path) -> None:
    # Charts are drawn in Python now (issue #14), too cheap to cache; the 0.9 MB library taken
    # from vl-convert (seconds to produce) stays cached, and SVGs an earlier version cached go.
    from daybook.pages.charts import Chart
    from daybook.pages.svg_chart import Figure, Panel, Series

    cache = FileCache(tmp_path)
    cache.put("charts/0123456789abcdef0123.svg", "<svg>old</svg>")
    figure = Figure((Panel((Series(((1, 2.0), (2, 3.0)), "#1e88e5"),)),))
    charts = ChartSet(cache)
    path = charts.asset(Chart("line", "t", {"mark": "line"}, (), figure))
    assert charts.svgs[path].startswith("<svg") and path.endswith(".svg")
    assert vega_bundle(cache).startswith("/*! vega")
    charts.files()
    charts.prune_cache()
    assert not list((tmp_path / "charts").iterdir())
    assert cache.get(next(p.name for p in tmp_path.glob("vega-*.js"))) is not None
