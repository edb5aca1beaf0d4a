"""Escaping: untrusted text shows as itself, on one line, and never acts as Markdown or HTML."""

from __future__ import annotations

import math
import re
from pathlib import Path

import markdown
import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from markupsafe import Markup

from daybook.core.numbers import format_number
from daybook.safety.escape import (
    finalize,
    md_cell,
    md_code,
    md_link,
    md_text,
    title_text,
    yaml_string,
)
from daybook.safety.sanitize import markdown_block
from helpers import HtmlPage
from store_builder import HOSTILE_DESCRIPTION

# Text that is mostly Markdown and HTML syntax, so the interesting cases come up often.
syntax = st.text(
    alphabet=st.sampled_from([*"<>[]()!|`*_~#&;:=/\\\"' -+.{}^$@\n\t\r", "a", "b", "1", "é"]),
    max_size=40,
)
any_text = st.one_of(st.text(max_size=60), syntax)

FOLD = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def render_cell(cell: str) -> HtmlPage:
    source = f"| head |\n| --- |\n| {cell} |\n"
    return HtmlPage(markdown.markdown(source, extensions=["tables"]))


# --- md_text --------------------------------------------------------------------------------------


@given(any_text)
@example("a|b\nc")
@example("<script>alert(1)</script>")
@example("[x](javascript:alert(1))")
@example("`code` **bold** _it_ ~~s~~")
@example("{: onclick=alert(1) }")
@example("&lt; &#60; &amp;")
def test_md_text_leaves_no_character_markdown_or_html_acts_on(text: str) -> None:
    out = md_text(text)
    assert isinstance(out, Markup)
    for ch in "<>|\n\r`[":
        assert ch not in out


@given(any_text)
@example("a|b\nc")
@example("<img src=x onerror=alert(1)>")
@example("\\|")
@example("---")
@example(":---:")
@example("x  ")
@example("&copy; &#169;")
def test_md_text_in_a_table_cell_shows_exactly_the_text(text: str) -> None:
    page = render_cell(md_text(text))
    [table] = page.tables
    assert len(table.body) == 1
    [cell] = table.body[0]
    # Markdown trims ASCII white space around a cell, not e.g. a no-break space.
    assert cell.text == FOLD.sub(" ", text).strip(" \t\n\r\f\v")
    assert [tag for tag, _ in page.tags] == ["table", "thead", "tr", "th", "tbody", "tr", "td"]


def test_markup_is_passed_through_unchanged() -> None:
    trusted = Markup("<code>x</code>")
    assert md_text(trusted) is trusted
    assert md_cell(trusted) is trusted
    assert finalize(trusted) is trusted


@given(st.text(max_size=300), st.integers(min_value=2, max_value=200))
def test_md_cell_cuts_long_text_to_the_limit(text: str, limit: int) -> None:
    out = md_cell(text, limit)
    shown = render_cell(out).tables[0].body[0][0].text
    assert len(shown) <= limit
    if len(text) > limit:
        assert shown.endswith("…")


def test_md_code_is_inline_code_with_escaped_content() -> None:
    page = HtmlPage(markdown.markdown(f"x {md_code('<b>a_b|c</b>')}"))
    assert [tag for tag, _ in page.tags] == ["p", "code"]
    assert page.text == "x <b>a_b|c</b>"


def test_md_link_links_to_our_pages_only() -> None:
    assert md_link("a|b", "../runs/x-1234.md") == "[a&#124;b](../runs/x-1234.md)"
    assert md_link("v2", "index.md#v2") == "[v2](index.md#v2)"
    for bad in ["javascript:alert(1)", "https://evil.example", "a b.md", "x.md)", "x\ny.md", ""]:
        with pytest.raises(ValueError, match="unsafe link target"):
            md_link("x", bad)


@given(any_text)
def test_a_link_label_cannot_break_out_of_the_link(label: str) -> None:
    page = HtmlPage(markdown.markdown(md_link(label, "runs/r-1.md")))
    assert [a.get("href") for tag, a in page.tags if tag == "a"] == ["runs/r-1.md"]
    assert page.text == " ".join(FOLD.sub(" ", label).split())


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (math.nan, "NaN"),
        (math.inf, "∞"),
        (-math.inf, "−∞"),
        (1.7976931348623157e308, "∞"),  # how MLflow stores an infinite metric
        (0.0, "0"),
        (3, "3"),
        (True, "True"),
        (2.0, "2"),
        (0.95, "0.95"),
        (0.123456, "0.1235"),
        (1234.5678, "1234.57"),
        (1e7, "1e+07"),
        (1e-5, "1e-05"),
    ],
)
def test_numbers_are_shown_for_people(value: float | None, shown: str) -> None:
    assert format_number(value) == shown


