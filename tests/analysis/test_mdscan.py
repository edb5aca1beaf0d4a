"""The prose/code scanner: it covers every character once, and trusts only the code Markdown
certainly holds as code."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from daybook.analysis.mdscan import prose_mask, segments


@given(st.text(alphabet="`~ab<\n\u2028\\", max_size=60))
def test_segments_cover_the_text_in_order(text: str) -> None:
    parts = segments(text)
    assert "".join(text[s.start : s.end] for s in parts) == text
    assert all(a.end == b.start for a, b in pairwise(parts))
    assert len(prose_mask(text)) == len(text)


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in segments(text)]


def test_a_closed_fence_at_the_start_of_a_line_is_code() -> None:
    assert _kinds("a\n```py\n<b>\n```\nc") == [
        ("prose", "a\n"),
        ("fence", "```py\n"),
        ("code", "<b>\n```\n"),
        ("prose", "c"),
    ]


def test_uncertain_code_is_prose() -> None:
    for text in (
        "    ```\n<b>\n    ```\n",  # indented
        "```\n<b>\n`````\n",  # closed by a longer fence: not closed for SuperFences
        "```\n<b>\n",  # never closed
        "`a\nb`",  # a span across lines
        "x `a` `b\nc`",  # a paragraph with an open run
        "\\`a` b`",  # an escaped backtick
    ):
        assert {k for k, _ in _kinds(text)} == {"prose"}, text


def test_code_spans_on_their_own_lines_are_code() -> None:
    assert _kinds("x `a<b>` and ``c`d``\n\nnext `e") == [
        ("prose", "x "),
        ("code", "`a<b>`"),
        ("prose", " and "),
        ("code", "``c`d``"),
        ("prose", "\n\nnext `e"),
    ]
