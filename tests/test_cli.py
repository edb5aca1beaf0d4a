"""The `daybook` command as people type it: help everywhere, refusals that write nothing, and
errors as one line on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from daybook import __version__
from daybook.cli import COMMAND_ORDER, main
from daybook.mkdocs.scaffold import FILES
from helpers import error_lines, fingerprint, read_tree, run_cli

COMMANDS = sorted(main.commands)


def test_every_command_is_known() -> None:
    assert {"build", "demo", "generate", "init", "serve"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_works_on_every_command(command: str) -> None:
    for flag in ("--help", "-h"):
        result = run_cli(command, flag)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Usage: ")
        assert command in result.stdout.splitlines()[0]
        assert result.stderr == ""


def test_help_and_version_of_the_group() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert f"  {command} " in result.stdout
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"daybook, version {__version__}"


def test_help_lists_the_commands_in_the_order_of_a_day_with_whole_summaries() -> None:
    result = run_cli("--help", env={"COLUMNS": "80"})
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    listing = lines[lines.index("Commands:") + 1 :]
    names = [line.split()[0] for line in listing if line.startswith("  ") and line[2] != " "]
    day = [name for name in COMMAND_ORDER if name in main.commands]
    assert names == day + sorted(set(main.commands) - set(COMMAND_ORDER))  # new ones: appended
    assert names[:4] == ["demo", "init", "note", "build"]
    assert all(len(line) <= 80 for line in lines)
    assert "..." not in "\n".join(listing)  # Click cuts long summaries with "..."
    text = " ".join(" ".join(listing).split())
    for name, command in main.commands.items():
        summary = command.short_help or ""
        assert summary and " ".join(summary.split()) in text, name  # whole, never cut
    mine = [line for line in listing if line.split() and line.split()[0] in day]
    assert len(mine) == len(day)  # the summaries written here fit one line at 80 columns


def test_init_creates_a_site_and_says_what_next(tmp_path: Path) -> None:
    result = run_cli("init", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    for dest in FILES.values():
        assert (tmp_path / "site" / dest).is_file()
        assert f"created {tmp_path / 'site' / dest}" in result.stdout
    assert "daybook build" in result.stdout


def test_init_refuses_to_overwrite_and_then_writes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "mkdocs.yml").write_text("site_name: Mine\n", encoding="utf-8")
    result = run_cli("init", site)
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line == f"Error: refusing to overwrite existing files: {site / 'mkdocs.yml'}"
    assert "Traceback" not in result.stderr
    assert read_tree(site) == {"mkdocs.yml": b"site_name: Mine\n"}


def test_init_twice_refuses_and_leaves_the_first_site_alone(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("init", site).returncode == 0
    (site / "daybook.yml").write_text("title: Edited\n", encoding="utf-8")
    before = fingerprint(site)
    result = run_cli("init", site)
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith("Error: refusing to overwrite existing files: ")
    for dest in FILES.values():
        assert str(site / dest) in line
    assert fingerprint(site) == before


def test_generate_refuses_a_folder_it_did_not_write(tmp_path: Path, store) -> None:
    site, out = tmp_path / "site", tmp_path / "docs"
    run_cli("init", site).check_returncode()
    out.mkdir()
    (out / "notes.md").write_text("mine\n", encoding="utf-8")
    result = run_cli("generate", "-q", "-C", site, "--tracking-uri", store.uri, "--out", out)
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith(f"Error: {out}: folder is not empty and was not written by")
    assert read_tree(out) == {"notes.md": b"mine\n"}


def test_generate_refuses_a_file_as_its_folder(tmp_path: Path, store) -> None:
    site, out = tmp_path / "site", tmp_path / "out"
    run_cli("init", site).check_returncode()
    out.write_text("not a folder\n", encoding="utf-8")
    result = run_cli("generate", "-q", "-C", site, "--tracking-uri", store.uri, "--out", out)
    assert result.returncode == 2  # a usage error, caught by Click before anything runs
    assert error_lines(result)[-1].endswith(f"Directory '{out}' is a file.")
    assert "Traceback" not in result.stderr
    assert out.read_text(encoding="utf-8") == "not a folder\n"


def test_generate_into_an_empty_folder_writes_the_pages(tmp_path: Path, store) -> None:
    site, out = tmp_path / "site", tmp_path / "out"
    run_cli("init", site).check_returncode()
    out.mkdir()
    result = run_cli("generate", "-C", site, "--tracking-uri", store.uri, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # progress goes to stderr, so stdout stays clean
    assert "pages to" in result.stderr
    assert (out / "index.md").is_file() and (out / "SUMMARY.md").is_file()
    assert (out / "experiments" / "classifier" / "index.md").is_file()


def test_build_without_mkdocs_yml_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("build", "-q", "-C", empty)
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith(f"Error: {empty / 'mkdocs.yml'}: not found")
    assert "daybook init" in line
    assert "Traceback" not in result.stderr
    assert list(empty.iterdir()) == []


def test_build_with_a_missing_site_folder_is_one_line(tmp_path: Path) -> None:
    result = run_cli("build", "-q", "-C", tmp_path / "nowhere")
    assert result.returncode != 0
    assert len(error_lines(result)) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_an_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("build", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr
