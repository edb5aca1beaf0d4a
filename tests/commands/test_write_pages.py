"""`daybook generate --out` writes inside its folder and nowhere else: a page path that could lead
out (any `..`, an absolute path) is refused with one line before anything of the folder is
replaced, and no file is written through a symlink pointing out."""

from __future__ import annotations

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
