"""A note's Markdown as the site shows it: references turned into links, everything that could
run code or fetch from elsewhere made inert, secrets masked.

The note stays Markdown (headings, lists, tables, admonitions and code keep working) but it is
untrusted: raw HTML is shown as text, `{: attr }` lists cannot add attributes, link targets with
script-capable schemes stop being links, remote images become links, and fenced blocks keep only
their language. Code spans and blocks are left as written, because Markdown already shows their
content as text. Every character that is neutralized goes through `daybook.safety.escape.md_text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from daybook.analysis.mdscan import prose_mask, segments
from daybook.analysis.references import Resolved, Target
from daybook.safety.escape import md_link, md_text
from daybook.safety.redact import MASK
from daybook.safety.sanitize import EXCERPT, is_inert, sanitize_prose
from daybook.safety.secrets import Secret

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)")
_H2 = re.compile(r"^##\s+\S")

Href = Callable[[Target], "str | None"]


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
