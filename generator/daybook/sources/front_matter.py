"""Splits the YAML block off the top of a Markdown file (notes and model cards both have one).

One splitter, so a note and a card with the same mistake get the same line number. What the block's
keys may hold is `core.front_matter`'s (the typed models and `validate_front_matter`).
"""

from __future__ import annotations

import yaml

from daybook.core.front_matter import FrontMatter


def split_front_matter(text: str) -> FrontMatter:
    """`---` YAML `---` then the body; text without a leading `---` is all body. Broken YAML
    leaves `meta` empty and the body intact, with the file line YAML complained about."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return FrontMatter(body=text)
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return FrontMatter(body="\n".join(lines[1:]), body_line=2, trouble="unclosed")
    block = "\n".join(lines[1:end])
    fm = FrontMatter(body="\n".join(lines[end + 1 :]), body_line=end + 2)
    try:
        fm.node = yaml.compose(block, Loader=yaml.SafeLoader)
        loaded = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        fm.node = None
        fm.trouble, fm.trouble_line = "yaml", (mark.line + 2 if mark is not None else 2)
        fm.detail = str(getattr(exc, "problem", None) or exc).strip()
        return fm
    if isinstance(loaded, dict):
        fm.meta = {str(k): v for k, v in loaded.items()}
    elif loaded is not None:
        fm.trouble, fm.trouble_line = "not-mapping", 2
    return fm
