"""`daybook link URI` prints where the site shows what an MLflow URI names, resolved against the
site's saved snapshot with the pages' own path logic; what it cannot resolve is one line on
stderr and exit 1. The store is the session's real MLflow store, read by a real `daybook pull`."""

from __future__ import annotations

from pathlib import Path

import pytest

from daybook.commands.link import link
from daybook.core.errors import DaybookError
from daybook.sources.site import load_site
from helpers import add_settings, run_cli
from store_builder import StoreInfo

RUN_PAGES = "\nrun_pages:\n  top: 0\n  recent: 0\n"  # pages for parents and registered runs only


@pytest.fixture(scope="module")
def link_site(tmp_path_factory: pytest.TempPathFactory, store: StoreInfo) -> Path:
    root = tmp_path_factory.mktemp("link-site") / "site"
    assert run_cli("init", root).returncode == 0
    add_settings(root / "daybook.yml", f"tracking_uri: {store.uri}\n{RUN_PAGES.lstrip()}")
    result = run_cli("pull", "-q", "-C", root)
    assert result.returncode == 0, result.stderr
    return root


def _path(root: Path, uri: str, **options: bool) -> str:
    return link(load_site(root), uri, **options).url


def test_a_run_with_a_page_links_there_and_any_other_to_the_viewer(
    link_site: Path, store: StoreInfo
) -> None:
    parent = store.runs["parent"]
    page = _path(link_site, f"runs:/{parent[:8]}")  # a parent: it has a page
    assert page.startswith("experiments/classifier/runs/") and page.endswith(f"-{parent[:8]}/")
    plain = store.runs["same1"]
    assert _path(link_site, f"runs:/{plain[:8]}") == f"runs/#{plain}"
    assert _path(link_site, f"runs:/{plain}/model/MLmodel") == f"runs/#{plain}"
    assert _path(link_site, f"runs:/{parent}", permanent=True) == f"runs/#{parent}"


def test_models_and_experiments_link_to_their_pages(link_site: Path) -> None:
    assert _path(link_site, "models:/digits-clf/3") == "models/digits-clf/#v3"
    assert _path(link_site, "models:/digits-clf@champion") == "models/digits-clf/#v2"
    assert _path(link_site, "models:/digits-clf") == "models/digits-clf/"
    assert _path(link_site, "experiments:/regression") == "experiments/regression/"


def test_site_url_goes_in_front(link_site: Path, store: StoreInfo, tmp_path: Path) -> None:
    mkdocs_yml = link_site / "mkdocs.yml"
    before = mkdocs_yml.read_text(encoding="utf-8")
    try:
        mkdocs_yml.write_text(before + "\nsite_url: https://ml.example.org/daybook\n")
        plain = store.runs["same1"]
        assert _path(link_site, f"runs:/{plain[:8]}") == (
            f"https://ml.example.org/daybook/runs/#{plain}"
        )
    finally:
        mkdocs_yml.write_text(before)


def test_the_cli_prints_one_line(link_site: Path, store: StoreInfo) -> None:
    plain = store.runs["same1"]
    result = run_cli("link", "-C", link_site, f"runs:/{plain[:8]}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"runs/#{plain}\n"


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("runs:/0123abc", "at least 8 characters"),
        ("runs:/ffffffffffffffff", "no run with this id"),
        ("models:/no-such-model/1", "no registered model named"),
        ("models:/digits-clf@nope", "has no alias"),
        ("experiments:/nope", "no experiment"),
        ("http://example.org", "not an MLflow URI"),
    ],
)
def test_what_does_not_resolve_is_one_line_and_exit_1(link_site: Path, uri: str, says: str) -> None:
    with pytest.raises(DaybookError, match=says):
        link(load_site(link_site), uri)


def test_an_unknown_run_on_the_cli_is_one_line_without_traceback(link_site: Path) -> None:
    result = run_cli("link", "-C", link_site, "runs:/ffffffffffffffff")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: runs:/ffffffffffffffff: no run")


def test_a_site_never_built_says_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    assert run_cli("init", root).returncode == 0
    result = run_cli("link", "-C", root, "runs:/0123456789abcdef")
    assert result.returncode == 1 and "daybook build" in result.stderr
