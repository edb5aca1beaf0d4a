"""`daybook init`: a new site that builds with --strict at once."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from daybook.core.errors import DaybookError

# scaffold file -> path in the new site
FILES = {
    "mkdocs.yml": "mkdocs.yml",
    "daybook.yml": "daybook.yml",
    "gen_pages.py": "gen_pages.py",
    "gitignore": ".gitignore",
    "docs/about.md": "docs/about.md",
    "docs/writing-notes.md": "docs/writing-notes.md",
    "docs/journal/index.md": "docs/journal/index.md",
    "docs/journal/authors.yml": "docs/journal/.authors.yml",
    "docs/notes/gitkeep": "docs/notes/.gitkeep",
    "templates/README.md": "templates/README.md",
}


def init_site(directory: Path) -> list[Path]:
    """Write the scaffold; if any target file exists, write nothing and say which."""
    existing = [directory / dest for dest in FILES.values() if (directory / dest).exists()]
    if existing:
        names = ", ".join(str(p) for p in existing)
        raise DaybookError(f"refusing to overwrite existing files: {names}")
    root = resources.files("daybook.mkdocs") / "scaffold"
    written = []
    for src, dest in FILES.items():
        target = directory / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(root.joinpath(src).read_text(encoding="utf-8"), encoding="utf-8")
        written.append(target)
    return written
