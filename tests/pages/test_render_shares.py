"""The pages two processes render are dealt by cost (pages/render.py, `_Share.halves`): every
experiment, run and compare page goes to exactly one process, and a big experiment's page is
evened out by run pages the other process renders instead."""

from __future__ import annotations

import pytest

from daybook.core.config import DaybookConfig
from daybook.core.fork import ENV_PROCESSES
from daybook.core.snapshot import Experiment, Run, Snapshot
from daybook.pages.context import ExperimentView, SiteModel
from daybook.pages.paths import SitePaths
from daybook.pages.render import RUNS_PER_RUN_PAGE, _Share


def _run(i: int, exp: str) -> Run:
    return Run(f"{i:032x}", exp, f"run-{i}", "FINISHED", 1000 + i, 2000 + i, "ada", "", {},
               {"loss": 1 / (i + 1)}, {})  # fmt: skip


def _views(sizes: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> list[ExperimentView]:
    """The experiment views of a store whose experiment "e" holds `sizes["e"]` runs."""
    monkeypatch.setenv(ENV_PROCESSES, "1")
    exps = tuple(Experiment(e, f"exp-{e}", "", 0, 0) for e in sizes)
    runs: list[Run] = []
    for e, n in sizes.items():
        runs += [_run(len(runs) + k, e) for k in range(n)]
    snap = Snapshot("sqlite:///x.db", exps, tuple(runs), ())
    return list(SiteModel.build(DaybookConfig(), snap, SitePaths.build(snap, [])).experiments)


def _pages(n: int) -> list[tuple[str, str]]:
    return [(f"{i:032x}", f"runs/{i}.md") for i in range(n)]


def _cost(share: _Share) -> float:
    return sum(len(e.runs) for e in share.experiments) / RUNS_PER_RUN_PAGE + len(share.runs)


def test_every_page_goes_to_exactly_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    views = _views({"1": 30, "2": 3, "3": 12, "4": 7}, monkeypatch)
    share = _Share(views, _pages(41), list(range(9)))
    mine, theirs = share.halves()
    assert sorted(map(id, mine.experiments + theirs.experiments)) == sorted(map(id, views))
    assert sorted(mine.runs + theirs.runs) == share.runs
    assert sorted(mine.sweeps + theirs.sweeps) == share.sweeps
    assert (mine.viewer, theirs.viewer) == ((0, 2), (1, 2))


def test_small_experiments_leave_every_second_run_page_to_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    views = _views({"1": 4, "2": 3}, monkeypatch)
    share = _Share(views, _pages(10), [])
    mine, theirs = share.halves()
    assert (mine.runs, theirs.runs) == (share.runs[0::2], share.runs[1::2])


def test_one_big_experiment_is_evened_out_by_run_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    big = 60 * RUNS_PER_RUN_PAGE  # its page costs as much as 60 run pages
    views = _views({"1": big, "2": 5}, monkeypatch)
    share = _Share(views, _pages(200), [])
    mine, theirs = share.halves()
    assert [len(e.runs) for e in mine.experiments] == [big]
    assert [len(e.runs) for e in theirs.experiments] == [5]
    assert len(theirs.runs) - len(mine.runs) == 58  # 29 moved: each moved evens out two
    assert abs(_cost(mine) - _cost(theirs)) <= 2
    # Dealt every second one, the first process would have had 160 pages' worth to 100.
    old = _Share(views[:1], share.runs[0::2], []), _Share(views[1:], share.runs[1::2], [])
    assert [round(_cost(s)) for s in old] == [160, 100]
