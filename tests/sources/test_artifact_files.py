"""Reading previewed artifact files: bounded, never out of the run's artifact root (by `..`, an
absolute path or a symlink), and an image only when its bytes are the image its name says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daybook.core.artifacts import PreviewPick
from daybook.sources.artifact_files import UnsafePath, inside, read_previews
from helpers import tiny_png


@pytest.mark.parametrize("path", ["../x.png", "a/../../x.png", "/etc/passwd", "", "a\\..\\x"])
def test_a_path_that_climbs_out_is_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(UnsafePath):
        inside(tmp_path, path)


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    with pytest.raises(UnsafePath):
        inside(root, "link.txt")


def test_files_are_read_bounded_and_checked(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    root.mkdir()
    (root / "cm.png").write_bytes(tiny_png())
    (root / "fake.png").write_bytes(b"<html><script>alert(1)</script>")
    (root / "log.txt").write_text("line\n" * 1000)
    (tmp_path / "outside.txt").write_text("never read")
    picks = [
        PreviewPick("r1", "cm.png", "image", len(tiny_png())),
        PreviewPick("r1", "fake.png", "image", 31),
        PreviewPick("r1", "log.txt", "text", 5000),
        PreviewPick("r1", "../outside.txt", "text", 10),
        PreviewPick("r1", "gone.json", "json", 10),
    ]
    got = read_previews(picks, {"r1": root.as_uri()}, "sqlite:///x", text_limit=100)
    by_path = {f.path: f for f in got.files}
    assert sorted(by_path) == ["cm.png", "log.txt"]
    assert by_path["cm.png"].data == tiny_png()
    assert by_path["log.txt"].text == "line\n" * 20 and by_path["log.txt"].truncated
    reasons = dict(got.skipped["r1"])
    assert reasons["fake.png"] == "not a readable image"
    assert reasons["../outside.txt"].startswith("cannot be read")
    assert reasons["gone.json"].startswith("cannot be read")
