"""Dense data pages in a real Chromium at 1400×1000: a 10-run leaderboard is one line a row with
no side scrolling, shows only the params that tell its runs apart (never a constant or masked
one), and the paged runs table's column picker remembers its choice per experiment.

The store is real (MLflow's client), the site a real `daybook build --strict`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from browser import Browser, StaticServer, serve
from daybook.safety.redact import MASK
from helpers import run_cli

T0 = 1_764_000_000_000
LONG = "resnet50-finetune-with-a-very-long-descriptive-run-name-that-would-wrap-{i:02d}"
SITE_CONFIG = """
primary_metrics:
  - experiment: "*"
    metric: val_acc
    direction: maximize
leaderboard_size: 10
run_table:
  paged_above: 8
  page_size: 6
"""


def _build_store(root: Path) -> str:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    eid = client.create_experiment("dense", artifact_location=(root / "a").as_uri())
    for i in range(12):
        start = T0 + i * 60_000
        run = client.create_run(eid, start_time=start, run_name=LONG.format(i=i))
        params = {
            "learning_rate": str(0.001 * (i + 1)),
            "batch_size": str(32 * (1 + i % 3)),
            "optimizer": "adam",  # the same in every run: no column
            "api_token": f"tok-{i}",  # masked by its key: no column, though it varies
            "data_path": "/data/train.parquet",
        }
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric("val_acc", 0.99 - i * 0.0007, start, 0),
                Metric("loss", 0.1 + i, start, 0),
            ],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(run.info.run_id, "FINISHED", end_time=start + 30_000)
    return uri


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    with serve(tmp_path_factory.mktemp("dense-site") / "site" / "site") as s:
        yield s


@pytest.fixture(scope="module")
def experiment_url(server: StaticServer, workdir: Path) -> str:
    root = server.root.parent
    with contextlib.chdir(root.parent):
        uri = _build_store(root.parent)
    assert run_cli("init", root).returncode == 0
    with (root / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write(SITE_CONFIG)
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"\nsite_url: {server.url}\n")
    result = run_cli("build", "--strict", "-q", "-C", root, "--tracking-uri", uri)
    assert result.returncode == 0, result.stderr
    assert (root / "site/experiments/dense/index.html").is_file()
    return server.url + "experiments/dense/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    b.driver.execute_cdp_cmd(  # the viewport itself 1400×1000, whatever the window's frame
        "Emulation.setDeviceMetricsOverride",
        {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        yield b
    finally:
        b.close()


LEADERBOARD = """
const box = document.querySelector('.daybook-leaderboard');
const wrap = box.querySelector('.md-typeset__scrollwrap') || box;
const table = box.querySelector('table');
const cells = [...table.tBodies[0].rows].map(tr => [...tr.cells].map(td => td.textContent.trim()));
return {
  heads: [...table.tHead.rows[0].cells].map(th => th.textContent.trim()),
  heights: [...table.tBodies[0].rows].map(tr => tr.getBoundingClientRect().height),
  scroll: [wrap.scrollWidth, wrap.clientWidth],
  cells: cells,
  names: [...table.querySelectorAll('td:nth-child(2) .daybook-name')].map(n => n.title),
  nameFits: [...table.querySelectorAll('td:nth-child(2) .daybook-name')].every(
    n => n.scrollWidth > n.clientWidth),
  numeric: getComputedStyle(table.tBodies[0].rows[0].cells[2]).fontVariantNumeric,
};
"""


def test_a_ten_run_leaderboard_is_one_line_a_row_and_fits_the_width(
    browser: Browser, experiment_url: str
) -> None:
    browser.driver.get(experiment_url)
    board: dict[str, Any] = browser.driver.execute_script(LEADERBOARD)
    assert len(board["heights"]) == 10
    assert max(board["heights"]) <= 40  # one line per run, long names and all
    scroll_width, client_width = board["scroll"]
    assert scroll_width <= client_width  # no horizontal scrollbar
    assert board["nameFits"]  # the long names are cut with an ellipsis …
    # … and the whole name on hover: the leaders, best first, are runs 0-9.
    assert board["names"] == [LONG.format(i=i) for i in range(10)]
    assert board["numeric"] == "tabular-nums"


def test_no_leaderboard_column_is_constant_or_masked(browser: Browser, experiment_url: str) -> None:
    browser.driver.get(experiment_url)
    board = browser.driver.execute_script(LEADERBOARD)
    heads = board["heads"]
    assert heads[:3] == ["#", "Run", "val_acc"]
    assert "optimizer" not in heads and "api_token" not in heads and "data_path" not in heads
    assert {"learning_rate", "batch_size"} <= set(heads)
    for col, head in enumerate(heads):
        values = [row[col] for row in board["cells"]]
        assert len(set(values)) > 1, f"column {head!r} is the same in every row"
        assert not any(MASK in v for v in values), f"column {head!r} is masked"


def test_values_of_one_metric_share_their_decimals(browser: Browser, experiment_url: str) -> None:
    browser.driver.get(experiment_url)
    board = browser.driver.execute_script(LEADERBOARD)
    values = [row[2] for row in board["cells"]]
    assert {len(v.split(".")[1]) for v in values} == {4}, values  # 0.9900, 0.9893, …


PICKER = """
const root = document.querySelector('.daybook-runs');
const table = root.querySelector('table');
const visible = [...table.tHead.rows[0].cells].filter(th => !th.hidden)
  .map(th => th.textContent.trim());
const firstRow = [...table.tBodies[0].rows[0].cells].filter(td => !td.hidden).length;
return {visible: visible, firstRow: firstRow, picker: !!root.querySelector('.daybook-columns')};
"""


def test_the_column_picker_hides_a_column_and_remembers_it(
    browser: Browser, experiment_url: str
) -> None:
    d = browser.driver
    d.get(experiment_url)
    before = d.execute_script(PICKER)
    assert before["picker"] and "User" in before["visible"]
    d.execute_script(
        "const c = document.querySelector('.daybook-columns input[data-column=\"run:User\"]');"
        "c.click();"
    )
    after = d.execute_script(PICKER)
    assert "User" not in after["visible"]
    assert after["firstRow"] == len(after["visible"])  # the cells follow their header
    d.get(experiment_url)  # a new visit to the same experiment
    again = d.execute_script(PICKER)
    assert "User" not in again["visible"]
    d.find_element("css selector", ".daybook-runs-next").click()  # rows drawn from runs.json
    d.execute_script("return 1")
    again = d.execute_script(PICKER)
    assert "User" not in again["visible"] and again["firstRow"] == len(again["visible"])
    d.execute_script("localStorage.clear()")
