"""Helpers for the journal's tests (issue #3): a site with authors and notes over a real store."""

from __future__ import annotations

from pathlib import Path

from daybook.mkdocs.scaffold import init_site

AUTHORS_YML = """\
authors:
  alice:
    name: Alice Martin
    description: Vision models
    avatar: assets/avatars/alice.svg
  bob:
    name: Bob Okafor
    description: Health models
    avatar: assets/avatars/bob.svg
"""

AVATAR = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"></svg>\n'


def journal_site(root: Path, notes: dict[str, str | bytes], authors: str = AUTHORS_YML) -> Path:
    """`daybook init` a site, give it authors (with local avatars) and the notes
    (`{name under docs/notes/: text or bytes}`)."""
    init_site(root)
    docs = root / "docs"
    (docs / "journal" / ".authors.yml").write_text(authors, encoding="utf-8")
    avatars = docs / "assets" / "avatars"
    avatars.mkdir(parents=True, exist_ok=True)
    for aid in ("alice", "bob"):
        (avatars / f"{aid}.svg").write_text(AVATAR, encoding="utf-8")
    write_notes(root, notes)
    return root


def write_notes(root: Path, notes: dict[str, str | bytes]) -> None:
    for name, text in notes.items():
        path = root / "docs" / "notes" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def front(date: str, authors: list[str] | None = None, kind: str = "daily", title: str = "") -> str:
    lines = ["---", f"date: {date}"]
    if authors:
        lines.append("authors: [" + ", ".join(authors) + "]")
    lines.append(f"type: {kind}")
    if title:
        lines.append(f"title: {title}")
    return "\n".join([*lines, "---", "", ""])


def html_page(site_html: Path, md_path: str) -> Path:
    """The HTML file MkDocs writes for a Markdown page (directory URLs)."""
    stem = md_path.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return site_html / stem.removesuffix("index") / "index.html"
    return site_html / stem / "index.html"
