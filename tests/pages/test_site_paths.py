"""Links between site paths, worked out without the OS: the same as posixpath.relpath."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from daybook.pages.paths import _relpath, relative, relative_url

_NAME = st.sampled_from(["a", "b", "runs", "index.md", "x.json", ".", "..", "..a", ""])
_PATH = st.lists(_NAME, min_size=1, max_size=5).map("/".join)


@given(_PATH, _PATH)
def test_relpath_of_site_paths_is_posixpaths(path: str, start: str) -> None:
    try:
        expected = posixpath.relpath(path, start)
    except ValueError:  # an empty path
        expected = "ValueError"
    try:
        got = _relpath(path, start)
    except ValueError:
        got = "ValueError"
    assert got == expected


def test_links_are_the_same_when_asked_again() -> None:
    first = relative_url("experiments/e/index.md", "runs/index.md#abc", True)
    assert first == "../../runs/#abc"
    assert relative_url("experiments/e/index.md", "runs/index.md#def", True) == "../../runs/#def"
    assert relative("experiments/e/runs/r.md", "models/m/index.md") == "../../../models/m/index.md"
