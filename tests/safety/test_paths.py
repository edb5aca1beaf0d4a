"""The building machine's paths never reach the site: local folders are rewritten in any text."""

from __future__ import annotations

from pathlib import Path

from daybook.safety.paths import LocalPaths


def _paths(tmp_path: Path, public: str | None = None) -> LocalPaths:
    store = tmp_path / "store"
    location = f"file://{store}/mlartifacts/1"
    return LocalPaths.of(tmp_path / "site", store, [(location, "1")], public)


def test_the_store_and_the_site_are_shown_relative_to_their_folder(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    assert paths.text(f"sqlite:///{tmp_path}/store/mlflow.db") == "sqlite:///mlflow.db"
    run_root = f"file://{tmp_path}/store/mlartifacts/1/abc/artifacts"
    assert paths.text(run_root) == "mlartifacts/1/abc/artifacts"
    message = f"no MLmodel file at {tmp_path}/store/mlruns/1/x (deleted?)"
    assert paths.text(message) == "no MLmodel file at mlruns/1/x (deleted?)"
    assert paths.text(f"{tmp_path}/site/docs/notes/a.md:3") == "docs/notes/a.md:3"


def test_a_public_artifact_root_replaces_the_local_one(tmp_path: Path) -> None:
    paths = _paths(tmp_path, "s3://team/mlartifacts")
    shown = paths.text(f"file://{tmp_path}/store/mlartifacts/1/abc/artifacts/model")
    assert shown == "s3://team/mlartifacts/1/abc/artifacts/model"


def test_the_home_folder_and_the_python_environment_are_named_not_shown(tmp_path: Path) -> None:
    import sys

    paths = _paths(tmp_path)
    assert paths.text(f"{Path.home()}/.cache/model.pkl").startswith(("~/", ".cache"))
    assert paths.text(f"{sys.prefix}/bin/train") in ("<python>/bin/train", "bin/train")


def test_only_whole_folders_match_and_server_urls_stay(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    sibling = f"{tmp_path}/store2/mlflow.db"
    assert paths.text(sibling) != "2/mlflow.db" and "store2/mlflow.db" in paths.text(sibling)
    for text in ("https://mlflow.example.com/#/experiments/1", "s3://bucket/x", "runs:/abc/model"):
        assert paths.text(text) == text
