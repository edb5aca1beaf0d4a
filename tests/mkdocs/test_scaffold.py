"""What `daybook init` writes points only at documentation that exists: a page the new site
ships, or Daybook's own user guide (docs/guide/ of this repository), never a page nobody wrote."""

from __future__ import annotations

import re
from pathlib import Path

from daybook.core.config import load_config
from daybook.mkdocs.scaffold import init_site

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
