"""The `daybook-check` hook of .pre-commit-hooks.yaml, run by pre-commit itself the way a site
repository uses it: a commit that touches a bad note fails with `path:line: message`, a clean one
passes, and a commit that touches no note, card or setting does not run the check at all.

Slow on purpose (~30 s with a warm cache, ~2 min cold): `pre-commit try-repo` clones the hook
repository and installs Daybook with its dependencies into a venv of its own, once for the module
(through uv: the `test` extra's pre-commit-uv; see tests/test_packaging.py for why not pip).
try-repo clones a commit, so it gets a committed copy of this working tree, not the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from daybook.mkdocs.scaffold import init_site
from journal_helpers import front, write_notes

ROOT = Path(__file__).resolve().parent.parent
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,  # no user's git settings (hooks, signing) leak in
}


def _env(home: Path) -> dict[str, str]:
    drop = ("MLFLOW_TRACKING_URI", "PYTHONPATH", "VIRTUAL_ENV", "PRE_COMMIT_HOME")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, **GIT_ENV, "PRE_COMMIT_HOME": str(home)}


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True
    )


def committed(repo: Path) -> Path:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot")
    return repo


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files a clone of Daybook has that the hook needs, committed in a repository of
    their own (the working tree's uncommitted changes included)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(ROOT / "generator" / "daybook", repo / "generator" / "daybook", ignore=JUNK)
    return committed(repo)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's cache (cloned repositories, hook venvs), shared by the module's tests."""
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(
    site: Path, hook_repo: Path, home: Path, *files: str
) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo HOOK_REPO daybook-check --files …` inside the site's repository."""
    cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "daybook-check"]
    return subprocess.run(
        [*cmd, "--color", "never", "--files", *files],
        cwd=site,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A `daybook init` site in a git repository of its own, with one good daily note."""
    root = tmp_path / "site"
    init_site(root)
    write_notes(root, {"2025-11-24.md": front("2025-11-24") + "Trained the baseline.\n"})
    return committed(root)


def test_the_hook_is_declared_for_notes_cards_and_settings() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "daybook-check"
    assert hook["entry"] == "daybook check" and hook["language"] == "python"
    assert hook["pass_filenames"] is False  # the check reads the whole site once


def test_a_clean_note_passes(site: Path, hook_repo: Path, pre_commit_home: Path) -> None:
    result = try_repo(site, hook_repo, pre_commit_home, "docs/notes/2025-11-24.md")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "daybook check" in result.stdout and "Passed" in result.stdout


def test_a_bad_note_fails_the_commit_with_path_and_line(
    site: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    write_notes(
        site,
        {
            "2025-11-25.md": front("2025-11-25") + "token = AKIAIOSFODNN7EXAMPLE\n",
            "2025-11-26.md": "",
        },
    )
    git(site, "add", "-A")
    result = try_repo(
        site, hook_repo, pre_commit_home, "docs/notes/2025-11-25.md", "docs/notes/2025-11-26.md"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert (
        "docs/notes/2025-11-25.md:6: secret-looking text (AWS key): remove it from the note and "
        "rotate the secret" in result.stdout
    )
    assert "docs/notes/2025-11-26.md:1: empty note: write something, or delete the file" in (
        result.stdout
    )
    assert "AKIAIOSFODNN7EXAMPLE" not in result.stdout  # the secret is named, never repeated


def test_a_commit_without_notes_cards_or_settings_skips_the_check(
    site: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    write_notes(site, {"2025-11-26.md": ""})  # a bad note that this commit does not touch
    (site / "README.md").write_text("# Our site\n", encoding="utf-8")
    git(site, "add", "-A")
    result = try_repo(site, hook_repo, pre_commit_home, "README.md")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)Skipped" in result.stdout
