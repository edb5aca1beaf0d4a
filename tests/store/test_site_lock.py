"""One Daybook run at a time per site: the second one waits, says so once, and gives up after the
timeout with one line; the same run may take the lock again; what a killed run left is removed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from daybook.core.errors import DaybookError
from daybook.store.atomic import remove_stale_temporaries, write_atomic
from daybook.store.lock import ENV_TIMEOUT, SiteBusy, lock_path, lock_timeout, site_lock
from daybook.store.state import record_build
from helpers import error_lines, run_cli


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped): what a killed run leaves behind."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_lock_lives_in_the_sites_gitignored_daybook_folder(tmp_path: Path) -> None:
    with site_lock(tmp_path):
        assert lock_path(tmp_path).is_file()
    assert lock_path(tmp_path) == tmp_path / ".daybook" / "lock"
    scaffold_ignore = Path(__file__).parents[2] / "generator/daybook/mkdocs/scaffold/gitignore"
    assert ".daybook/" in scaffold_ignore.read_text().splitlines()


def test_the_same_thread_takes_the_lock_again_without_waiting(tmp_path: Path) -> None:
    # `daybook build` holds it while MkDocs runs the gen-files script, which takes it too.
    said: list[str] = []
    with site_lock(tmp_path, said.append), site_lock(tmp_path, said.append, timeout=0):
        pass
    assert said == []
    with site_lock(tmp_path, timeout=0):  # and both levels were let go
        pass


def test_another_thread_waits_like_another_process(tmp_path: Path) -> None:
    # `mkdocs serve` regenerates in a thread of its own.
    said: list[str] = []
    failure: list[BaseException] = []

    def other() -> None:
        try:
            with site_lock(tmp_path, said.append, timeout=0.2):
                pass
        except SiteBusy as exc:
            failure.append(exc)

    with site_lock(tmp_path):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert said == ["waiting for another daybook run on this site (lock .daybook/lock)…"]
    assert len(failure) == 1


def test_a_waiting_run_goes_on_once_the_holder_lets_go(tmp_path: Path) -> None:
    said: list[str] = []
    holding = threading.Event()

    def holder() -> None:
        with site_lock(tmp_path):
            holding.set()
            time.sleep(0.5)

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait()
    started = time.monotonic()
    with site_lock(tmp_path, said.append, timeout=10):
        waited = time.monotonic() - started
    thread.join()
    assert len(said) == 1 and said[0].startswith("waiting for another daybook run")
    assert 0.2 < waited < 5


def test_a_held_site_makes_a_second_command_wait_then_fail_in_one_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("init", site).returncode == 0
    with site_lock(site):  # another run (this test) holds the site
        started = time.monotonic()
        result = run_cli("pull", "-C", site, env={ENV_TIMEOUT: "1"})
        took = time.monotonic() - started
    assert result.returncode == 1
    lines = error_lines(result)
    assert lines[0].endswith("] waiting for another daybook run on this site (lock .daybook/lock)…")
    assert lines[-1].startswith(f"Error: {(site / '.daybook' / 'lock').resolve()}: another daybook")
    assert "still holds this site after 1s of waiting" in lines[-1]
    assert ENV_TIMEOUT in lines[-1]
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert 1 <= took < 30


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_one_line(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_TIMEOUT, value)
    with pytest.raises(DaybookError, match=f"{ENV_TIMEOUT}=.*not a number of seconds"):
        lock_timeout()


def test_the_timeout_defaults_to_ten_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TIMEOUT, raising=False)
    assert lock_timeout() == 600
    monkeypatch.setenv(ENV_TIMEOUT, "0")
    assert lock_timeout() == 0


def test_a_stale_temporary_file_of_a_killed_run_is_removed_by_the_next_run(
    tmp_path: Path,
) -> None:
    folder = tmp_path / ".daybook"
    folder.mkdir()
    stale = folder / f".snapshot.json.gz.{_dead_pid()}.tmp"
    stale.write_bytes(b"half a snapshot")
    live = folder / f".state.json.{os.getppid()}.tmp"  # a running process: not ours to remove
    live.write_text("{")
    said: list[str] = []
    with site_lock(tmp_path, said.append):
        pass
    assert not stale.exists()
    assert live.exists()
    assert said == [f"removed {stale.name}, left by a daybook run that was stopped"]


def test_whole_file_writes_leave_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / ".daybook" / "state.json"
    record_build(tmp_path, 1_764_000_000_000, "sqlite:///x.db")
    write_atomic(tmp_path / ".daybook" / "other", b"x")
    assert sorted(p.name for p in target.parent.iterdir()) == ["other", "state.json"]
    assert remove_stale_temporaries(target.parent) == []


def test_a_failed_whole_file_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
