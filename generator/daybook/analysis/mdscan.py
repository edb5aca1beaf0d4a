"""Which parts of a Markdown text are prose and which are code.

References, decisions and action items are only looked for in prose (a note that shows the
syntax in a code block is not referring to anything), and code is left exactly as written when a
note is rendered. One scanner, so every consumer agrees on where code starts and ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Kind = Literal["prose", "code", "fence"]  # "fence": the opening line of a fenced block

_FENCE_OPEN = re.compile(r"^(?P<mark>`{3,}|~{3,})(?P<info>.*)$")
_TICKS = re.compile(r"`+")


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    kind: Kind


def segments(text: str) -> list[Segment]:
    """The text cut into consecutive segments; joined in order they give the text back.

    Only what Python-Markdown with SuperFences certainly shows as code counts as code: a fence
    at the start of a line that a line of exactly the same fence closes, and a code span within
    one line. Anything less certain (an indented fence, one nested in a list, an unclosed one) is
    prose, so text in it is escaped rather than trusted: Python-Markdown passes a line that starts
    with an HTML tag straight through unless a fence it recognizes holds it.
    """
    out: list[Segment] = []
    lines = _lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    closes: dict[int, int] = {}  # opener line -> closer line
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i].rstrip("\n"))
        if m and not (m.group("mark")[0] == "`" and "`" in m.group("info")):
            mark = m.group("mark")
            j = next((k for k in range(i + 1, len(lines)) if lines[k].rstrip() == mark), None)
            if j is not None:
                closes[i] = j
                i = j + 1
                continue
        i += 1
    prose_start: int | None = None
    i = 0
    while i < len(lines):
        if i in closes:
            if prose_start is not None:
                out.extend(_inline(text, prose_start, starts[i]))
                prose_start = None
            out.append(Segment(starts[i], starts[i + 1], "fence"))
            j = closes[i]
            if j > i:
                out.append(Segment(starts[i + 1], starts[j + 1], "code"))
            i = j + 1
            continue
        if prose_start is None:
            prose_start = starts[i]
        i += 1
    if prose_start is not None and prose_start < len(text):
        out.extend(_inline(text, prose_start, len(text)))
    return _merge(out)


def _lines(text: str) -> list[str]:
    """Lines as Markdown sees them: split at "\n" only (not at the other characters
    `str.splitlines` treats as line ends), each keeping its "\n"."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _inline(text: str, start: int, end: int) -> Iterator[Segment]:
    """Prose with its inline code spans.

    Python-Markdown pairs backtick runs across the lines of a paragraph; a span is trusted only
    where that pairing cannot differ from a line-by-line one: in a paragraph whose every backtick
    run is closed on its own line (and none is escaped with a backslash). Any other paragraph is
    all prose, so nothing in it is left unescaped on a guess.
    """
    pos = start
    for para in re.split(r"(\n[ \t]*\n)", text[start:end]):
        spans: list[tuple[int, int]] = []
        trusted = True
        line_pos = pos
        for line in _lines(para):
            found = _line_spans(text, line_pos, line_pos + len(line))
            if found is None:
                trusted = False
                break
            spans += found
            line_pos += len(line)
        cursor = pos
        if trusted:
            for a, b in spans:
                if a > cursor:
                    yield Segment(cursor, a, "prose")
                yield Segment(a, b, "code")
                cursor = b
        if pos + len(para) > cursor:
            yield Segment(cursor, pos + len(para), "prose")
        pos += len(para)


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]] | None:
    """The code spans of one line, or None when a backtick run is left open or escaped."""
    spans = []
    i = start
    while True:
        m = _TICKS.search(text, i, end)
        if not m:
            return spans
        if m.start() > 0 and text[m.start() - 1] == "\\":
            return None
        n = len(m.group())
        j = m.end()
        while True:
            c = _TICKS.search(text, j, end)
            if not c:
                return None  # an open run: Python-Markdown may close it on another line
            if len(c.group()) == n:
                spans.append((m.start(), c.end()))
                i = c.end()
                break
            j = c.end()


def _merge(parts: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in parts:
        if out and out[-1].kind == s.kind == "code" and out[-1].end == s.start:
            out[-1] = Segment(out[-1].start, s.end, "code")
        elif out and out[-1].kind == s.kind == "prose" and out[-1].end == s.start:
            out[-1] = Segment(out[-1].start, s.end, "prose")
        else:
            out.append(s)
    return out


def prose_mask(text: str) -> str:
    """The text with every code character replaced by a space (same length, same lines), so
    a regex over it finds things in prose only, at their true offsets."""
    chars = list(text)
    for s in segments(text):
        if s.kind != "prose":
            for k in range(s.start, s.end):
                if chars[k] != "\n":
                    chars[k] = " "
    return "".join(chars)


def line_at(text: str, offset: int, first_line: int = 1) -> int:
    """The 1-based line number of `offset`, counting from `first_line`."""
    return first_line + text.count("\n", 0, offset)
