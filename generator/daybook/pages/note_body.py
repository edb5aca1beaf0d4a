"""A note's Markdown as the site shows it: references turned into links, secrets masked, an
excerpt separator added to long notes.

Everything else is left as the author wrote it: MkDocs renders the note with the site's own
Markdown extensions (admonitions, tabs, task lists, highlighted code, footnotes, attribute lists,
raw HTML), and the `daybook` MkDocs plugin then cleans the HTML with the one sanitizer
(daybook.safety.sanitize), so the body needs no escaping of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from daybook.analysis.mdscan import prose_mask
from daybook.analysis.references import Resolved, Target
from daybook.safety.escape import md_link, md_text
from daybook.safety.redact import MASK
from daybook.safety.sanitize import EXCERPT
from daybook.safety.secrets import Secret

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
    anchors: bool = False,
) -> str:
    """The body for the site. `href(target)` gives a link target relative to the note's page
    (None when the target has no page). An excerpt separator is added before the second `##`
    section when the note has none, so long notes do not fill the journal's index. With
    `anchors`, the first reference of each line gets an anchor (`mention_anchor`) that the
    "Mentioned in" sections of the pages it names link to.
    """
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
    anchored: set[int] = set()
    at = 0  # everything before it is written (a link's label may hold a code span)
    for e in events:
        if e.start < at:
            continue
        out.append(body[at : e.start])
        if e.kind == "ref":
            line = resolved[e.index].ref.line
            if anchors and line not in anchored:
                anchored.add(line)  # an empty span: attr_list would give `{#id}` to a heading
                out.append(f'<span id="{mention_anchor(line)}"></span>')
            out.append(_reference(resolved[e.index], href))
        elif e.kind == "secret":
            out.append(MASK)
        else:
            out.append("\n" + EXCERPT + "\n\n")
        at = max(at, e.end)
    out.append(body[at:])
    return "".join(out)


def mention_anchor(line: int) -> str:
    """The id of a note's first reference on `line` (of the note's file)."""
    return f"ref-L{line}"


def _reference(res: Resolved, href: Href) -> str:
    ref = res.ref
    target = href(res.target) if res.target is not None else None
    if res.target is not None and target:
        if ref.form == "link" and ref.label.strip():
            return f"[{ref.label}]({target})"
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
