"""Ending a command's process without tearing its heap down object by object.

A big build ends holding millions of small objects (the snapshot, the site model, the pages):
freeing them one by one as the interpreter shuts down takes seconds (~1 s after a 100,000-run
pull, more after a build) and gives the user nothing, since the system takes the memory back
at once when the process ends. So a command run as the `daybook` process ends with `leave`:
the exit handlers still run (logging's flush, temporary folders' cleanup, a coverage tool's
save), the standard streams are flushed, then the process ends with its exit code.

Only where that is safe: called by the process's own entry point (never inside a test's
in-process CLI runner, which would end the test run), and not while another thread runs
(`os._exit` would stop it mid-work, where a normal exit waits for it).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading


def leave(code: int = 0) -> None:
    """End the process now with `code`, after the exit handlers; returns (and the process ends
    the usual way) when another thread is running."""
    if threading.active_count() > 1:
        return
    atexit._run_exitfuncs()  # what a normal exit runs: logging.shutdown, weakref.finalize, …
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed: nothing more can reach it
            stream.flush()
    os._exit(code)
