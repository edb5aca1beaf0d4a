"""Work done in a forked second process, its result brought back: how `daybook build` uses the
second core of a machine for the work that is per page (rendering pages in
daybook.pages.render, MkDocs's page loops in daybook.mkdocs.parallel).

A fork, not a process pool: the second process starts with everything this one holds (the
snapshot, the site model, MkDocs's pages and navigation) without pickling any of it, and only
its results (page texts) travel back. It never returns into its caller: it sends its result,
or its exception, with the log records it made, through a pipe, and ends with `os._exit`, so
nothing after the fork (a plugin's later events, Daybook's own code, atexit handlers) runs
twice. Its log records are handled by this process's loggers, so its messages show, and count
(`mkdocs build --strict`), as if this process had logged them.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from daybook.core.errors import DaybookError

ENV_PROCESSES = "DAYBOOK_PROCESSES"  # "1": one process; "2": two whenever it is possible


_A = TypeVar("_A")
_B = TypeVar("_B")


class SecondProcessFailed(DaybookError):
    """The second process ended without a result, or with an exception that could not travel."""


def processes_wanted() -> int | None:
    """`DAYBOOK_PROCESSES` as a number (None: unset, decided by the work and the machine)."""
    raw = os.environ.get(ENV_PROCESSES, "").strip()
    if not raw:
        return None
    if raw not in ("1", "2"):
        raise DaybookError(f"{ENV_PROCESSES}={raw!r}: give 1 or 2")
    return int(raw)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


_IN_SECOND = False  # set in a forked second process: it forks no third (two cores, two processes)
_BESIDE = 0  # > 0 while this process works beside a second one (`beside`): no third either


@contextlib.contextmanager
def beside() -> Iterator[None]:
    """This process's share of work a second process shares: nothing in it forks a third."""
    global _BESIDE
    _BESIDE += 1
    try:
        yield
    finally:
        _BESIDE -= 1


def why_not(wanted: int | None) -> str:
    """Why work must or should stay in this process ("" when a second one may be forked)."""
    if _IN_SECOND:
        return "this is the second process"
    if _BESIDE:
        return "a second process is at work beside this one"
    if wanted == 1:
        return f"{ENV_PROCESSES}=1"
    if not hasattr(os, "fork"):
        return "this system cannot fork"
    if wanted is None and sys.platform == "darwin":  # system libraries may not survive a fork
        return f"macOS, where a fork without exec is unsafe ({ENV_PROCESSES}=2 forks anyway)"
    if wanted is None and cores() < 2:
        return "one core"
    return ""


@dataclass
class Child:
    """A forked second process at work."""

    pid: int
    fd: int
    shared: Sequence[object] = ()  # objects both processes hold: they travel as their index

    def result(self) -> Any:
        """What the work returned, once the child has exited; its exception raised here."""
        with os.fdopen(self.fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        try:
            kind, payload, records = _Reader(io.BytesIO(data), self.shared).load()
        except Exception:
            code = os.waitstatus_to_exitcode(status)
            raise SecondProcessFailed(
                f"the second process ended without its result (exit status {code})"
            ) from None
        for record in records:
            logging.getLogger(record.name).handle(record)
        if kind == "error":
            raise payload
        if kind == "failed":
            raise SecondProcessFailed(payload)
        return payload

    def stop(self) -> None:
        """Ends a child whose result is no longer wanted (the work failed in this process)."""
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.pid = 0


def _portable(record: logging.LogRecord) -> logging.LogRecord:
    """A record that pickles: its message formatted, its traceback as text."""
    try:
        record.msg = record.getMessage()
    except Exception:  # arguments that do not fit the message: as logging would show them
        record.msg = f"{record.msg} {record.args!r}"
    record.args = None
    if record.exc_info:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    return record


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _message(records: list[logging.LogRecord], exc: BaseException) -> bytes:
    """The child's exception as it travels: itself when it pickles, else its text."""
    try:
        data = pickle.dumps(("error", exc, records), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)  # an exception class whose arguments do not rebuild it
        return data
    except Exception:
        failed = ("failed", f"{type(exc).__name__}: {exc}", records)
        return pickle.dumps(failed, protocol=pickle.HIGHEST_PROTOCOL)


class _Writer(pickle.Pickler):
    """Pickles any object of `shared` as its index (see `fork`). A subclass, as the pickle
    documentation has it: Python 3.13 no longer lets `persistent_id` be set on an instance."""

    def __init__(self, file: io.BytesIO, shared: Sequence[object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._index = {id(obj): i for i, obj in enumerate(shared)}

    def persistent_id(self, obj: Any) -> int | None:
        return self._index.get(id(obj))


class _Reader(pickle.Unpickler):
    """Unpickles an index of `shared` as that object (the other end of `_Writer`)."""

    def __init__(self, file: io.BytesIO, shared: Sequence[object]) -> None:
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid: Any) -> object:
        return self._shared[pid]


def _dumps(value: Any, shared: Sequence[object]) -> bytes:
    """`value` pickled, any object of `shared` in it as its index (see `fork`)."""
    if not shared:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    out = io.BytesIO()
    _Writer(out, shared).dump(value)
    return out.getvalue()


def fork(work: Callable[[], Any], shared: Sequence[object] = ()) -> Child | None:
    """Starts `work` in a forked child and returns at once (None: this process has other
    threads, which a fork would not copy, with any lock they hold).

    `shared`: objects both processes hold (the snapshot's runs) that the result refers to: each
    travels as its index and comes back as the first process's own object, not a copy."""
    if threading.active_count() > 1:
        return None
    _flush()  # or the child would write this process's buffered output again
    read, write = os.pipe()
    gc.freeze()  # the child's collections then leave the objects made so far (and their memory
    pid = os.fork()  # pages, shared until written) alone
    if pid:
        gc.unfreeze()
        os.close(write)
        return Child(pid, read, shared)
    code = 1
    try:
        global _IN_SECOND
        _IN_SECOND = True
        os.close(read)
        records: list[logging.LogRecord] = []
        logging.Logger.callHandlers = (  # type: ignore[method-assign]
            lambda self, record: records.append(_portable(record))
        )
        try:
            data = _dumps(("ok", work(), records), shared)
            code = 0
        except BaseException as exc:  # every failure, even SystemExit, goes to the parent
            data = _message(records, exc)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
    finally:
        _flush()
        os._exit(code)


def halves(
    mine: Callable[[], _A], theirs: Callable[[], _B], shared: Sequence[object] = ()
) -> tuple[_A, _B] | None:
    """`theirs` done by a forked second process while this one does `mine` (beside it, so
    nothing in `mine` forks a third); both results. None when no second process could be
    forked (other threads are running): then neither was done, and the caller does the whole.

    The one way work is shared: a failure in `mine` ends the second process before it is
    raised, and the second's failure is raised here, after `mine` is done."""
    child = fork(theirs, shared=shared)
    if child is None:
        return None
    try:
        with beside():
            own = mine()
    except BaseException:
        child.stop()
        raise
    return own, child.result()
