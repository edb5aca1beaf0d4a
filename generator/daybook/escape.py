"""Every rule for putting untrusted text (run names, params, tags, descriptions, note fields) into
the Markdown pages MkDocs renders. Nothing else in Daybook escapes; templates get these rules
applied automatically (see `finalize`).

Plain text is written with every character that means something to Markdown, its extensions
(attr_list, snippets, emoji, tables …) or HTML turned into a numeric character reference. The
browser shows the same characters, but no Markdown or HTML parser can act on them, and a `|` or a
newline can never break a table row.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as etree
from html import unescape as _unescape_html
from typing import Any
from urllib.parse import urlsplit

import markdown
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

_SPECIAL = "\\`*_{}[]()<>#+!|~^$@&\"'"
_TABLE = {ord(c): f"&#{ord(c)};" for c in _SPECIAL}
_TABLE[ord("&")] = "&amp;"
_TABLE[ord("<")] = "&lt;"
_TABLE[ord(">")] = "&gt;"
# Line breaks and other control characters would end a table row or a heading: fold to spaces.
for _c in [*range(32), 127, 0x85, 0x2028, 0x2029]:
    _TABLE[_c] = " "

_MLFLOW_INF = 1.7976931348623157e308
_HREF_OK = re.compile(r"^[A-Za-z0-9._~/#-]+$")


def md_text(value: Any) -> Markup:
    """Untrusted text as inert Markdown that shows exactly as the text (on one line)."""
    if isinstance(value, Markup):
        return value
    return Markup(str(value).translate(_TABLE))


def md_cell(value: Any, limit: int = 120) -> Markup:
    """Text for a table cell: inert, one line, cut (with …) so one value cannot flood a table."""
    if isinstance(value, Markup):
        return value
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return md_text(text)


def md_code(value: Any) -> Markup:
    """Inline code for ids and hashes; the content is still escaped, as Markdown parses inside."""
    return Markup(f"<code>{md_text(value)}</code>")


def md_link(label: Any, href: str) -> Markup:
    """A link to one of our own pages. `href` comes from the slug module, never from a user."""
    if not _HREF_OK.match(href):
        raise ValueError(f"unsafe link target: {href!r}")
    return Markup(f"[{md_text(label)}]({href})")


def format_number(value: float | int | None) -> str:
    """Numbers for people: 4 significant digits, NaN and infinities said in words."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value) or abs(value) >= _MLFLOW_INF:  # MLflow stores ±inf as ±max float
        return "∞" if value > 0 else "−∞"
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-4:
        return f"{value:.4g}"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.6g}"


def finalize(value: Any) -> Any:
    """Jinja's `finalize` hook: every `{{ … }}` that is not already Markup is escaped, so a
    template author cannot forget to."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, (int, bool)):
        return str(value)
    return md_text(value)


# --- Markdown descriptions ------------------------------------------------------------------------

_SAFE_SCHEMES = {"http", "https", "mailto", ""}


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
                    if scheme not in _SAFE_SCHEMES or probe.replace("\\", "/").startswith("//"):
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


_TITLE = {ord("<"): "‹", ord(">"): "›", ord("&"): "＆", ord('"'): "”", ord("'"): "’", ord("`"): "‘"}
# … and everything YAML cannot hold in a quoted scalar (C1 controls, surrogates, U+FFFE/U+FFFF):
# front matter that fails to parse is shown as Markdown, title and all.
for _c in [*range(32), *range(127, 160), 0x2028, 0x2029, *range(0xD800, 0xE000), 0xFFFE, 0xFFFF]:
    _TITLE[_c] = " "


def title_text(value: Any, limit: int = 80) -> str:
    """A page or nav title. MkDocs themes print titles without escaping (and `striptags` undoes
    entities), so the characters HTML acts on are swapped for look-alikes instead of escaped."""
    text = " ".join(str(value).translate(_TITLE).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text or "untitled"


def yaml_string(value: Any) -> Markup:
    """A double-quoted YAML scalar for front matter, safe for any title_text."""
    text = title_text(value).replace("\\", "\\\\")
    return Markup('"' + text + '"')
