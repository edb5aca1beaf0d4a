"""One spelling of each run state, as a badge; names cut to one line with the whole on hover."""

from __future__ import annotations

import pytest

from daybook.pages.words import attr, one_line, run_status, status_word


@pytest.mark.parametrize(
    ("status", "word"),
    [
        ("FINISHED", "Finished"),
        ("finished", "Finished"),
        ("FAILED", "Failed"),
        ("KILLED", "Killed"),
        ("RUNNING", "Running"),
        ("SCHEDULED", "Scheduled"),
        ("READY", "Ready"),
        ("PENDING_REGISTRATION", "Pending"),
        ("SOME_NEW_STATE", "Some new state"),
        ("", "—"),
    ],
)
def test_each_state_has_one_spelling(status: str, word: str) -> None:
    assert status_word(status) == word


def test_a_state_is_a_badge_with_a_class_per_state() -> None:
    assert run_status("FAILED") == (
        '<span class="daybook-status daybook-status--failed">Failed</span>'
    )
    hostile = run_status('x"><script>')
    assert "<script>" not in hostile
    assert hostile.startswith('<span class="daybook-status daybook-status--x---script-">')


def test_an_attribute_cannot_break_a_table_row_or_the_tag() -> None:
    text = attr('a|b`c"<d>\\e\nf')
    assert "|" not in text and "`" not in text and '"' not in text and "<" not in text
    assert "\n" not in text
    cell = one_line(text, 'run | "x"')
    assert cell.startswith('<span class="daybook-name" title="run &#124; &quot;x&quot;">')
