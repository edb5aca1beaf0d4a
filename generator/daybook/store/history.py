"""The alias history file: Daybook's own record of the alias moves it observed.

One JSON object a line (JSON Lines), appended and never rewritten, so it can be committed and
reviewed like any other file and a merge never reorders it:

    {"observed_at": "2026-11-26T06:01:55Z", "model": "cancer-detector", "alias": "champion",
     "from": 1, "to": 2, "event": "moved"}

`observed_at` is when the pull that noticed the change ran (data, not page content: the pages
only change when this file or the store does). Lines a build appends together share it and are
sorted by model and alias. The file lives outside `docs/` (MkDocs would publish it) at
`history/aliases.jsonl` by default; see `models.alias_history` in daybook.yml.

Appends are whole lines or nothing (one write, fsync, undone on error); an unfinished last line
left by a run that was killed mid-append is dropped before the next append (`repair_history`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from daybook.core.errors import DaybookError
from daybook.core.snapshot import AliasEvent, Problem

KINDS = ("baseline", "set", "moved", "removed")
_FIELDS = ("observed_at", "model", "alias", "from", "to", "event")


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_second(ms: int) -> int:
    """Times are recorded to the second: an event reads back exactly as it was written."""
    return ms - ms % 1000


def format_event(e: AliasEvent) -> str:
    data = {
        "observed_at": iso(e.observed_at),
        "model": e.model,
        "alias": e.alias,
        "from": e.from_version,
        "to": e.to_version,
        "event": e.kind,
    }
    return json.dumps(data, ensure_ascii=False)


def read_history(path: Path, where: str) -> tuple[tuple[AliasEvent, ...], tuple[Problem, ...]]:
    """Every well-formed event of the file, in file order; a bad line is skipped and reported
    at its line number. A missing file is an empty history (the next pull writes a baseline)."""
    if not path.exists():
        return (), ()
    problems: list[Problem] = []
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        msg = f"cannot read the alias history ({reason}); no moves are recorded until it is fixed"
        return (), (Problem(where, 1, msg, "error", "history.read"),)
    events = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        event, error = _parse(line)
        if error:
            problems.append(
                Problem(where, n, f"{error}; the line is skipped", "error", "history.line")
            )
        elif event is not None:
            events.append(event)
    return tuple(events), tuple(problems)


def _parse(line: str) -> tuple[AliasEvent | None, str]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not a JSON object ({exc.msg})"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    missing = [f for f in _FIELDS if f not in data]
    if missing:
        return None, f"missing {', '.join(missing)}"
    try:
        when = dt.datetime.fromisoformat(str(data["observed_at"]).replace("Z", "+00:00"))
    except ValueError:
        return None, f"observed_at {data['observed_at']!r} is not an ISO time"
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    for key in ("from", "to"):
        value = data[key]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return None, f"{key}: expected a version number or null"
    if not isinstance(data["model"], str) or not isinstance(data["alias"], str):
        return None, "model and alias must be text"
    if data["event"] not in KINDS:
        return None, f"event {data['event']!r} is not one of {', '.join(KINDS)}"
    ms = int(when.timestamp() * 1000)
    return AliasEvent(ms, data["model"], data["alias"], data["from"], data["to"], data["event"]), ""


@dataclass(frozen=True)
class TornLine:
    """An unfinished last line that was dropped: where it was, and what it said."""

    line: int
    text: str


def repair_history(path: Path) -> TornLine | None:
    """Make the file end at the end of a line, before it is read to decide what to append.

    A last line without a newline is either an append cut short (a kill, a full disk, a power
    cut) or a whole line an editor saved without one. A cut append is a prefix of one of our
    `{...}` lines, which is never a whole JSON value, so the rule below loses nothing valid:

    - a tail that is a whole JSON value is kept and gets its newline;
    - anything else is dropped and returned. It was never a readable event, and the alias moves
      it half-recorded are recorded again: the next pull compares the store with the complete
      lines, which do not have them.

    Dropping beats completing with a newline: that would leave a bad line in a committed file
    for ever, reported by every `daybook check`."""
    try:  # read-only first: a whole file needs no write access
        with path.open("rb") as fh:
            fh.seek(max(fh.seek(0, os.SEEK_END) - 1, 0))
            last = fh.read(1)
    except OSError:
        return None  # missing: nothing to repair; unreadable: read_history reports it
    if last in (b"", b"\n"):
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        try:
            return _repair(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _cannot(path, exc) from None


def _repair(fd: int) -> TornLine | None:
    size = os.fstat(fd).st_size
    if not size or _read_at(fd, size - 1, 1) == b"\n":
        return None
    data = _read_at(fd, 0, size)  # the file is small: a line per alias move
    start = data.rfind(b"\n") + 1
    tail = data[start:]
    try:
        json.loads(tail.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        os.ftruncate(fd, start)
        os.fsync(fd)
        return TornLine(data.count(b"\n", 0, start) + 1, tail.decode("utf-8", "replace"))
    os.write(fd, b"\n")  # an editor's last line: whole, only its newline is missing
    return None


def _read_at(fd: int, offset: int, size: int) -> bytes:
    """Like os.pread, which Windows lacks (writes still go to the end: the file is O_APPEND)."""
    os.lseek(fd, offset, os.SEEK_SET)
    chunks = []
    while size > 0 and (chunk := os.read(fd, size)):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def append_history(path: Path, events: Sequence[AliasEvent]) -> TornLine | None:
    """Add events at the end of the file (created with its folder when missing): whole lines
    or nothing. Earlier lines are never touched, except an unfinished last one (see
    `repair_history`, whose verdict is returned). The batch goes in one write, is undone if the
    write fails part way (a full disk) and is on disk (fsync) before this returns, so the next
    run reads either none of it or all of it. Callers hold the site lock (daybook.store.lock):
    the file is read, compared with the store and appended as one step."""
    if not events:
        return None
    data = "".join(format_event(e) + "\n" for e in events).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            torn = _repair(fd)
            append_whole(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _cannot(path, exc) from None
    if created:
        _sync_folder(path.parent)
    return torn


def append_whole(fd: int, data: bytes) -> None:
    """Append `data` to the open file and fsync it, or leave the file as it was: a failed
    write is cut back off, so a log never ends in half a batch. Raises OSError."""
    size = os.fstat(fd).st_size
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise


def _cannot(path: Path, exc: OSError) -> DaybookError:
    return DaybookError(
        f"{path}: cannot append to the alias history ({exc.strerror or exc}); nothing of this "
        "run was recorded, the next pull records it"
    )


def _sync_folder(folder: Path) -> None:
    """A new file's name is durable once its folder is synced (best effort: not everywhere)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
