"""The demo's model story end to end, as a new user runs it: `daybook init site && cd site &&
daybook demo && daybook build --strict` — model pages with aliases, deltas, lineage and the
champion's move from v1 to v2; a card with a completeness score and sections left empty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from daybook.analysis.deployments import state_after
from daybook.core.config import DaybookConfig
from daybook.demo.models import STORY
from daybook.store.history import read_history
from daybook.store.pull import pull
from helpers import HtmlPage, parse_html, run_cli


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("demo")
    assert run_cli("init", "site", cwd=base).returncode == 0
    site = base / "site"
    result = run_cli("demo", "-q", cwd=site, timeout=600)
    assert result.returncode == 0, result.stderr
    result = run_cli("build", "--strict", cwd=site, timeout=300)
    assert result.returncode == 0, result.stderr
    (site / "build.log").write_text(result.stderr)
    return site


def html(site: Path, rel: str) -> HtmlPage:
    return parse_html(site / "site" / rel / "index.html")


def test_the_demo_writes_a_card_and_an_alias_history_that_ends_where_the_store_is(
    demo_site: Path,
) -> None:
    card = (demo_site / "docs" / "models" / "cancer-detector.md").read_text()
    assert "## Environmental Impact" in card and "## Citation" in card
    events, problems = read_history(demo_site / "history" / "aliases.jsonl", "h")
    assert problems == ()
    assert [(e.model, e.alias, e.from_version, e.to_version, e.kind) for e in events] == [
        (model, alias, old, new, "set" if old is None else "moved")
        for _, model, alias, old, new in STORY
    ]
    snapshot = pull(DaybookConfig(), f"sqlite:///{demo_site / 'mlflow.db'}")
    assert state_after(events) == {
        (m.name, a): v for m in snapshot.models for a, v in m.aliases.items()
    }
    assert "recorded" not in (demo_site / "build.log").read_text()  # nothing new to record


def test_the_demo_model_page_shows_the_champion_moving(demo_site: Path) -> None:
    page = html(demo_site, "models/cancer-detector")
    timeline = page.table_with("Observed", "Alias", "Change")
    assert [(r[1].text, r[2].text) for r in timeline.body] == [
        ("challenger", "set to v3"),
        ("champion", "v1 → v2"),
        ("champion", "set to v1"),
    ]
    versions = page.table_with("Version", "Created")
    assert [c.text for c in versions.column("Version")] == ["v3", "v2", "v1"]
    assert [c.text for c in versions.column("Aliases")] == ["challenger", "champion", ""]
    deltas = [c.text for c in versions.column("Δ previous")]
    assert deltas[-1] == "—" and all(d.startswith(("+", "−", "-")) for d in deltas[:-1])
    held = [c.text for c in versions.column("Alias history")]
    assert held[1].startswith("champion ") and held[1].endswith("→ now")
    assert held[2].startswith("champion ") and not held[2].endswith("now")
    assert "≤" not in page.text  # the demo's history has every move, no baseline


def test_the_demo_lineage_reaches_run_data_and_commit(demo_site: Path) -> None:
    page = html(demo_site, "models/diabetes-regressor")
    v2 = next(t for t in page.tables if t.body and t.body[0][1].text.startswith("v2,"))
    facts = {r[0].text: r[1] for r in v2.body}
    assert facts["Logged model"].text.startswith("m-")
    assert facts["Source run"].text == "gbr-shallow in diabetes-regression"
    assert facts["Source run"].hrefs[0].startswith("../../experiments/diabetes-regression/runs/")
    assert "diabetes (training)" in facts["Data"].text
    assert "diabetes (validation)" in facts["Data"].text
    assert len(facts["Git commit"].text) == 40
    assert facts["Flavor"].text.startswith("sklearn ")


def test_the_demo_card_merges_and_scores(demo_site: Path) -> None:
    page = html(demo_site, "models/cancer-detector/card")
    facts = {r[0].text: r[1].text for r in page.tables[0].body}
    assert facts["Completeness"].startswith(
        "73 %: 8 of 11 covered; needs input: Environmental "
        "Impact, Technical Specifications, Citation"
    )
    assert facts["Describes"].startswith("cancer-detector v2 (alias champion)")
    assert "The hand-written part may be out of date" in page.text  # v3 came after the review
    status = {r[0].text: r[1].text for r in page.table_with("Section", "Status").body}
    assert status["Model Details"] == "✓ written + generated"
    assert status["Citation"] == "⚠ needs input"
    assert "Generated from the MLflow registry" in page.text
    other = html(demo_site, "models/diabetes-regressor/card")
    assert "none yet: daybook card new diabetes-regressor writes a skeleton" in other.text


def test_the_demo_card_exports_for_the_hub(demo_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "README.md"
    result = run_cli("card", "export", "cancer-detector", "--out", out, cwd=demo_site)
    assert result.returncode == 0, result.stderr
    card = ModelCard.load(out)
    meta = json.loads(json.dumps(card.data.to_dict()))
    assert meta["license"] == "apache-2.0"
    assert meta["model-index"][0]["results"][0]["task"]["type"] == "tabular-classification"
    assert {m["type"] for m in meta["model-index"][0]["results"][0]["metrics"]} == {
        "val_accuracy",
        "val_auc",
        "val_log_loss",
    }
