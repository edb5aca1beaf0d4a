"""The one sanitizer (nh3 with Daybook's allowlist): Material's content markup survives, nothing
that runs code, restyles the page, takes Material's ids or fetches from elsewhere does."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest

from daybook.safety.sanitize import (
    SNIPPET_SENTINEL,
    clean_html,
    markdown_block,
    markdown_inline,
    neutralize_snippets,
    restore_snippets,
)
from helpers import HtmlPage
from sanitize_helpers import HTML_CLASSICS, SECRET, problems_in, site_extensions


def render_note(text: str, base: Path) -> str:
    """A note as the daybook plugin sees it: rendered with the site's extensions, then cleaned."""
    names, configs = site_extensions(base)
    md = markdown.Markdown(extensions=names, extension_configs=configs)
    return restore_snippets(clean_html(md.convert(neutralize_snippets(text))))


@pytest.fixture
def base(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    return tmp_path


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    return HtmlPage(html).tags


# --- Material's markup ----------------------------------------------------------------------------

MATERIAL_NOTE = """\
# Title {#title .md-button}

!!! warning "Careful"

    text

??? tip "More"

    hidden

=== "One"

    a

=== "Two"

    b

- [x] done
- [ ] open

```python title="train.py" linenums="1"
x = 1  # a < b
```

| left | right |
| :--- | ----: |
| a | 1 |

Text[^1] and `#!python y = 2` and [go](other.md){ .md-button .md-button--primary }.

[^1]: A footnote.
"""


def test_material_markup_survives_except_rel_and_data_attributes(base: Path) -> None:
    names, configs = site_extensions(base)
    raw = markdown.Markdown(extensions=names, extension_configs=configs).convert(MATERIAL_NOTE)
    clean = render_note(MATERIAL_NOTE, base)
    # The parser adds the <tbody> a table implies.
    before = [(t, a) for t, a in _tags(raw) if t != "tbody"]
    after = [(t, a) for t, a in _tags(clean) if t != "tbody"]
    assert [t for t, _ in before] == [t for t, _ in after]
    for (_, a), (tag, b) in zip(before, after, strict=True):
        kept = {k: v for k, v in a.items() if not k.startswith("data-")}
        assert set(b) - {"rel"} == set(kept), (tag, a, b)
        for key in ("id", "class", "href", "for", "name", "type", "style", "title"):
            assert b.get(key) == kept.get(key), (tag, key, a, b)
    for needle in ('id="__tabbed_1_1"', 'type="radio"', 'class="task-list-control"',
                   'id="__codelineno-0-1"', 'class="footnote-ref"', 'id="fn:1"',
                   'class="md-button md-button--primary"', 'style="text-align: right;"',
                   'class="admonition warning"', "<details", 'class="highlighttable"'):  # fmt: skip
        assert needle in clean, needle


# --- what is taken out ----------------------------------------------------------------------------


REL = 'rel="nofollow noopener"'
CELL = "<table><tbody><tr>{}</tr></tbody></table>"
SAME = [  # kept exactly as written
    '<span id="__tabbed_1_2">t</span>',
    '<img src="../assets/shot.png">',
    '<del class="daybook-broken" title="no run">runs:/x</del>',
    '<code class="language-python highlight"><span class="k">if</span></code>',
    CELL.format('<td style="text-align: center;">t</td>'),
]
CLEANED = [
    ('<div id="__drawer" class="md-dialog note own">t</div>', '<div class="note">t</div>'),
    ('<h2 id="md-header" class="md-typeset">t</h2>', "<h2>t</h2>"),
    ('<label for="__drawer">t</label>', "<label>t</label>"),
    ('<input type="password" name="__search">', '<input type="checkbox">'),
    ('<input type="radio" name="__tabbed_2" checked>',
     '<input type="radio" name="__tabbed_2" checked="">'),
    ('<img src="https://tracker.example/p.png" alt="p">', '<img alt="p">'),
    ('<img src="//tracker.example/p.png">', "<img>"),
    ('<img src="data:image/png;base64,AAAA">', "<img>"),
    (CELL.format('<td style="position:fixed">t</td>'), CELL.format("<td>t</td>")),
    ('<p style="text-align: left;" onclick="x()">t</p>', "<p>t</p>"),
    ('<a href="java&#9;script:alert(1)">t</a>', f"<a {REL}>t</a>"),
    ('<a href="&#106;avascript:alert(1)">t</a>', f"<a {REL}>t</a>"),
    ('<a href="java script:alert(1)">t</a>', f"<a {REL}>t</a>"),
    ('<a href="/\\evil.example/a">t</a>', f"<a {REL}>t</a>"),
    ('<a href="https://example.org" target="_blank">t</a>',
     f'<a href="https://example.org" {REL}>t</a>'),
    ('<a href="#fn:1" rel="opener">t</a>', f'<a href="#fn:1" {REL}>t</a>'),
    ("<p>a<!-- c --><script>alert(1)</script><style>p{}</style>b</p>", "<p>ab</p>"),
    ("<svg onload=alert(1)><text>t</text></svg><math>m</math>", ""),
    ('<iframe src="https://x"></iframe><object data="x"></object>', ""),
    ('<form action="/x"><button formaction="javascript:x">go</button></form>', "go"),
    ('<pre class="mermaid">graph</pre>', "<pre>graph</pre>"),
]  # fmt: skip


@pytest.mark.parametrize(("html", "expected"), [(h, h) for h in SAME] + CLEANED)
def test_clean_html(html: str, expected: str) -> None:
    assert clean_html(html) == expected


def test_each_html_classic_is_cleaned(base: Path) -> None:
    for classic in HTML_CLASSICS:
        assert problems_in(clean_html(classic)) == [], classic
        assert problems_in(render_note(classic, base)) == [], classic
        assert problems_in(markdown_block(classic)) == [], classic


# --- descriptions: Python-Markdown, raw HTML as text, then nh3 ------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "```{#a .md-dialog}\ncode\n```",
        "```{#__drawer .md-dialog .md-typeset onclick=alert(1)}\ncode\n```",
        "~~~ {: #__search .md-header style='position:fixed' }\ncode\n~~~",
    ],
)
def test_a_fenced_attribute_list_in_a_description_takes_no_material_id_or_class(
    source: str,
) -> None:
    """Issue #10: a fenced block rendered as `<pre id="a" class="md-dialog">`."""
    out = markdown_block(source)
    assert problems_in(out) == [], out
    assert "md-dialog" not in out.replace("language-md-dialog", "")
    assert "code" in HtmlPage(out).text


