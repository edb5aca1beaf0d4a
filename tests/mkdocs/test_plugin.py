"""The daybook MkDocs plugin in a real `daybook build`: notes are rendered with the site's own
extensions and sanitized afterwards, so the bypasses of issue #10 are gone while Material's
markup works in notes; a site with a journal and without the plugin does not build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import HtmlPage, parse_html
from journal_helpers import html_page
from sanitize_helpers import (
    SECRET,
    build,
    description_regions,
    hostile_site,
    note_regions,
    write_notes,
    write_runs,
)

NOTES = [
    # 0: issue #10, a live onclick from pymdownx.blocks.html
    '/// html | div[onclick="alert(1)" id="__drawer" class="md-dialog note"]\n\n'
    "html block\n\n///\n",
    # 1: issue #10, a snippet line inside a fence (and outside one) pulls in a file
    '```text\n--8<-- "secret.txt"\n```\n\n--8<-- "secret.txt"\n\n## Also --8<-- here\n',
    # 2: what notes may use now
    '!!! warning "Careful"\n\n    Mind the gap.\n\n=== "One"\n\n    first\n\n=== "Two"\n\n'
    "    second\n\n- [x] done\n- [ ] @alice open\n\n```python\nx = 1\n```\n\n"
    "Text[^1] and [the docs](https://example.org){ .md-button }.\n\n[^1]: A footnote.\n\n"
    "<kbd>Ctrl</kbd> <b onclick=alert(2)>bold</b> <img src=x onerror=alert(3)>\n",
]
# The blog puts a post's title on top of its excerpt as a Markdown heading: attr_list read this
# one as an event handler and Material's drawer id on the journal's index before excerpts were
# sanitized.
TITLED = (
    '---\ndate: 2025-11-20\nauthors: [alice]\ntitle: "Plan {: onclick=alert(4) #__drawer }"\n'
    "tags: ['{: onclick=alert(5) }']\n---\n\nBody.\n"
)
DESCRIPTION = "```{#a .md-dialog}\nfenced code\n```\n"  # issue #10: <pre id="a" class="md-dialog">


@dataclass(frozen=True)
class Built:
    root: Path
    html: Path
    notes: list[str]  # Markdown paths under docs/

    def note(self, i: int) -> HtmlPage:
        return parse_html(self.note_path(i))

    def note_path(self, i: int) -> Path:
        [path] = self.html.glob(f"journal/*/*/*/n{i}/index.html")
        return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = hostile_site(tmp_path_factory.mktemp("plugin") / "site")
    notes = write_notes(root, NOTES)
    (root / "docs" / "notes" / "2025-11-20-titled.md").write_text(TITLED, encoding="utf-8")
    write_runs(root, [DESCRIPTION, "plain"], experiment=DESCRIPTION)
    code, stderr = build(root)
    assert code == 0, stderr
    return Built(root, root / "site", notes)


def test_a_fenced_attribute_list_in_a_run_description_is_cleaned(built: Built) -> None:
    for page in ("experiments/hostile/runs/run-0-00000000", "experiments/hostile"):
        html = (built.html / page / "index.html").read_text(encoding="utf-8")
        regions = description_regions(html)
        assert regions.count == 1 and regions.problems() == []
        assert not any("md-dialog" in (a.get("class") or "").split() for _, a in regions.tags)
        assert "fenced code" in HtmlPage(html).text


def test_an_event_handler_from_blocks_html_in_a_note_is_cleaned(built: Built) -> None:
    html = built.note_path(0).read_text(encoding="utf-8")
    regions = note_regions(html)
    assert regions.count == 1 and regions.problems() == []
    assert "onclick" not in html and "alert(1)" not in html
    assert ("div", {"class": "note"}) in regions.tags
    assert "html block" in built.note(0).text


def test_a_snippet_line_in_a_note_is_shown_as_written_and_never_read(built: Built) -> None:
    for path in built.html.rglob("*"):
        if path.suffix in (".html", ".json", ".xml"):
            text = path.read_text(encoding="utf-8")
            assert SECRET not in text, path
            assert "\u2060" not in text, path  # the sentinel the plugin put in is gone
    page = built.note(1)
    assert page.raw_text.count('--8<-- "secret.txt"') == 2  # in the fence and in the paragraph
    assert "Also --8<-- here" in [text for _, text in page.headings]
    html = built.note_path(1).read_text(encoding="utf-8")
    toc = html.split('<nav class="md-nav md-nav--secondary"')
    assert len(toc) == 2 and "Also --8&lt;-- here" in toc[1]  # the table of contents


def test_material_markup_works_in_notes_and_their_excerpts(built: Built) -> None:
    page = built.note(2)
    classes = {c for _, a in page.tags for c in (a.get("class") or "").split()}
    for needed in ("admonition", "warning", "tabbed-set", "task-list", "md-button", "footnote"):
        assert needed in classes, needed
    assert ("input", {"type": "radio"}) in [(t, {"type": a.get("type")}) for t, a in page.tags]
    assert "<kbd>Ctrl</kbd>" in built.note_path(2).read_text(encoding="utf-8")
    index = (built.html / "journal" / "index.html").read_text(encoding="utf-8")
    regions = note_regions(index)
    assert regions.count == len(NOTES) + 1 and regions.problems() == []
    assert any("admonition" in (a.get("class") or "") for _, a in regions.tags)
    for i in range(len(NOTES)):
        assert note_regions(built.note_path(i).read_text(encoding="utf-8")).problems() == []


def test_a_journal_without_the_plugin_does_not_build(tmp_path: Path) -> None:
    root = hostile_site(tmp_path / "site", plugin=False)
    write_notes(root, NOTES[:1])
    write_runs(root, ["plain"])
    code, stderr = build(root)
    assert code == 1
    [line] = [ln for ln in stderr.splitlines() if "mkdocs.yml" in ln]
    assert str(root / "mkdocs.yml") in line and "`- daybook`" in line
    assert not (root / "site" / "journal").exists()


def test_a_site_without_a_journal_builds_without_the_plugin(tmp_path: Path) -> None:
    root = hostile_site(tmp_path / "site", plugin=False)
    mkdocs = root / "mkdocs.yml"
    text = mkdocs.read_text(encoding="utf-8")
    mkdocs.write_text(text[: text.index("  - blog:")] + text[text.index("  - tags") :])
    write_runs(root, ["plain"])
    code, stderr = build(root)
    assert code == 0, stderr
    assert html_page(root / "site", "experiments/hostile/index.md").is_file()


def test_a_note_title_adds_no_attribute_to_its_excerpt(built: Built) -> None:
    post = parse_html(built.html / "journal/2025/11/20/titled/index.html")
    assert post.heading() == "Plan {: onclick=alert(4) #__drawer }"  # the post shows it as text
    assert "{: onclick=alert(5) }" in post.text  # a tag
    index = (built.html / "journal/index.html").read_text(encoding="utf-8")
    regions = note_regions(index)
    assert regions.problems() == [] and "alert(4)" not in index
    # The blog reads the title of an excerpt as Markdown: the attribute list is taken, not shown.
    assert "Plan" in HtmlPage(index).text
