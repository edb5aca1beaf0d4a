"""The artifact previews of the last online build, kept beside the snapshot so an offline build
(`--offline`, `DAYBOOK_OFFLINE=1`) shows the same run pages without reading the store."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

from daybook.core.artifacts import ArtifactFile, ArtifactPreviews
from daybook.store.atomic import write_atomic

PREVIEWS = Path(".daybook") / "previews.json.gz"


def save_previews(site_root: Path, previews: ArtifactPreviews) -> None:
    data = {
        "files": [
            {
                "run_id": f.run_id,
                "path": f.path,
                "kind": f.kind,
                "size": f.size,
                "text": f.text,
                "data": base64.b64encode(f.data).decode("ascii"),
                "truncated": f.truncated,
            }
            for f in previews.files
        ],
        "skipped": {rid: [list(p) for p in pairs] for rid, pairs in previews.skipped.items()},
    }
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    write_atomic(site_root / PREVIEWS, gzip.compress(raw, mtime=0))


def load_previews(site_root: Path) -> ArtifactPreviews | None:
    """None when no online build saved any (or the file is unreadable: previews are optional)."""
    try:
        data = json.loads(gzip.decompress((site_root / PREVIEWS).read_bytes()))
        files = tuple(
            ArtifactFile(**{**f, "data": base64.b64decode(f["data"])}) for f in data["files"]
        )
        skipped = {rid: tuple(tuple(p) for p in pairs) for rid, pairs in data["skipped"].items()}
        return ArtifactPreviews(files, skipped)  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, TypeError):
        return None
