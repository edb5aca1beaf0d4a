"""A note's Markdown as the site shows it: references turned into links, everything that could
run code or fetch from elsewhere made inert, secrets masked.

The note stays Markdown (headings, lists, tables, admonitions and code keep working) but it is
untrusted: raw HTML is shown as text, `{: attr }` lists cannot add attributes, link targets with
script-capable schemes stop being links, remote images become links, and fenced blocks keep only
their language. Code spans and blocks are left as written, because Markdown already shows their
content as text. Every character that is neutralized goes through `daybook.escape.md_text`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
from markupsafe import Markup

from daybook.analysis.mdscan import prose_mask, segments
from daybook.analysis.references import Resolved, Target
from daybook.analysis.secrets import Secret
from daybook.escape import md_link, md_text
from daybook.redact import MASK

EXCERPT = "<!-- more -->"
_SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_KEEP = re.compile(
    re.escape(EXCERPT)  # the blog's excerpt separator (other HTML comments are shown as text)
    + r"|<(?:https?|ftp)://[^<>\s]*>"  # an autolink, which Markdown makes a plain safe link
)
_LINK_TARGET = re.compile(r"(?P<img>!?)\[(?P<label>[^\]\n]*)\]\(\s*<?(?P<target>[^)\s>]*)")
_DEF_TARGET = re.compile(r"\]:[ \t]*<?(?P<target>[^\s>]*)")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)")
_H2 = re.compile(r"^##\s+\S")

Href = Callable[[Target], "str | None"]


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


@dataclass(frozen=True, slots=True)
class _Event:
    start: int
    end: int
    kind: str  # "ref" | "secret" | "excerpt"
    index: int = -1


def render_body(
    body: str,
    resolved: Sequence[Resolved],
    href: Href,
    secrets: Sequence[Secret] = (),
    excerpt: bool = True,
) -> str:
    """The body for the site. `href(target)` gives a link target relative to the note's page
    (None when the target has no page). An excerpt separator is added before the second `##`
    section when the note has none, so long notes do not fill the journal's index.

    Code is left as written only where the scanner is sure Markdown holds it as code; the result
    is then rendered with the Markdown extensions a Daybook site uses and checked, and if
    anything in it could still act (the scanner guessed wrong), code is escaped like prose too,
    and failing that every line is shown as plain text.
    """
    for trust_code in (True, False):
        out = _render(body, resolved, href, secrets, excerpt, trust_code)
        if is_inert(out):
            return out
    text = body
    for s in sorted(secrets, key=lambda s: -s.start):
        text = text[: s.start] + MASK + text[s.end :]
    return "\n\n".join(str(md_text(line)) for line in text.split("\n") if line.strip())


def _render(
    body: str,
    resolved: Sequence[Resolved],
    href: Href,
    secrets: Sequence[Secret],
    excerpt: bool,
    trust_code: bool,
) -> str:
    events: list[_Event] = [
        _Event(r.ref.start, r.ref.end, "ref", i) for i, r in enumerate(resolved)
    ]
    events += [_Event(s.start, s.end, "secret") for s in secrets]
    if excerpt and EXCERPT not in body:
        cut = _second_section(body)
        if cut is not None:
            events.append(_Event(cut, cut, "excerpt"))
    events.sort(key=lambda e: (e.start, e.end))
    out: list[str] = []
    cursor = 0  # everything before it is written (a link's label may hold a code span)
    for seg in segments(body):
        if seg.end <= cursor:
            continue
        text_at = max(seg.start, cursor)
        for e in events:
            if e.start < text_at or e.start >= seg.end:
                continue
            out.append(_plain(body[text_at : e.start], seg.kind, trust_code))
            if e.kind == "ref":
                out.append(_reference(resolved[e.index], href))
            elif e.kind == "secret":
                out.append(MASK)
            else:
                out.append("\n" + EXCERPT + "\n\n")
            text_at = max(text_at, e.end)
        if text_at < seg.end:
            out.append(_plain(body[text_at : seg.end], seg.kind, trust_code))
        cursor = max(seg.end, text_at)
    return "".join(out)


def _plain(text: str, kind: str, trust_code: bool = True) -> str:
    if kind == "prose" or not trust_code:
        return sanitize_prose(text)
    if kind == "fence":
        m = _FENCE.match(text)
        if not m:
            return text
        newline = "\n" if text.endswith("\n") else ""
        return f"{m.group('indent')}{m.group('mark')}{m.group('lang')}{newline}"
    return text


def _reference(res: Resolved, href: Href) -> str:
    ref = res.ref
    target = href(res.target) if res.target is not None else None
    if res.target is not None and target:
        if ref.form == "link" and ref.label.strip():
            return f"[{sanitize_prose(ref.label)}]({target})"
        return str(md_link(res.target.label, target))
    if res.target is not None:  # resolved, but the target has no page of its own
        return str(md_text(res.target.label))
    shown = ref.label if ref.form == "link" and ref.label.strip() else ref.uri
    return str(
        Markup('<del class="daybook-broken" title="{}">{}</del> ⚠').format(
            md_text(res.reason), md_text(shown)
        )
    )


def _second_section(body: str) -> int | None:
    masked = prose_mask(body)
    seen = 0
    pos = 0
    for line in masked.split("\n"):
        if _H2.match(line):
            seen += 1
            if seen == 2:
                return pos
        pos += len(line) + 1
    return None


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
