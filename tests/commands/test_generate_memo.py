"""A generate whose inputs are all unchanged reuses the last one's pages (issue #14), and any
change to what pages are made from (a note, a setting, a template, a run) renders them again.
Real store, real CLI; the trees are compared byte for byte."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from daybook.commands.generate import load_site, render_site
from daybook.core.snapshot import Snapshot
from daybook.store.cache import CACHE_DIR
from daybook.store.page_memo import MEMO_FILE
from helpers import add_settings, read_tree, run_cli
from journal_helpers import front, journal_site
from store_builder import StoreInfo

REUSED = "pages: reused the last build's"


def _offline(site: Path, out: Path) -> tuple[str, dict[str, bytes]]:
    result = run_cli("generate", "-C", site, "--offline", "--out", out)
    assert result.returncode == 0, result.stderr
    return result.stderr, read_tree(out)


def test_an_unchanged_offline_generate_reuses_the_pages_and_a_change_renders_again(
    tmp_path: Path, store: StoreInfo
) -> None:
    site = journal_site(tmp_path / "site", {"2025-11-24-alice.md": front("2025-11-24", ["alice"])
                                            + "First note.\n"})  # fmt: skip
    pulled = run_cli("pull", "-C", site, "--tracking-uri", store.uri)
    assert pulled.returncode == 0, pulled.stderr

    first_log, first = _offline(site, tmp_path / "a")
    assert REUSED not in first_log
    assert (site / CACHE_DIR / MEMO_FILE).is_file()
    again_log, again = _offline(site, tmp_path / "b")
    assert REUSED in again_log
    assert again == first

    # A note people wrote: its page, and the journal's, show the new text.
    note = site / "docs" / "notes" / "2025-11-24-alice.md"
    note.write_text(note.read_text() + "A line added later.\n")
    log, tree = _offline(site, tmp_path / "c")
    assert REUSED not in log
    assert any(b"A line added later." in data for data in tree.values())

    # A setting: the home page's title follows it.
    add_settings(site / "daybook.yml", 'title: "Memo check title"\n')
    log, tree = _offline(site, tmp_path / "d")
    assert REUSED not in log
    assert b"Memo check title" in tree["index.md"]

    # A template override in the site's templates/.
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "experiments.md.j2").write_text("# Overridden experiments page\n")
    log, tree = _offline(site, tmp_path / "e")
    assert REUSED not in log
    assert tree["experiments/index.md"].startswith(b"# Overridden experiments page")
    log, again = _offline(site, tmp_path / "f")
    assert REUSED in log and again == tree


def test_builds_timed_by_the_clock_neither_reuse_nor_keep_pages(
    tmp_path: Path, store: StoreInfo
) -> None:
    # Their pages time running runs from "now": new each time, so a copy would be waste, and
    # an offline generate's pages (timed from the pull) are not theirs to reuse.
    site = journal_site(tmp_path / "site", {})
    memo = site / CACHE_DIR / MEMO_FILE
    result = run_cli("generate", "-C", site, "--tracking-uri", store.uri, "--out", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    assert not memo.exists()

    _offline(site, tmp_path / "offline")
    kept = memo.read_bytes()
    built = run_cli("build", "--offline", "-C", site, "--site-dir", tmp_path / "html")
    assert built.returncode == 0, built.stderr
    assert REUSED not in built.stderr
    assert memo.read_bytes() == kept


def test_a_changed_run_is_rendered_again(tmp_path: Path, snapshot: Snapshot) -> None:
    site = load_site(journal_site(tmp_path / "site", {}))
    first = render_site(site, snapshot, memo=True).pages
    reused: list[str] = []
    assert render_site(site, snapshot, reused.append, memo=True).pages == first
    assert any(line.startswith(REUSED) for line in reused)  # from the memo
    assert render_site(site, snapshot, reused.append).pages == first  # no memo unless asked
    assert sum(line.startswith(REUSED) for line in reused) == 1
    run = snapshot.runs[0]
    renamed = dataclasses.replace(run, name="renamed <b>for the memo</b>")
    changed = dataclasses.replace(snapshot, runs=(renamed, *snapshot.runs[1:]))
    notes: list[str] = []
    pages = render_site(site, changed, progress=notes.append, memo=True).pages
    assert not any(line.startswith(REUSED) for line in notes)
    assert pages != first
    assert any("renamed &lt;b&gt;for the memo&lt;/b&gt;" in text for text in pages.values())
