# ruff: noqa: F811  (the session fixtures imported from review_store are used as arguments)
"""The morning review, monitors, comparisons and charts in a real `daybook build --strict` of a
real store: what the built HTML shows, that hostile names cannot break out of a chart's script,
that pages stay the same for the same reference point, and `daybook check --monitors`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from daybook.mkdocs.scaffold import init_site
from helpers import parse_html, read_tree, run_cli
from review_store import (  # noqa: F401
    HOSTILE,
    HOSTILE_METRIC,
    REVIEW_CONFIG,
    SINCE,
    ReviewStore,
    review_store,
)

SINCE_TEXT = "2025-11-29T16:00:00Z"  # = SINCE


@pytest.fixture(scope="module")
def review_site(tmp_path_factory: pytest.TempPathFactory, review_store: ReviewStore) -> Path:
    root = tmp_path_factory.mktemp("review-site") / "site"
    init_site(root)
    (root / "daybook.yml").write_text(
        f"tracking_uri: {review_store.uri}\n{REVIEW_CONFIG}", encoding="utf-8"
    )
    result = run_cli("build", "--strict", "-q", "-C", root, "--since", SINCE_TEXT, timeout=300)
    assert result.returncode == 0, result.stderr
    return root


def _html(site: Path, rel: str) -> str:
    return (site / "site" / rel).read_text(encoding="utf-8")


def _page(site: Path, rel: str):
    return parse_html(site / "site" / rel)


def test_since_text_is_the_reference_point() -> None:
    from daybook.store.state import parse_since

    assert parse_since(SINCE_TEXT, 0) == SINCE


def test_home_page_is_the_morning_review(review_site: Path) -> None:
    page = _page(review_site, "index.html")
    text = page.text
    assert "Changes since 2025-11-29 16:00 UTC (set with --since" in text
    best = page.table_with("Experiment", "Metric", "Before", "Now")
    [row] = best.body
    assert "0.5 (old-best)" in row[2].text and "0.4 (new-best)" in row[3].text
    assert row[3].hrefs and row[2].hrefs  # old → new, both linked
    runs = page.table_with("Run", "Status", "Started", "val_loss", "vs best before")
    cells = {r[0].text: r[4].text for r in runs.body}
    assert cells["new-best"].startswith("▲ −0.1") and cells["new-worse"].startswith("▼ +0.45")
    failed = page.table_with("Run", "Experiment", "Status", "Started", "User")
    assert sorted(r[0].text for r in failed.body) == ["crashed", "killed"]
    data = page.table_with("Dataset", "Context", "New digest", "Before", "First used by")
    assert [(r[0].text, r[2].text, r[3].text) for r in data.body] == [("patients", "bbb", "aaa")]
    monitors = page.table_with("Monitor", "Status", "Watches", "Latest")
    status = {r[0].text: r[1].text for r in monitors.body}
    assert status == {"m accuracy": "✖ fail", "unknown model": "✖ error",
                      "unknown metric": "✖ error"}  # fmt: skip
    assert all(r[0].hrefs[0].startswith("monitors/#") for r in monitors.body)
    assert "No open action items." in text  # no journal: the section still says so, in a line
    # Every run the review names links to a page (recent runs get pages of their own).
    for table in (runs, failed):
        assert all(r[0].hrefs for r in table.body)


def test_monitors_page_shows_status_evidence_and_config_lines(review_site: Path) -> None:
    text = _page(review_site, "monitors/index.html").text
    assert "accuracy = 0.88 < min 0.9 on eval-day6, v2" in text
    assert "baseline" not in text or "first evaluation of v2" in text
    # The unknown model's problem names the key and its line in daybook.yml.
    lines = (review_site / "daybook.yml").read_text().splitlines()
    model_line = next(i for i, line in enumerate(lines, 1) if "models:/mm@champion" in line)
    assert f"daybook.yml:{model_line}: monitors.1.model: no registered model named 'mm'" in text
    assert "monitors.2.metric: no run logged metric 'acuracy' (did you mean 'accuracy'?)" in text


def _specs(site: Path, html: str) -> list[object]:
    """The specs of a page's charts: files named by the page's `data-daybook-spec` keys (the
    page itself carries no chart data since issue #14)."""
    charts = site / "site" / "assets" / "daybook" / "charts"
    return [json.loads((charts / f"{key}.json").read_text(encoding="utf-8"))
            for key in re.findall(r'data-daybook-spec="([0-9a-f]{20})"', html)]  # fmt: skip


def test_hostile_names_stay_inside_the_chart_spec(
    review_site: Path, review_store: ReviewStore
) -> None:
    runs = review_site / "site" / "experiments" / "train" / "runs"
    [page] = runs.glob(f"*-{review_store.runs['hostile'][:8]}/index.html")
    html = page.read_text(encoding="utf-8")
    [spec] = _specs(review_site, html)
    titles = [p["title"]["text"] for p in spec["concat"]]
    assert HOSTILE_METRIC in titles  # the exact untrusted text survives, inert
    assert "<script>alert" not in html and "</script><script>" not in html
    # Only Daybook's own scripts and Material's: no chart data in the page.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts.count('<script id="__config" type="application/json">') == 1
    assert len([t for t in scripts if "application/json" in t]) == 1


def test_charts_where_they_belong_and_offline(review_site: Path) -> None:
    site = review_site / "site"
    assert (site / "assets" / "daybook" / "vega.js").stat().st_size > 500_000
    assert (site / "assets" / "daybook" / "charts.js").is_file()
    exp = _html(review_site, "experiments/train/index.html")
    kinds = [(s.get("layer") and "best") or ("concat" in s and "sweep")
             for s in _specs(review_site, exp)]  # fmt: skip
    # The progress chart; the sweeps are a table (issue #14), charted on their compare pages.
    assert kinds == ["best"]
    assert "daybook-sweeps" in exp and re.search(r'<a href="compare/[^"]+">compare</a>', exp)
    # Every page holds back the search index until the search box is used (issue #14).
    assert exp.index("daybook: the search index") < exp.index("javascripts/bundle.")
    model = _html(review_site, "models/m/index.html")
    assert len(_specs(review_site, model)) == 2  # primary metric per version, monitor's trend
    compare = next((site / "experiments" / "train" / "compare").glob("*/index.html"))
    assert "sweep-lr-0.01" in compare.read_text(encoding="utf-8")
    # Pages without a chart load no chart script at all.
    assert "daybook-charts-js" not in _html(review_site, "experiments/index.html")
    for html_file in site.rglob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        for src in re.findall(r'<script[^>]+src="([^"]+)"', text):
            assert "://" not in src, f"{html_file}: {src}"
    # Each chart's static SVG is an image beside the page, for readers without JavaScript.
    imgs = re.findall(r'<img alt="[^"]*" class="daybook-chart-fallback" src="([^"]+)"', exp)
    assert len(imgs) == 1
    base = site / "experiments" / "train"
    assert all((base / src).resolve().is_file() for src in imgs)


def test_same_reference_point_same_pages(review_site: Path, tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        r = run_cli("generate", "-q", "-C", review_site, "--since", SINCE_TEXT, "--out", out)
        assert r.returncode == 0, r.stderr
        outs.append(read_tree(out))
    assert outs[0] == outs[1]
    assert any(k.startswith("assets/daybook/charts/") for k in outs[0])


def test_builds_are_recorded_but_do_not_move_the_review(review_site: Path) -> None:
    # Issue #12: the window is "since the last published build", never the last local build
    # (two builds in a row used to empty the review); state.json still records each build.
    state = json.loads((review_site / ".daybook" / "state.json").read_text())
    assert state["last_build"]["at_ms"] > SINCE
    r = run_cli("generate", "-q", "-C", review_site, "--out", review_site / "gen")
    assert r.returncode == 0, r.stderr
    home = (review_site / "gen" / "index.md").read_text(encoding="utf-8")
    assert "in the 24 hours before this build, no published build yet" in home
    assert "the previous build" not in home


def test_check_reports_monitor_mistakes_and_gates_on_failures(review_site: Path) -> None:
    lines = (review_site / "daybook.yml").read_text().splitlines()
    model_line = next(i for i, line in enumerate(lines, 1) if "models:/mm@champion" in line)
    plain = run_cli("check", "-C", review_site)
    assert plain.returncode == 1
    assert f"daybook.yml:{model_line}: monitors.1.model: no registered model named 'mm'" in (
        plain.stdout)  # fmt: skip
    gate = run_cli("check", "--monitors", "-C", review_site)
    assert gate.returncode == 1
    assert "FAIL  m accuracy: accuracy = 0.88 < min 0.9 on eval-day6, v2" in gate.stdout
    assert "monitors: 1 fail, 2 error" in gate.stdout
    data = json.loads(run_cli("check", "--monitors", "--format", "json", "-C", review_site).stdout)
    assert [m["status"] for m in data["monitors"]] == ["fail", "error", "error"]


def test_a_passing_gate(review_site: Path, review_store: ReviewStore, tmp_path: Path) -> None:
    root = tmp_path / "ok"
    init_site(root)
    (root / "daybook.yml").write_text(
        f"tracking_uri: {review_store.uri}\nmonitors:\n  - name: lenient\n"
        "    model: models:/m@champion\n    metric: accuracy\n    min: 0.5\n"
    )
    gate = run_cli("check", "--monitors", "-C", root)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "OK    lenient" in gate.stdout
