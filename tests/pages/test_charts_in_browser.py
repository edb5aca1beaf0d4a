"""The built demo site in a real headless Chromium: charts render from the local vega bundle
(on a full load, after Material's instant navigation, and again after a palette switch), no
request leaves 127.0.0.1, and no page logs a console error.

Needs Debian's `chromium` and `chromium-driver` (apt); Selenium drives /usr/bin/chromedriver,
so nothing is downloaded. Without them the tests fail (the README's test command installs them).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from daybook.demo.settings import write_demo_settings
from daybook.demo.store import create_demo_store
from daybook.mkdocs.scaffold import init_site
from helpers import run_cli

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--window-size=1280,1800"]  # fmt: skip
LIVE_CHART = "div.daybook-chart[data-daybook-rendered='true'] .daybook-chart-view svg"

if not (CHROMIUM.exists() and DRIVER.exists()):
    # The README's test command installs them: a missing browser is a failure, never a skip.
    reason = "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
    pytest.fail(reason, pytrace=False)

from selenium import webdriver  # noqa: E402 - after the browser check, on purpose


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def httpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[http.server.ThreadingHTTPServer]:
    """A server bound before the build: the site's address must be known to build it."""
    root = tmp_path_factory.mktemp("browser") / "site"
    handler = functools.partial(_Quiet, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.site_root = root  # type: ignore[attr-defined]
    yield server
    server.server_close()


@pytest.fixture(scope="module")
def demo_site(httpd: http.server.ThreadingHTTPServer) -> Path:
    """`daybook init` + the demo store and settings + `daybook build --strict`."""
    root: Path = httpd.site_root  # type: ignore[attr-defined]
    init_site(root)
    # Material's instant navigation follows only the links its sitemap lists, which needs
    # site_url, matched against the page's address port and all.
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"\nsite_url: http://127.0.0.1:{httpd.server_address[1]}/\n")
    with contextlib.chdir(root):
        create_demo_store(root)
    write_demo_settings(root)
    result = run_cli("build", "--strict", "-q", "-C", root, timeout=600)
    assert result.returncode == 0, result.stderr
    return root / "site"


