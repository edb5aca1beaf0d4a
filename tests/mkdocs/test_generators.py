"""The generated tree builds with other generators: ProperDocs (the maintained MkDocs 1.x fork,
installed with gen-files and literate-nav) through the same gen-files script, and Zensical
(which runs no gen-files) from `daybook generate --with-docs`, as docs/guide/ci.md describes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daybook.commands.generate import write_pages
from daybook.core.errors import DaybookError
from helpers import read_tree, run_cli
from store_builder import StoreInfo

# Small enough that the fixture store's classifier experiment takes the big-table path too.
CONFIG = """
run_table:
  paged_above: 3
  page_size: 5
"""
ZENSICAL = os.environ.get("DAYBOOK_ZENSICAL") or shutil.which("zensical") or "zensical"


def _site(root: Path) -> Path:
    result = run_cli("init", root)
    assert result.returncode == 0, result.stderr
    with (root / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write(CONFIG)
    (root / "docs" / "team.md").write_text("# Team\n\nWho does what.\n", encoding="utf-8")
    return root


def _env(store: StoreInfo) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=store.uri, NO_MKDOCS_2_WARNING="1")
    env.update(DISABLE_MKDOCS_2_WARNING="true")
    return env


def _pages(html: Path) -> set[str]:
    return {p.relative_to(html).as_posix() for p in html.rglob("*.html")}


@pytest.fixture(scope="module")
def mkdocs_built(tmp_path_factory: pytest.TempPathFactory, store: StoreInfo) -> Path:
    root = _site(tmp_path_factory.mktemp("gen-mkdocs") / "site")
    result = run_cli("build", "--strict", "-q", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    return root / "site"


def test_properdocs_builds_the_same_site_strictly(
    tmp_path: Path, store: StoreInfo, mkdocs_built: Path
) -> None:
    root = _site(tmp_path / "site")
    out = tmp_path / "properdocs-html"
    properdocs = Path(sys.executable).parent / "properdocs"
    result = subprocess.run(
        [str(properdocs), "build", "--strict", "--site-dir", str(out)],
        cwd=root,
        env=_env(store),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert _pages(out) == _pages(mkdocs_built)
    runs_json = sorted(p.relative_to(out).as_posix() for p in out.rglob("runs.json"))
    assert runs_json  # the big-table path ran under ProperDocs too
    for rel in runs_json:
        assert (out / rel).read_bytes() == (mkdocs_built / rel).read_bytes()
    assert (out / "assets/daybook/runs-table.js").is_file()


def test_generate_with_docs_makes_a_whole_docs_folder(tmp_path: Path, store: StoreInfo) -> None:
    root = _site(tmp_path / "site")
    out = tmp_path / "build" / "docs"
    result = run_cli("generate", "-q", "--with-docs", "-C", root, "--out", out,
                     "--tracking-uri", store.uri)  # fmt: skip
    assert result.returncode == 0, result.stderr
    tree = read_tree(out)
    assert tree["team.md"] == (root / "docs" / "team.md").read_bytes()  # hand-written, copied
    assert "index.md" in tree and "SUMMARY.md" in tree  # generated, laid over
    assert any(p.startswith("experiments/") and p.endswith("runs.json") for p in tree)
    again = run_cli("generate", "-q", "--with-docs", "-C", root, "--out", out, "--offline")
    assert again.returncode == 0, again.stderr  # replaces what it wrote before
    after = read_tree(out)  # (the home page now says "data as of …")
    assert set(after) == set(tree) and after["team.md"] == tree["team.md"]


def test_generate_with_docs_refuses_a_folder_inside_docs(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    with pytest.raises(DaybookError, match="inside"):
        write_pages({"index.md": "# x\n"}, docs / "daybook", docs)


def test_generate_with_docs_leaves_out_replaced_files(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "models").mkdir(parents=True)
    (docs / "models" / "m.md").write_text("card", encoding="utf-8")
    (docs / "about.md").write_text("about", encoding="utf-8")
    (docs / "index.md").write_text("hand-written home", encoding="utf-8")
    out = tmp_path / "out"
    write_pages({"index.md": "generated home\n"}, out, docs, ["models/m.md"])
    assert not (out / "models" / "m.md").exists()
    assert (out / "about.md").read_text() == "about"
    assert (out / "index.md").read_text() == "generated home\n"


def test_zensical_builds_the_generated_docs(tmp_path: Path, store: StoreInfo) -> None:
    """The recipe of docs/guide/ci.md: generate a whole docs folder, point Zensical at it."""
    root = _site(tmp_path / "site")
    result = run_cli("generate", "-q", "--with-docs", "-C", root, "--out", root / "build/docs",
                     "--tracking-uri", store.uri)  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: docs", "docs_dir: build/docs")
    (root / "zensical.yml").write_text(config + "\nexclude_docs: |\n  SUMMARY.md\n")
    built = subprocess.run(
        [str(ZENSICAL), "build", "--strict", "-f", "zensical.yml"],
        cwd=root,
        env=_env(store),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    html = root / "site"
    assert (html / "index.html").is_file() and (html / "team" / "index.html").is_file()
    assert list(html.glob("experiments/*/runs.json"))
    assert (html / "assets/daybook/runs-table.js").is_file()
