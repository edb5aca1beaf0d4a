"""The published-builds log: when the site the team reads was last published.

The morning review starts at the last *published* build (see daybook.store.state), so it means
"since yesterday's review" on every clone and in CI alike. Only an explicit step records one:
`daybook build --publish` (CI's deploy job) appends a JSON line once the site is built,

    {"published_at": "2026-11-30T09:02:11Z", "tracking_uri": "https://mlflow.example.com"}

to `history/published.jsonl` (daybook.yml: `review.published_log`), beside the alias history and
committed like it. A plain `daybook build` or `serve` never writes it, so a local rebuild never
empties the review. Appends are whole lines or nothing, as for the alias history (same repair of
a torn last line); an unreadable line is skipped, since the log only ever moves a window.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from daybook.core.errors import DaybookError
from daybook.safety.redact import strip_credentials
from daybook.store.history import append_whole, iso, repair_history, to_second


def read_published(path: Path) -> list[int]:
    """Every recorded publication (epoch ms), in file order; bad lines are skipped."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        try:
            data = json.loads(line)
            when = dt.datetime.fromisoformat(str(data["published_at"]).replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        out.append(int(when.timestamp() * 1000))
    return out


def last_published(path: Path, before_ms: int) -> int | None:
    """The latest publication at or before `before_ms` (a log from the future is ignored)."""
    times = [t for t in read_published(path) if t <= before_ms]
    return max(times) if times else None


def record_published(path: Path, at_ms: int, tracking_uri: str) -> None:
    """Append one publication (the folder made when missing): a whole line, on disk (fsync)
    before this returns. Callers hold the site lock."""
    line = json.dumps(
        {"published_at": iso(to_second(at_ms)), "tracking_uri": strip_credentials(tracking_uri)},
        ensure_ascii=False,
    )
    data = (line + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_history(path)  # a torn last line (a killed append) is dropped first
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            append_whole(fd, data)
        finally:
            os.close(fd)
    except (OSError, DaybookError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not writable"
        raise DaybookError(
            f"{path}: cannot record the published build ({reason}); the next review starts "
            "at the previous one"
        ) from None