def test_finalize_escapes_everything_a_template_prints() -> None:
    assert finalize(None) == ""
    assert finalize(0.5) == "0.5"
    assert finalize(7) == "7"
    assert finalize("<b>|") == "&lt;b&gt;&#124;"


# --- markdown descriptions ------------------------------------------------------------------------

ALLOWED_TAGS = {
    "div",
    "p",
    "a",
    "em",
    "strong",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "blockquote",
    "hr",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRS = {"href", "rel", "title", "class", "style"}


def scheme_of(href: str) -> str:
    """The scheme a browser would read from an (already entity-decoded) href."""
    probe = re.sub(r"[\x00-\x20\x7f]", "", href)
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", probe)
    return m.group(1).lower() if m else ""


def assert_inert(html: str) -> HtmlPage:
    page = HtmlPage(html)
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attrs) <= ALLOWED_ATTRS, (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert scheme_of(href) in ("", "http", "https", "mailto"), href
            assert not href.replace("\\", "/").lstrip().startswith("//"), href
    return page


def test_the_hostile_description_renders_inert() -> None:
    out = markdown_block(HOSTILE_DESCRIPTION)
    page = assert_inert(out)
    assert "<b onclick=alert(1)>raw html</b>" in page.text  # shown, not parsed
    assert "Heading {: onclick=alert(2) }" in page.text  # attr_list syntax stays text
    assert '--8<-- "/etc/passwd"' in page.text
    assert not re.search(r"(?m)^\s*-{1,3}8<-{1,3}", out)  # no line a snippets extension reads
    assert not any(tag == "img" for tag, _ in page.tags)
    hrefs = [a.get("href") for tag, a in page.tags if tag == "a"]
    assert "https://example.org/docs" in hrefs
    assert "http://tracker.example/x.png" in hrefs  # the image became a link to it
    assert not any(h and "javascript" in h for h in hrefs)


def test_raw_html_in_a_description_is_shown_as_text() -> None:
    out = markdown_block(
        '<b onclick="x()">hi</b> and <script>alert(1)</script>\n\n<div>block</div>'
    )
    page = assert_inert(out)
    assert [tag for tag, _ in page.tags] == ["div", "p", "p"]
    shown = page.raw_text
    assert '<b onclick="x()">hi</b>' in shown
    assert "<script>alert(1)</script>" in shown
    assert "<div>block</div>" in shown


def test_markdown_in_a_description_still_works() -> None:
    out = markdown_block("**bold** and `code`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    page = assert_inert(out)
    tags = [tag for tag, _ in page.tags]
    for tag in ("strong", "code", "ul", "li", "table", "td"):
        assert tag in tags


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](&#x6A;avascript:alert(1))",
        "[x][1]\n\n[1]: javascript:alert(1)",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![a](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x](//evil.example/a)",
        "[x](/\\evil.example/a)",
    ],
)
def test_script_links_lose_their_target(source: str) -> None:
    page = assert_inert(markdown_block(source))
    for tag, attrs in page.tags:
        if tag == "a":
            assert attrs.get("href") is None, attrs


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("[docs](https://example.org/a?b=1&c=2)", "https://example.org/a?b=1&c=2"),
        ("<https://example.org>", "https://example.org"),
        ("[mail](mailto:team@example.org)", "mailto:team@example.org"),
        ("[rel](notes/page.md#part)", "notes/page.md#part"),
    ],
)
def test_safe_links_keep_their_target_and_get_rel_nofollow(source: str, href: str) -> None:
    page = assert_inert(markdown_block(source))
    [attrs] = [a for tag, a in page.tags if tag == "a"]
    assert attrs["href"] == href
    assert attrs["rel"] == "nofollow noopener"


