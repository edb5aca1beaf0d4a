"""One Daybook run at a time per site: the site lock, `.daybook/lock`.

A cron `daybook build`, a `daybook serve` regenerating after an edit and someone's `daybook pull`
all read and write the same files: the snapshot, the review state, the committed alias history
(read, compare with the store, append). Two at once could record the same alias move twice or
replace each other's snapshot, so each takes the lock first and the second one waits.

The lock is the operating system's (`flock`, through `filelock`): it goes with the process, so a
run that is killed leaves nothing to clean up. It is re-entrant in-process, because `daybook
build` holds it while MkDocs runs the gen-files script in the same process and thread, and that
script takes it too; other threads (`mkdocs serve` rebuilds in its own) wait like other processes.
`daybook serve` takes it per regeneration, never for its whole life, so a cron build only waits
for the regeneration under way.

The first take of a run also removes the temporary files a killed run left in `.daybook/` (see
daybook.store.atomic): nobody else can be writing them then.

The wait is bounded (DAYBOOK_LOCK_TIMEOUT seconds, 10 minutes by default): a run that holds the
site longer than that is stuck, and a failing cron job says so where a hanging one would not.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from daybook.core.errors import DaybookError
from daybook.store.atomic import remove_stale_temporaries

LOCK_DIR = ".daybook"  # git-ignored by the scaffold (it also holds the snapshot and state)
LOCK_FILE = "lock"
ENV_TIMEOUT = "DAYBOOK_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 600.0  # seconds

Progress = Callable[[str], None]


class SiteBusy(DaybookError):
    """Another Daybook run held the site for longer than the wait allows."""


def _quiet(_: str) -> None:
    pass


def lock_path(root: Path) -> Path:
    return root / LOCK_DIR / LOCK_FILE


def lock_timeout() -> float:
    """How long to wait for the site, from DAYBOOK_LOCK_TIMEOUT (seconds; 0: do not wait)."""
    raw = os.environ.get(ENV_TIMEOUT, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):  # also refuses NaN
        raise DaybookError(
            f"{ENV_TIMEOUT}={raw!r}: not a number of seconds; use e.g. 600 (the default), or 0 "
            "to fail at once when another run holds the site"
        )
    return value


@contextlib.contextmanager
def site_lock(
    root: Path, progress: Progress = _quiet, *, timeout: float | None = None
) -> Iterator[None]:
    """Hold the site for the body. When another run holds it, say so once and wait up to
    `timeout` seconds (default: `lock_timeout()`), then fail with one line."""
    path = lock_path(root.resolve())
    wait = lock_timeout() if timeout is None else timeout
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One instance per path in this process (is_singleton), so a nested take in the same
        # thread counts up instead of waiting for itself; per-thread holds (thread_local, the
        # default) make another thread wait like another process.
        lock = FileLock(path, is_singleton=True)
        try:
            lock.acquire(blocking=False)
        except Timeout:
            progress(f"waiting for another daybook run on this site (lock {_shown(root, path)})…")
            try:
                lock.acquire(timeout=wait)
            except Timeout:
                raise SiteBusy(
                    f"{path}: another daybook run still holds this site after {wait:g}s of "
                    f"waiting; let it finish and try again (or set {ENV_TIMEOUT} to wait longer)"
                ) from None
    except OSError as exc:
        raise DaybookError(f"{path}: cannot lock the site ({exc.strerror or exc})") from None
    try:
        if lock.lock_counter == 1:  # the first take of this run: clear what a killed one left
            for stale in remove_stale_temporaries(path.parent):
                progress(f"removed {stale.name}, left by a daybook run that was stopped")
        yield
    finally:
        lock.release()


def _shown(root: Path, path: Path) -> str:
    with contextlib.suppress(ValueError):
        return path.relative_to(root.resolve()).as_posix()
    return str(path)
