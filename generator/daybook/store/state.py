"""The morning review's reference point, and the small state file that records local builds.

The review shows what changed since a reference point, the first of:

1. `--since` (or the `DAYBOOK_SINCE` environment variable, which `mkdocs build`/`serve` read):
   a time (`2026-11-25`, `2026-11-25T06:00`, `2026-11-25T06:00:00+01:00`; UTC unless it says
   otherwise) or a span back from now (`90m`, `24h`, `3d`, `1w`);
2. `review.since: "09:00"` in daybook.yml: a fixed daily cut in `review.timezone`, the latest
   one at or before now;
3. the last *published* build, from the committed log `daybook build --publish` appends to
   (daybook.store.published), so every clone and CI agree on "since yesterday's review";
4. else `review.default_hours` (24) before now.

A plain `daybook build` or `serve` never moves the window: two builds in a row show the same
review. Each `daybook build` is still recorded in `.daybook/state.json` (gitignored), for
people and tools that want to know when the site was last built; the review does not read it.
The pages name the reference point, and depend on the clock through it alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zoneinfo
from pathlib import Path

from daybook.core.config import Review, span_ms
from daybook.core.errors import DaybookError
from daybook.core.site import ReferencePoint
from daybook.safety.redact import strip_credentials
from daybook.store.atomic import write_atomic
from daybook.store.published import last_published

STATE_DIR = ".daybook"
STATE_FILE = "state.json"
ENV_SINCE = "DAYBOOK_SINCE"


def parse_since(text: str, now_ms: int) -> int:
    """`--since` as epoch ms: a span back from `now_ms`, or a date/time (UTC by default)."""
    raw = text.strip()
    span = span_ms(raw)
    if span is not None:
        return now_ms - span
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


def daily_cut(clock: str, zone: str, now_ms: int) -> tuple[int, str]:
    """The latest `clock` ("HH:MM" in the time zone `zone`) at or before `now_ms`, and how to
    say it ("09:00 UTC today", "09:00 Europe/Berlin yesterday")."""
    tz = zoneinfo.ZoneInfo(zone)
    now = dt.datetime.fromtimestamp(now_ms / 1000, tz=tz)
    hour, minute = (int(x) for x in clock.split(":"))
    cut = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    day = "today"
    if cut > now:
        cut = cut - dt.timedelta(days=1)  # wall-clock arithmetic: 09:00 across a DST change
        day = "yesterday"
    return int(cut.timestamp() * 1000), f"{clock} {zone} {day}"


def resolve_reference(
    root: Path,
    since: str | None,
    now_ms: int,
    review: Review | None = None,
) -> ReferencePoint:
    """The reference point of this build (see the module docstring for the order)."""
    review = review or Review()
    given = since if since is not None else os.environ.get(ENV_SINCE) or None
    if given:
        return ReferencePoint(parse_since(given, now_ms), "since", given.strip(), now_ms)
    if review.since:
        at, said = daily_cut(review.since, review.timezone, now_ms)
        return ReferencePoint(at, "review.since", said, now_ms)
    published = last_published(root / review.published_log, now_ms)
    if published is not None:
        return ReferencePoint(published, "published", "", now_ms)
    hours = f"{review.default_hours:g}"
    return ReferencePoint(now_ms - round(review.default_hours * 3_600_000), "default", hours,
                          now_ms)  # fmt: skip
