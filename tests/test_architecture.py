"""The layer rule of docs/guide/architecture.md, enforced by import-linter's contracts in
pyproject.toml: the real tree keeps them, and a lower layer importing a higher one (even for type
hints only) breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generator" / "daybook"
LINT = Path(sys.executable).with_name("lint-imports")


def lint(source_root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the project's contracts over the package found in `source_root`."""
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=source_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_with(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package with `line` added at the end of `module` (a path in the package)."""
    root = tmp_path / "src"
    shutil.copytree(PACKAGE, root / "daybook", ignore=shutil.ignore_patterns("__pycache__"))
    target = root / "daybook" / module
    target.write_text(target.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    return root


def test_the_tree_keeps_every_contract() -> None:
    result = lint(ROOT / "generator")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # core is the bottom: it may not use the pages that render it
        ("core/snapshot.py", "from daybook.pages import paths  # noqa", "Layers"),
        # a type-only import counts as much as a real one
        (
            "analysis/ranking.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from daybook.store.pull import pull  # noqa",
            "Layers",
        ),
        # pages render values; they never read a source themselves
        ("pages/nav.py", "from daybook.sources import notes  # noqa", "never reach back"),
        # only sources import MLflow
        ("analysis/series.py", "import mlflow  # noqa", "Only sources read MLflow"),
        # the MkDocs bridge is for commands only
        ("store/state.py", "from daybook.mkdocs import squeeze  # noqa", "Layers"),
        # no cycle inside a layer either
        ("pages/paths.py", "from daybook.pages import render  # noqa", "No import cycles"),
    ],
)
def test_an_import_against_the_flow_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    result = lint(copy_with(tmp_path, module, line))
    assert result.returncode != 0, result.stdout
    broken_section = result.stdout.split("Broken contracts", 1)[-1]
    assert broken in broken_section, result.stdout


def test_the_package_root_holds_at_most_four_modules() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 4, modules
    layers = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert layers == {
        "core", "safety", "sources", "store", "analysis", "pages", "mkdocs", "commands", "demo"
    }  # fmt: skip
