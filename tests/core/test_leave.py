"""A command run as the `daybook` process ends without freeing its heap object by object, but
as a normal exit would otherwise: exit handlers run, buffered output is written, the exit code
is kept. Each case runs in a fresh interpreter (`leave` ends the process that calls it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from conftest import make_site
from daybook.cli import main
from store_builder import StoreInfo


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip


def test_leave_runs_the_exit_handlers_writes_buffered_output_and_keeps_the_code(
    tmp_path: Path,
) -> None:
    done = _python(
        """
        import atexit, logging, sys, tempfile, pathlib
        from daybook.core.leave import leave
        folder = tempfile.TemporaryDirectory(dir=".")  # removed by its finalizer at exit
        pathlib.Path("folder.txt").write_text(folder.name)
        atexit.register(lambda: pathlib.Path("handler.txt").write_text("ran"))
        logging.basicConfig(stream=open("log.txt", "w"), level=logging.INFO)
        logging.getLogger("x").info("logged")
        sys.stdout.write("no newline, still buffered")
        big = [[i] for i in range(100_000)]  # never freed one by one
        leave(3)
        print("not reached")
        """,
        tmp_path,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "no newline, still buffered"
    assert (tmp_path / "handler.txt").read_text() == "ran"
    assert "logged" in (tmp_path / "log.txt").read_text()
    assert not (tmp_path / (tmp_path / "folder.txt").read_text()).exists()


def test_leave_returns_while_another_thread_runs(tmp_path: Path) -> None:
    done = _python(
        """
        import threading, time, pathlib
        from daybook.core.leave import leave
        def work():
            time.sleep(0.5)
            pathlib.Path("thread.txt").write_text("finished")
        threading.Thread(target=work).start()
        leave(3)
        print("returned")
        """,
        tmp_path,
    )
    assert done.returncode == 0 and done.stdout == "returned\n", done.stderr
    assert (tmp_path / "thread.txt").read_text() == "finished"  # the normal exit waited for it


def test_a_command_run_in_process_returns_to_its_caller(tmp_path: Path, store: StoreInfo) -> None:
    """A test's runner passes the arguments: a pull that succeeds still returns here."""
    root = make_site(tmp_path / "site")
    result = CliRunner().invoke(main, ["pull", "-q", "-C", str(root), "--tracking-uri", store.uri])
    assert result.exit_code == 0, result.output
    assert (root / ".daybook" / "snapshot.json.gz").is_file()
