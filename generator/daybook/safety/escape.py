"""Every rule for putting untrusted text (run names, params, tags, descriptions, note fields) into
the Markdown pages MkDocs renders. Nothing else in Daybook escapes; templates get these rules
applied automatically (see `finalize`).

Plain text is written with every character that means something to Markdown, its extensions
(attr_list, snippets, emoji, tables …) or HTML turned into a numeric character reference. The
browser shows the same characters, but no Markdown or HTML parser can act on them, and a `|` or a
newline can never break a table row.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from daybook.core.numbers import format_number

_SPECIAL = "\\`*_{}[]()<>#+!|~^$@&\"'"
_TABLE = {ord(c): f"&#{ord(c)};" for c in _SPECIAL}
_TABLE[ord("&")] = "&amp;"
_TABLE[ord("<")] = "&lt;"
_TABLE[ord(">")] = "&gt;"
# Line breaks and other control characters would end a table row or a heading: fold to spaces.
for _c in [*range(32), 127, 0x85, 0x2028, 0x2029]:
    _TABLE[_c] = " "

_HREF_OK = re.compile(r"^[A-Za-z0-9._~/#-]+$")


def md_text(value: Any) -> Markup:
    """Untrusted text as inert Markdown that shows exactly as the text (on one line)."""
    if isinstance(value, Markup):
        return value
    return Markup(str(value).translate(_TABLE))


_CHAT = {ord(c): "\\" + c for c in "\\`*_{}[]<>!|~&"}
_CHAT.update({ord("\n"): " ", ord("\r"): " ", ord("\t"): " "})


def md_chat(value: Any) -> str:
    """Untrusted text for Markdown that people also read raw (`daybook review`, chat, email):
    backslash escapes, which read as the text, instead of md_text's entities. Inline only: the
    text is put after a list marker or a label, never at the start of a line, and `[` and `]`
    are escaped, so no link, image, emphasis, code or HTML can form."""
    return str(value).translate(_CHAT)


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
