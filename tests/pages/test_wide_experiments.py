"""Wide experiments (issue #15): every param and metric one click away, the pages still small.

A real MLflow store (tests/wide_store.py: 30 runs × 300 params × 60 metrics, a sweep of 12) and a
real `daybook build --strict`; the reader's side in a real headless Chromium over HTTP:

- the runs table's first paint is the page's own few columns; the picker lists every param and
  metric by prefix, finds one by name, and a picked column's values come from columns/ beside
  the page; the filter box matches them; the choice survives a reload; daybook.yml presets one;
- a wide run page folds the params equal in every run into one line, groups the rest by prefix,
  stays under 100 KB, and its filter finds any param or metric, the last one included;
- the site's search finds the experiment by a metric's name, from one list per experiment.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import Browser, StaticServer, serve
from daybook.safety.slug import is_slug
from helpers import add_settings, parse_html, run_cli
from wide_store import (
    HOSTILE_KEY,
    HOSTILE_VALUE,
    RUNS,
    WideStore,
    build_wide_store,
    metric_keys,
    param_keys,
    varies,
)

EXP = "experiments/wide/"
PRESET = ["p002", "val.m05"]
SITE_CONFIG = f"""
primary_metrics:
  - experiment: "*"
    metric: acc
    direction: maximize
run_pages:
  top: 3
experiments:
  columns:
    wide: {json.dumps(PRESET)}
