"""`daybook check` as CI runs it: one `path:line: message` a problem, exit 1 on errors, JSON for
tools, and nothing written anywhere."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import fingerprint, run_cli
from journal_helpers import front, journal_site
from store_builder import StoreInfo


def _check(site: Path, store: StoreInfo, *args: str):
    return run_cli("check", "-C", site, "--tracking-uri", store.uri, *args, cwd=site)


def _ours(text: str) -> list[str]:
    """The lines about files people wrote in the site (other checks report on the store too)."""
    return [line for line in text.splitlines() if line.startswith(OURS)]


OURS = ("docs/", "daybook.yml", "mkdocs.yml")


def test_a_clean_site_passes(tmp_path: Path, store) -> None:
    site = journal_site(
        tmp_path / "site",
        {"2025-11-24-alice.md": front("2025-11-24", ["alice"]) + f"runs:/{store.runs['failed']}\n"},
    )
    result = _check(site, store)
    assert result.returncode == 0, result.stdout
    assert _ours(result.stdout) == []
    assert result.stderr.startswith("0 error(s), ")


def test_every_problem_is_one_path_line_message(tmp_path: Path, store) -> None:
    notes = {
        "2025-11-24-alice.md": front("2025-11-24", ["alice"])
        + "Fine line.\nBroken runs:/deadbeefdeadbeef here.\n",
        "2025-11-25.md": "---\ndate: 2025-11-25\ntags: [a, b\n---\ntext\n",
        "2025-11-26-bob.md": front("2025-11-26", ["bob"]) + "token = AKIAIOSFODNN7EXAMPLE\n",
        "2025-11-26-bob-again.md": front("2025-11-26", ["bob"]) + "Twice.\n",
        "2025-11-27.md": front("2025-11-27", ["bob"], "meeting") + "- [ ] @carol do it\n",
        "2025-11-28.md": "",
    }
    site = journal_site(tmp_path / "site", notes)
    before = fingerprint(site)
    result = _check(site, store)
    assert result.returncode == 1
    lines = _ours(result.stdout)
    r = "docs/notes/"
    yaml_line = lines.pop(1)
    assert yaml_line.startswith(f"{r}2025-11-25.md:3: invalid YAML front matter: expected ','")
    assert lines == [
        f"{r}2025-11-24-alice.md:8: runs:/deadbeefdeadbeef: no run with this id among the 14 runs "
        "in the site (deleted, in an excluded experiment, or in another tracking store?)",
        f"{r}2025-11-26-bob.md:1: a second daily note by 'bob' for 2025-11-26 (the first is "
        f"{r}2025-11-26-bob-again.md); merge them",
        f"{r}2025-11-26-bob.md:7: secret-looking text (AWS key): remove it from the "
        "note and rotate the secret",
        f"{r}2025-11-27.md:7: warning: action item owner @carol is not an author in .authors.yml",
        f"{r}2025-11-28.md:1: empty note: write something, or delete the file",
    ]
    assert result.stderr.startswith("5 error(s), ")
    assert fingerprint(site) == before


def test_json_for_tools(tmp_path: Path, store) -> None:
    site = journal_site(
        tmp_path / "site", {"2025-11-24.md": front("2025-11-24", ["zed"]) + "models:/nope/1\n"}
    )
    result = _check(site, store, "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    problems = [p for p in data["problems"] if p["path"].startswith(OURS)]
    assert data["errors"] == 2
    assert [(p["path"], p["line"], p["level"], p["code"]) for p in problems] == [
        ("docs/notes/2025-11-24.md", 3, "error", "note.authors"),
        ("docs/notes/2025-11-24.md", 7, "error", "ref"),
    ]
    assert problems[1]["message"] == "models:/nope/1: no registered model named 'nope'"


def test_no_store_skips_references_and_a_missing_store_is_a_warning(tmp_path: Path, store) -> None:
    site = journal_site(
        tmp_path / "site", {"2025-11-24.md": front("2025-11-24") + "runs:/deadbeefdeadbeef\n"}
    )
    assert _check(site, store, "--no-store").returncode == 0
    missing = run_cli(
        "check", "-C", site, "--tracking-uri", f"sqlite:///{tmp_path / 'none.db'}", cwd=site
    )
    assert missing.returncode == 0
    [line] = _ours(missing.stdout)
    assert line.startswith("daybook.yml:1: warning: no MLflow store at sqlite:///")
    assert not (tmp_path / "none.db").exists()


def test_settings_mistakes_are_reported_with_their_line(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    (site / "daybook.yml").write_text("title: x\njournal:\n  digest_hourz: 3\n", encoding="utf-8")
    text = (site / "mkdocs.yml").read_text(encoding="utf-8")
    gen = "  - gen-files:\n      scripts:\n        - gen_pages.py\n"
    text = text.replace(gen, "").replace("  - tags\n", "  - tags\n" + gen)
    (site / "mkdocs.yml").write_text(text, encoding="utf-8")
    result = _check(site, store)
    assert result.returncode == 1
    blog_line = text.splitlines().index("  - blog:") + 1
    assert _ours(result.stdout) == [
        "daybook.yml:3: journal.digest_hourz: unknown key (did you mean `digest_hours`?)",
        f"mkdocs.yml:{blog_line}: list the gen-files plugin before the blog plugin, so Daybook "
        "completes the notes before the blog reads them",
    ]


def test_a_misspelt_author_stays_an_error_and_says_what_was_meant(tmp_path: Path) -> None:
    """`daybook note` adds new people; check never does: a misspelt id in an existing note is
    an error naming the closest known author (and a misspelt action item owner a warning)."""
    meeting = front("2025-11-24", ["alcie"], "meeting", "Sync") + "- [ ] @bobb fix the loader\n"
    site = journal_site(tmp_path / "site", {"2025-11-24-sync.md": meeting})
    result = run_cli("check", "--no-store", "-C", site)
    assert result.returncode == 1
    meant = "unknown author 'alcie' (did you mean 'alice'?): add it to docs/journal/.authors.yml"
    assert meant in result.stdout
    assert "action item owner @bobb is not an author in .authors.yml (did you mean @bob?)" in (
        result.stdout)  # fmt: skip
