"""Artifact previews on a run page: images copied beside the page, small text shown inline.

Everything read from a file is untrusted: text goes through the same escaping as any value
(`md_text`, `md_cell`) or, for Markdown, through the one sanitizer (`markdown_block`), never raw;
file names in the site come from the slug module, whatever the artifact's path holds.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import posixpath
from dataclasses import dataclass

from markupsafe import Markup

from daybook.core.artifacts import ArtifactFile, ArtifactPreviews
from daybook.pages.paths import relative
from daybook.safety.escape import md_cell, md_link, md_text
from daybook.safety.sanitize import markdown_block
from daybook.safety.slug import page_path, unique_slugs

MAX_LINES = 200  # of a text preview
MAX_ROWS = 20  # of a CSV preview, header included
MAX_COLUMNS = 12
_NONE = Markup("")


@dataclass(frozen=True)
class PreviewView:
    """One preview as the run template shows it: `image` (a linked image) or `body` (text as
    an inert HTML block, a Markdown table for CSV, sanitized HTML for Markdown)."""

    path: str  # the artifact's path, untrusted (escaped when rendered)
    kind: str
    size: int
    image: Markup = _NONE
    body: Markup = _NONE
    table: bool = False  # `body` is a Markdown table (render it in a `markdown` block)
    shortened: bool = False  # only the beginning is shown


@dataclass(frozen=True)
class RunPreviews:
    """A run page's previews, the files to copy beside it, and what was left out (and why)."""

    views: list[PreviewView]
    files: dict[str, bytes]
    skipped: list[tuple[str, str]]


def run_previews(previews: ArtifactPreviews | None, run_id: str, page: str) -> RunPreviews:
    """The previews of `run_id` for its page `page` (images go to `<page>/artifacts/`)."""
    if previews is None:
        return RunPreviews([], {}, [])
    mine = previews.of(run_id)
    images = [f for f in mine if f.kind == "image"]
    slugs = unique_slugs(posixpath.splitext(f.path)[0] for f in images)
    folder = [*page.removesuffix(".md").split("/"), "artifacts"]
    views: list[PreviewView] = []
    files: dict[str, bytes] = {}
    for f in mine:
        if f.kind == "image":
            ext = posixpath.splitext(f.path)[1].lower().lstrip(".")
            target = page_path(*folder, slugs[posixpath.splitext(f.path)[0]], suffix="." + ext)
            files[target] = f.data
            href = relative(page, target)
            image = md_link(Markup("!") + md_link(f.path, href), href)
            views.append(PreviewView(f.path, f.kind, f.size, image=image))
        else:
            views.append(_text_view(f))
    return RunPreviews(views, files, list(previews.skipped.get(run_id, ())))


def _text_view(f: ArtifactFile) -> PreviewView:
    text, shortened = f.text, f.truncated
    if f.kind == "markdown":
        return PreviewView(f.path, f.kind, f.size, body=markdown_block(text), shortened=shortened)
    if f.kind == "csv" and not shortened:
        table = csv_table(text, "\t" if f.path.lower().endswith(".tsv") else ",")
        if table is not None:
            return PreviewView(f.path, f.kind, f.size, body=table, table=True)
    if f.kind == "json" and not shortened:
        with contextlib.suppress(ValueError, RecursionError):  # else shown as it is
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    lines = text.split("\n")
    if len(lines) > MAX_LINES:
        lines, shortened = lines[:MAX_LINES], True
    return PreviewView(f.path, f.kind, f.size, body=pre_block(lines), shortened=shortened)


def pre_block(lines: list[str]) -> Markup:
    """Lines of untrusted text as one `<pre>` block: every character Markdown or HTML acts on
    is a character reference, and no line is blank (a blank line would end the HTML block)."""
    body = "\n".join(str(md_text(line)) if line.strip() else "&#8203;" for line in lines)
    return Markup(f'<pre class="daybook-artifact-text"><code>{body}</code></pre>')


def csv_table(text: str, delimiter: str = ",") -> Markup | None:
    """The first rows of a CSV file as a Markdown table (cells escaped and cut), or None when
    it does not parse as one."""
    try:
        rows = list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), MAX_ROWS))
    except csv.Error:
        return None
    rows = [r for r in rows if r]
    if not rows:
        return None
    width = min(max(len(r) for r in rows), MAX_COLUMNS)

    def line(row: list[str]) -> str:
        cells = [str(md_cell(c, 40)) for c in row[:width]] + [""] * (width - len(row[:width]))
        return "| " + " | ".join(cells) + " |"

    out = [line(rows[0]), "|" + " --- |" * width, *(line(r) for r in rows[1:MAX_ROWS])]
    return Markup("\n".join(out))
