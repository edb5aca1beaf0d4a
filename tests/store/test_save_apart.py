"""A build's pull saves a big snapshot in a second process while the first goes on rendering:
the file is the one an inline save writes, it is whole before the command ends, and a save
that fails still fails the command with its one line. Run in a fresh interpreter (a fork needs
a process with no other threads, which a pytest-xdist worker is not), with the threshold at 0
so the fixture store counts as big."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from conftest import make_site
from daybook.store.snapshot_file import dumps, load, snapshot_path
from helpers import same_file, snapshot_data
from store_builder import StoreInfo

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import daybook.store.pull as pull
    from daybook.commands.generate import generate, load_site
    from daybook.core.errors import DaybookError

    pull.SAVE_APART_FROM = int(sys.argv[3])
    site = load_site(Path(sys.argv[1]), sys.argv[2])
    try:
        generate(site, print)
    except DaybookError as exc:
        print("Error:", exc)
    """
)


def _generate(root: Path, uri: str, threshold: int = 0) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root), uri, str(threshold)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_snapshot_saved_apart_is_the_one_saved_inline(tmp_path: Path, store: StoreInfo) -> None:
    apart, inline = make_site(tmp_path / "apart"), make_site(tmp_path / "inline")
    lines = _generate(apart, store.uri)
    saved = [line for line in lines if line.startswith("saved the snapshot")]
    assert len(saved) == 1 and saved[0].endswith("by a second process)"), lines
    assert not any(line.startswith("Error:") for line in lines)
    lines = _generate(inline, store.uri, threshold=10**9)  # too small to save apart
    saved = [line for line in lines if line.startswith("saved the snapshot")]
    assert len(saved) == 1 and "second process" not in saved[0], lines
    a, b = load(snapshot_path(apart)), load(snapshot_path(inline))
    assert snapshot_data(a.snapshot) == snapshot_data(b.snapshot)  # NaN made comparable
    assert a.detail_runs == b.detail_runs
    # the same bytes as an inline save of the same data (each pull has its own start time)
    assert same_file(dumps(replace(a, pulled_at=0)), dumps(replace(b, pulled_at=0)))


def test_a_save_that_fails_apart_fails_the_command(tmp_path: Path, store: StoreInfo) -> None:
    root = make_site(tmp_path / "site")
    snapshot_path(root).mkdir(parents=True)  # a folder where the file goes: the rename fails
    lines = _generate(root, store.uri)
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and "cannot write the snapshot" in errors[0], lines
    assert str(snapshot_path(root)) in errors[0]
