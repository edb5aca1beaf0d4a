"""`daybook generate --out` says what is wrong in files people wrote as `daybook build` does:
warnings by default, errors with --strict, which then exits 1 (a CI gate, like `build --strict`)."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli
from journal_helpers import front, journal_site
from store_builder import StoreInfo

BROKEN = "2025-11-24-alice.md"


def _site(tmp_path: Path, store: StoreInfo) -> Path:
    note = front("2025-11-24", ["alice"]) + "Fine line.\nBroken runs:/deadbeefdeadbeef here.\n"
    return journal_site(tmp_path / "site", {BROKEN: note})


def test_a_mistake_in_a_note_is_a_warning_and_strict_makes_it_an_error(
    tmp_path: Path, store: StoreInfo
) -> None:
    site = _site(tmp_path, store)
    uri = ("--tracking-uri", store.uri)
    plain = run_cli("generate", "-q", "-C", site, *uri, "--out", tmp_path / "a")
    assert plain.returncode == 0, plain.stderr
    warnings = [line for line in plain.stderr.splitlines() if BROKEN in line]
    assert warnings and all(line.startswith("warning: docs/notes/") for line in warnings)
    assert "deadbeef" in "\n".join(warnings)
    assert (tmp_path / "a" / "index.md").is_file()

    strict = run_cli("generate", "-q", "--strict", "-C", site, *uri, "--out", tmp_path / "b")
    assert strict.returncode == 1
    errors = [line for line in strict.stderr.splitlines() if BROKEN in line]
    assert [line.removeprefix("error: ") for line in errors] == [
        line.removeprefix("warning: ") for line in warnings
    ]
    assert strict.stderr.splitlines()[-1].startswith("Error: ")
    assert "(--strict)" in strict.stderr.splitlines()[-1]
    assert "Traceback" not in strict.stderr


def test_a_clean_site_passes_strict(tmp_path: Path, store: StoreInfo) -> None:
    site = journal_site(tmp_path / "site", {BROKEN: front("2025-11-24", ["alice"]) + "Fine.\n"})
    uri = ("--tracking-uri", store.uri)
    result = run_cli("generate", "-q", "--strict", "-C", site, *uri, "--out", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    assert "error:" not in result.stderr and "warning:" not in result.stderr
