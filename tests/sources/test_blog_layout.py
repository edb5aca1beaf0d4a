"""The journal's folders come from the blog plugin's settings in mkdocs.yml, and must stay inside
docs_dir: Daybook reads the notes there and `daybook note` writes new ones. A folder that leads
out is refused with one line naming mkdocs.yml and the line of the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from daybook.core.errors import DaybookError
from daybook.mkdocs.scaffold import init_site
from daybook.sources.mkdocs_yml import read_layout
from helpers import error_lines, run_cli


def _site(root: Path, **options: str) -> Path:
    """A scaffolded site whose blog plugin has these options instead of its own folders."""
    init_site(root)
    config = root / "mkdocs.yml"
    lines = config.read_text(encoding="utf-8").splitlines()
    kept = [
        ln for ln in lines if not ln.strip().startswith(("blog_dir:", "post_dir:", "authors_file:"))
    ]
    at = next(i for i, ln in enumerate(kept) if ln.strip() == "- blog:") + 1
    kept[at:at] = [f"      {key}: {value}" for key, value in options.items()]
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return root


def _line_of(root: Path, text: str) -> int:
    lines = (root / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, start=1) if text in ln)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"blog_dir": "../x"}, "blog_dir"),
        ({"blog_dir": "journal/../../x"}, "blog_dir"),
        ({"blog_dir": "/srv/journal"}, "blog_dir"),
        ({"blog_dir": "journal", "post_dir": "../notes"}, "post_dir"),
        ({"blog_dir": "journal", "post_dir": '"{blog}/../../notes"'}, "post_dir"),
        ({"blog_dir": "journal", "post_dir": "/etc"}, "post_dir"),
        ({"blog_dir": "journal", "authors_file": "../authors.yml"}, "authors_file"),
    ],
)
def test_a_blog_folder_outside_docs_is_refused_naming_mkdocs_yml_and_the_line(
    tmp_path: Path, options: dict[str, str], key: str
) -> None:
    root = _site(tmp_path / "site", **options)
    with pytest.raises(DaybookError) as info:
        read_layout(root)
    message = str(info.value)
    assert message.startswith(f"{root / 'mkdocs.yml'}:{_line_of(root, key + ':')}: ")
    assert f"the blog plugin's {key}" in message and "leads out of docs_dir" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("options", "blog", "posts"),
    [
        ({"blog_dir": "journal", "post_dir": "notes"}, "journal", "notes"),
        ({"blog_dir": "journal/", "post_dir": '"{blog}/posts"'}, "journal", "journal/posts"),
        ({"blog_dir": ".", "post_dir": "notes"}, ".", "notes"),
        ({"blog_dir": "a/../journal", "post_dir": "notes"}, "journal", "notes"),
    ],
)
def test_blog_folders_inside_docs_are_read_normalized(
    tmp_path: Path, options: dict[str, str], blog: str, posts: str
) -> None:
    layout = read_layout(_site(tmp_path / "site", **options))
    assert layout is not None
    assert (layout.blog_dir, layout.notes_dir) == (blog, posts)


def test_a_build_with_a_blog_dir_outside_docs_stops_in_one_line(tmp_path: Path) -> None:
    root = _site(tmp_path / "site", blog_dir="../x")
    result = run_cli("build", "-q", "-C", root)
    assert result.returncode == 1
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {root / 'mkdocs.yml'}:")
    assert "blog_dir '../x' leads out of docs_dir" in lines[0]
    assert not (tmp_path / "x").exists()
