"""The alias history file: Daybook's own record of the alias moves it observed.

One JSON object a line (JSON Lines), appended and never rewritten, so it can be committed and
reviewed like any other file and a merge never reorders it:

    {"observed_at": "2026-11-26T06:01:55Z", "model": "cancer-detector", "alias": "champion",
     "from": 1, "to": 2, "event": "moved"}

`observed_at` is when the pull that noticed the change ran (data, not page content: the pages
only change when this file or the store does). Lines a build appends together share it and are
sorted by model and alias. The file lives outside `docs/` (MkDocs would publish it) at
`history/aliases.jsonl` by default; see `models.alias_history` in daybook.yml.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path

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


def append_history(path: Path, events: Sequence[AliasEvent]) -> None:
    """Add events at the end of the file (created with its folder when missing). Earlier lines
    are never touched; a last line without a newline (an editor's doing) gets one first."""
    if not events:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(format_event(e) + "\n" for e in events)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            with path.open("rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    text = "\n" + text
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
