"""Which artifacts a build previews: pure choice over the snapshot's listings, within the site's
budget, so the same store and settings always copy the same files.

Runs come in the order given (newest first, see `preview_order`); within a run, images before
text, then by path. Files inside an MLflow model folder (one holding `MLmodel`) are the model's
own (conda.yaml, requirements.txt …), not what a reader looks for, and are never previewed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence

from daybook.core.artifacts import PreviewKind, PreviewPick
from daybook.core.config import ArtifactSettings
from daybook.core.snapshot import Artifact, Run

# SVG is left out on purpose: opened from the site it would run its scripts at the site's origin.
KINDS: dict[str, PreviewKind] = {
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".gif": "image",
    ".webp": "image",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "text",
    ".log": "text",
    ".yaml": "text",
    ".yml": "text",
}
_ORDER: dict[PreviewKind, int] = {"image": 0, "markdown": 1, "json": 2, "csv": 3, "text": 4}


def preview_kind(path: str) -> PreviewKind | None:
    """What a file is shown as, by its name; None when it is not shown at all."""
    return KINDS.get(posixpath.splitext(path.lower())[1])


def preview_order(runs: Iterable[Run]) -> list[str]:
    """Run ids, newest start first (ties by id): the budget goes to what people look at first."""
    return [r.run_id for r in sorted(runs, key=lambda r: (-(r.start_time or 0), r.run_id))]


def model_folders(listing: Sequence[Artifact]) -> set[str]:
    """Folders that hold an MLflow model (an `MLmodel` file), "" for the artifact root."""
    return {posixpath.dirname(a.path) for a in listing if posixpath.basename(a.path) == "MLmodel"}


def _in_model(path: str, models: set[str]) -> bool:
    return any(m == "" or path.startswith(m + "/") for m in models)


def choose_previews(
    run_ids: Sequence[str],
    listings: Mapping[str, Sequence[Artifact]],
    settings: ArtifactSettings,
) -> tuple[list[PreviewPick], dict[str, tuple[tuple[str, str], ...]]]:
    """The files to preview, and per run the previewable files left out with the reason.

    An image costs its size; a text file costs what is shown of it (at most `text_kb`). A file
    whose size is unknown, an image above `max_file_kb`, or one that no longer fits the budget
    is listed only."""
    if not settings.previews:
        return [], {}
    left = settings.budget_bytes
    text_limit = settings.text_kb * 1024
    picks: list[PreviewPick] = []
    skipped: dict[str, tuple[tuple[str, str], ...]] = {}
    for run_id in run_ids:
        listing = listings.get(run_id, ())
        models = model_folders(listing)
        candidates = sorted(
            (
                (kind, a)
                for a in listing
                if not a.is_dir
                and (kind := preview_kind(a.path)) is not None
                and not _in_model(a.path, models)
            ),
            key=lambda ka: (_ORDER[ka[0]], ka[1].path),
        )
        out: list[tuple[str, str]] = []
        taken = 0
        for kind, a in candidates:
            reason = ""
            cost = 0
            if a.size is None:
                reason = "size unknown"
            elif kind == "image" and a.size > settings.max_file_kb * 1024:
                reason = f"larger than {settings.max_file_kb} KB"
            else:
                cost = a.size if kind == "image" else min(a.size, text_limit)
                if taken >= settings.per_run:
                    reason = f"more than {settings.per_run} previews on this run"
                elif cost > left:
                    reason = "over the site's preview budget"
            if reason:
                out.append((a.path, reason))
                continue
            assert a.size is not None
            picks.append(PreviewPick(run_id, a.path, kind, a.size))
            left -= cost
            taken += 1
        if out:
            skipped[run_id] = tuple(out)
    return picks, skipped
