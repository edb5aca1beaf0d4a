"""The morning review's reference point, and the small state file that remembers it.

The review shows what changed since a reference point:

1. `--since` (or the `DAYBOOK_SINCE` environment variable, which `mkdocs build`/`serve` read):
   a time (`2026-11-25`, `2026-11-25T06:00`, `2026-11-25T06:00:00+01:00`; UTC unless it says
   otherwise) or a span back from now (`90m`, `24h`, `3d`, `1w`);
2. else the time of the previous `daybook build` of this site, kept in `.daybook/state.json`
   (gitignored; delete it to start over);
3. else `review.default_hours` (24) before now.

Only `daybook build` records a build: previews (`daybook serve`, plain `mkdocs serve`) would
otherwise empty the review on every save. The pages name the reference point, and depend on the
clock through it alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

from daybook.core.errors import DaybookError
from daybook.core.site import ReferencePoint
from daybook.safety.redact import strip_credentials
from daybook.store.atomic import write_atomic

STATE_DIR = ".daybook"
STATE_FILE = "state.json"
ENV_SINCE = "DAYBOOK_SINCE"
_SPAN = re.compile(r"^\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>m|min|h|d|w)\s*$", re.I)
_UNIT_MS = {"m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_since(text: str, now_ms: int) -> int:
    """`--since` as epoch ms: a span back from `now_ms`, or a date/time (UTC by default)."""
    raw = text.strip()
    m = _SPAN.match(raw)
    if m:
        return now_ms - round(float(m.group("n")) * _UNIT_MS[m.group("unit").lower()])
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise DaybookError(
            f"--since {text!r}: not a time or a span; use e.g. 2026-11-25, "
            "2026-11-25T06:00 (UTC unless an offset is given), 24h, 3d or 1w"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def state_path(root: Path) -> Path:
    return root / STATE_DIR / STATE_FILE


def last_build(root: Path) -> int | None:
    """When the previous `daybook build` of this site ran (epoch ms), if it was recorded.
    An unreadable file counts as none: it only ever moves the reference point."""
    try:
        data = json.loads(state_path(root).read_text(encoding="utf-8"))
        value = data["last_build"]["at_ms"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def record_build(root: Path, at_ms: int, tracking_uri: str) -> None:
    """Remember this build as the next one's reference point (atomically; best effort)."""
    path = state_path(root)
    data = {
        "version": 1,
        "last_build": {
            "at_ms": at_ms,
            "at": dt.datetime.fromtimestamp(at_ms / 1000, tz=dt.UTC).isoformat(),
            "tracking_uri": strip_credentials(tracking_uri),
        },
    }
    try:
        write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise DaybookError(f"{path}: cannot record the build ({exc.strerror or exc})") from None


def resolve_reference(
    root: Path, since: str | None, now_ms: int, default_hours: float = 24
) -> ReferencePoint:
    """The reference point of this build (see the module docstring for the order)."""
    given = since if since is not None else os.environ.get(ENV_SINCE) or None
    if given:
        return ReferencePoint(parse_since(given, now_ms), "since", given.strip())
    previous = last_build(root)
    if previous is not None and previous <= now_ms:
        return ReferencePoint(previous, "previous build")
    hours = f"{default_hours:g}"
    return ReferencePoint(now_ms - round(default_hours * 3_600_000), "default", hours)