@pytest.fixture(scope="module")
def server(httpd: http.server.ThreadingHTTPServer, demo_site: Path) -> Iterator[str]:
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: object, condition: str, timeout: float = 30) -> object:
    """Poll a JavaScript expression until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({condition});")
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {condition}")


def _drawn_marks(driver: object) -> int:
    """Marks vega drew in live charts: line paths and point symbols."""
    return driver.execute_script(
        "return document.querySelectorAll(arguments[0] + ' .mark-line path, '"
        " + arguments[0] + ' .mark-symbol path').length;", LIVE_CHART)  # fmt: skip


def _requests(driver: object) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            params = message["params"]
            urls.append(params.get("request", {}).get("url") or params.get("url", ""))
    return urls


def _errors(driver: object) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_charts_render_offline_without_errors(
    browser: object, server: str, demo_site: Path, tmp_path: Path
) -> None:
    driver = browser
    driver.get(server)  # the home page: the morning review, a monitor's trend among its charts
    _wait(driver, f'document.querySelector("{LIVE_CHART}")')
    assert "Morning review" in driver.page_source
    driver.save_screenshot(str(tmp_path / "home.png"))
    # Instant navigation: follow the review's link to a new run's page without a full load.
    driver.execute_script("window.__fullLoad = 'home';")
    link = driver.find_element("css selector", "article a[href*='/runs/gbm-tuned-']")
    link.click()
    _wait(driver, "location.pathname.includes('/runs/gbm-tuned-')")
    _wait(driver, f'document.querySelector("{LIVE_CHART}")')
    assert driver.execute_script("return window.__fullLoad") == "home", "not instant navigation"
    # val_auc and val_log_loss over 120 stages, each beside the champion's curve
    assert _drawn_marks(driver) >= 4
    # The static SVG made way for the live chart.
    assert driver.execute_script(
        "return getComputedStyle(document.querySelector('.daybook-chart-fallback')"
        ".closest('p')).display") == "none"  # fmt: skip
    # Switch to the dark palette: the chart is drawn again in the new colours.
    label = f'document.querySelector("{LIVE_CHART} .role-axis-label text")'
    before = driver.execute_script(f"return {label}.getAttribute('fill')")
    driver.execute_script("document.body.setAttribute('data-md-color-scheme', 'slate')")
    _wait(driver, f"{label} && {label}.getAttribute('fill') !== {json.dumps(before)}")
    # A full load of a run page of the sweep: its history chart, and the comparisons. (The
    # experiment page has one chart, its progress; its sweeps are a table since issue #14.)
    driver.get(server + "experiments/digits-classifier/")
    _wait(driver, f'document.querySelectorAll("{LIVE_CHART}").length >= 1')
    child = driver.find_element("css selector", "article a[href*='/runs/gbm-lr0-2-d3-']")
    driver.get(child.get_attribute("href"))
    _wait(driver, f'document.querySelector("{LIVE_CHART}")')
    assert _drawn_marks(driver) > 10
    assert "Compared with" in driver.page_source
    driver.save_screenshot(str(tmp_path / "run.png"))
    driver.get(server + "monitors/")
    _wait(driver, f'document.querySelector("{LIVE_CHART}")')
    assert "fail" in driver.find_element("css selector", ".daybook-status-fail").text

    outside = [u for u in _requests(driver)
               if urlsplit(u).scheme in ("http", "https", "ws", "wss")
               and urlsplit(u).hostname != "127.0.0.1"]  # fmt: skip
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert _errors(driver) == []


def _marks(driver: object, chart: object, selector: str) -> list[str]:
    """The opacity of each mark a live chart drew (`line` paths, `rule` lines …)."""
    return driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll(arguments[1]))"
        ".map(m => m.getAttribute('opacity') || '1');", chart, selector)  # fmt: skip


def _legend(driver: object, chart: object) -> list[str]:
    return driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.role-legend-label text'))"
        ".map(t => t.textContent);", chart)  # fmt: skip


def test_curves_side_by_side(browser: object, server: str, demo_site: Path, tmp_path: Path) -> None:
    """A child run's chart shows its parent's and the experiment best's scores beside its own
    curve, each toggled from the legend; a sweep's compare page overlays every child's curve
    and draws its parallel coordinates; nothing logs an error."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver = browser
    driver.get(server + "experiments/digits-classifier/")
    child = driver.find_element("css selector", "article a[href*='/runs/gbm-lr0-2-d3-']")
    driver.get(child.get_attribute("href"))
    _wait(driver, f'document.querySelector("{LIVE_CHART}")')
    chart = driver.find_element("css selector", LIVE_CHART)
    legend = _legend(driver, chart)
    assert legend[0] == "this run" and len(legend) >= 3
    assert any(label.endswith("(parent)") for label in legend)
    assert any("(best" in label for label in legend)
    # The parent and the best logged a final val_accuracy only: level lines beside the curve.
    assert len(_marks(driver, chart, ".mark-rule.role-mark line")) >= 2
    assert set(_marks(driver, chart, ".mark-line.role-mark path")) == {"1"}
    # A point's tooltip: its series named through the lookup, its time (epoch ms in the spec)
    # written in UTC by the chart.
    point = chart.find_element("css selector", ".mark-symbol.role-mark path")
    ActionChains(driver).move_to_element(point).perform()
    tip = "document.querySelector('#vg-tooltip-element.visible')"
    _wait(driver, f"{tip} && {tip}.textContent.includes('UTC')")
    text = driver.execute_script(f"return {tip}.textContent")
    assert "this run" in text and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text), text
    # Click the parent in the legend: it alone stays, this run's curves are dimmed.
    parent = legend.index(next(label for label in legend if label.endswith("(parent)")))
    symbols = chart.find_elements("css selector", ".role-legend-symbol path")
    ActionChains(driver).move_to_element(symbols[parent]).click().perform()
    _wait(driver, f"document.querySelector(\"{LIVE_CHART} .mark-line.role-mark path\")"
          ".getAttribute('opacity') === '0.08'")  # fmt: skip
    assert set(_marks(driver, chart, ".mark-line.role-mark path")) == {"0.08"}
    assert "1" in _marks(driver, chart, ".mark-rule.role-mark line")
    driver.save_screenshot(str(tmp_path / "run-overlay.png"))

    # A run whose reference logged a whole history: two curves in one panel.
    driver.get(server + "experiments/breast-cancer/")
    rf = driver.find_element("css selector", "article a[href*='/runs/random-forest-']")
    driver.get(rf.get_attribute("href"))
    _wait(driver, f'document.querySelector("{LIVE_CHART}")')
    chart = driver.find_element("css selector", LIVE_CHART)
    assert _legend(driver, chart) == ["this run", "gbm-tuned (best)"]
    assert len(_marks(driver, chart, ".mark-line.role-mark path")) >= 4  # 2 panels × 2 runs

    # The sweep's compare page: its param chart, every child's curve, parallel coordinates.
    driver.get(server + "experiments/digits-classifier/")
    page = driver.find_element("css selector", "article a[href*='/compare/gbm-sweep-']")
    driver.get(page.get_attribute("href"))
    # Charts are drawn as they near the viewport (issue #14): scroll down to the last one.
    driver.execute_script("document.querySelectorAll('div.daybook-chart')[2].scrollIntoView()")
    _wait(driver, f'document.querySelectorAll("{LIVE_CHART}").length >= 3')
    _, curves, parallel = driver.find_elements("css selector", LIVE_CHART)
    children = 6
    assert len(_legend(driver, curves)) == children
    assert len(_marks(driver, curves, ".mark-line.role-mark path")) == children
    assert len(_marks(driver, parallel, ".mark-line.role-mark path")) == children
    axes = driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.role-axis-label text'))"
        ".map(t => t.textContent);", parallel)  # fmt: skip
    assert {"learning_rate", "max_depth", "val_accuracy"} <= set(axes)
    driver.save_screenshot(str(tmp_path / "compare.png"))
    assert _errors(driver) == []


