"""`daybook card new` and `daybook card export` through the real CLI, against a real store; the
export read back through huggingface_hub's ModelCard / ModelCardData without loss."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from daybook.commands.card import card_file_name, render_readme, round_trip_losses
from daybook.mkdocs.scaffold import init_site
from helpers import run_cli
from model_store import ModelStore, build_model_store

CARD = """\
---
license: apache-2.0
language: [en]
tags: [churn]
pipeline_tag: tabular-classification
last_updated: 2099-01-01
---
# churn-model

Predicts which customers leave.

## Uses

Retention campaigns. Not for pricing.

## Model Card Contact

alice@example.org
"""


@pytest.fixture(scope="module")
def mstore(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    root = tmp_path_factory.mktemp("model-store")
    with contextlib.chdir(root):
        return build_model_store(root)


@pytest.fixture
def site(tmp_path: Path, mstore: ModelStore) -> Path:
    root = tmp_path / "site"
    init_site(root)
    with (root / "daybook.yml").open("a") as fh:
        fh.write(f"tracking_uri: {mstore.uri}\n")
    return root


def front(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def test_card_new_writes_a_skeleton_and_never_overwrites(site: Path) -> None:
    result = run_cli("card", "new", "churn-model", "-C", site)
    assert result.returncode == 0, result.stderr
    path = site / "docs" / "models" / "churn-model.md"
    text = path.read_text()
    assert "# Model card for churn-model" in text
    meta = front(text)
    assert set(meta) == {"license", "language", "tags", "pipeline_tag", "last_updated"}
    for title in (
        "Model Details",
        "Uses",
        "Bias, Risks, and Limitations",
        "Training Details",
        "Evaluation",
        "Environmental Impact",
        "Technical Specifications",
        "Citation",
        "Model Card Authors",
        "Model Card Contact",
    ):
        assert f"\n## {title}\n" in text
    path.write_text(text + "\nmine\n")
    again = run_cli("card", "new", "churn-model", "-C", site)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert path.read_text().endswith("\nmine\n")


def test_card_new_refuses_a_model_the_registry_does_not_have(site: Path) -> None:
    result = run_cli("card", "new", "nope", "-C", site)
    assert result.returncode == 1
    assert "no registered model named 'nope'" in result.stderr
    assert "churn-model" in result.stderr
    assert not (site / "docs" / "models" / "nope.md").exists()


def test_a_new_skeleton_builds_and_asks_for_every_section(site: Path) -> None:
    assert run_cli("card", "new", "churn-model", "-C", site).returncode == 0
    result = run_cli("build", "-q", "-C", site)  # not --strict: the store has broken models
    assert result.returncode == 0, result.stderr
    assert "churn-model" not in result.stderr  # a fresh skeleton is no problem, just incomplete
    html = (site / "site" / "models" / "churn-model" / "card" / "index.html").read_text()
    assert html.count("Needs input") == 7  # all but the three Daybook fills from the registry


def test_export_round_trips_through_huggingface_hub_without_loss(
    site: Path, tmp_path: Path
) -> None:
    (site / "docs" / "models").mkdir(parents=True)
    (site / "docs" / "models" / "churn-model.md").write_text(CARD)
    out = tmp_path / "README.md"
    result = run_cli("card", "export", "churn-model", "-C", site, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stderr and "(v1 of churn-model)" in result.stderr
    text = out.read_text()
    meta = front(text)
    card = ModelCard.load(out)
    assert card.data.to_dict() == meta  # identical metadata
    assert card.data.license == "apache-2.0"
    assert card.data.tags == ["churn", "mlflow", "sklearn"]
    assert card.data.library_name == "sklearn"
    assert card.data.datasets == ["churn-training", "churn-validation"]
    assert card.data.metrics == ["val_auc", "val_loss"]
    assert card.data.model_name == "churn-model"
    assert card.data.eval_results == [
        EvalResult(
            task_type="tabular-classification",
            dataset_type="churn-validation",
            dataset_name="churn-validation (validation)",
            metric_type=key,
            metric_value=value,
            dataset_split="validation",
            dataset_revision=meta["model-index"][0]["results"][0]["dataset"]["revision"],
        )
        for key, value in (("val_auc", 0.81), ("val_loss", 1 - 0.81))
    ]
    assert ModelCardData(**meta).to_dict() == meta
    assert "last_updated" not in meta
    body = card.text
    assert "Retention campaigns. Not for pricing." in body  # written sections, as written
    assert "### Registry facts (generated)" in body
    assert "## Citation\n\n[More Information Needed]" in body
    assert str(ModelCard(str(card))) == str(card)  # what huggingface_hub writes is stable too


def test_export_chooses_the_version_by_number_or_alias(site: Path) -> None:
    by_alias = run_cli("card", "export", "churn-model", "-C", site, "--alias", "challenger")
    by_version = run_cli("card", "export", "churn-model", "-C", site, "--version", "2")
    assert by_alias.returncode == 0, by_alias.stderr
    assert by_alias.stdout == by_version.stdout
    assert "version 2 of" in by_alias.stdout
    assert "| val&#95;auc | 0.86 |" in by_alias.stdout
    no_such = run_cli("card", "export", "churn-model", "-C", site, "--version", "9")
    assert no_such.returncode == 1
    assert "churn-model has no version 9 (versions: 1, 2)" in no_such.stderr
    both = run_cli("card", "export", "churn-model", "-C", site, "--version", "1", "--alias", "x")
    assert both.returncode == 2


def test_export_says_why_it_cannot(site: Path, tmp_path: Path) -> None:
    empty = run_cli("card", "export", "empty-model", "-C", site)
    assert empty.returncode == 1
    assert "cannot export: empty-model has no versions yet" in empty.stderr
    (site / "docs" / "models").mkdir(parents=True)
    (site / "docs" / "models" / "churn-model.md").write_text("---\nlicense: [\n---\n")
    broken = run_cli("card", "export", "churn-model", "-C", site)
    assert broken.returncode == 1
    assert "docs/models/churn-model.md:2: invalid YAML metadata" in broken.stderr
    (site / "docs" / "models" / "churn-model.md").write_text("---\nlicense: other\n---\n")
    rules = run_cli("card", "export", "churn-model", "-C", site)
    assert rules.returncode == 1
    assert "license: other needs `license_name` and `license_link`" in rules.stderr
    out = tmp_path / "README.md"
    out.write_text("keep")
    (site / "docs" / "models" / "churn-model.md").write_text(CARD)
    exists = run_cli("card", "export", "churn-model", "-C", site, "--out", out)
    assert exists.returncode == 1 and "--force" in exists.stderr
    assert out.read_text() == "keep"
    forced = run_cli("card", "export", "churn-model", "-C", site, "--out", out, "--force")
    assert forced.returncode == 0 and out.read_text().startswith("---\nlicense: apache-2.0\n")


def test_a_classifier_without_a_task_gets_an_inferred_one_and_its_model_index(
    site: Path, tmp_path: Path
) -> None:
    """No card names the task: a scikit-learn model whose signature returns class labels is a
    tabular classifier, so the export carries its evaluation results (and says it guessed)."""
    out = tmp_path / "README.md"
    result = run_cli("card", "export", "churn-model", "-C", site, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "pipeline_tag: tabular-classification, inferred from the sklearn flavor" in result.stderr
    assert "no model-index" not in result.stderr
    card = ModelCard.load(out)
    assert card.data.pipeline_tag == "tabular-classification"
    assert "- **Task:** tabular-classification, inferred from the sklearn flavor" in card.text
    assert card.data.to_dict() == front(out.read_text())  # loads back unchanged
    assert [(r.task_type, r.metric_type, r.metric_value) for r in card.data.eval_results] == [
        ("tabular-classification", "val_auc", 0.81),
        ("tabular-classification", "val_loss", 1 - 0.81),
    ]


def test_a_written_task_is_never_replaced_by_an_inferred_one(site: Path) -> None:
    (site / "docs" / "models").mkdir(parents=True)
    card = CARD.replace("tabular-classification", "tabular-regression")  # wrong, but theirs
    (site / "docs" / "models" / "churn-model.md").write_text(card)
    result = run_cli("card", "export", "churn-model", "-C", site)
    assert result.returncode == 0, result.stderr
    assert front(result.stdout)["pipeline_tag"] == "tabular-regression"
    assert "inferred" not in result.stderr


def test_export_without_a_task_warns_that_model_index_needs_one(site: Path) -> None:
    # a version whose MLmodel file cannot be read: nothing to infer the task from
    result = run_cli("card", "export", "broken-model", "-C", site)
    assert result.returncode == 0, result.stderr
    assert "model-index" not in front(result.stdout)
    assert "set `pipeline_tag`" in result.stderr


def test_a_card_logged_with_the_run_is_exported(site: Path) -> None:
    result = run_cli("card", "export", "readme-model", "-C", site)
    assert result.returncode == 0, result.stderr
    meta = front(result.stdout)
    assert meta["license"] == "mit"
    assert meta["tags"] == ["from-artifact", "mlflow"]
    assert "Forecasting demand for the demo shop." in result.stdout


def test_round_trip_losses_catch_what_huggingface_hub_would_drop() -> None:
    lossy = {
        "license": "mit",
        "model-index": [
            {
                "name": "m",
                "results": [
                    {
                        "task": {"type": "tabular-classification"},
                        "dataset": {"type": "d", "name": "d"},
                        "metrics": [{"type": "acc", "value": 0.9, "unit": "%"}],
                    }
                ],
            }
        ],
    }
    losses = round_trip_losses(render_readme(lossy, "# m\n"))
    assert any("unit: lost" in x for x in losses)
    assert round_trip_losses(render_readme({"license": "mit", "tags": ["a", "a"]}, "x\n"))
    assert round_trip_losses(render_readme({"license": "mit", "tags": ["a"]}, "# m\n")) == []


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("churn-model", "churn-model.md"),
        ("My Model v2", "My Model v2.md"),
        ("team/churn", "team-churn.md"),
        (".hidden", "hidden.md"),
    ],
)
def test_card_file_names(name: str, file: str) -> None:
    assert card_file_name(name) == file
