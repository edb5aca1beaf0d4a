"""`daybook generate --out` writes the binary files beside the pages (artifact images) byte for
byte, under the same path guard as pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from daybook.commands.generate import write_pages
from daybook.core.errors import DaybookError
from helpers import tiny_png


def test_binary_files_are_written_as_they_are(tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = {"experiments/e/runs/r-1/artifacts/cm.png": tiny_png()}
    assert write_pages({"index.md": "# Home\n"}, out, files=files) == 1
    assert (out / "experiments/e/runs/r-1/artifacts/cm.png").read_bytes() == tiny_png()


@pytest.mark.parametrize("rel", ["../cm.png", "/tmp/cm.png", "a/../../cm.png"])
def test_a_binary_file_outside_the_folder_is_refused_before_anything_is_written(
    tmp_path: Path, rel: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(DaybookError, match="refusing to write"):
        write_pages({"index.md": "# Home\n"}, out, files={rel: b"x"})
    assert not out.exists()
