"""Whole-file writes for Daybook's own files (the snapshot, the review state).

A reader sees the old file or the new one, never half of either: the bytes go to a temporary file
beside the target (`.<name>.<pid>.tmp`, same folder so the rename stays on one filesystem), are
synced, and are renamed over it. A run killed mid-write leaves only its temporary file, which the
next run removes (`remove_stale_temporaries`): the pid in its name is no longer running.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

_TEMPORARY = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.tmp$")


def temporary_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step (the folder is created when missing). Raises
    OSError; the caller turns it into a message naming the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files in `folder` left by runs that are gone (their pid is not
    running); return them. A live process's file is left alone, whoever it belongs to."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TEMPORARY.match(entry.name)
        if m is None or not entry.is_file() or _running(int(m.group("pid"))):
            continue
        with contextlib.suppress(OSError):
            entry.unlink()
            removed.append(entry)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # Windows' os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a pid this system cannot have: keep the file
    return True
