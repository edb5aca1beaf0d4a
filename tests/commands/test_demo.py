"""`daybook demo` is an optional extra: the core install does not bring scikit-learn, and without
it the command says in one line what to install, writing nothing."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

from daybook.commands.demo import INSTALL_HINT, missing_demo_packages

# Run the real CLI in an interpreter where scikit-learn cannot be imported, as after
# `pip install daybook` without the extra.
WITHOUT_SKLEARN = """
import importlib.abc, sys

class NoSklearn(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoSklearn())
from daybook.cli import main
main(["demo", "--dir", sys.argv[1]], prog_name="daybook")
"""


def test_the_core_install_requires_no_training_stack() -> None:
    core = [
        Requirement(r)
        for r in importlib.metadata.requires("daybook") or []
        if "extra ==" not in str(Requirement(r).marker or "")
    ]
    names = {r.name.lower() for r in core}
    assert "mlflow-skinny" in names
    assert not names & {"scikit-learn", "mlflow", "pandas", "scipy", "skops"}, names


def test_the_demo_extra_brings_what_the_demo_imports() -> None:
    demo = {
        Requirement(r).name.lower()
        for r in importlib.metadata.requires("daybook") or []
        if 'extra == "demo"' in str(Requirement(r).marker or "")
    }
    assert {"mlflow", "scikit-learn"} <= demo
    assert missing_demo_packages() == []  # the test environment installs the extra


def test_demo_without_scikit_learn_says_what_to_install(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SKLEARN, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "scikit-learn" in lines[0] and INSTALL_HINT in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "store").exists()  # nothing written
