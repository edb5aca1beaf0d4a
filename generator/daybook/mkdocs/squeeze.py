"""Smaller HTML pages: the indentation Material's templates leave in every page, squeezed out.

Material indents every line of its templates, and the navigation is most of a page: an entry costs
~780 bytes, ~500 of them blank lines and spaces. With up to 50 entries on a level (two levels show
on a run page) that alone breaks the 60 KB page budget. A run of whitespace that holds a line
break becomes one line break, which the browser shows exactly as it showed the run (one space, or
nothing between blocks). Inside pre, textarea, script, style and code, where whitespace counts,
nothing changes. Search is unaffected: MkDocs indexes the page before this runs.
"""

from __future__ import annotations

import re
from typing import Any

_KEEP = re.compile(
    r"(<(?:pre|textarea|script|style|code)\b.*?</(?:pre|textarea|script|style|code)\s*>)",
    re.S | re.I,
)
_INDENT = re.compile(r"\n\s+")


def squeeze_html(html: str) -> str:
    parts = _KEEP.split(html)
    for i in range(0, len(parts), 2):  # even parts lie outside the kept elements
        parts[i] = _INDENT.sub("\n", parts[i])
    return "".join(parts)


def _on_post_page(output: str, /, **_: Any) -> str:
    return squeeze_html(output)


_on_post_page.mkdocs_priority = -100  # type: ignore[attr-defined]  # after every other handler


def squeeze_pages(config: Any) -> None:
    """Squeeze every page of the running MkDocs (or ProperDocs) build. Called from the gen-files
    script, so plain `mkdocs build` gets it too; registered once however often the script runs
    (`mkdocs serve` re-runs it), and skipped if the plugin collection ever changes shape."""
    plugins = getattr(config, "plugins", None)
    events = getattr(plugins, "events", None)
    register = getattr(plugins, "_register_event", None)
    if not isinstance(events, dict) or "post_page" not in events or register is None:
        return
    if _on_post_page not in events["post_page"]:
        register("post_page", _on_post_page, plugin_name="daybook")
