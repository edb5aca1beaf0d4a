"""The one sanitizer: HTML rendered from untrusted Markdown (run, experiment and model
descriptions, model-card sections, notes) cleaned by nh3 (Ammonia) against an allowlist.

Cleaning the final HTML, not the Markdown, is what makes it hold: whatever Python-Markdown and the
site's extensions make of a text (fences with attribute lists, `/// html` blocks, md_in_html …),
only the elements and attributes below reach the page. Descriptions are rendered here
(`markdown_block`); notes are rendered by MkDocs with the site's own extensions and cleaned by the
`daybook` MkDocs plugin (`clean_html`), which also keeps pymdownx.snippets from expanding
`--8<--` lines (`neutralize_snippets` / `restore_snippets`).

Allowed: the tags Markdown and the site's extensions produce; links to http(s), mailto, relative
and `#fragment` targets (with `rel="nofollow noopener"`); images from the site only; ids and
classes that cannot collide with Material's own (`__drawer`, `md-dialog` …), the classes of the
content Material styles (admonitions, tabs, task lists, code, footnotes) and Daybook's `daybook-*`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from html import unescape

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup
from pygments.token import STANDARD_TYPES

from daybook.safety.escape import md_text

EXCERPT = "<!-- more -->"  # the blog's excerpt separator, kept in note prose

# --- the policy -----------------------------------------------------------------------------------

TAGS = frozenset(
    {
        *("p", "a", "em", "strong", "b", "i", "s", "u", "small", "code", "pre", "br", "hr"),
        *("ul", "ol", "li", "dl", "dt", "dd", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col"),
        *("div", "span", "details", "summary", "del", "ins", "mark", "kbd", "sup", "sub"),
        *("abbr", "input", "label", "img"),
    }
)
# Removed with everything inside them (other tags not allowed are dropped, their text kept).
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "svg", "math", "template", "iframe", "object", "noscript", "textarea"}
)
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"id", "class", "title"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "type"},
    "th": {"style", "colspan", "rowspan"},
    "td": {"style", "colspan", "rowspan"},
    "col": {"span"},
    "colgroup": {"span"},
    "details": {"open"},
    "input": {"type", "checked", "disabled", "name"},
    "label": {"for"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})  # plus relative URLs and #fragments
LINK_REL = "nofollow noopener"

# Ids Material or its extensions generate on a page (tabs, code line anchors and spans, the code
# block a copy button reads); every other `__…` id is Material's (`__drawer`, `__search` …).
_GENERATED_ID = re.compile(r"__tabbed_\d+(?:_\d+)?|__codelineno-[\w-]+|__span-[\w-]+|__code_\d+")
_CLASSES = frozenset(
    {
        # admonitions and details, with the types Material styles
        *("admonition", "admonition-title", "details", "inline", "end"),
        *("note", "abstract", "summary", "tldr", "info", "todo", "tip", "hint", "important"),
        *("success", "check", "done", "question", "help", "faq", "warning", "caution"),
        *("attention", "failure", "fail", "missing", "danger", "error", "bug", "example"),
        *("quote", "cite"),
        # content tabs, task lists, code blocks, footnotes, permalinks, buttons
        *("tabbed-set", "tabbed-labels", "tabbed-content", "tabbed-block", "tabbed-alternate"),
        *("task-list", "task-list-item", "task-list-control", "task-list-indicator"),
        "task-list-item-checkbox",
        *("highlight", "highlighttable", "linenos", "linenodiv", "filename", "code", "normal"),
        *("special", "hll"),
        *(name for name in STANDARD_TYPES.values() if name),  # Pygments token classes
        *("footnote", "footnote-ref", "footnote-backref", "headerlink", "toclink", "toc"),
        *("md-button", "md-button--primary"),
    }
)
_CLASS_PREFIXES = ("language-", "daybook-")
_ALIGN = re.compile(r"\s*text-align:\s*(?:left|right|center)\s*;?\s*")
_INPUT_TYPES = frozenset({"checkbox", "radio"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def _free_id(value: str) -> bool:
    """An id (or label `for`, or `name`) that cannot take one of Material's."""
    if value.startswith("__"):
        return _GENERATED_ID.fullmatch(value) is not None
    return not value.lower().startswith("md-")


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: the value to keep, or None to drop the attribute."""
    if name in ("id", "for", "name"):
        return value if _free_id(value) else None
    if name == "class":
        kept = [c for c in value.split() if c in _CLASSES or c.startswith(_CLASS_PREFIXES)]
        return " ".join(kept) or None
    if name == "style":
        return value if _ALIGN.fullmatch(value) else None
    if name == "type" and tag == "input":
        # nh3 cannot drop an element by its attribute: any other input becomes a checkbox.
        return value.lower() if value.lower() in _INPUT_TYPES else "checkbox"
    if name in ("href", "src"):
        # nh3 has checked the scheme a browser reads; this also refuses what only looks like one
        # once blanks are gone (`java    script:`), and `//host`, an external link that looks local.
        probe = _CONTROL.sub("", value).replace("\\", "/")
        scheme = _SCHEME.match(probe)
        if probe.startswith("//") or (scheme and scheme.group()[:-1].lower() not in URL_SCHEMES):
            return None
        if name == "src" and scheme:
            return None  # the page fetches nothing from elsewhere
    return value


# -- snippets: pymdownx.snippets reads `--8<--` lines before any other Markdown rule ---------------

_SNIPPET_MARK = re.compile(r"(?<=-8)(?=<-)")  # between the 8 and the < of -8<- (every marker)
SNIPPET_SENTINEL = "\u2060"  # WORD JOINER: invisible, and the snippets pattern no longer matches
_SNIPPET_IN_HTML = re.compile(r"(?<=-8)<(?=-)")


def clean_html(html: str, tags: frozenset[str] = TAGS) -> str:
    """HTML from untrusted Markdown, with only the allowlisted tags and attributes left (of
    `tags`, a subset of TAGS; the others are dropped and their text kept)."""
    cleaned = nh3.clean(
        html,
        tags=set(tags & TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        attribute_filter=_attribute,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    # HTML embedded in a Markdown page is read line by line by pymdownx.snippets first: a
    # `-8<-` left in an attribute value (older nh3 keeps `<` there) becomes an entity.
    return _SNIPPET_IN_HTML.sub("&lt;", cleaned)


def neutralize_snippets(text: str) -> str:
    """Markdown in which no pymdownx.snippets marker (`--8<--`, in a fence too) is recognised;
    `restore_snippets` takes the sentinel out of the rendered HTML again."""
    return _SNIPPET_MARK.sub(SNIPPET_SENTINEL, text)


def restore_snippets(html: str) -> str:
    """The rendered HTML of Markdown that went through `neutralize_snippets`, showing each marker
    as written. Every word joiner goes (a lexer may have split the marker into several spans)."""
    return html.replace(SNIPPET_SENTINEL, "")


# --- Markdown descriptions ------------------------------------------------------------------------


class _Layout(Treeprocessor):
    """Rendering choices for a description inside a page: headings below the page's own, images
    shown as links (a description never makes the page fetch anything)."""

    def __init__(self, md: markdown.Markdown, heading_offset: int = 2) -> None:
        super().__init__(md)
        self.heading_offset = heading_offset

    def run(self, root: etree.Element) -> None:
        for el in root.iter():
            # The page has its own h1/h2 outline: a description's headings start at h3.
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                level = int(el.tag[1]) + self.heading_offset
                el.tag = f"h{min(6, max(3, level))}"
        for parent in root.iter():
            for i, el in enumerate(list(parent)):
                if el.tag == "img":
                    link = etree.Element("a")
                    link.text = el.get("alt") or el.get("src") or "image"
                    link.set("href", el.get("src", ""))
                    link.tail = el.tail
                    parent.remove(el)
                    parent.insert(i, link)


def _description_renderer(heading_offset: int = 2) -> markdown.Markdown:
    md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    # Raw HTML is shown as text: remove the parsers that would pass it through.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.inlinePatterns.deregister("entity")
    md.treeprocessors.register(_Layout(md, heading_offset), "daybook_layout", 0)
    return md


def markdown_block(text: str, heading_offset: int = 2) -> Markup:
    """A description written in Markdown, rendered and sanitized here and embedded as one raw
    HTML block, so MkDocs' own extensions (snippets, attr_list, …) never see the author's text.

    Headings move down `heading_offset` levels and never above h3 (the page owns h1 and h2); a
    model card's section, already under the page's h2, keeps its `###` with an offset of 0."""
    if not text or not text.strip():
        return Markup("")
    md = _description_renderer(heading_offset)
    html = clean_html(md.convert(str(text).replace("\r\n", "\n").replace("\r", "\n")))
    # Python-Markdown passes a block-level <div> through untouched, blank lines included.
    return Markup(f'<div class="daybook-markdown">\n{html.strip()}\n</div>')


# --- one line of a note on another page -----------------------------------------------------------

INLINE_TAGS = frozenset(
    {"a", "em", "strong", "b", "i", "s", "u", "small", "code", "del", "ins", "mark", "kbd"}
    | {"sup", "sub", "abbr", "span", "br"}
)
_TEXT = re.compile(r"(?<=>)[^<]+|^[^<]+")  # nh3 writes every other < and > as an entity
# … in text always, in attribute values since html5ever followed the 2025 HTML spec change.
_RAW_IN_VALUE = re.compile(r'="[^"]*[<>][^"]*"')


def markdown_inline(text: str) -> Markup:
    """One line of a note (a decision, an action item) inside another page's list item or table
    cell: rendered and sanitized like a note (inline elements only), then every character of its
    text written as a character reference (`md_text`) and every `|` too, so the page's own
    Markdown pass (emphasis, attr_list, table cells …) finds nothing left to act on."""
    html = clean_html(markdown.markdown(" ".join(text.split())), INLINE_TAGS)
    if _RAW_IN_VALUE.search(html):  # an older nh3: the tags cannot be told apart, so plain text
        return md_text(" ".join(text.split()))
    inert = _TEXT.sub(lambda m: str(md_text(unescape(m.group()))), html.strip())
    return Markup(inert.replace("|", "&#124;"))  # a | in an attribute value would split a cell
