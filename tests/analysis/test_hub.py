"""Hugging Face metadata: what the export writes, and Daybook's offline checks of Hub rules."""

from __future__ import annotations

import math
from typing import Any

import pytest
from huggingface_hub import ModelCardData

from daybook.analysis.cards import MergedCard, merge_card
from daybook.analysis.hub import (
    check_metadata,
    checked,
    hub_metadata,
    inferred_task,
    model_index,
)
from daybook.core.snapshot import (
    DatasetInput,
    Experiment,
    ModelFiles,
    ModelSignature,
    ModelVersion,
    RegisteredModel,
    Run,
    SignatureField,
)
from daybook.sources.cards import parse_card

T0 = 1_764_000_000_000
V1 = ModelVersion("churn", 1, T0, T0, "", "READY", "models:/m-1", "r1", "bob")
RUN = Run(
    "r1",
    "1",
    "forest",
    "FINISHED",
    T0,
    T0,
    "bob",
    "",
    metrics={
        "val_auc": 0.86,
        "val_loss": 0.2,
        "broken": math.inf,
    },
    datasets=(
        DatasetInput("churn-train", "d1", "local", "/t.csv", "training"),
        DatasetInput("churn-val", "d2", "local", "/v.csv", "validation"),
    ),
)
EXP = Experiment("1", "churn", "", T0, T0)


def card(
    meta: str = "",
    run: Run | None = RUN,
    tags: dict[str, str] | None = None,
    signature: ModelSignature | None = None,
    library: str = "sklearn",
) -> MergedCard:
    text = f"---\n{meta}---\n## Uses\n\nx\n" if meta else "## Uses\n\nx\n"
    model = RegisteredModel("churn", "", T0, T0, tags=tags or {}, versions=(V1,))
    files = ModelFiles(
        "churn", 1, library=library, flavors=("python_function", library), signature=signature
    )
    return merge_card(
        model,
        V1,
        "x",
        repo_card=parse_card(text, "docs/models/churn.md", "churn"),
        run=run,
        run_state="",
        experiment=EXP,
        files=files,
    )


def test_metadata_keeps_what_was_written_and_adds_what_the_registry_knows() -> None:
    meta = hub_metadata(
        card(
            "license: mit\ntags: [churn]\npipeline_tag: tabular-classification\n"
            "last_updated: 2025-11-24\nlanguage: []\n"
        )
    )
    assert meta["license"] == "mit"
    assert meta["tags"] == ["churn", "mlflow", "sklearn"]
    assert meta["library_name"] == "sklearn"
    assert meta["datasets"] == ["churn-train", "churn-val"]
    assert meta["metrics"] == ["val_auc", "val_loss"]
    assert "last_updated" not in meta and "language" not in meta  # Daybook's own; empty
    assert meta["model-index"] == [
        {
            "name": "churn",
            "results": [
                {
                    "task": {"type": "tabular-classification"},
                    "dataset": {
                        "type": "churn-val",
                        "name": "churn-val (validation)",
                        "split": "validation",
                        "revision": "d2",
                    },
                    "metrics": [
                        {"type": "val_auc", "value": 0.86},
                        {"type": "val_loss", "value": 0.2},
                    ],
                }
            ],
        }
    ]
    assert check_metadata(meta) == []


def test_model_index_needs_a_task_and_metrics() -> None:
    assert model_index(card("license: mit\n")) is None  # no pipeline_tag, no Hub task tag
    assert model_index(card("", tags={"task": "regression"})) is None  # not a Hub task id
    tagged = model_index(card("", tags={"pipeline_tag": "tabular-regression"}))
    assert tagged is not None and tagged[0]["results"][0]["task"]["type"] == "tabular-regression"
    assert model_index(card("pipeline_tag: tabular-classification\n", run=None)) is None


def test_a_hand_written_model_index_wins() -> None:
    written = "model-index:\n- name: mine\n  results: []\n"
    assert hub_metadata(card(written))["model-index"] == [{"name": "mine", "results": []}]


@pytest.mark.parametrize(
    ("meta", "key", "level"),
    [
        ({}, "license", "warning"),
        ({"license": "my-own"}, "license", "warning"),
        ({"license": ["mit"]}, "license", "error"),
        ({"license": "other"}, "license", "error"),
        ({"license": "mit", "tags": [1, "x"]}, "tags", "error"),
        ({"license": "mit", "tags": ["x", "x"]}, "tags", "warning"),
        ({"license": "mit", "pipeline_tag": "churn"}, "pipeline_tag", "warning"),
        ({"license": "mit", "library_name": ["a"]}, "library_name", "error"),
        ({"license": "mit", "model-index": {"name": "x"}}, "model-index", "error"),
    ],
)
def test_the_hub_rules(meta: dict[str, Any], key: str, level: str) -> None:
    assert (key, level) in [(k, lv) for k, _, lv in check_metadata(meta)]


