"""Reads the artifact files a build previews (`analysis.artifacts` chose them): a local artifact
root directly, any other through MLflow's artifact repository into a temporary folder.

Reads are bounded (an image up to its listed size, text up to the preview's limit), never
follow a path out of the run's artifact root, and never write to the store. A file that
cannot be read is reported, not fatal: the page lists it as it would without previews.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from daybook.core.artifacts import ArtifactFile, ArtifactPreviews, PreviewPick
from daybook.safety.paths import local_path
from daybook.safety.redact import strip_credentials

# The first bytes of each image format we copy: a file whose content is not what its name says
# is not previewed (the site would serve it under the name's type).
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
}


class UnsafePath(ValueError):
    """An artifact path that would lead out of its run's artifact root."""


def inside(root: Path, path: str) -> Path:
    """`root/path`, refused when `path` is absolute, climbs with `..`, or reaches (through a
    symlink) a file outside `root`."""
    parts = PurePosixPath(path).parts
    if not path or PurePosixPath(path).is_absolute() or ".." in parts or "\\" in path:
        raise UnsafePath(f"{path!r} is not a path inside the artifact root")
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root.resolve()):
        raise UnsafePath(f"{path!r} leads out of the artifact root")
    return target


def _read_local(root: Path, path: str, limit: int) -> bytes:
    with inside(root, path).open("rb") as fh:
        return fh.read(limit + 1)


def _read_remote(root: str, path: str, limit: int, tracking_uri: str) -> bytes:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    inside(Path("/r"), path)  # the same refusals as for a local root
    repo = get_artifact_repository(root, tracking_uri=tracking_uri)
    with tempfile.TemporaryDirectory(prefix="daybook-") as tmp:
        got = Path(repo.download_artifacts(path, dst_path=tmp))
        with got.open("rb") as fh:
            return fh.read(limit + 1)


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def read_previews(
    picks: Sequence[PreviewPick],
    roots: Mapping[str, str],
    tracking_uri: str,
    *,
    text_limit: int,
    skipped: Mapping[str, tuple[tuple[str, str], ...]] | None = None,
) -> ArtifactPreviews:
    """The picked files as read (`roots`: run id -> artifact URI); a file that cannot be read,
    or whose content is not the image its name says, joins `skipped` with the reason."""
    files: list[ArtifactFile] = []
    left_out: dict[str, list[tuple[str, str]]] = {k: list(v) for k, v in (skipped or {}).items()}
    for pick in picks:
        root = roots.get(pick.run_id, "")
        image = pick.kind == "image"
        limit = pick.size if image else text_limit
        try:
            local = local_path(root) if root else None
            if not root:
                raise ValueError("the run has no artifact root")
            data = (
                _read_local(local, pick.path, limit)
                if local is not None
                else _read_remote(root, pick.path, limit, tracking_uri)
            )
        except (OSError, ValueError) as exc:
            left_out.setdefault(pick.run_id, []).append((pick.path, _why(exc)))
            continue
        except Exception as exc:  # an artifact repository's own errors (network, auth …)
            left_out.setdefault(pick.run_id, []).append((pick.path, _why(exc)))
            continue
        if image:
            ext = PurePosixPath(pick.path.lower()).suffix
            if len(data) > limit or not data.startswith(_MAGIC.get(ext, (b"\x00\x00",))):
                left_out.setdefault(pick.run_id, []).append((pick.path, "not a readable image"))
                continue
            files.append(ArtifactFile(pick.run_id, pick.path, pick.kind, pick.size, data=data))
        else:
            truncated = len(data) > limit
            text = _decode(data[:limit])
            files.append(
                ArtifactFile(pick.run_id, pick.path, pick.kind, pick.size, text, b"", truncated)
            )
    return ArtifactPreviews(
        tuple(files), {k: tuple(sorted(v)) for k, v in sorted(left_out.items()) if v}
    )


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return "cannot be read: " + strip_credentials(text)[:160]
