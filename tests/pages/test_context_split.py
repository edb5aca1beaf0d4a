"""A big store's experiment views (pages/context.py) are made half by a forked second process:
they are the views one process makes, and their runs are this process's own objects, not
copies. Run in a fresh interpreter (a fork needs a process with no other threads, which a
pytest-xdist worker is not); `DAYBOOK_PROCESSES=2` splits even this small store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from daybook.core.fork import ENV_PROCESSES

SCRIPT = textwrap.dedent(
    """
    import os
    import daybook.pages.context as context
    from daybook.core.config import DaybookConfig
    from daybook.core.snapshot import Experiment, Run, Snapshot
    from daybook.pages.paths import SitePaths

    forks = []
    real_halves = context.halves
    context.halves = lambda *a, **k: forks.append(1) or real_halves(*a, **k)

    def run(i, exp, parent=None):
        tags = {"mlflow.parentRunId": f"{parent:032x}"} if parent is not None else {}
        return Run(f"{i:032x}", exp, f"run-{i}", "FINISHED", 1000 + i, 2000 + i, "ada", "",
                   {"lr": str(i % 3), "depth": "4"}, {"loss": 1 / (i + 1)},
                   tags)

    exps = tuple(Experiment(str(e), f"exp-{e}", "", 0, 0) for e in range(1, 5))
    runs = tuple(run(i, str(1 + i % 4), parent=i - 4 if i % 5 == 0 and i > 4 else None)
                 for i in range(60))
    snap = Snapshot("sqlite:///x.db", exps, runs, ())
    config = DaybookConfig()
    paths = SitePaths.build(snap, [])
    os.environ["DAYBOOK_PROCESSES"] = "1"
    one = context.SiteModel.build(config, snap, paths)
    assert not forks
    os.environ["DAYBOOK_PROCESSES"] = "2"
    two = context.SiteModel.build(config, snap, paths)
    assert forks == [1], forks
    assert two.experiments == one.experiments
    by_id = {id(r) for r in runs}
    assert all(id(r) in by_id for v in two.experiments for r in v.runs)
    assert all(id(row.run) in by_id for v in two.experiments for row in v.rows)
    assert all(any(v.experiment is e for e in exps) for v in two.experiments)
    print("ok")
    """
)


def test_experiment_views_made_by_two_processes_are_those_one_makes() -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV_PROCESSES}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stdout + done.stderr
