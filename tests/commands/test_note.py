"""`daybook note` as a user runs it: today's note from the template, a digest of the real store
whose every line links once built, and never an overwritten file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import error_lines, fingerprint, parse_html, run_cli
from journal_helpers import front, journal_site
from store_builder import StoreInfo

DAY = "2025-11-24"  # the fixture store's runs all start on this day (T0)


def _note(site: Path, store: StoreInfo, *args: str, env: dict[str, str] | None = None):
    return run_cli("note", "-q", "-C", site, "--tracking-uri", store.uri, *args, cwd=site, env=env)


def test_print_writes_the_daily_note_with_a_digest_to_stdout(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    result = _note(site, store, "--author", "alice", "--date", DAY, "--print")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"---\ndate: {DAY}\nauthors:\n  - alice\ntype: daily\n")
    assert 'title: "Monday, 24 November 2025 — Alice Martin"' in text
    for heading in ("## Morning review", "## Experiments", "## Meetings", "## Deployment",
                    "## Monitoring", "## Learnings"):  # fmt: skip
        assert heading in text
    r = store.runs
    assert "in the 24 hours before the note" in text
    finished = next(
        line for line in text.splitlines() if line.startswith("- experiments:/classifier")
    )
    # Runs by name, one per line under their experiment, linked by a short unique id.
    assert finished.endswith("runs finished:")
    assert f"    - [sweep](runs:/{r['parent'][:8]})" in text
    assert f"runs:/{r['running'][:8]}" not in text.split("**New best results**")[0]
    assert f"- [crashed](runs:/{r['failed'][:8]}) failed" in text
    # No primary metric configured: guessed (val_r2, maximized), so reg2 (0.7) leads.
    assert re.search(
        rf"- \[[^\]]+\]\(runs:/{r['reg2'][:8]}\) is the new best of experiments:/regression "
        r"by `val_r2`",
        text,
    )
    assert list((site / "docs" / "notes").glob("*.md")) == []  # --print writes nothing


def test_a_note_is_created_once_and_never_overwritten(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    first = _note(site, store, "--author", "alice", "--date", DAY)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"created docs/notes/{DAY}-alice.md\n"
    path = site / "docs" / "notes" / f"{DAY}-alice.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nMy own words.\n", encoding="utf-8")
    before = fingerprint(site / "docs")
    again = _note(site, store, "--author", "alice", "--date", DAY)
    assert again.returncode == 0
    assert again.stdout == f"docs/notes/{DAY}-alice.md already exists; left it as it is\n"
    assert fingerprint(site / "docs") == before


def test_a_daily_note_under_another_name_counts_as_the_days_note(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {"monday.md": front(DAY, ["alice"]) + "Mine.\n"})
    result = _note(site, store, "--author", "alice", "--date", DAY)
    assert result.stdout == "docs/notes/monday.md already exists; left it as it is\n"
    assert sorted(p.name for p in (site / "docs" / "notes").glob("*.md")) == ["monday.md"]


def test_the_digest_starts_at_the_authors_previous_note(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {"2025-11-20-bob.md": "Earlier.\n"})
    result = _note(site, store, "--author", "bob", "--date", "2025-11-25", "--print")
    assert "since your previous note (2025-11-20)" in result.stdout
    assert f"runs:/{store.runs['reg0'][:8]}" in result.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_author_comes_from_git_user_name(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Bob Okafor\n", encoding="utf-8")
    env = {"GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}
    result = _note(site, store, "--date", DAY, env=env)
    assert result.stdout == f"created docs/notes/{DAY}-bob.md\n", result.stderr

    # A person the journal does not know yet is added under the slug of their git name.
    gitconfig.write_text("[user]\n\tname = Zed Quinn\n", encoding="utf-8")
    result = _note(site, store, "--date", "2025-11-25", env=env)
    assert result.stdout == "created docs/notes/2025-11-25-zed-quinn.md\n", result.stderr
    authors = yaml.safe_load((site / "docs/journal/.authors.yml").read_text(encoding="utf-8"))
    assert authors["authors"]["zed-quinn"]["name"] == "Zed Quinn"


def test_an_unknown_author_is_added_and_every_line_people_wrote_is_kept(
    tmp_path: Path, store
) -> None:
    site = journal_site(tmp_path / "site", {})
    path = site / "docs/journal/.authors.yml"
    before = path.read_text(encoding="utf-8")
    result = _note(site, store, "--author", "zed")
    assert result.returncode == 0, result.stderr
    assert "added author 'zed'" in result.stderr or result.stderr == ""
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before)  # appended, nothing rewritten
    authors = yaml.safe_load(after)["authors"]
    assert set(authors) == {"alice", "bob", "zed"}
    assert authors["zed"]["avatar"].startswith("data:image/svg+xml,")
    assert run_cli("build", "--strict", "-q", "-C", site, "--tracking-uri", store.uri,
                   timeout=300).returncode == 0  # fmt: skip


def test_an_authors_file_that_cannot_be_appended_to_is_left_alone(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    path = site / "docs/journal/.authors.yml"
    path.write_text(path.read_text(encoding="utf-8") + "extra: 1\n", encoding="utf-8")
    before = path.read_bytes()
    result = _note(site, store, "--author", "zed")
    assert result.returncode == 1
    [line] = error_lines(result)
    assert "docs/journal/.authors.yml: cannot add 'zed'" in line and "by hand" in line
    assert path.read_bytes() == before


def test_a_new_site_welcomes_its_first_writer(tmp_path: Path, store) -> None:
    site = tmp_path / "fresh"
    assert run_cli("init", site).returncode == 0
    result = run_cli("note", "-C", site, "--author", "newperson", "--date", DAY)
    assert result.returncode == 0, result.stderr
    assert (site / f"docs/notes/{DAY}-newperson.md").is_file()
    assert "added author 'newperson'" in result.stderr
    # A store to build from: `build --strict` refuses a site with none (issue #13).
    build = run_cli("build", "--strict", "-q", "-C", site, "--tracking-uri", store.uri, timeout=300)
    assert build.returncode == 0, build.stderr


def test_other_types_use_their_template(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    result = _note(site, store, "--author", "bob", "--date", DAY, "--type", "meeting",
                   "--title", "Model review")  # fmt: skip
    assert result.stdout == f"created docs/notes/{DAY}-meeting-model-review.md\n", result.stderr
    text = (site / "docs" / "notes" / f"{DAY}-meeting-model-review.md").read_text()
    assert "type: meeting" in text and 'title: "Model review"' in text
    assert "## Decisions" in text and "## Action items" in text
    assert "Morning review" not in text


def test_a_site_template_replaces_the_default(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    (site / "templates" / "note-daily.md.j2").write_text(
        '{% include "_note_front.md.j2" %}\nOur own layout.\n{% for h, lines in digest %}'
        "{{ h }}: {{ lines | length }}\n{% endfor %}",
        encoding="utf-8",
    )
    result = _note(site, store, "--author", "alice", "--date", DAY, "--print")
    assert (
        "Our own layout.\nRuns finished: 4\nNew best results: 4\nFailed runs: 1\n" in result.stdout
    )


def test_the_digest_links_once_the_site_is_built(tmp_path: Path, store) -> None:
    site = journal_site(tmp_path / "site", {})
    assert _note(site, store, "--author", "alice", "--date", DAY).returncode == 0
    build = run_cli("build", "--strict", "-C", site, "--tracking-uri", store.uri)
    assert build.returncode == 0, build.stderr
    page = parse_html(site / "site" / "journal" / "2025" / "11" / "24" / "alice" / "index.html")
    assert "crashed failed" in page.text  # the link reads as the run's name
    links = page.links()
    assert any(f"runs/crashed-{store.runs['failed'][:8]}/" in h for h in links)  # given a page
    assert any(h.endswith("experiments/regression/") for h in links)
    # The note on disk still says runs:/…; only the site shows links.
    assert (
        f"[crashed](runs:/{store.runs['failed'][:8]})"
        in (site / "docs" / "notes" / f"{DAY}-alice.md").read_text()
    )


def test_a_digest_names_runs_by_the_shortest_unique_prefix_of_8_or_more() -> None:
    from daybook.commands.note import short_ids

    ids = ["abcdef0123456789", "abcdef0199999999", "0123456789abcdef"]
    assert short_ids(ids) == {
        "abcdef0123456789": "abcdef012",  # shares 8 characters with its neighbour
        "abcdef0199999999": "abcdef019",
        "0123456789abcdef": "01234567",
    }


def test_without_a_readable_store_the_note_gets_one_plain_sentence(tmp_path: Path) -> None:
    site = journal_site(tmp_path / "site", {})
    result = run_cli("note", "-C", site, "--author", "alice", "--date", DAY, "--print")
    assert result.returncode == 0, result.stderr
    assert "No digest of the tracking store: there is no MLflow store to read yet.\n" in (
        result.stdout
    )
    assert "no MLflow store at sqlite:///" in result.stderr  # the details, on the terminal
    (site / "broken.db").write_text("not a database", encoding="utf-8")
    broken = f"sqlite:///{site / 'broken.db'}"
    result = run_cli("note", "-C", site, "--author", "alice", "--date", DAY, "--print",
                     "--tracking-uri", broken)  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("No digest"))
    assert line == (
        "No digest of the tracking store: the tracking store could not be read when the note "
        "was made."
    )
    assert "&#" not in result.stdout and str(tmp_path) not in result.stdout


def test_open_starts_the_editor_on_the_new_note(tmp_path: Path) -> None:
    site = tmp_path / "fresh"
    assert run_cli("init", site).returncode == 0
    seen = tmp_path / "editor-was-given.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{seen}"\n', encoding="utf-8")
    editor.chmod(0o755)
    env = {"EDITOR": str(editor), "VISUAL": ""}
    result = run_cli("note", "-C", site, "--author", "newperson", "--date", DAY, "--open", env=env)
    assert result.returncode == 0, result.stderr
    note = site / f"docs/notes/{DAY}-newperson.md"
    assert Path(seen.read_text(encoding="utf-8")).resolve() == note.resolve()
    both = run_cli("note", "-C", site, "--open", "--print", env=env)
    assert both.returncode == 2 and "cannot go with --print" in both.stderr
