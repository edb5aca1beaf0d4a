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

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})(?P<info>.*)$")
_TICKS = re.compile(r"`+")


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    kind: Kind


def segments(text: str) -> list[Segment]:
    """The text cut into consecutive segments; joined in order they give the text back."""
    out: list[Segment] = []
    prose_start: int | None = None
    fence: tuple[str, int] | None = None  # (mark character, length) of the open fence
    pos = 0

    def flush_prose(end: int) -> None:
        nonlocal prose_start
        if prose_start is not None and end > prose_start:
            out.extend(_inline(text, prose_start, end))
        prose_start = None

    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        bare = line.rstrip("\n")
        if fence is not None:
            char, length = fence
            stripped = bare.strip()
            if stripped and set(stripped) == {char} and len(stripped) >= length:
                fence = None
            out.append(Segment(start, end, "code"))
            continue
        m = _FENCE_OPEN.match(bare)
        if m and not (m.group("mark")[0] == "`" and "`" in m.group("info")):
            flush_prose(start)
            fence = (m.group("mark")[0], len(m.group("mark")))
            out.append(Segment(start, end, "fence"))
            continue
        if prose_start is None:
            prose_start = start
    flush_prose(len(text))
    if pos < len(text):  # text without a final line break is fully covered above
        out.append(Segment(pos, len(text), "prose"))
    return _merge(out)


def _inline(text: str, start: int, end: int) -> Iterator[Segment]:
    """Prose with its inline code spans (a run of N backticks up to the next run of exactly N)."""
    i = start
    cursor = start
    while True:
        m = _TICKS.search(text, i, end)
        if not m:
            break
        n = len(m.group())
        close = None
        j = m.end()
        while True:
            c = _TICKS.search(text, j, end)
            if not c:
                break
            if len(c.group()) == n:
                close = c
                break
            j = c.end()
        if close is None:
            i = m.end()
            continue
        if m.start() > cursor:
            yield Segment(cursor, m.start(), "prose")
        yield Segment(m.start(), close.end(), "code")
        cursor = i = close.end()
    if end > cursor:
        yield Segment(cursor, end, "prose")


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
