"""Reads model cards people wrote: `docs/models/<model name>.md` in the site (configurable), and
the text of a README.md / model_card.md logged with a version's run (parsed here, read by
`sources.model_files`).

A card is Hugging Face's format: YAML metadata between `---` lines, then Markdown sections. People
make mistakes, so nothing here stops at the first one: every card becomes a `CardFile` with what
could be read plus `Problem`s that say `path:line: message`. Files are only read, never written.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from pathlib import Path

from daybook.core.front_matter import CardFrontMatter, validate_front_matter
from daybook.core.site import Site
from daybook.core.snapshot import CardFile, Problem
from daybook.sources.front_matter import split_front_matter

MAX_CARD_BYTES = 512 * 1024  # a card is prose; anything bigger is a mistake (or not a card)
NOT_CARDS = ("index.md", "SUMMARY.md", "README.md")  # pages a folder may hold besides cards


def card_paths(cards_dir: Path) -> list[Path]:
    """The card files of a folder: `*.md` directly inside it, minus index/summary pages and dot
    files (MkDocs ignores those too)."""
    if not cards_dir.is_dir():
        return []
    return [
        p
        for p in sorted(cards_dir.glob("*.md"))
        if p.is_file() and not p.name.startswith(".") and p.name not in NOT_CARDS
    ]


def read_cards(site_root: Path, cards_dir: str) -> tuple[CardFile, ...]:
    """Every hand-written card of the site, sorted by path."""
    folder = site_root / cards_dir
    return tuple(read_card(p, f"{cards_dir}/{p.name}") for p in card_paths(folder))


def read_card(path: Path, where: str) -> CardFile:
    """One card file; `where` is how messages name it (its path relative to the site)."""
    key = path.name.removesuffix(".md")
    try:
        raw = path.read_bytes()[: MAX_CARD_BYTES + 1]
    except OSError as exc:
        problem = Problem(
            where, 1, f"cannot read the card ({exc.strerror or exc})", "error", "card.read"
        )
        return CardFile(where, key, problems=(problem,))
    problems: list[Problem] = []
    if len(raw) > MAX_CARD_BYTES:
        problems.append(
            Problem(
                where,
                1,
                f"card is larger than {MAX_CARD_BYTES // 1024} KB; only the first part is read",
                "warning",
                "card.size",
            )
        )
        raw = raw[:MAX_CARD_BYTES]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                where,
                line,
                f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the card as UTF-8",
                "error",
                "card.encoding",
            )
        )
        text = raw.decode("utf-8-sig", errors="replace")
    card = parse_card(text, where, key)
    return CardFile(
        path=card.path,
        key=card.key,
        metadata=card.metadata,
        body=card.body,
        body_line=card.body_line,
        metadata_lines=card.metadata_lines,
        updated=card.updated,
        updated_from=card.updated_from,
        problems=(*problems, *card.problems),
    )


def parse_card(text: str, where: str, key: str) -> CardFile:
    """A card's text split into metadata and body. Broken YAML leaves the metadata empty and the
    body intact (so the sections still show), with a problem at the line YAML complained about."""
    problems: list[Problem] = []

    def problem(line: int, msg: str, level: str = "error", code: str = "card.metadata") -> None:
        problems.append(Problem(where, line, msg, level, code))

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fm = split_front_matter(text)
    if fm.trouble == "unclosed":
        problem(1, "metadata starts with '---' but has no closing '---' line", code="card.yaml")
    elif fm.trouble == "yaml":
        problem(
            fm.trouble_line,
            f"invalid YAML metadata: {fm.detail}; the metadata is ignored until it is fixed",
            code="card.yaml",
        )
    elif fm.trouble == "not-mapping":
        problem(
            2, "metadata must be `key: value` lines (license, tags, datasets …)", code="card.yaml"
        )
    if not text.strip():
        problem(
            1,
            "empty card: run `daybook card new` for a skeleton, or delete the file",
            "warning",
            "card.empty",
        )

    read, found = validate_front_matter(CardFrontMatter, fm, where, "card.metadata")
    problems.extend(found)
    updated: int | None = None
    updated_from = ""
    if read.last_updated is not None:
        midnight = dt.datetime.combine(read.last_updated, dt.time.min, tzinfo=dt.UTC)
        updated, updated_from = int(midnight.timestamp() * 1000), "front matter"
    return CardFile(
        path=where,
        key=key,
        metadata=fm.meta,
        body=fm.body,
        body_line=fm.body_line,
        metadata_lines=fm.key_lines(),
        updated=updated,
        updated_from=updated_from,
        problems=tuple(problems),
    )


def card_sources(site: Site) -> list[str]:
    """The hand-written card files as MkDocs sees them (paths under docs/): they are merged into
    the generated `models/<slug>/card.md` and must not be published on their own, where
    `models/<name>.md` would claim the model page's URL."""
    docs = site.docs_dir
    folder = site.root / site.config.models.cards_dir
    try:
        rel = folder.resolve().relative_to(docs.resolve())
    except ValueError:
        return []  # outside docs/: MkDocs never sees them
    return [posixpath.join(rel.as_posix(), p.name).removeprefix("./") for p in card_paths(folder)]
