"""Artifact previews as plain values: which files of a run are shown on its page, and what was
read of them.

`analysis.artifacts` chooses (`PreviewPick`, within the site's budget), `sources.artifact_files`
reads (`ArtifactFile`), `pages.artifacts` lays them out. Text is kept as `str` so the publishing
redaction pass masks secrets in it like in any other value; images stay bytes, copied as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PreviewKind = Literal["image", "markdown", "json", "csv", "text"]


@dataclass(frozen=True)
class PreviewPick:
    """A file chosen for a preview (`kind` from its name, `size` from the listing)."""

    run_id: str
    path: str  # relative to the run's artifact root, "/"-separated
    kind: PreviewKind
    size: int


@dataclass(frozen=True)
class ArtifactFile:
    """What was read of a picked file: `data` for an image, `text` (its beginning, decoded)
    for the rest; `truncated` when the text is only the first part of the file."""

    run_id: str
    path: str
    kind: PreviewKind
    size: int
    text: str = ""
    data: bytes = b""
    truncated: bool = False


@dataclass(frozen=True)
class ArtifactPreviews:
    """Every preview of one build, and why a file that could have been one is not (run id ->
    (path, reason)), for the run page's listing."""

    files: tuple[ArtifactFile, ...] = ()
    skipped: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def of(self, run_id: str) -> list[ArtifactFile]:
        return [f for f in self.files if f.run_id == run_id]
