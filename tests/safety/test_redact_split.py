"""A big batch of unseen strings is checked by two processes (every second string by a forked
one): the runs come out masked exactly as one process masks them, secrets, secret keys and
local paths alike. Run in a fresh interpreter (a fork needs a process with no other threads,
which a pytest-xdist worker is not), with the threshold at 0 so a small batch is big."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import daybook.safety.redact as redact
    from daybook.core.snapshot import DatasetInput, Run
    from daybook.safety.paths import LocalPaths
    from daybook.safety.redact import MASK, Redactor

    root = Path(sys.argv[1])
    GITHUB = "ghp_" + "K3y" * 12
    forks = []
    real_halves = redact.halves
    redact.halves = lambda *a, **k: forks.append(1) or real_halves(*a, **k)

    def run(i, **fields):
        base = dict(run_id=f"{i:032x}", experiment_id="1", name=f"run-{i}", status="FINISHED",
                    start_time=1, end_time=2, user="ada",
                    artifact_uri=(root / "store" / "art" / str(i)).as_uri(),
                    params={"lr": f"0.{i}"}, metrics={"loss": 0.5},
                    tags={"mlflow.user": "ada"})
        base.update(fields)
        return Run(**base)

    runs = [run(i) for i in range(60)]
    runs[3] = run(3, name=f"run {GITHUB}")
    runs[4] = run(4, name=f"run {GITHUB} in {root}/store/x")
    runs[5] = run(5, params={"lr": "0.1", "password": "hunter2"})
    runs[7] = run(7, tags={"note": f"token {GITHUB}"})
    runs[9] = run(9, metrics={f"m_{GITHUB}": 1.0})
    runs[11] = run(11, datasets=(DatasetInput("d", "x", "s3", f"https://u:{GITHUB}@h/x", "t"),))

    def publisher():
        return Redactor(paths=LocalPaths.of(root / "site", root / "store"))

    redact.SPLIT_FROM = 10**9
    alone = publisher().runs(runs)
    assert not forks
    redact.SPLIT_FROM = 0
    split = publisher().runs(runs)
    assert forks, "no second process"
    assert split == alone, "split and one-process masking differ"
    assert split == [publisher().value(r) for r in runs]
    assert all(GITHUB not in repr(r) and "hunter2" not in repr(r) for r in split)
    assert split[4].name == f"run {MASK} in x" and split[5].params["password"] == MASK
    assert [r.artifact_uri for r in split[:2]] == ["art/0", "art/1"]
    # what the second process found clean is remembered here: no second look, no fork
    checker = Redactor()
    values = [r.name for r in runs] + [v for r in runs for v in r.params.values()]
    first = checker.changed(values)
    count = len(forks)
    redact.SPLIT_FROM = 3  # only the two that change are unseen now: too few to fork
    assert checker.changed(values) == first and len(forks) == count
    assert first == {runs[3].name, runs[4].name}
    print("ok")
    """
)


def test_masking_split_between_two_processes_is_masking_in_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stdout + done.stderr
