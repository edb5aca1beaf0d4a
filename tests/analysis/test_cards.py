"""Model cards: sections, what counts as written, the merge with registry facts, the score."""

from __future__ import annotations

import pytest
from huggingface_hub import ModelCard, ModelCardData

from daybook.analysis.cards import (
    STANDARD_SECTIONS,
    choose_version,
    find_card,
    has_content,
    merge_card,
    section_key,
    split_sections,
    staleness,
)
from daybook.core.snapshot import (
    CardFile,
    DatasetInput,
    ModelFiles,
    ModelVersion,
    RegisteredModel,
    Run,
)
from daybook.sources.cards import parse_card

DAY = 86_400_000
T0 = 1_764_000_000_000


def version(n: int, created: int = T0, run_id: str = "r1") -> ModelVersion:
    return ModelVersion("m", n, created, created, "", "READY", f"models:/m-{n}", run_id, "bob")


def registered(*versions: ModelVersion, aliases: dict[str, int] | None = None) -> RegisteredModel:
    return RegisteredModel("m", "", T0, T0, aliases=aliases or {}, versions=versions)


RUN = Run(
    "r1",
    "1",
    "forest",
    "FINISHED",
    T0,
    T0 + 1000,
    "bob",
    "file:///a",
    params={"depth": "4"},
    metrics={"val_auc": 0.9, "odd": float("nan")},
    datasets=(DatasetInput("d", "abc", "local", "/d.csv", "training"),),
)


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("Model Details", "model-details"),
        ("model details", "model-details"),
        ("Bias, Risks, and Limitations", "bias-risks-limitations"),
        ("Bias, Risks and Limitations", "bias-risks-limitations"),
        ("Technical Specifications [optional]", "technical-specifications"),
        ("Citation [optional]", "citation"),
        ("Model Card Contact", "model-card-contact"),
        ("How to Get Started with the Model", None),
    ],
)
def test_standard_sections_are_recognised_however_they_are_spelled(
    title: str, key: str | None
) -> None:
    assert section_key(title) == key


def test_sections_are_cut_at_level_two_headings_outside_code() -> None:
    body = (
        "# Model card for m\n\nSummary line.\n\n## Uses\n\nFor triage.\n\n```md\n## Not a section\n"
        "```\n\n### Direct Use\n\nReading.\n\n## Citation\n"
    )
    parsed = split_sections(body, body_line=5)
    assert parsed.summary == "Summary line."
    assert [(s.title, s.key, s.line) for s in parsed.sections] == [
        ("Uses", "uses", 9),
        ("Citation", "citation", 21),
    ]
    assert "## Not a section" in parsed.sections[0].text
    assert "### Direct Use" in parsed.sections[0].text


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("", False),
        ("<!-- Describe the uses. -->", False),
        ("[More Information Needed]", False),
        ("### Direct Use\n\n[More Information Needed]\n\n### Out-of-Scope Use", False),
        ("- **Developed by:**\n- **Model type:** [More Information Needed]", False),
        ("**BibTeX:**\n\n[More Information Needed]\n\n**APA:**", False),
        ("- **Developed by:** alice", True),
        ("#health-ml on chat", True),
        ("Triage only.", True),
    ],
)
def test_placeholders_comments_and_empty_fields_are_not_content(text: str, written: bool) -> None:
    assert has_content(text) is written


def test_hugging_faces_own_empty_template_needs_input_everywhere() -> None:
    text = str(ModelCard.from_template(ModelCardData(), model_id="m"))
    card = parse_card(text, "docs/models/m.md", "m")
    merged = merge_card(
        registered(version(1)),
        version(1),
        "the newest version",
        repo_card=card,
        run=None,
        run_state="",
        experiment=None,
        files=None,
    )
    status = {s.key: s.status for s in merged.sections if s.key}
    assert status == {
        "model-details": "generated",  # the registry knows the version
        **{k: "needs input" for k, _ in STANDARD_SECTIONS if k != "model-details"},
    }
    assert merged.completeness.done == 1
    assert merged.completeness.total == len(STANDARD_SECTIONS) + 1  # + the license