# --- snippets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ['--8<-- "secret.txt"', "--8<--\nsecret.txt\n--8<--", ';--8<-- "secret.txt"',
     '    --8<-- "secret.txt"', '---8<--- "secret.txt"'],
)  # fmt: skip
def test_snippet_markers_are_shown_as_written_and_never_expanded(line: str, base: Path) -> None:
    for text in (line, f"```\n{line}\n```", f"```python\nx = 1\n{line}\n```", f"> {line}"):
        html = render_note(text, base)
        assert SECRET not in html, text
        assert SNIPPET_SENTINEL not in html
        shown = HtmlPage(html).raw_text
        for part in line.split("\n"):
            assert part.strip().lstrip(";") in shown, (text, shown)


def test_neutralizing_changes_only_the_markers() -> None:
    text = 'a -8< b 8<- --8<-- "x"\n--8<--\n'
    out = neutralize_snippets(text)
    assert out.replace(SNIPPET_SENTINEL, "") == text
    assert out.count(SNIPPET_SENTINEL) == 2
    assert not re.search(r"(?m)^[ \t]*;*-+8<-+", out)


# --- one line of a note on another page -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Keep | pipes <b onclick=x>and</b> *tags* {: onclick=alert(1) }",
         "Keep | pipes and tags {: onclick=alert(1) }"),
        ('[docs](https://example.org/a|b "t") and <img src=x onerror=alert(1)>', "docs and"),
        ("`<script>` & `{x}`\nsecond line", "<script> & {x} second line"),
        ("# not a heading <!-- c -->", "not a heading"),
    ],
)  # fmt: skip
def test_an_item_is_inline_html_no_markdown_pass_can_change(text: str, shown: str) -> None:
    out = str(markdown_inline(text))
    assert "\n" not in out and "|" not in out and "{" not in out
    assert problems_in(out) == []
    # As the Decisions page uses it: in a list item and a table cell of another Markdown page.
    page = f"- **date** · {out} — [note](n.md)\n\n| a | b |\n| --- | --- |\n| {out} | x |\n"
    html = markdown.markdown(page, extensions=["attr_list", "tables", "md_in_html"])
    assert problems_in(html) == []
    rendered = HtmlPage(html)
    assert shown in rendered.text
    [table] = rendered.tables
    assert [c.text for c in table.body[0]] == [shown, "x"]
