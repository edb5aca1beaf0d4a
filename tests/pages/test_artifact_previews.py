"""Artifact previews on run pages, from a real MLflow store through a real `daybook build
--strict`: an image copied beside the page (and shown in Chromium), JSON, CSV and Markdown shown
inline as inert text (Markdown sanitized), secrets in them masked, a file over the limit listed
and not copied, and "Open in MLflow" links when `mlflow_ui_url` is set.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow import MlflowClient

from browser import StaticServer, browser, browser_available, page_url, serve
from helpers import parse_html, run_cli, tiny_png

T0 = 1_764_000_000_000
SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
HOSTILE_MD = "# Report\n\nAccuracy is **high**.\n\n<script>window.__pwned=1</script>\n"
SITE_CONFIG = """
artifacts:
  max_file_kb: 2
mlflow_ui_url: https://mlflow.example.com/
"""


@dataclass
class ArtifactStore:
    uri: str
    experiment_id: str
    run_id: str  # the run that logged the artifacts
    png: bytes


def _build_store(root: Path) -> ArtifactStore:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("vision", artifact_location=(root / "art").as_uri())
    run = client.create_run(exp, start_time=T0, run_name="resnet <b>50</b>")
    rid = run.info.run_id
    client.log_metric(rid, "acc", 0.9, timestamp=T0, step=1)
    files = root / "files"
    (files / "plots").mkdir(parents=True)
    png = tiny_png(40, 30)
    (files / "plots" / "confusion matrix.png").write_bytes(png)
    (files / "big.png").write_bytes(tiny_png() + b"\0" * 4096)  # over max_file_kb: 2
    (files / "metrics.json").write_text(json.dumps({"acc": 0.9, "token_note": SECRET}))
    (files / "sample.csv").write_text("name,score\n<b>alice</b>,1\nbob|x,2\n")
    (files / "report.md").write_text(HOSTILE_MD)
    for f in sorted(p for p in files.rglob("*") if p.is_file()):
        folder = f.parent.relative_to(files).as_posix()
        client.log_artifact(rid, str(f), None if folder == "." else folder)
    client.set_terminated(rid, end_time=T0 + 60_000)
    return ArtifactStore(uri, exp, rid, png)


@pytest.fixture(scope="module")
def art_store(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> ArtifactStore:
    root = tmp_path_factory.mktemp("artifact-store")
    with contextlib.chdir(root):
        return _build_store(root)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    with serve(tmp_path_factory.mktemp("artifact-site") / "site" / "site") as s:
        yield s


@dataclass
class Built:
    root: Path
    html: Path
    run_dir: Path  # the run page's folder in the built site


@pytest.fixture(scope="module")
def built(server: StaticServer, art_store: ArtifactStore) -> Built:
    root = server.root.parent
    assert run_cli("init", root).returncode == 0
    with (root / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write(SITE_CONFIG)
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"\nsite_url: {server.url}\n")
    result = run_cli("build", "--strict", "-q", "-C", root, "--tracking-uri", art_store.uri)
    assert result.returncode == 0, result.stderr
    html = root / "site"
    (page,) = html.glob(f"experiments/vision/runs/*-{art_store.run_id[:8]}/index.html")
    return Built(root, html, page.parent)


def test_an_image_is_copied_beside_the_run_page_and_shown(
    built: Built, art_store: ArtifactStore
) -> None:
    page = parse_html(built.run_dir / "index.html")
    srcs = [
        a["src"] for tag, a in page.tags if tag == "img" and "artifacts/" in (a.get("src") or "")
    ]
    assert srcs == ["artifacts/plots-confusion-matrix.png"]
    assert (built.run_dir / srcs[0]).read_bytes() == art_store.png


def test_a_file_over_the_limit_is_listed_not_copied(built: Built) -> None:
    page = parse_html(built.run_dir / "index.html")
    table = page.table_with("Path", "Size", "Preview")
    rows = {r[0].text: r[2].text for r in table.body}
    assert rows["big.png"] == "larger than 2 KB"
    assert rows["plots/confusion matrix.png"] == "shown above"
    assert not list(built.html.rglob("big*.png"))


def test_text_previews_are_inert_sanitized_and_masked(built: Built) -> None:
    text = (built.run_dir / "index.html").read_text(encoding="utf-8")
    page = parse_html(built.run_dir / "index.html")
    assert '"acc": 0.9' in page.text  # JSON pretty-printed
    assert SECRET not in text and "••••••" in page.text
    table = page.table_with("name", "score")
    assert [c.text for c in table.column("name")] == ["<b>alice</b>", "bob|x"]
    assert "Accuracy is" in page.text and "<strong>high</strong>" in text  # rendered Markdown
    assert "<script>window.__pwned" not in text


def test_open_in_mlflow_links_every_run_experiment_and_model_page(
    built: Built, art_store: ArtifactStore
) -> None:
    run_links = parse_html(built.run_dir / "index.html").links()
    want = f"https://mlflow.example.com/#/experiments/{art_store.experiment_id}/runs/{art_store.run_id}"
    assert want in run_links
    exp_links = parse_html(built.html / "experiments/vision/index.html").links()
    assert f"https://mlflow.example.com/#/experiments/{art_store.experiment_id}" in exp_links


def test_the_image_renders_in_a_browser(built: Built, server: StaticServer) -> None:
    if (why := browser_available()) is not None:  # the README's test command installs it
        pytest.fail(why, pytrace=False)
    rel = built.run_dir.relative_to(built.html).as_posix() + "/"
    with browser() as b:
        b.driver.get(page_url(server.url, rel))
        size = b.driver.execute_script(
            "const i = document.querySelector('img[src*=\"confusion-matrix\"]');"
            "return i && i.complete ? [i.naturalWidth, i.naturalHeight] : null;"
        )
        assert size == [40, 30]
        assert b.drain().foreign() == []
