"""Small tools the tests share: the real CLI in a subprocess, file trees, and an HTML reader."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from daybook.core.snapshot import Snapshot

# Names MLflow (or a careless reader) would leave behind in a working directory.
STRAY_NAMES = {"mlflow.db", "mlruns", "mlartifacts"}


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    drop_env: Iterable[str] = ("MLFLOW_TRACKING_URI",),
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`daybook ARGS…` as a user runs it: a fresh process, real stdout/stderr and exit code."""
    full_env = {k: v for k, v in os.environ.items() if k not in set(drop_env)}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "daybook.cli", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def add_settings(config: Path, text: str) -> None:
    """Append `text` (top-level YAML sections) to a daybook.yml, first dropping the sections of
    the same name it has (the scaffold spells out `run_pages:` and `experiments:`): a section
    written twice is refused, as a person's file would be."""
    names = {line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha()}
    kept: list[str] = []
    dropping = False
    for line in config.read_text(encoding="utf-8").splitlines(keepends=True):
        if line[:1].isalpha():
            dropping = line.split(":", 1)[0] in names
        if not dropping:
            kept.append(line)
    config.write_text("".join(kept) + "\n" + text, encoding="utf-8")


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, by its relative POSIX path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime (ns) of every file under `root`: equal fingerprints, untouched files."""
    return {
        p.relative_to(root).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def stray_files(*roots: Path) -> list[str]:
    """Paths under `roots` that only a reader writing to the outside world would create."""
    found = []
    for root in roots:
        for p in root.rglob("*"):
            if (
                p.name in STRAY_NAMES
                or p.name.startswith("file:")
                or p.name.endswith(("-journal", "-wal", "-shm"))
            ):
                found.append(str(p))
    return sorted(found)


def snapshot_data(snapshot: Snapshot) -> Any:
    """The snapshot as plain data, with NaN made comparable (NaN != NaN would hide equality)."""

    def norm(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        return value

    return norm(dataclasses.asdict(snapshot))


def same_file(a: bytes, b: bytes) -> bool:
    """True when two snapshot files are the same bytes; else an AssertionError naming where
    they part: the head's fields that differ, or the first gzip member that does, its kind,
    and whether its JSON differs or only its compressed bytes (a compressor giving other
    bytes for the same data)."""
    if a == b:
        return True
    (head_a, *parts_a), (head_b, *parts_b) = gzip_members(a), gzip_members(b)
    json_a, json_b = (
        json.loads(zlib.decompress(head_a, 31)),
        json.loads(zlib.decompress(head_b, 31)),
    )
    fields = sorted(
        k for k in {*json_a, *json_b} if json_a.get(k) != json_b.get(k) and k != "parts"
    )
    table = json_a.get("parts") or []
    pairs = zip(parts_a, parts_b, strict=False)
    at = next((i for i, (x, y) in enumerate(pairs) if x != y), None)
    if at is None:
        where = f"{len(parts_a)} and {len(parts_b)} parts"
    else:
        raw = zlib.decompress(parts_a[at], 31) == zlib.decompress(parts_b[at], 31)
        kind = table[at][0] if at < len(table) else "?"
        what = "same JSON, other gzip bytes" if raw else "other JSON"
        sizes = f"{len(parts_a[at])} and {len(parts_b[at])} bytes"
        where = f"part {at} of {len(parts_a)} ({kind}, {sizes}): {what}"
    raise AssertionError(f"the files differ: head fields {fields}; {where}")


def gzip_members(data: bytes) -> list[bytes]:
    """A snapshot file's gzip members, compressed, in order."""
    out = []
    while data:
        unzip = zlib.decompressobj(wbits=31)
        unzip.decompress(data)
        out.append(data[: len(data) - len(unzip.unused_data)])
        data = unzip.unused_data
    return out


# --- HTML -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class Cell:
    tag: str  # "td" or "th"
    text: str  # visible text, entities decoded
    hrefs: list[str]


@dataclasses.dataclass
class Table:
    rows: list[list[Cell]]

    @property
    def header(self) -> list[str]:
        return [c.text for c in self.rows[0]] if self.rows else []

    @property
    def body(self) -> list[list[Cell]]:
        return [r for r in self.rows if r and r[0].tag == "td"]

    def column(self, name: str) -> list[Cell]:
        i = self.header.index(name)
        return [r[i] for r in self.body]


class HtmlPage(HTMLParser):
    """Every start tag with its attributes, the tables, and the text of the article."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[Table] = []
        self.article: list[str] = []
        self.data: list[str] = []
        self.title = ""
        self.headings: list[tuple[str, str]] = []  # (tag, text without the permalink mark)
        self._heading: list[str] | None = None
        self._stack: list[Table] = []
        self._cell: Cell | None = None
        self._in_article = 0
        self._in_title = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "article":
            self._in_article += 1
        elif tag == "title":
            self._in_title = True
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = []
        elif tag == "table":
            self._stack.append(Table([]))
        elif tag == "tr" and self._stack:
            self._stack[-1].rows.append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = Cell(tag, "", [])
            self._stack[-1].rows[-1].append(self._cell)
        elif tag == "a" and self._cell is not None:
            self._cell.hrefs.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._in_article -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self._heading is not None:
            self.headings.append((tag, "".join(self._heading).removesuffix("¶").strip()))
            self._heading = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.data.append(data)
        if self._heading is not None:
            self._heading.append(data)
        if self._cell is not None:
            self._cell.text += data
        if self._in_article:
            self.article.append(data)
        if self._in_title:
            self.title += data

    @property
    def text(self) -> str:
        """The article's visible text, whitespace folded (all text when there is no article)."""
        return " ".join("".join(self.article if self.article else self.data).split())

    @property
    def raw_text(self) -> str:
        """All text, entities decoded, whitespace as it is."""
        return "".join(self.data)

    def table_with(self, *header: str) -> Table:
        """The first table whose header starts with these column names."""
        for t in self.tables:
            if t.header[: len(header)] == list(header):
                return t
        raise AssertionError(
            f"no table with header {header}; tables: {[t.header for t in self.tables]}"
        )

    def heading(self, tag: str = "h1") -> str:
        return next(text for t, text in self.headings if t == tag)

    def links(self) -> list[str]:
        return [a.get("href") or "" for tag, a in self.tags if tag == "a"]


def parse_html(path: Path) -> HtmlPage:
    return HtmlPage(path.read_text(encoding="utf-8"))


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG made with the standard library (red pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
