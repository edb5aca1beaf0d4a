"""What ships: the wheel built from this tree holds every file the package reads at run time
(templates, static files, the site scaffold), and installed alone in a clean venv it scaffolds a
site and builds it from a real store, so a packaging mistake fails here and not for the first user.

Slow on purpose (~20 s with a warm cache, ~1–2 min cold): building the wheel and installing it
with its dependencies from the registry into a fresh venv is the only way to see what a user gets.
With uv, not pip: pip here caches nothing and asks the registry one package at a time (a core
install took over 10 minutes); uv resolves in parallel and keeps the wheels in its cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from helpers import stray_files
from store_builder import StoreInfo

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generator" / "daybook"
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
UV = [sys.executable, "-m", "uv"]  # the `test` extra's uv


def _run(cmd: list[str | Path], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def package_files(project: Path) -> set[str]:
    """Every file of the package in a source tree, as a path inside the wheel."""
    package = project / "generator" / "daybook"
    return {
        p.relative_to(package.parent).as_posix()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what the wheel is built from (a build writes build/ and egg-info beside the
    sources: never into the checkout other people work in)."""
    src = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / "generator" / "daybook", ignore=JUNK)
    return src


@pytest.fixture(scope="module")
def wheel(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run([*UV, "build", "--wheel", "-q", "-o", dist, project], cwd=project)
    [built] = dist.glob("daybook-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv (no system site-packages) with only the wheel and its dependencies."""
    env = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(clear=True).create(env)
    _run([*UV, "pip", "install", "-q", "--python", env / "bin" / "python", wheel], cwd=env.parent)
    return env


def test_the_wheel_holds_every_file_of_the_package(wheel: Path, project: Path) -> None:
    """Templates, static files and the site scaffold: nothing the package reads is left out."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = sorted(package_files(project) - names)
    assert missing == []
    assert any(n.startswith("daybook/pages/templates/") and n.endswith(".j2") for n in names)
    assert "daybook/mkdocs/scaffold/mkdocs.yml" in names


def test_the_wheel_declares_the_command_and_the_mkdocs_plugin(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        [entry_points] = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(entry_points).decode("utf-8")
    assert "daybook = daybook.cli:main" in text
    assert "[mkdocs.plugins]" in text and "daybook = daybook.mkdocs.plugin:DaybookPlugin" in text


def test_an_installed_wheel_inits_and_builds_a_site(
    installed: Path, store: StoreInfo, tmp_path: Path
) -> None:
    """`daybook init` + `daybook build --strict` with the installed package alone, run outside the
    checkout, so nothing is read from the source tree."""
    python, daybook = installed / "bin" / "python", installed / "bin" / "daybook"
    where = _run([python, "-c", "import daybook; print(daybook.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed)
    no_sklearn = subprocess.run(
        [python, "-c", "import sklearn"], cwd=tmp_path, capture_output=True, timeout=60
    )
    assert no_sklearn.returncode != 0  # the core install brings no training stack

    _run([daybook, "init", "site"], cwd=tmp_path)
    site = tmp_path / "site"
    assert (site / "mkdocs.yml").is_file() and (site / "gen_pages.py").is_file()
    _run([daybook, "build", "--strict", "-q", "-C", site, "--tracking-uri", store.uri], cwd=site)
    html = site / "site"
    assert (html / "index.html").is_file()
    assert (html / "assets" / "daybook" / "daybook.css").is_file()  # pages/static shipped
    assert any((html / "experiments").rglob("index.html"))  # templates shipped and rendered
    assert stray_files(tmp_path) == []
