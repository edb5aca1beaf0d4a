"""The sanitizers: untrusted Markdown (run and model descriptions, card sections, note bodies)
made unable to run code, restyle the page or fetch from elsewhere.

Two entries, one rule set: `markdown_block` renders a description to sanitized HTML here (so
MkDocs' own extensions never see the author's text); `sanitize_prose` neutralizes note prose that
MkDocs renders later, and `is_inert` checks the result rendered with the site's extensions.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from html import unescape as _unescape_html
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from daybook.safety.escape import md_text

EXCERPT = "<!-- more -->"  # the blog's excerpt separator, kept in note prose

# --- Markdown descriptions ------------------------------------------------------------------------

_DESCRIPTION_SCHEMES = {"http", "https", "mailto", ""}


class _SanitizeTree(Treeprocessor):
    """Drops link targets with script-capable schemes and turns images into links, so a
    description can neither run code nor make the page fetch anything."""

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
                    el = link
                if el.tag == "a":
                    href = el.get("href", "")
                    # The browser decodes entities (`&#106;avascript:`) and drops tabs and
                    # newlines (`java&#9;script:`) before it reads the scheme: so must we.
                    probe = re.sub(r"[\x00-\x20\x7f]", "", _unescape_html(href))
                    scheme = urlsplit(probe).scheme.lower() if probe else ""
                    remote = probe.replace("\\", "/").startswith("//")
                    if scheme not in _DESCRIPTION_SCHEMES or remote:
                        del el.attrib["href"]
                    else:
                        el.set("rel", "nofollow noopener")
                for attr in list(el.attrib):
                    if attr not in ("href", "rel", "title", "class"):
                        del el.attrib[attr]


def _description_renderer(heading_offset: int = 2) -> markdown.Markdown:
    md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    # Raw HTML is shown as text: remove the parsers that would pass it through.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.inlinePatterns.deregister("entity")
    md.treeprocessors.register(_SanitizeTree(md, heading_offset), "daybook_sanitize", 0)
    return md


def markdown_block(text: str, heading_offset: int = 2) -> Markup:
    """A description written in Markdown, rendered to sanitized HTML here and embedded as one raw
    HTML block, so MkDocs' own extensions (snippets, attr_list, …) never see the author's text.

    Headings move down `heading_offset` levels and never above h3 (the page owns h1 and h2); a
    model card's section, already under the page's h2, keeps its `###` with an offset of 0."""
    if not text or not text.strip():
        return Markup("")
    md = _description_renderer(heading_offset)
    html = md.convert(str(text).replace("\r\n", "\n").replace("\r", "\n"))
    # Python-Markdown passes a block-level <div> through untouched, blank lines included.
    return Markup(f'<div class="daybook-markdown">\n{html.strip()}\n</div>')


# --- note prose -----------------------------------------------------------------------------------

_SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_KEEP = re.compile(
    re.escape(EXCERPT)  # the blog's excerpt separator (other HTML comments are shown as text)
    + r"|<(?:https?|ftp)://[^<>\s]*>"  # an autolink, which Markdown makes a plain safe link
)
_LINK_TARGET = re.compile(r"(?P<img>!?)\[(?P<label>[^\]\n]*)\]\(\s*<?(?P<target>[^)\s>]*)")
_DEF_TARGET = re.compile(r"\]:[ \t]*<?(?P<target>[^\s>]*)")

def target_scheme(target: str) -> str:
    """The scheme a browser would see in a link target ("" for a relative link): entities are
    decoded and control characters dropped first, as a browser would."""
    decoded = _CONTROL.sub("", html.unescape(target)).lower()
    m = _SCHEME.match(decoded)
    return m.group(1) if m else ""


def _is_remote(target: str) -> bool:
    decoded = _CONTROL.sub("", html.unescape(target))
    return bool(target_scheme(target)) or decoded.startswith("//")


def sanitize_prose(text: str) -> str:
    """Prose Markdown with raw HTML, attribute lists and unsafe links made inert."""
    out: list[str] = []
    pos = 0
    for m in _KEEP.finditer(text):
        out.append(_neutralize(text[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(_neutralize(text[pos:]))
    return "".join(out)


def _neutralize(text: str) -> str:
    if not text:
        return text

    # Images that would load from elsewhere become links; unsafe targets stop being links.
    def link(m: re.Match[str]) -> str:
        target = m.group("target")
        scheme = target_scheme(target)
        if scheme and scheme not in _SAFE_SCHEMES:
            return m.group().replace("](", "]" + md_text("("), 1)
        if m.group("img") and _is_remote(target):
            return m.group()[1:]
        return m.group()

    text = _LINK_TARGET.sub(link, text)

    def definition(m: re.Match[str]) -> str:
        scheme = target_scheme(m.group("target"))
        if scheme and scheme not in _SAFE_SCHEMES:
            return md_text("]") + m.group()[1:]
        return m.group()

    text = _DEF_TARGET.sub(definition, text)
    return text.replace("<", md_text("<")).replace("{", md_text("{"))


# --- the check after rendering -------------------------------------------------------------------

# The Markdown extensions of a Daybook site (mkdocs.yml from `daybook init`).
SITE_EXTENSIONS = (
    "admonition",
    "attr_list",
    "md_in_html",
    "tables",
    "toc",
    "pymdownx.details",
    "pymdownx.superfences",
    "pymdownx.tasklist",
)
# Every element these extensions make from Markdown (and the <del> of a broken reference).
_TAGS = {
    *("p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "br"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img"),
    *("div", "span", "input", "label", "details", "summary", "del"),
}
_ALIGN = re.compile(r"^text-align: (left|right|center);$")
_BAD_ATTRS = ("srcdoc", "formaction", "xlink:href")


class _Inert(HTMLParser):
    """False as soon as an element or attribute is one Markdown alone would not produce."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ok = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            self.ok = False
        for name, value in attrs:
            value = value or ""
            aligned = tag in ("th", "td") and bool(_ALIGN.match(value))
            if name.startswith("on") or name in _BAD_ATTRS or (name == "style" and not aligned):
                self.ok = False
            elif name in ("href", "src"):
                scheme = target_scheme(value)
                if scheme and scheme not in _SAFE_SCHEMES:
                    self.ok = False
                if tag == "img" and _is_remote(value):
                    self.ok = False


def is_inert(markdown_text: str) -> bool:
    """Whether the Markdown renders to nothing that can run, restyle the page or fetch."""
    html = markdown.Markdown(extensions=list(SITE_EXTENSIONS)).convert(markdown_text)
    checker = _Inert()
    checker.feed(html)
    checker.close()
    return checker.ok
