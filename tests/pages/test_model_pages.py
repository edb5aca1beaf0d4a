"""Model pages, card pages and the alias history in real MkDocs builds of a real store (issue #4).

One site over a copy of tests/model_store.py's store, with hand-written cards: a hostile one, a
broken one and one for a model that does not exist. Builds run the real `daybook` CLI in a
subprocess; one runs MkDocs in this process to see which logger warned.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient

from daybook.mkdocs.scaffold import init_site
from helpers import HtmlPage, parse_html, read_tree, run_cli
from model_store import ModelStore, build_model_store

HOSTILE_CARD = """\
---
license: "<script>alert('lic')</script>"
tags: ["<img src=x onerror=alert(1)>", churn]
pipeline_tag: tabular-classification
last_updated: 2099-01-01
---
# Model card for churn-model

<script>alert('summary')</script>

## Model Details

- **Developed by:** <b onclick=alert(1)>mallory</b>

## Uses

[click](javascript:alert(1)) and [docs](https://example.org/docs) and
[sneaky](&#106;avascript:alert(3))

![tracker](http://tracker.example/pixel.png)

## Bias, Risks, and Limitations

# Heading {: onclick=alert(2) }

--8<-- "/etc/passwd"

Template syntax stays text: {{ config.site_name }} {% if true %}x{% endif %}

## <script>alert('title')</script>

An extra section with a hostile title.
"""
BROKEN_CARD = "---\nlicense: mit\ntags: [unclosed\npipeline_tag: x\n---\n## Uses\n\nStill shown.\n"
GHOST_CARD = "---\nlicense: mit\n---\n## Uses\n\nFor a model that does not exist.\n"


def article(path: Path) -> str:
    """The page's content (Material's own scripts are outside the article)."""
    html = path.read_text(encoding="utf-8")
    return html[html.index("<article") : html.index("</article>")]


def page(site: Path, rel: str) -> HtmlPage:
    return parse_html(site / "site" / rel / "index.html")


def history(site: Path) -> list[dict[str, object]]:
    path = site / "history" / "aliases.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def mstore(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    root = tmp_path_factory.mktemp("model-store")
    with contextlib.chdir(root):
        return build_model_store(root)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, mstore: ModelStore) -> tuple[Path, ModelStore]:
    """A site over its own copy of the store (the tests move its aliases), built once."""
    base = tmp_path_factory.mktemp("model-site")
    store = mstore.copy(base / "store")
    root = base / "site"
    init_site(root)
    cards = root / "docs" / "models"
    cards.mkdir(parents=True)
    (cards / "churn-model.md").write_text(HOSTILE_CARD)
    (cards / "broken-model.md").write_text(BROKEN_CARD)
    (cards / "ghost.md").write_text(GHOST_CARD)
    result = run_cli("build", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    (root / "first-build.log").write_text(result.stderr)
    return root, store


def test_bad_input_still_builds_and_each_problem_is_a_build_warning(
    site: tuple[Path, ModelStore],
) -> None:
    root, store = site
    log = (root / "first-build.log").read_text()
    warnings = [line for line in log.splitlines() if line.startswith("WARNING")]
    assert any("docs/models/broken-model.md:4: invalid YAML metadata" in w for w in warnings)
    assert any(
        "docs/models/ghost.md:1: no registered model is named 'ghost'" in w for w in warnings
    )
    deleted = store.runs["to-delete"]
    assert any(f"models:/orphan-model/1: source run {deleted} was deleted" in w for w in warnings)
    assert any("models:/broken-model/1: MLmodel at" in w and "invalid YAML" in w for w in warnings)
    # A model with no versions yet is normal in a registry: said on its page, not a warning.
    assert not any(w.split("-  ", 1)[1].startswith("models:/empty-model") for w in warnings)
    assert any("models:/empty-model: has no versions yet" in line for line in log.splitlines())


def test_strict_builds_fail_on_bad_input_and_name_the_file_and_line(
    site: tuple[Path, ModelStore],
) -> None:
    root, store = site
    result = run_cli("build", "--strict", "-q", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode != 0
    assert "docs/models/broken-model.md:4: invalid YAML metadata" in result.stderr


def test_the_model_page_shows_aliases_versions_deltas_and_lineage(
    site: tuple[Path, ModelStore],
) -> None:
    root, store = site
    p = page(root, "models/churn-model")
    assert p.heading() == "churn-model"
    aliases = p.table_with("Alias", "Version", "Since")
    assert [(r[0].text, r[1].text) for r in aliases.body] == [
        ("challenger", "churn-model v2"),
        ("champion", "churn-model v1"),
    ]
    versions = p.table_with("Version", "Created", "Status")
    assert [c.text for c in versions.column("Version")] == ["v2", "v1"]
    # The delta has the decimals of the values beside it (0.9000 against 0.8500).
    assert [c.text for c in versions.column("Δ previous")] == ["+0.0500", "—"]
    assert [c.hrefs for c in versions.column("Version")] == [["#v2"], ["#v1"]]
    v1 = next(t for t in p.tables if t.body and t.body[0][1].text.startswith("v1,"))
    facts = {r[0].text: r[1] for r in v1.body}
    assert facts["Logged model"].text == store.logged["logreg"]
    assert facts["Flavor"].text.startswith("sklearn ")
    assert facts["Signature"].text == "4 inputs → 1 output"
    assert facts["Source run"].text == "logreg in churn"
    assert "churn-training (training)" in facts["Data"].text
    assert "churn-validation (validation)" in facts["Data"].text
    assert facts["Git commit"].text == "0" * 40
    assert "v1" in {a.get("id") for _, a in p.tags}


def test_registry_descriptions_read_the_same_on_the_card_and_the_model_page(
    site: tuple[Path, ModelStore],
) -> None:
    root, _ = site
    for path in ("models/churn-model", "models/churn-model/card"):
        html = (root / "site" / path / "index.html").read_text(encoding="utf-8")
        assert "Trained on <code>features_v2</code>." in html, path  # Markdown, rendered
        assert "`features_v2`" not in html, path  # never its backticks as typed


def test_the_card_merges_written_and_generated_sections(site: tuple[Path, ModelStore]) -> None:
    root, _ = site
    p = page(root, "models/churn-model/card")
    assert p.heading() == "churn-model: model card"
    contents = {r[0].text: r[1].text for r in p.table_with("Section", "Status").body}
    assert contents["Model Details"] == "✓ written + generated"
    assert contents["Uses"] == "✓ written"
    assert contents["Training Details"] == "✓ generated"
    assert contents["Evaluation"] == "✓ generated"
    assert contents["Citation"] == "⚠ needs input"
    facts = {r[0].text: r[1].text for r in p.tables[0].body}
    assert facts["Describes"].startswith("churn-model v1 (alias champion)")
    assert facts["Completeness"].startswith("55 %: 6 of 11 covered")
    assert facts["Hand-written part"] == "docs/models/churn-model.md"
    metrics = p.table_with("Metric", "Value")
    assert [(r[0].text, r[1].text) for r in metrics.body] == [
        ("val_auc", "0.81"),
        ("val_loss", "0.19"),
    ]
    meta = {r[0].text: (r[1].text, r[2].text) for r in p.table_with("Key", "Value", "From").body}
    assert meta["license"] == ("<script>alert('lic')</script>", "written")
    assert meta["model-index"][1] == "generated"
    assert "Generated from the MLflow registry" in p.text
    assert ("h2", "<script>alert('title')</script>") in p.headings  # the title, shown as text


def test_a_hostile_card_cannot_run_code_fetch_or_include_anything(
    site: tuple[Path, ModelStore],
) -> None:
    root, _ = site
    html = article(root / "site" / "models" / "churn-model" / "card" / "index.html")
    tags = HtmlPage(html).tags
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed")]
    for tag, attrs in tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        href = (attrs.get("href") or "").lower()
        assert not href.startswith(("javascript:", "&#106;")), href
    assert "root:x:" not in html  # no snippet was included
    text = page(root, "models/churn-model/card").text
    assert "<script>alert('summary')</script>" in text  # raw HTML is shown as text
    assert "<b onclick=alert(1)>mallory</b>" in text
    assert "{{ config.site_name }}" in text and "{% if true %}" in text
    assert "Heading {: onclick=alert(2) }" in text
    assert '--8<-- "/etc/passwd"' in text
    links = [a.get("href") for t, a in tags if t == "a" and "example.org" in (a.get("href") or "")]
    assert links == ["https://example.org/docs"]  # a safe link stays a link
    image = [a for t, a in tags if t == "a" and "tracker" in (a.get("href") or "")]
    assert image == [{"href": "http://tracker.example/pixel.png", "rel": "nofollow noopener"}]


def test_hand_written_cards_are_not_published_on_their_own(site: tuple[Path, ModelStore]) -> None:
    root, _ = site
    built = root / "site"
    # models/churn-model.md would be served at models/churn-model/: the model page's URL.
    assert page(root, "models/churn-model").heading() == "churn-model"
    assert not (built / "models" / "ghost").exists()
    assert not (built / "models" / "churn-model.md").exists()
    assert (built / "models" / "churn-model" / "card" / "index.html").is_file()
    nav = (built / "models" / "index.html").read_text()
    assert 'href="churn-model/card/"' in nav


def test_a_card_logged_with_the_run_is_used_without_a_repo_card(
    site: tuple[Path, ModelStore],
) -> None:
    root, store = site
    p = page(root, "models/readme-model/card")
    facts = {r[0].text: r[1].text for r in p.tables[0].body}
    assert facts["Hand-written part"] == (
        f"logged with the run: runs:/{store.runs['with-readme']}/README.md"
    )
    assert "Forecasting demand for the demo shop." in p.text


def test_bad_registry_input_is_shown_on_the_page(site: tuple[Path, ModelStore]) -> None:
    root, store = site
    orphan = page(root, "models/orphan-model").text
    assert f"source run {store.runs['to-delete']} was deleted" in orphan
    broken = page(root, "models/broken-model").text
    assert "invalid YAML (line 2)" in broken
    card = page(root, "models/broken-model/card").text
    assert "docs/models/broken-model.md:4: invalid YAML metadata" in card
    assert "Still shown." in card
    empty = page(root, "models/empty-model")
    assert "This model has no versions yet." in empty.text
    assert "No version to describe" in page(root, "models/empty-model/card").text
    models = page(root, "models").text
    assert "docs/models/ghost.md:1: no registered model is named 'ghost'" in models


def test_the_first_build_records_the_aliases_as_a_baseline(site: tuple[Path, ModelStore]) -> None:
    root, _ = site
    first = history(root)[:3]
    assert [(e["model"], e["alias"], e["from"], e["to"], e["event"]) for e in first] == [
        ("churn-model", "challenger", None, 2, "baseline"),
        ("churn-model", "champion", None, 1, "baseline"),
        ("orphan-model", "prod", None, 1, "baseline"),
    ]
    assert len({e["observed_at"] for e in first}) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(first[0]["observed_at"]))


def test_alias_moves_are_appended_and_shown_as_a_timeline(site: tuple[Path, ModelStore]) -> None:
    root, store = site
    path = root / "history" / "aliases.jsonl"
    before = path.read_bytes()
    client = MlflowClient(tracking_uri=store.uri, registry_uri=store.uri)
    client.set_registered_model_alias("churn-model", "champion", "2")
    client.delete_registered_model_alias("churn-model", "challenger")
    out = root.parent / "gen-1"
    result = run_cli("generate", "-q", "-C", root, "--tracking-uri", store.uri, "--out", out)
    assert result.returncode == 0, result.stderr
    after = path.read_bytes()
    assert after.startswith(before)  # earlier lines are never rewritten
    moved = history(root)[3:]
    assert [(e["alias"], e["from"], e["to"], e["event"]) for e in moved] == [
        ("challenger", 2, None, "removed"),
        ("champion", 1, 2, "moved"),
    ]
    result = run_cli("build", "-q", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == after  # nothing moved since: nothing appended
    p = page(root, "models/churn-model")
    timeline = p.table_with("Observed", "Alias", "Change")
    assert [(r[1].text, r[2].text) for r in timeline.body] == [
        ("champion", "v1 → v2"),
        ("challenger", "removed (was v2)"),
        ("champion", "pointed at v1 when first observed"),
        ("challenger", "pointed at v2 when first observed"),
    ]
    held = {r[0].text: r[-1].text for r in p.table_with("Version", "Created").body}
    assert re.fullmatch(r"champion ≤ \S+ → \S+", held["v1"])  # held since the baseline, until now
    assert re.fullmatch(r"challenger ≤ \S+ → \S+champion \S+ → now", held["v2"])
    assert "≤: it already did when Daybook first looked" in p.text


def test_pages_are_byte_identical_when_store_and_history_are_unchanged(
    site: tuple[Path, ModelStore],
) -> None:
    root, store = site
    outs = []
    for n in (2, 3):
        out = root.parent / f"gen-{n}"
        result = run_cli("generate", "-q", "-C", root, "--tracking-uri", store.uri, "--out", out)
        assert result.returncode == 0, result.stderr
        outs.append(read_tree(out))
    assert outs[0] == outs[1]


def test_builds_warn_on_the_daybook_logger(
    site: tuple[Path, ModelStore], caplog: pytest.LogCaptureFixture
) -> None:
    """In-process `mkdocs build`, as `mkdocs build` itself runs the gen-files script."""
    from daybook.mkdocs.runner import build_site

    root, store = site
    os.environ["MLFLOW_TRACKING_URI"] = store.uri
    try:
        with caplog.at_level(logging.INFO, logger="mkdocs"):
            build_site(root, site_dir=root.parent / "inproc")
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    ours = [r for r in caplog.records if r.name == "mkdocs.plugins.daybook"]
    broken = [r for r in ours if "broken-model.md:4" in r.getMessage()]
    assert broken and all(r.levelno == logging.WARNING for r in broken)


def test_a_clean_registry_with_a_hostile_card_builds_strict(
    site: tuple[Path, ModelStore], tmp_path: Path
) -> None:
    root, store = site
    clean = store.copy(tmp_path / "store")
    client = MlflowClient(tracking_uri=clean.uri, registry_uri=clean.uri)
    for name in ("orphan-model", "broken-model"):
        client.delete_registered_model(name)
    other = tmp_path / "site"
    init_site(other)
    (other / "docs" / "models").mkdir(parents=True)
    shutil.copy(root / "docs" / "models" / "churn-model.md", other / "docs" / "models")
    result = run_cli("build", "--strict", "-C", other, "--tracking-uri", clean.uri)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    assert (other / "site" / "models" / "churn-model" / "card" / "index.html").is_file()
