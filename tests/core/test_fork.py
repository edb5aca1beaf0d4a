"""Work in a forked second process (daybook.core.fork): its result comes back, its log records
are handled by the first process's loggers, its exception is raised in the first process as it
was raised, and a second process that dies is a one-line error.

Each case runs in a fresh interpreter: a fork needs a process with no other threads, which a
pytest-xdist worker is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from daybook.core.errors import DaybookError
from daybook.core.fork import ENV_PROCESSES, processes_wanted, why_not

SCRIPT = textwrap.dedent(
    """
    import logging, os, sys, threading
    from daybook.core.errors import DaybookError
    from daybook.core.fork import SecondProcessFailed, fork

    logging.basicConfig(format="%(name)s %(levelname)s %(message)s", stream=sys.stdout)

    def logs_and_fails():
        logging.getLogger("daybook.test").warning("about %s in the child", "a page")
        raise DaybookError("templates/run.md.j2:3: a page the second process could not render")

    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a}/{b}")

    def odd():
        raise Odd(1, 2)

    cases = [
        lambda: {"pid": os.getpid(), "text": "é" * 3},
        logs_and_fails,
        odd,
        lambda: os._exit(3),
    ]
    for work in cases:
        try:
            got = fork(work).result()
            print("ok", got["pid"] != os.getpid(), got["text"])
        except (DaybookError, SecondProcessFailed) as exc:
            print(type(exc).__name__, exc)
    threading.Thread(target=lambda: None).start()  # a thread that is still there at the fork
    t = threading.Thread(target=threading.Event().wait, args=(5,), daemon=True)
    t.start()
    print("with a thread", fork(lambda: 1))
    """
)


def _lines_of(script: str) -> list[str]:
    """What `script` prints, run in a fresh interpreter with the process count left unset."""
    env = {k: v for k, v in os.environ.items() if k != ENV_PROCESSES}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_second_process_brings_back_its_result_records_and_exception() -> None:
    assert _lines_of(SCRIPT) == [
        "ok True ééé",  # computed in another process, and back
        "daybook.test WARNING about a page in the child",  # logged here, by this process
        "DaybookError templates/run.md.j2:3: a page the second process could not render",
        "SecondProcessFailed Odd: 1/2",  # an exception that cannot be rebuilt: its text
        "SecondProcessFailed the second process ended without its result (exit status 3)",
        "with a thread None",  # never forks beside another thread
    ]


def test_the_process_count_is_one_two_or_left_to_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_PROCESSES, raising=False)
    assert processes_wanted() is None
    monkeypatch.setenv(ENV_PROCESSES, "1")
    assert processes_wanted() == 1
    assert why_not(1) == f"{ENV_PROCESSES}=1"
    monkeypatch.setenv(ENV_PROCESSES, "2")
    assert processes_wanted() == 2
    assert why_not(2) == ""
    monkeypatch.setenv(ENV_PROCESSES, "3")
    with pytest.raises(DaybookError, match=f"^{ENV_PROCESSES}='3': give 1 or 2$"):
        processes_wanted()


HALVES = textwrap.dedent(
    """
    import os, signal, sys, time
    from daybook.core.fork import halves, why_not

    def mine():
        return os.getpid(), why_not(2)

    (pid, why), theirs = halves(mine, lambda: (os.getpid(), why_not(2)))
    print("mine", pid == os.getpid(), why)
    print("theirs", theirs[0] != os.getpid(), theirs[1])
    print("after", repr(why_not(2)))

    r, w = os.pipe()

    def theirs_sleeps():
        os.write(w, str(os.getpid()).encode())
        time.sleep(60)

    child = 0

    def mine_fails():
        global child
        child = int(os.read(r, 32))  # the second process is at work
        raise ValueError("the first half failed")

    try:
        halves(mine_fails, theirs_sleeps)
    except ValueError as exc:
        try:
            os.kill(child, 0)
            print("failed; the second process still runs")
        except ProcessLookupError:
            print("failed:", exc, "; the second process was stopped")
    """
)


def test_halves_share_work_and_a_failure_in_this_half_stops_the_other() -> None:
    assert _lines_of(HALVES) == [
        "mine True a second process is at work beside this one",  # no third from this half
        "theirs True this is the second process",  # nor from the other
        "after ''",  # and forks again once both are done
        "failed: the first half failed ; the second process was stopped",
    ]
