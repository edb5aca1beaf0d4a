"""Material's blog plugin prints `.authors.yml` into pages unescaped: make it plain text first."""

from __future__ import annotations

import logging

from daybook.safety.escape import title_text


def sanitize_blog_authors(mkdocs_config: object, log: logging.Logger) -> None:
    """The blog plugin reads `.authors.yml` itself and prints names and descriptions into pages
    unescaped; make them plain text before it renders anything."""
    plugins = getattr(mkdocs_config, "plugins", None) or {}
    for name, plugin in plugins.items():
        if not str(name).startswith("material/blog"):
            continue
        for aid, author in (getattr(plugin, "authors", None) or {}).items():
            for attr in ("name", "description"):
                value = author.get(attr)
                if isinstance(value, str):
                    safe = title_text(value, 200)
                    if safe != value:
                        author[attr] = safe
                        log.info(f"daybook: author {aid!r}: HTML characters in {attr} replaced")
