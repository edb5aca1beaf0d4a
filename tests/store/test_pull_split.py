"""A big store's full pull is read in two shares, the runs whose ids sort from `SPLIT_ID` by a
forked second process on its own connection: the snapshot is the one a pull in one process saves.
`daybook pull --full` in fresh processes (a fork needs a process with no other threads, which
a pytest-xdist worker is not); `DAYBOOK_PROCESSES=2` splits even the fixture store."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from conftest import make_site
from daybook.core.fork import ENV_PROCESSES
from daybook.store.pull import SPLIT_ID
from daybook.store.snapshot_file import dumps, load, snapshot_path
from helpers import run_cli, snapshot_data
from store_builder import StoreInfo

SPLIT = re.compile(r"read \d+ experiments, (\d+) runs \((\d+) of them read by a second process\)")


def _pull(root: Path, uri: str, processes: str) -> str:
    result = run_cli("pull", "--full", "-C", root, "--tracking-uri", uri,
                     env={ENV_PROCESSES: processes})  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_pull_read_in_two_halves_saves_the_snapshot_one_process_saves(
    tmp_path: Path, store: StoreInfo
) -> None:
    one, two = make_site(tmp_path / "one"), make_site(tmp_path / "two")
    assert "second process" not in _pull(one, store.uri, "1")
    found = SPLIT.search(_pull(two, store.uri, "2"))
    assert found, "the pull was not split"
    total, apart = int(found[1]), int(found[2])
    assert 0 < apart < total  # both processes had runs to read
    a, b = load(snapshot_path(one)), load(snapshot_path(two))
    assert snapshot_data(a.snapshot) == snapshot_data(b.snapshot)  # NaN made comparable
    assert dumps(replace(a, pulled_at=0)) == dumps(replace(b, pulled_at=0))
    # The parts of runs as saved: those of the second process's range are the members it made.
    assert a.runs is not None and b.runs is not None
    assert a.runs.saved.parts == b.runs.saved.parts
    assert sum(r.run_id >= SPLIT_ID for r in b.snapshot.runs) == apart