def _fetched(driver: object) -> list[str]:
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")  # fmt: skip


def test_chart_library_and_search_index_wait_until_needed(
    browser: object, server: str, demo_site: Path
) -> None:
    """Issue #14: a page shows its data first. The chart library (0.9 MB) is fetched only when
    a chart nears the viewport, the search index only when the reader goes to the search box;
    the static picture stands in until then."""
    driver = browser
    driver.set_window_size(1280, 500)
    # The demo's experiment page is short: 3,000 px before its runs table make it as long as a
    # big experiment's, so the chart is far from the viewport when the page opens at the table.
    spacer = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": (
        "document.addEventListener('DOMContentLoaded', () => {"
        " const a = document.getElementById('all-runs'); const d = document.createElement('div');"
        " d.style.height = '3000px'; if (a) a.before(d); });")})  # fmt: skip
    try:
        driver.get(server + "experiments/digits-classifier/#all-runs")
        _wait(driver, "document.readyState === 'complete' && window.daybookCharts")
        time.sleep(1.0)  # let anything that would load, load
        fetched = _fetched(driver)
        where = driver.execute_script(
            "return [scrollY, document.querySelector('div.daybook-chart')"
            ".getBoundingClientRect().bottom]")  # fmt: skip
        assert not any(u.endswith("/vega.js") for u in fetched), (where, fetched)
        assert not any(u.endswith("/search_index.json") for u in fetched), fetched
        assert driver.execute_script(
            "return document.querySelector('div.daybook-chart').hasAttribute("
            "'data-daybook-rendered')") is False  # fmt: skip
        # The picture is there without the library: a static SVG beside the page.
        assert driver.execute_script(
            "const i = document.querySelector('img.daybook-chart-fallback');"
            "return i.complete && i.naturalWidth > 0 && i.src.endsWith('.svg');")  # fmt: skip
        # Scrolled near: the library and the spec load, and the live chart replaces the picture.
        driver.execute_script("document.querySelector('div.daybook-chart').scrollIntoView()")
        _wait(driver, f'document.querySelector("{LIVE_CHART}")')
        fetched = _fetched(driver)
        assert sum(u.endswith("/vega.js") for u in fetched) == 1
        assert any("/assets/daybook/charts/" in u and u.endswith(".json") for u in fetched)
        # The search box: focusing it fetches the index, and searching works.
        driver.find_element("css selector", "label.md-search__icon, label[for='__search']")
        driver.execute_script("document.querySelector('input.md-search__input').focus()")
        _wait(driver, "performance.getEntriesByType('resource')"
              ".some(e => e.name.endsWith('/search_index.json'))")  # fmt: skip
        driver.find_element("css selector", "input.md-search__input").send_keys("digits")
        _wait(driver, "document.querySelectorAll('.md-search-result__item').length > 0")
        assert _errors(driver) == []
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                               {"identifier": spacer["identifier"]})  # fmt: skip
        driver.set_window_size(1280, 1800)