def test_a_merged_card_combines_written_and_generated_sections() -> None:
    text = (
        "---\nlicense: mit\nlast_updated: 2025-11-24\n---\n# m\n\nIt ranks.\n\n"
        "## Uses\n\nTriage.\n\n## Training Details\n\nStandardized.\n\n## My Notes\n\nExtra.\n"
    )
    card = parse_card(text, "docs/models/m.md", "m")
    v = version(1)
    merged = merge_card(
        registered(v, aliases={"champion": 1}),
        v,
        "alias champion",
        repo_card=card,
        run=RUN,
        run_state="",
        experiment=None,
        files=None,
    )
    by_key = {s.key: s for s in merged.sections}
    assert by_key["uses"].status == "written"
    assert by_key["training-details"].status == "written + generated"
    assert by_key["evaluation"].status == "generated"
    assert by_key["citation"].status == "needs input"
    assert [s.title for s in merged.extra_sections] == ["My Notes"]
    assert merged.metrics == (("val_auc", 0.9),)  # NaN is not a result
    assert merged.params == (("depth", "4"),)
    assert merged.training_datasets == [RUN.datasets[0]]
    assert merged.aliases == ("champion",)
    assert merged.summary == "It ranks."
    assert merged.card_kind == "repo"
    assert ("License (metadata)", "written") in merged.completeness.items
    assert merged.completeness.done == 5  # details, uses, training, evaluation, license
    assert "Citation" in merged.needs_input


def test_a_card_logged_with_the_run_is_used_when_the_repo_has_none() -> None:
    logged = parse_card("## Uses\n\nFrom the run.\n", "runs:/r1/README.md", "m")
    files = ModelFiles("m", 1, card=logged)
    v = version(1)
    merged = merge_card(
        registered(v),
        v,
        "the newest version",
        repo_card=None,
        run=RUN,
        run_state="",
        experiment=None,
        files=files,
    )
    assert merged.card_kind == "artifact"
    assert merged.updated == RUN.end_time  # its age is the run's
    assert merged.section("uses").written


def test_a_card_is_stale_when_a_newer_version_was_registered_on_a_later_day() -> None:
    m = registered(version(1, T0), version(2, T0 + 3 * DAY))
    assert staleness(m, T0) is not None
    assert staleness(m, T0 + 3 * DAY - 1000) is None  # the same day is not stale
    assert staleness(m, None) is None
    text = "---\nlast_updated: 2025-11-24\n---\n## Uses\n\nx\n"
    card = parse_card(text, "docs/models/m.md", "m")
    merged = merge_card(
        m, m.versions[0], "x", repo_card=card, run=None, run_state="", experiment=None, files=None
    )
    stale = [p for p in merged.problems if p.code == "card.stale"]
    assert len(stale) == 1 and stale[0].line == 2 and stale[0].level == "warning"


def test_a_hand_written_card_for_a_model_with_no_versions_is_a_problem() -> None:
    card = parse_card("## Uses\n\nx\n", "docs/models/m.md", "m")
    merged = merge_card(
        registered(),
        None,
        "m has no versions yet",
        repo_card=card,
        run=None,
        run_state="",
        experiment=None,
        files=None,
    )
    assert [p.code for p in merged.problems] == ["card.no-versions"]
    assert merged.section("model-details").status == "needs input"


def test_which_version_a_card_describes() -> None:
    m = registered(version(1), version(2), version(3), aliases={"champion": 2, "prod": 1})
    assert choose_version(m, ["champion", "prod"])[0].version == 2
    assert choose_version(m, ["production", "prod"]) == (m.versions[0], "alias prod")
    assert choose_version(m, [])[1] == "the newest version"
    assert choose_version(m, [], version=1)[0].version == 1
    assert choose_version(m, [], alias="prod")[0].version == 1
    assert choose_version(m, [], version=9) == (None, "m has no version 9 (versions: 1, 2, 3)")
    assert choose_version(m, [], alias="x")[0] is None
    assert choose_version(registered(), ["champion"]) == (None, "m has no versions yet")


def test_a_card_is_found_by_the_models_name_or_its_slug() -> None:
    m = RegisteredModel("My Model", "", 0, 0)
    by_slug = CardFile("docs/models/my-model.md", "my-model")
    by_name = CardFile("docs/models/My Model.md", "My Model")
    assert find_card(m, "my-model", [by_slug]) is by_slug
    assert find_card(m, "my-model", [by_slug, by_name]) is by_name
    assert find_card(m, "my-model", [CardFile("x", "other")]) is None
