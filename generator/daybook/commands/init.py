"""`daybook init`: a new site that builds with --strict at once."""

from __future__ import annotations

from pathlib import Path

from daybook.mkdocs.scaffold import init_site

__all__ = ["init_site"]


def init(directory: Path) -> list[Path]:
    """Write the scaffold into `directory`; refuses (writing nothing) if any file exists."""
    return init_site(directory)
