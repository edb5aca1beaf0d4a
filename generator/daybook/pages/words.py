"""One spelling for what many pages say: run and version states, and names cut to one line.

MLflow spells a run's state `FINISHED`; pages used to print it as `FINISHED` here and `finished`
there. Every page now says `Finished` in a small badge (`daybook-status--finished` in
daybook.css); the runs-table script uses the same words (static/runs-table.js, STATUS).
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

from daybook.safety.escape import md_cell, md_text

RUN_STATUS = {
    "FINISHED": "Finished",
    "RUNNING": "Running",
    "SCHEDULED": "Scheduled",
    "FAILED": "Failed",
    "KILLED": "Killed",
}
VERSION_STATUS = {
    "READY": "Ready",
    "PENDING_REGISTRATION": "Pending",
    "FAILED_REGISTRATION": "Failed",
}
_BREAK_AFTER = re.compile(r"(&#95;|[./-])(?=[^\s])")
_CONTROL = {c: " " for c in [*range(32), 127, 0x85, 0x2028, 0x2029]}


def status_word(status: object) -> str:
    """`FINISHED` → `Finished`; a state MLflow may add later keeps its own name, capitalized."""
    text = str(status or "").strip()
    known = RUN_STATUS.get(text.upper()) or VERSION_STATUS.get(text.upper())
    return known or text.replace("_", " ").capitalize() or "—"


def _css_word(status: object) -> str:
    word = status_word(status).lower()
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in word)


def run_status(status: object) -> Markup:
    """A run's (or model version's) state as a badge: the word first, so it reads without CSS."""
    return Markup(
        f'<span class="daybook-status daybook-status--{_css_word(status)}">'
        f"{md_text(status_word(status))}</span>"
    )


def attr(value: object) -> Markup:
    """Untrusted text for an HTML attribute inside a Markdown table cell: HTML-escaped, one line,
    and with `|` and backticks as entities, so neither splits the row nor opens a code span."""
    text = html.escape(str(value).translate(_CONTROL), quote=True)
    return Markup(text.replace("|", "&#124;").replace("`", "&#96;").replace("\\", "&#92;"))


def one_line(label: Markup, full: object) -> Markup:
    """A name cell cut to one line by CSS (`daybook-name`), the whole name on hover."""
    return Markup(f'<span class="daybook-name" title="{attr(full)}">{label}</span>')


def column_head(value: object, limit: int = 40) -> Markup:
    """A column header that may wrap after `_ . - /`: `learning_rate` takes two short lines
    instead of widening a dense table's column past its values."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(md_cell(value, limit))))
