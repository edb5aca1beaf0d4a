"""Which artifacts a build previews: images before text, sorted paths, newest runs first, and
never more than the site's budget, a file's limit, or a run's share."""

from __future__ import annotations

from daybook.analysis.artifacts import choose_previews, preview_kind, preview_order
from daybook.core.config import ArtifactSettings
from daybook.core.snapshot import Artifact, Run

KB = 1024


def _run(run_id: str, start: int | None) -> Run:
    return Run(run_id, "1", run_id, "FINISHED", start, None, "u", "")


def test_kinds_come_from_the_file_name_and_svg_is_never_previewed() -> None:
    assert preview_kind("plots/Confusion.PNG") == "image"
    assert preview_kind("report.md") == "markdown"
    assert preview_kind("metrics.json") == "json"
    assert preview_kind("sample.tsv") == "csv"
    assert preview_kind("train.log") == "text"
    assert preview_kind("chart.svg") is None  # would run script when opened from the site
    assert preview_kind("model.pkl") is None


def test_images_come_before_text_and_paths_are_sorted() -> None:
    listing = (
        Artifact("z.txt", False, 10),
        Artifact("b.png", False, 10),
        Artifact("a.json", False, 10),
        Artifact("a.png", False, 10),
        Artifact("plots", True, None),
    )
    picks, skipped = choose_previews(["r1"], {"r1": listing}, ArtifactSettings())
    assert [p.path for p in picks] == ["a.png", "b.png", "a.json", "z.txt"]
    assert skipped == {}


def test_a_model_folder_is_the_models_own_and_never_previewed() -> None:
    listing = (
        Artifact("model/MLmodel", False, 300),
        Artifact("model/conda.yaml", False, 200),
        Artifact("model/requirements.txt", False, 50),
        Artifact("confusion.png", False, 900),
    )
    picks, _ = choose_previews(["r1"], {"r1": listing}, ArtifactSettings())
    assert [p.path for p in picks] == ["confusion.png"]


def test_a_large_image_is_listed_not_copied_but_large_text_shows_its_beginning() -> None:
    settings = ArtifactSettings(max_file_kb=100, text_kb=8)
    listing = (Artifact("big.png", False, 101 * KB), Artifact("train.log", False, 5000 * KB))
    picks, skipped = choose_previews(["r1"], {"r1": listing}, settings)
    assert [p.path for p in picks] == ["train.log"]
    assert skipped == {"r1": (("big.png", "larger than 100 KB"),)}


def test_the_budget_goes_to_the_runs_in_the_order_given_until_it_is_spent() -> None:
    settings = ArtifactSettings(budget_mb=0.25, max_file_kb=200)  # 256 KB
    image = (Artifact("cm.png", False, 150 * KB),)
    picks, skipped = choose_previews(["new", "old"], {"new": image, "old": image}, settings)
    assert [p.run_id for p in picks] == ["new"]
    assert skipped == {"old": (("cm.png", "over the site's preview budget"),)}


def test_a_run_gets_at_most_its_share_of_previews() -> None:
    listing = tuple(Artifact(f"p{i}.png", False, 10) for i in range(5))
    picks, skipped = choose_previews(["r1"], {"r1": listing}, ArtifactSettings(per_run=2))
    assert [p.path for p in picks] == ["p0.png", "p1.png"]
    assert len(skipped["r1"]) == 3


def test_a_file_of_unknown_size_and_previews_turned_off() -> None:
    listing = (Artifact("remote.png", False, None),)
    picks, skipped = choose_previews(["r1"], {"r1": listing}, ArtifactSettings())
    assert picks == [] and skipped == {"r1": (("remote.png", "size unknown"),)}
    off = ArtifactSettings(previews=False)
    assert choose_previews(["r1"], {"r1": (Artifact("a.png", False, 1),)}, off) == ([], {})


def test_runs_are_ordered_newest_first_with_ties_by_id() -> None:
    runs = [_run("b", 5), _run("a", 5), _run("c", 9), _run("d", None)]
    assert preview_order(runs) == ["c", "a", "b", "d"]
