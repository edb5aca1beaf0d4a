"""Every run has a link: its own page when it has one, else the run viewer (`runs/#<id>`), whose
data is one JSON shard per two-character id prefix. Specified on a small in-memory snapshot."""

from __future__ import annotations

import json

import pytest

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Experiment, ModelVersion, RegisteredModel, Run, Snapshot
from daybook.pages.paths import VIEWER, Linker, SitePaths, page_url, relative_url
from daybook.pages.render import Renderer, duration, when
from daybook.pages.run_viewer import DATA_DIR, shard_key, shards

EXP = Experiment("1", "vision", "file:///a", 0, 0)
PARENT = "a1" + "0" * 30
CHILD = "a1" + "1" * 30
OTHER = "ff" + "2" * 30
HOSTILE = "<b onclick=x>name</b> | ]("


def _run(run_id: str, name: str, **tags: str) -> Run:
    return Run(
        run_id,
        "1",
        name,
        "FINISHED",
        1_764_000_000_000,
        1_764_000_005_000,
        "alice",
        "file:///a/" + run_id,
        params={"lr": "0.1", "depth": "3"},
        metrics={"acc": 0.912345},
        tags={
            "team": "vision",
            "mlflow.source.git.commit": "abc123",
            "mlflow.log-model.history": "[]",
            **tags,
        },
    )


SNAPSHOT = Snapshot(
    tracking_uri="sqlite:///x.db",
    experiments=(EXP,),
    runs=(
        _run(PARENT, "sweep"),
        _run(CHILD, HOSTILE, **{"mlflow.parentRunId": PARENT, "mlflow.note.content": "why"}),
        _run(OTHER, "other"),
    ),
    models=(
        RegisteredModel(
            "clf",
            "",
            0,
            0,
            versions=(ModelVersion("clf", 2, 0, 0, "", "READY", "runs:/x", CHILD, "alice"),),
        ),
    ),
)


@pytest.mark.parametrize("directory_urls", [True, False])
def test_a_run_without_a_page_links_to_the_viewer_from_any_page(directory_urls: bool) -> None:
    paths = SitePaths.build(SNAPSHOT, [PARENT], directory_urls)
    assert paths.run(PARENT) == paths.run_page(PARENT)
    assert paths.run_page(CHILD) is None
    assert paths.run(CHILD) == f"{VIEWER}#{CHILD}"
    home = Linker(paths, "index.md", {r.run_id: r for r in SNAPSHOT.runs})
    nested = Linker(paths, paths.experiment("1"), {r.run_id: r for r in SNAPSHOT.runs})
    viewer = "runs/" if directory_urls else "runs/index.html"
    assert home.run(CHILD).startswith(f'<a href="{viewer}#{CHILD}">')
    assert nested.run(CHILD).startswith(f'<a href="../../{viewer}#{CHILD}">')
    assert "<b" not in nested.run(CHILD)  # the name is escaped text
    assert nested.run(PARENT) == "[sweep](runs/sweep-a1000000.md)"  # MkDocs checks this one


def test_page_urls_follow_use_directory_urls() -> None:
    assert page_url("runs/index.md", True) == "runs/"
    assert page_url("runs/index.md", False) == "runs/index.html"
    assert page_url("experiments/x/runs/r.md", False) == "experiments/x/runs/r.html"
    target = f"{VIEWER}#{CHILD}"
    assert relative_url("experiments/x/runs/r.md", target, True) == f"../../../../runs/#{CHILD}"
    assert (
        relative_url("experiments/x/runs/r.md", target, False)
        == f"../../../runs/index.html#{CHILD}"
    )
    assert relative_url(VIEWER, target, True) == f"./#{CHILD}"


def test_a_run_id_that_cannot_be_a_fragment_stays_text() -> None:
    odd = _run("a1/../../x", "odd")
    snap = Snapshot("sqlite:///x.db", (EXP,), (odd,), ())
    paths = SitePaths.build(snap, [])
    assert paths.run(odd.run_id) is None
    assert Linker(paths, "index.md", {odd.run_id: odd}).run(odd) == "odd"


def test_shards_hold_every_run_once_by_id_prefix_deterministically() -> None:
    paths = SitePaths.build(SNAPSHOT, [PARENT])
    files = shards(SNAPSHOT, paths, when, duration)
    assert sorted(files) == [f"{DATA_DIR}/a1.json", f"{DATA_DIR}/ff.json"]
    assert files == shards(SNAPSHOT, paths, when, duration)
    runs = {k: v for text in files.values() for k, v in json.loads(text)["runs"].items()}
    assert sorted(runs) == sorted(r.run_id for r in SNAPSHOT.runs)
    child = runs[CHILD]
    assert child["name"] == HOSTILE and child["status"] == "Finished"
    assert child["params"] == {"depth": "3", "lr": "0.1"}
    assert child["tags"] == {"mlflow.source.git.commit": "abc123", "team": "vision"}
    assert child["description"] == "why"
    assert child["experiment"] == ["vision", "../experiments/vision/"]
    assert child["parent"] == [PARENT, "sweep", "../experiments/vision/runs/sweep-a1000000/"]
    assert child["page"] == "" and runs[PARENT]["page"].endswith("/sweep-a1000000/")
    assert child["versions"] == [["clf v2", "../models/clf/#v2"]]
    assert runs[PARENT]["children"] == 1
    assert child["start"] == "2025-11-24 16:00 UTC"
    assert all(text.isascii() for text in files.values())


def test_two_parts_of_the_shards_are_the_whole_split_by_shard() -> None:
    odd = _run("zz-not-hex", "odd")
    snap = Snapshot("sqlite:///x.db", (EXP,), (*SNAPSHOT.runs, odd), ())
    paths = SitePaths.build(snap, [PARENT])
    whole = shards(snap, paths, when, duration)
    first = shards(snap, paths, when, duration, part=(0, 2))
    second = shards(snap, paths, when, duration, part=(1, 2))
    assert sorted(first) == [f"{DATA_DIR}/other.json"]  # 0xa1 and 0xff are odd; "other" is 0
    assert sorted(second) == [f"{DATA_DIR}/a1.json", f"{DATA_DIR}/ff.json"]
    assert {**first, **second} == whole


def test_shard_keys_are_at_most_256_plus_one() -> None:
    assert shard_key("AB12") == "ab"
    assert shard_key("zz-not-hex") == "other"
    assert len({shard_key(f"{i:02x}") for i in range(256)}) == 256


def test_the_site_has_one_viewer_page_and_no_page_per_run() -> None:
    pages = Renderer(DaybookConfig(), SNAPSHOT, {PARENT}, None).render_all()
    assert VIEWER in pages
    assert 'data-shard-keys="a1 ff"' in pages[VIEWER]
    assert sum(1 for p in pages if "/runs/" in p and p.endswith(".md")) == 1  # the parent's
    assert f"runs/#{CHILD}" in pages["index.md"] + pages["experiments/vision/index.md"]