"""
LAST_PARAM = sorted(k for k in param_keys() if "." not in k)[-1]  # the picker lists "" last
LAST_METRIC = sorted(k for k in metric_keys() if "." not in k)[-1]


@pytest.fixture(scope="module")
def wide_store(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> WideStore:
    root = tmp_path_factory.mktemp("wide-store")
    with contextlib.chdir(root):
        return build_wide_store(root)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    """Serves what `html` builds: a test that opens a page asks for `html` too, or under
    `pytest -n` it may run in a worker where nothing was built (a 404)."""
    with serve(tmp_path_factory.mktemp("wide-site") / "site" / "site") as s:
        yield s


@pytest.fixture(scope="module")
def html(server: StaticServer, wide_store: WideStore) -> Path:
    root = server.root.parent
    result = run_cli("init", root)
    assert result.returncode == 0, result.stderr
    add_settings(root / "daybook.yml", SITE_CONFIG)
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"\nsite_url: {server.url}\n")
    result = run_cli("build", "--strict", "-q", "-C", root, "--tracking-uri", wide_store.uri)
    assert result.returncode == 0, result.stderr
    return root / "site"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- the generated files --------------------------------------------------------------------------


def test_first_paint_keeps_the_few_columns_and_runs_json_stays_narrow(html: Path) -> None:
    page = parse_html(html / EXP / "index.html")
    table = page.table_with("Run", "Status", "Started")
    runs = _json(html / EXP / "runs.json")
    assert len(table.header) == 5 + len(runs["params"]) + len(runs["metrics"]) <= 5 + 4 + 4
    assert LAST_PARAM not in runs["params"] and LAST_METRIC not in runs["metrics"]
    assert 'data-columns="columns/index.json"' in (html / EXP / "index.html").read_text()


def test_columns_folder_holds_every_param_and_metric_by_prefix(html: Path) -> None:
    index = _json(html / EXP / "columns/index.json")
    runs = _json(html / EXP / "runs.json")
    groups = {(g["kind"], g["name"]): g for g in index["groups"]}
    assert set(groups) == {("param", "model."), ("param", "optimizer."), ("param", ""),
                           ("metric", "val."), ("metric", "")}  # fmt: skip
    assert sorted(k for g in index["groups"] if g["kind"] == "param" for k in g["keys"]) == sorted(
        param_keys()
    )
    assert sorted(k for g in index["groups"] if g["kind"] == "metric" for k in g["keys"]) == sorted(
        metric_keys()
    )
    assert index["preset"] == PRESET
    ids = [r[0] for r in runs["rows"]]
    for g in index["groups"]:
        for name in g["files"]:
            assert is_slug(name.removesuffix(".json").replace("--", "-")), name
        position = len(g["keys"]) - 1  # the group's last key, in its last file
        doc = _json(html / EXP / "columns" / g["files"][position // g["size"]])
        assert doc["total"] == len(ids) == RUNS
        values = doc["values"][doc["keys"].index(g["keys"][position])]
        if g["kind"] == "param" and not varies(g["keys"][position]):
            assert values == {"same": f"{g['keys'][position]}-same"}  # once, not once per run
        else:
            assert len(values) == len(ids)
    param = _json(html / EXP / "columns" / groups[("param", "")]["files"][-1])
    values = dict(zip(ids, param["values"][param["keys"].index(LAST_PARAM)], strict=True))
    assert {v for v in values.values()} == {f"{LAST_PARAM}-v{i}" for i in range(RUNS)}


def test_wide_run_pages_fold_the_constant_params_and_stay_small(html: Path) -> None:
    pages = sorted((html / EXP / "runs").glob("*/index.html"))
    assert pages
    constant = sum(1 for k in param_keys() if not varies(k))
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert len(text.encode()) <= 100_000, (path, len(text.encode()))
        assert f"{constant} params equal in every run of this experiment" in text
        assert "p150-same" not in text  # a constant param's value: behind the one line
        assert f"{LAST_PARAM}-v" in text  # a param that varies: inline, in its group
        page = parse_html(path)
        assert page.table_with("Parameter", "Value")
    folded = _json(html / EXP / "constant-params.json")["params"]
    assert len(folded) == constant and folded["p150"] == "p150-same"


def test_search_finds_the_experiment_by_a_metric_name_from_one_list(html: Path) -> None:
    docs = _json(html / "search/search_index.json")["docs"]
    name = re.compile(rf"(?<![\w.]){re.escape(LAST_METRIC)}(?![\w.])")
    hits = [d["location"] for d in docs if name.search(d["text"])]
    assert hits and all(h.startswith(EXP) for h in hits), hits
    assert any(h == f"{EXP}#columns" for h in hits), hits
    # The names once per experiment, not once per run: no run page is indexed with them.
    assert not [d["location"] for d in docs if "/runs/" in d["location"] and "p150" in d["text"]]


# --- in a real browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    b = Browser()
    b.on_new_document("window.__pwned = undefined;")
    try:
        yield b
    finally:
        errors = b.console_errors()
        foreign = b.drain().foreign()
        b.close()
        assert not errors, errors
        assert not foreign, f"requests left 127.0.0.1: {foreign}"


def _wait(check: Any, what: str, timeout: float = 20.0, seen: Any = None) -> Any:
    """Poll `check` until it holds; on a timeout, say what `seen` (the page's state) shows."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    shows = f"; the page shows {seen()}" if seen else ""
    raise AssertionError(f"timed out waiting for {what}{shows}")


TABLE_JS = """
const root = document.querySelector('.daybook-runs');
if (!root || !root.querySelector('.daybook-runs-controls')) return null;
const heads = [...root.querySelectorAll('thead th')].map(th => th.textContent.trim());
const rows = [...root.querySelectorAll('tbody tr[data-run-id]')].map(tr =>
  [...tr.cells].map(td => td.textContent));
return {heads, rows, status: root.querySelector('.daybook-runs-status').textContent};
"""


def _table(b: Browser) -> dict[str, Any] | None:
    return b.driver.execute_script(TABLE_JS)


def _column(table: dict[str, Any], name: str) -> list[str]:
    at = table["heads"].index(name)
    return [row[at] for row in table["rows"]]


def _pick(b: Browser, key: str, kind: str) -> None:
    """Find `key` in the picker by typing its name, and tick it."""
    d = b.driver
    if not d.execute_script("return document.querySelector('details.daybook-columns').open"):
        d.find_element(By.CSS_SELECTOR, "details.daybook-columns > summary").click()
    find = d.find_element(By.CSS_SELECTOR, ".daybook-columns-find")
    find.clear()
    find.send_keys(key)
    selector = f'.daybook-columns-groups input[data-column="{kind}:{key}"]'
    # The list is drawn 120 ms after the last keystroke; on a loaded machine a draw for a prefix
    # ("p15") can show the box before the draw for the whole name replaces it under the click.
    # So wait for the list of the whole name: every box it holds matches `key`.
    drawn = """
      const boxes = [...document.querySelectorAll('.daybook-columns-groups input[data-column]')];
      return boxes.length > 0
        && boxes.every(b => b.dataset.column.toLowerCase().includes(arguments[0].toLowerCase()));
    """
    _wait(lambda: d.execute_script(drawn, key) and d.find_elements(By.CSS_SELECTOR, selector),
          f"{key} in the picker")  # fmt: skip
    d.find_element(By.CSS_SELECTOR, selector).click()
    _wait(lambda: d.execute_script(f"return document.querySelector('{selector}')?.checked"),
          f"{key} ticked")  # fmt: skip


def test_picker_shows_the_last_param_and_metric_and_remembers_them(
    chromium: Browser, html: Path, server: StaticServer, wide_store: WideStore
) -> None:
    d = chromium.driver
    d.get(server.url + EXP)
    d.execute_script("localStorage.clear()")
    d.get(server.url + EXP)
    first = _wait(lambda: _table(chromium), "the table script")
    assert LAST_PARAM not in first["heads"]
    # daybook.yml's preset shows without the reader doing anything.
    shown = _wait(lambda: (t := _table(chromium)) and all(p in t["heads"] for p in PRESET) and t,
                  "the preset columns")  # fmt: skip
    newest = wide_store.runs[RUNS - 1]
    assert _column(shown, "p002")[0] == f"p002-v{RUNS - 1}"

    _pick(chromium, LAST_PARAM, "param")
    _pick(chromium, LAST_METRIC, "metric")
    table = _wait(lambda: (t := _table(chromium)) and LAST_METRIC in t["heads"] and t,
                  "the picked columns")  # fmt: skip
    names = _column(table, "Run")
    assert names[0].strip() == wide_store.names[RUNS - 1]
    assert _column(table, LAST_PARAM)[0] == f"{LAST_PARAM}-v{RUNS - 1}"
    assert _column(table, LAST_METRIC)[0].startswith("0.795")  # 0.5 + 29/100 + 59/10,000
    assert (
        d.execute_script(
            "return document.querySelector('.daybook-runs tbody tr').getAttribute('data-run-id')"
        )
        == newest
    )

    # The filter box matches a picked column's values.
    box = d.find_element(By.CSS_SELECTOR, ".daybook-runs-filter")
    box.send_keys(f"{LAST_PARAM}-v7")
    filtered = _wait(lambda: (t := _table(chromium)) and len(t["rows"]) == 1 and t, "the filter")
    assert _column(filtered, "Run")[0].replace("↳", "").strip() == wide_store.names[7]

    # A hostile value of a picked column is text.
    _pick(chromium, HOSTILE_KEY, "param")
    box.clear()
    box.send_keys("bold")
    hostile = _wait(lambda: (t := _table(chromium)) and HOSTILE_KEY in t["heads"] and t["rows"]
                    and len(t["rows"]) < RUNS and t, "the hostile column")  # fmt: skip
    assert set(_column(hostile, HOSTILE_KEY)) == {HOSTILE_VALUE}
    assert d.execute_script("return window.__pwned === undefined")

    # A param equal in every run (written once in its file) shows in every row. The box is
    # emptied with keys, as a reader does: WebDriver's clear() fires no input event.
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    _pick(chromium, "p150", "param")
    same = _wait(lambda: (t := _table(chromium)) and "p150" in t["heads"] and t["rows"]
                 and len(t["rows"]) == min(RUNS, len(first["rows"])) and t, "p150",
                 seen=lambda: (_table(chromium), box.get_attribute("value")))  # fmt: skip
    assert set(_column(same, "p150")) == {"p150-same"}

    # The choice is remembered for this experiment in this browser.
    d.get(server.url + EXP)
    remembered = {LAST_PARAM, LAST_METRIC, HOSTILE_KEY, *PRESET}
    again = _wait(
        lambda: (t := _table(chromium)) and remembered <= set(t["heads"]) and t,
        "the remembered columns",
    )  # fmt: skip (they come back one group file each)
    assert _column(again, LAST_PARAM)[0] == f"{LAST_PARAM}-v{RUNS - 1}"


def test_picker_groups_columns_by_prefix(
    chromium: Browser, html: Path, server: StaticServer
) -> None:
    d = chromium.driver
    d.get(server.url + EXP)
    _wait(lambda: _table(chromium), "the table script")
    d.find_element(By.CSS_SELECTOR, "details.daybook-columns > summary").click()
    titles = _wait(lambda: d.execute_script(
        "return [...document.querySelectorAll('.daybook-columns-group > summary')]"
        ".map(s => s.textContent)"), "the groups")  # fmt: skip
    assert titles == ["Params model.… (25)", "Params optimizer.… (25)",
                      "Params without a prefix (250)", "Metrics val.… (19)",
                      "Metrics without a prefix (41)"]  # fmt: skip


def test_wide_run_page_filter_finds_the_last_param_and_any_constant_one(
    chromium: Browser, html: Path, server: StaticServer, wide_store: WideStore
) -> None:
    d = chromium.driver
    newest = wide_store.runs[RUNS - 1]
    [page] = (html / EXP / "runs").glob(f"*-{newest[:8]}/index.html")
    d.get(server.url + page.parent.relative_to(html).as_posix() + "/")
    box = _wait(lambda: d.find_elements(By.CSS_SELECTOR, ".daybook-kv-filter"), "the filter")[0]

    def results() -> list[list[str]]:
        return d.execute_script(
            "return [...document.querySelectorAll('.daybook-kv-results tbody tr')]"
            ".map(tr => [...tr.cells].map(td => td.textContent))"
        )

    box.send_keys(LAST_PARAM)
    rows = _wait(lambda: results(), f"{LAST_PARAM} in the filter's results")
    assert ["Param", LAST_PARAM, f"{LAST_PARAM}-v{RUNS - 1}"] in rows
    box.clear()
    box.send_keys("p150")  # equal in every run: not in the page, found all the same
    rows = _wait(lambda: (r := results()) and r[0][1] == "p150" and r, "p150")
    assert rows == [["Param", "p150", "p150-same"]]
    box.clear()
    box.send_keys(LAST_METRIC)
    rows = _wait(lambda: (r := results()) and r[0][0] == "Metric" and r, LAST_METRIC)
    assert rows[0][1] == LAST_METRIC and rows[0][2].startswith("0.795")

    d.find_element(By.CSS_SELECTOR, ".daybook-kv-toggle").click()
    listed = _wait(lambda: d.execute_script(
        "return [...document.querySelectorAll('.daybook-kv-constant-list tbody tr')].length"),
        "the constant params")  # fmt: skip
    assert listed == sum(1 for k in param_keys() if not varies(k))


def test_compare_page_pages_its_children_and_folds_what_they_share(html: Path) -> None:
    [page] = (html / EXP / "compare").glob("*/index.html")
    text = page.read_text(encoding="utf-8")
    assert len(text.encode()) <= 100_000
    shared = _json(page.parent / "constant-params.json")["params"]
    assert f"{len(shared)} params are the same in every child" in text
    assert "p150-same" not in text  # behind the one line
    runs = _json(page.parent / "runs.json")
    assert runs["total"] == len(runs["rows"]) == 12  # the sweep's children, best first
    index = _json(page.parent / "columns/index.json")
    assert sum(len(g["keys"]) for g in index["groups"]) == len(param_keys()) + len(metric_keys())


def test_parallel_coordinates_follow_the_picked_columns(
    chromium: Browser, html: Path, server: StaticServer
) -> None:
    d = chromium.driver
    [page] = (html / EXP / "compare").glob("*/index.html")
    d.get(server.url + page.parent.relative_to(html).as_posix() + "/")
    d.execute_script("localStorage.clear()")
    d.get(server.url + page.parent.relative_to(html).as_posix() + "/")
    _wait(lambda: _table(chromium), "the table script")
    d.execute_script("document.querySelector('.daybook-parallel').scrollIntoView()")
    drawn = (
        "return document.querySelector('.daybook-parallel .daybook-chart')"
        ".getAttribute('data-daybook-rendered')"
    )
    _wait(lambda: d.execute_script(drawn) == "true", "the parallel coordinates")
    _pick(chromium, "val.m07", "metric")  # a metric the sweep did not vary on
    _wait(lambda: (t := _table(chromium)) and "val.m07" in t["heads"], "the picked column")
    axes = _wait(
        lambda: d.execute_script(
            "const c = document.querySelector('.daybook-parallel .daybook-chart');"
            "return c.getAttribute('data-daybook-rendered') === 'true'"
            " && JSON.parse(c.getAttribute('data-daybook-axes') || 'null');"
        ),
        "the new axes",
    )
    assert "val.m07" in axes and axes[-1] == "acc"
    labels = _wait(
        lambda: d.execute_script(
            "return [...document.querySelectorAll('.daybook-parallel svg text')]"
            ".map(t => t.textContent).filter(t => t === 'val.m07')"
        ),
        "the axis drawn",
    )
    assert labels == ["val.m07"]