@pytest.mark.parametrize(
    "result",
    [
        {"task": {"type": "t"}, "dataset": {"type": "d", "name": "d"}, "metrics": []},
        {"task": {"type": "t"}, "dataset": {"type": "d"}, "metrics": [{"type": "a", "value": 1}]},
        {"task": {}, "dataset": {"type": "d", "name": "d"}, "metrics": [{"type": "a", "value": 1}]},
        {
            "task": {"type": "t"},
            "dataset": {"type": "d", "name": "d"},
            "metrics": [{"type": "a", "value": 1, "unit": "%"}],
        },
        {
            "task": {"type": "t"},
            "dataset": {"type": "d", "name": "d"},
            "metrics": [{"type": "a", "value": math.nan}],
        },
    ],
)
def test_model_index_entries_huggingface_hub_would_lose_or_reject_are_errors(
    result: dict[str, Any],
) -> None:
    meta = {"license": "mit", "model-index": [{"name": "m", "results": [result]}]}
    assert any(k == "model-index" and lv == "error" for k, _, lv in check_metadata(meta))


def test_what_passes_the_checks_loads_into_model_card_data_without_loss() -> None:
    meta = hub_metadata(card("license: apache-2.0\npipeline_tag: tabular-classification\n"))
    assert check_metadata(meta) == []
    assert ModelCardData(**meta).to_dict() == meta


def test_checked_cards_carry_the_findings_at_the_keys_line() -> None:
    c = checked(card("license: nope\ndatasets: [1]\n"))
    found = {(p.line, p.level) for p in c.problems if p.code == "card.metadata"}
    assert found == {(2, "warning"), (3, "error")}
    broken = checked(card("license: [\n"))
    assert [p.code for p in broken.problems] == ["card.yaml"]  # no rule checks on broken YAML


def sig(outputs: list[str], inputs: tuple[str, ...] = ("double", "long")) -> ModelSignature:
    return ModelSignature(
        tuple(SignatureField(f"x{i}", t) for i, t in enumerate(inputs)),
        tuple(SignatureField("", t) for t in outputs),
    )


@pytest.mark.parametrize(
    ("signature", "library", "task"),
    [
        (sig(["tensor int64 (-1)"]), "sklearn", "tabular-classification"),  # predict() labels
        (sig(["string"]), "xgboost", "tabular-classification"),
        (sig(["tensor float64 (-1)"]), "sklearn", "tabular-regression"),
        (sig(["double"], ("tensor float64 (-1, 4)",)), "lightgbm", "tabular-regression"),
        (sig(["tensor float64 (-1, 3)"]), "sklearn", None),  # class probabilities: unclear
        (sig(["long", "double"]), "sklearn", None),  # two outputs
        (sig(["long"], ("tensor float32 (-1, 28, 28, 1)",)), "sklearn", None),  # images
        (sig(["long"]), "pytorch", None),  # not a tabular library
        (None, "sklearn", None),  # no signature: nothing to go on
    ],
)
def test_a_task_is_inferred_only_for_a_tabular_model_with_a_clear_output(
    signature: ModelSignature | None, library: str, task: str | None
) -> None:
    found = inferred_task(card(signature=signature, library=library))
    assert (found.task if found else None) == task


def test_an_inferred_task_fills_pipeline_tag_and_model_index_but_never_overrides() -> None:
    labels = sig(["tensor int64 (-1)"])
    meta = hub_metadata(card(signature=labels))
    assert meta["pipeline_tag"] == "tabular-classification"
    assert meta["model-index"][0]["results"][0]["task"]["type"] == "tabular-classification"
    assert ModelCardData(**meta).to_dict() == meta
    written = hub_metadata(card("pipeline_tag: tabular-regression\n", signature=labels))
    assert written["pipeline_tag"] == "tabular-regression"
    tagged = hub_metadata(card(tags={"pipeline_tag": "tabular-regression"}, signature=labels))
    assert tagged["model-index"][0]["results"][0]["task"]["type"] == "tabular-regression"
