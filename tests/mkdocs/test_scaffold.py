"""What `daybook init` writes points only at documentation that exists: a page the new site
ships, or Daybook's own user guide (docs/guide/ of this repository), never a page nobody wrote."""

from __future__ import annotations

import re
from pathlib import Path

from daybook.core.config import load_config
from daybook.mkdocs.scaffold import init_site
from helpers import run_cli
from store_builder import StoreInfo

REPOSITORY = Path(__file__).resolve().parents[2]
DOC_PATH = re.compile(r"\bdocs/[\w./-]*?\.md\b")


def test_every_documentation_page_the_scaffold_names_exists(tmp_path: Path) -> None:
    site = tmp_path / "site"
    written = init_site(site)
    named: dict[str, list[str]] = {}
    for path in written:
        for ref in DOC_PATH.findall(path.read_text(encoding="utf-8")):
            if "<" not in ref:  # docs/models/<model name>.md is a pattern, not a page
                named.setdefault(ref, []).append(path.relative_to(site).as_posix())
    assert "docs/guide/configuration.md" in named  # daybook.yml says where its keys are explained
    missing = {
        ref: files
        for ref, files in named.items()
        if not (site / ref).is_file() and not (REPOSITORY / ref).is_file()
    }
    assert missing == {}


def test_the_scaffolded_settings_load_and_their_commented_examples_too(tmp_path: Path) -> None:
    site = tmp_path / "site"
    init_site(site)
    assert load_config(site).site.file_urls is False
    text = (site / "daybook.yml").read_text(encoding="utf-8")
    text = text.replace("# site:\n#   file_urls: true\n", "site:\n  file_urls: true\n")
    (site / "daybook.yml").write_text(text, encoding="utf-8")
    assert load_config(site).site.file_urls is True


def test_a_new_site_with_no_notes_has_no_empty_archive_in_its_nav(
    tmp_path: Path, store: StoreInfo
) -> None:
    """Material's blog attaches an Archive section even before the first note, and such an
    empty section links to the page above it: the daybook plugin drops empty sections, and the
    Archive comes with the first note."""
    site = tmp_path / "site"
    init_site(site)
    result = run_cli("build", "--strict", "-q", "-C", site, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    assert _nav_titles(site / "site/journal/index.html") >= {"Journal", "Decisions"}
    assert "Archive" not in _nav_titles(site / "site/journal/index.html")
    made = run_cli("note", "-q", "-C", site, "--tracking-uri", store.uri, "--author", "alice")
    assert made.returncode == 0, made.stderr
    result = run_cli("build", "--strict", "-q", "-C", site, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    assert "Archive" in _nav_titles(site / "site/journal/index.html")


def _nav_titles(page: Path) -> set[str]:
    """The titles of the site's navigation as the page shows it."""
    html = page.read_text(encoding="utf-8")
    return {t.strip() for t in re.findall(r'<span class="md-ellipsis">\s*([^<]+?)\s*</span>', html)}
