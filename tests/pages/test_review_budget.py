"""The morning review's run tables on the home page share one budget of rows: on a busy day
(many experiments with new runs) every experiment still shows its newest runs and its summary
line, and the page stays within its weight, where listing each experiment's first
`review.items` runs made the 100k benchmark's home page 91 KB of HTML."""

from __future__ import annotations

import re

from daybook.analysis.policy import page_run_ids
from daybook.core.config import DaybookConfig
from daybook.core.site import ReferencePoint
from daybook.core.snapshot import Experiment, Run, Snapshot
from daybook.pages.render import Renderer
from daybook.pages.review_pages import HOME_RUN_ROWS, run_rows

DAY = 86_400_000
NOW = 1_760_000_000_000


def test_rows_are_shared_in_turn_within_each_experiments_cap_and_the_total() -> None:
    assert run_rows([3, 50, 1], each=15, total=40) == [3, 15, 1]  # all fit: each capped at 15
    assert run_rows([30, 30, 30, 30], each=15, total=40) == [10, 10, 10, 10]
    assert run_rows([1, 30, 30], each=15, total=20) == [1, 10, 9]  # in turn, in order
    assert run_rows([5] * 50, each=15, total=40) == [1] * 40 + [0] * 10
    assert run_rows([], each=15, total=40) == []


def _busy_day(experiments: int, runs_each: int) -> Snapshot:
    exps = tuple(Experiment(str(i), f"exp-{i:02d}", "", 0, 0) for i in range(1, experiments + 1))
    runs = []
    for e in exps:
        for j in range(runs_each):
            start = NOW - DAY // 2 + j * 60_000
            runs.append(
                Run(f"{int(e.experiment_id):08x}{j:024x}", e.experiment_id, f"run-{j}",
                    "FINISHED", start, start + 30_000, "ada", "", {"lr": "0.1"},
                    {"val_loss": 1 / (j + 1)})
            )  # fmt: skip
    return Snapshot("sqlite:///x.db", exps, tuple(runs), ())


def _home(snapshot: Snapshot, config: DaybookConfig) -> str:
    page_runs = page_run_ids(config, snapshot.experiments, snapshot.runs, snapshot.models)
    reference = ReferencePoint(NOW - DAY, "default", now_ms=NOW)
    return Renderer(config, snapshot, page_runs, None, reference=reference).render_all()["index.md"]


def _runs_section(home: str) -> str:
    return home.split("### Runs", 1)[1].split("\n### ", 1)[0]


def test_a_busy_day_lists_at_most_the_budget_and_names_every_experiment() -> None:
    config = DaybookConfig()
    runs = _runs_section(_home(_busy_day(experiments=25, runs_each=6), config))
    rows = [line for line in runs.splitlines() if re.match(r"\| .*run-\d+", line)]
    assert len(rows) == HOME_RUN_ROWS == 20  # 150 new runs over 25 experiments
    assert all("[run-5]" in row for row in rows)  # each experiment's newest run first
    assert runs.count(": 6 started, 6 finished.") == 25  # every experiment's summary line
    assert runs.count("…and 5 more in") == 20  # the first 20: a row and a link to the rest
    assert ": 6 started, 6 finished.\n\n**[exp-22]" in runs  # the last 5: the line alone


def test_a_quiet_day_lists_each_experiments_runs_up_to_review_items() -> None:
    config = DaybookConfig.model_validate({"review": {"items": 4}})
    runs = _runs_section(_home(_busy_day(experiments=2, runs_each=6), config))
    rows = [line for line in runs.splitlines() if re.match(r"\| .*run-\d+", line)]
    assert len(rows) == 8
    assert runs.count("…and 2 more in") == 2