def test_images_become_links_so_the_page_fetches_nothing() -> None:
    page = assert_inert(markdown_block('![a chart](https://img.example/c.png "t")'))
    assert not any(tag == "img" for tag, _ in page.tags)
    [attrs] = [a for tag, a in page.tags if tag == "a"]
    assert attrs["href"] == "https://img.example/c.png"
    assert page.text == "a chart"


@given(syntax)
def test_any_description_renders_inert(text: str) -> None:
    assert_inert(markdown_block(text))


def mkdocs_markdown(text: str, snippets_base: Path) -> str:
    """What the site's Markdown (the scaffold's extensions, plus snippets) makes of a page."""
    return markdown.markdown(
        text,
        extensions=[
            "admonition",
            "attr_list",
            "md_in_html",
            "tables",
            "toc",
            "pymdownx.details",
            "pymdownx.superfences",
            "pymdownx.snippets",
        ],
        extension_configs={"pymdownx.snippets": {"base_path": [str(snippets_base)]}},
    )


def test_the_site_markdown_cannot_reinterpret_a_description(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("SNIPPET-WAS-INCLUDED", encoding="utf-8")
    description = HOSTILE_DESCRIPTION + '\n\n--8<-- "secret.txt"\n\n## Sub {: #x onclick=y }\n'
    page_source = f"# Run\n\n{markdown_block(description)}\n\n| a |\n| --- |\n| 1 |\n"
    html = mkdocs_markdown(page_source, tmp_path)
    assert "SNIPPET-WAS-INCLUDED" not in html
    page = HtmlPage(html)
    for _, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
        assert not (attrs.get("href") or "").startswith("javascript")
    assert not any(tag in ("img", "script") for tag, _ in page.tags)
    # The page around the description is still parsed: its table is a table.
    assert page.tables and page.tables[-1].header == ["a"]


def test_a_description_keeps_blank_lines_in_code_inside_the_site(tmp_path: Path) -> None:
    out = markdown_block("```\nline one\n\nline three\n```")
    html = mkdocs_markdown(f"{out}\n\nafter\n", tmp_path)
    page = HtmlPage(html)
    assert "line one\n\nline three" in page.raw_text
    assert [tag for tag, _ in page.tags] == ["div", "pre", "code", "p"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_an_empty_description_renders_nothing(text: str) -> None:
    assert markdown_block(text) == ""


# --- titles ---------------------------------------------------------------------------------------


@given(st.text(max_size=200))
@example("<img src=x onerror=alert(1)>")
@example("a\x9bb\ufffe\uffff")
def test_titles_have_nothing_html_acts_on(text: str) -> None:
    title = title_text(text)
    assert not set(title) & set("<>&\"'`")
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", title)
    assert 1 <= len(title) <= 80
    assert title == title.strip()


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=80))
@example("\x9b[x](javascript:alert(1))")
@example('a"b\\c')
@example("\ud800")
def test_a_title_survives_front_matter_as_itself(text: str) -> None:
    """If the front matter did not parse, MkDocs would show it, title and all, as Markdown."""
    front = f"title: {yaml_string(text)}\n"
    assert yaml.safe_load(front) == {"title": title_text(text)}


def test_long_titles_are_cut() -> None:
    assert title_text("x" * 200) == "x" * 79 + "…"
    assert title_text("   ") == "untitled"
    assert title_text("<b>\n bold</b>") == "‹b› bold‹/b›"


def test_chat_markdown_shows_hostile_text_as_itself_and_reads_plainly() -> None:
    """`daybook review --format markdown` is read raw and rendered by CommonMark renderers."""
    from markdown_it import MarkdownIt

    from daybook.safety.escape import md_chat

    hostile = "a|b <script>x</script> [x](javascript:y) ![i](j) *e* `c` &amp; <@U1>\nnext (ok)"
    html = MarkdownIt("commonmark").render("- " + md_chat(hostile))
    assert "<script" not in html and "<a " not in html and "<img" not in html
    assert "<em>" not in html and "<code>" not in html
    assert html.count("<li>") == 1 and "next (ok)</li>" in html  # one line, one item
    assert "&lt;script&gt;" in html and "&amp;amp;" in html  # shown as the text it is
    assert md_chat("gbm-lr0.3 (runs:/1a2b3c4d)") == "gbm-lr0.3 (runs:/1a2b3c4d)"  # no entities
