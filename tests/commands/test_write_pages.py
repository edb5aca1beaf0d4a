"""`daybook generate --out` writes inside its folder and nowhere else: a page path that could lead
out (any `..`, an absolute path) is refused with one line before anything of the folder is
replaced, and no file is written through a symlink pointing out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daybook.commands.generate import GENERATED_MARKER, _prepared, write_pages
from daybook.core.errors import DaybookError


@pytest.mark.parametrize(
    "rel",
    ["../x.md", "a/../../x.md", "/tmp/x.md", "..", "", "C:/x.md", "a/c/../d.md"],
)
def test_a_page_path_leading_out_of_the_folder_is_refused_in_one_line(
    tmp_path: Path, rel: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(DaybookError) as info:
        write_pages({"index.md": "# Home\n", rel: "escaped\n"}, out)
    message = str(info.value)
    assert message == (
        f"{out.resolve()}: refusing to write the page {rel!r}: a page path must stay inside "
        "this folder (no absolute path, no `..`)"
    )
    assert not out.exists()  # refused before anything was written
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_refusal_leaves_an_earlier_generated_folder_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_pages({"index.md": "# Home\n"}, out)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    with pytest.raises(DaybookError, match="must stay inside this folder"):
        write_pages({"index.md": "# New\n", "../x.md": "escaped\n"}, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert (out / "index.md").read_text() == "# Home\n"


def test_paths_inside_the_folder_are_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    pages = {"index.md": "# Home\n", "a/./b.md": "b\n", "a/c/d.md": "d\n"}
    assert write_pages(pages, out) == 3
    assert (out / "a" / "b.md").read_text() == "b\n"
    assert (out / "a" / "c" / "d.md").read_text() == "d\n"
    assert (out / GENERATED_MARKER).is_file()


def test_a_symlink_in_the_folder_pointing_out_is_not_written_through(tmp_path: Path) -> None:
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "models").symlink_to(elsewhere)
    with pytest.raises(DaybookError) as info:
        _prepared(out.resolve(), "models/x.md")
    assert str(info.value) == (
        f"{out.resolve()}: refusing to write the page 'models/x.md': a symlink on its path leads "
        "out of this folder"
    )
    assert list(elsewhere.iterdir()) == []
    (out / "inside").mkdir()
    (out / "alias").symlink_to(out / "inside")
    assert _prepared(out.resolve(), "alias/x.md") == out.resolve() / "alias" / "x.md"


def _tree(out: Path) -> dict[str, bytes | str]:
    return {
        p.relative_to(out).as_posix(): ("link" if p.is_symlink() else p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def test_writing_again_leaves_unchanged_files_untouched_and_removes_the_rest(
    tmp_path: Path,
) -> None:
    """A second generate into its own folder writes only the pages that changed (an unchanged
    file keeps its bytes and its time: nothing to sync, nothing for `mkdocs serve` to reload)
    and removes what it no longer writes; the folder ends as a first write into an empty one
    leaves it."""
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    write_pages({"index.md": "# Home\n", "a/b.md": "b\n", "old/x.md": "x\n", "c": "c\n"}, out)
    kept = (out / "a" / "b.md").stat().st_mtime_ns
    old_time = 1_000_000_000_000_000_000
    os.utime(out / "index.md", ns=(old_time, old_time))
    os.utime(out / "a" / "b.md", ns=(old_time, old_time))
    (out / "stray.md").write_text("left by hand\n")
    (out / "link").symlink_to(tmp_path)  # never followed, never kept
    pages = {"index.md": "# Home, again\n", "a/b.md": "b\n", "c/d.md": "a section now\n"}
    files = {"img/p.png": b"\x89PNG"}
    assert write_pages(pages, out, files=files) == 3
    write_pages(pages, fresh, files=files)
    assert _tree(out) == _tree(fresh)
    assert (out / "a" / "b.md").stat().st_mtime_ns == old_time != kept  # not written again
    assert (out / "index.md").stat().st_mtime_ns != old_time  # changed: written
    assert not (out / "old").exists()  # a folder left empty goes too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "out"]  # nothing followed


def test_a_page_that_became_a_file_replaces_the_folder_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_pages({"runs/x/index.md": "x\n", "runs/x/more.md": "m\n"}, out)
    write_pages({"runs/x": "now a file\n"}, out)
    assert (out / "runs" / "x").read_text() == "now a file\n"


def test_hand_written_docs_are_copied_only_when_they_changed(tmp_path: Path) -> None:
    docs, out = tmp_path / "docs", tmp_path / "out"
    (docs / "guide").mkdir(parents=True)
    (docs / "guide" / "a.md").write_text("a\n")
    (docs / "index.md").write_text("replaced by the generated home\n")
    write_pages({"index.md": "# Home\n"}, out, docs)
    copied = out / "guide" / "a.md"
    old_time = 1_000_000_000_000_000_000
    os.utime(copied, ns=(old_time, old_time))
    os.utime(docs / "guide" / "a.md", ns=(old_time, old_time))
    write_pages({"index.md": "# Home\n"}, out, docs)
    assert copied.stat().st_mtime_ns == old_time and copied.read_text() == "a\n"
    (docs / "guide" / "a.md").write_text("a, edited\n")
    write_pages({"index.md": "# Home\n"}, out, docs)
    assert copied.read_text() == "a, edited\n"
    assert (out / "index.md").read_text() == "# Home\n"
