"""Issue #12 in a real headless Chromium, on the demo site (`daybook init` + `daybook demo` +
`daybook build --strict`, served on 127.0.0.1):

- the home page opens with the "Needs attention" box, the demo's failing monitor first;
- "new since your last visit" marks appear on a first visit (home page and journal) and are gone
  on the second; the record stays in localStorage, and no request leaves 127.0.0.1.

Needs Debian's chromium and chromium-driver (tests/browser.py); a missing browser is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser import Browser, browser, browser_available, page_url, serve
from daybook.demo.constants import MODEL_CANCER
from helpers import run_cli

MARK = "span.daybook-new"


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("review-browser")
    assert run_cli("init", "site", cwd=base).returncode == 0
    site = base / "site"
    result = run_cli("demo", "-q", cwd=site, timeout=900)
    assert result.returncode == 0, result.stderr
    result = run_cli("build", "--strict", "-q", cwd=site, timeout=600)
    assert result.returncode == 0, result.stderr
    return site / "site"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    reason = browser_available()
    if reason:
        pytest.fail(reason, pytrace=False)
    with browser() as b:
        yield b


def _marks(b: Browser) -> int:
    from selenium.webdriver.common.by import By

    # The script sets data-daybook-new once it has looked (0 when nothing was new).
    b.driver.find_element(By.CSS_SELECTOR, "html[data-daybook-new]")
    return len(b.driver.find_elements(By.CSS_SELECTOR, MARK))


def _wait_marked(b: Browser) -> int:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(b.driver, 15).until(
        lambda d: d.execute_script("return document.documentElement.dataset.daybookNew != null")
    )
    return _marks(b)


def test_needs_attention_box_first_with_the_failing_monitor_on_top(
    demo_site: Path, chromium: Browser
) -> None:
    from selenium.webdriver.common.by import By

    with serve(demo_site) as server:
        chromium.driver.get(page_url(server.url, "index.html"))
        content = chromium.driver.find_element(By.CSS_SELECTOR, "article.md-content__inner")
        first = content.find_elements(By.XPATH, "./*[not(self::a) and not(@hidden)]")[1]
        assert "admonition" in first.get_attribute("class")
        title = first.find_element(By.CSS_SELECTOR, ".admonition-title").text
        assert title.startswith("Needs attention (")
        items = first.find_elements(By.CSS_SELECTOR, "ol > li")
        first_line = items[0].text.removeprefix("new")  # the first visit marks it new
        assert first_line.startswith(f"✖ fail Monitor {MODEL_CANCER} accuracy: accuracy = ")
        link = items[0].find_element(By.TAG_NAME, "a").get_attribute("href")
        assert link.startswith(server.url) and "/monitors/#" in link
        assert chromium.drain().foreign() == []


def test_new_since_last_visit_marks_come_once(demo_site: Path, chromium: Browser) -> None:
    with serve(demo_site) as server:
        chromium.driver.get(page_url(server.url, "index.html"))
        # The page records the visit once it has looked: wait for that before clearing the
        # record, or a slow page records it after the clear and the "first" visit is a second.
        _wait_marked(chromium)
        chromium.driver.execute_script("localStorage.clear()")
        chromium.driver.get(page_url(server.url, "index.html"))
        first_home = _wait_marked(chromium)
        chromium.driver.get(page_url(server.url, "journal/"))
        first_journal = _wait_marked(chromium)
        assert first_home > 0 and first_journal > 0  # a first visit: everything is new
        stored = chromium.driver.execute_script(
            "return Object.keys(localStorage).filter(k => k.endsWith('daybook.seen'))"
        )
        assert len(stored) == 1
        chromium.driver.get(page_url(server.url, "index.html"))
        assert _wait_marked(chromium) == 0  # the second visit: nothing new since
        chromium.driver.get(page_url(server.url, "journal/"))
        assert _wait_marked(chromium) == 0
        assert chromium.drain().foreign() == []
        assert not [e for e in chromium.console_errors() if "new-since-visit" in e]


def test_every_link_of_daybook_review_is_a_built_page(demo_site: Path) -> None:
    """`daybook review` links absolute from --site-url: runs, experiments, models, cards, the
    monitors page and the journal's posts (at the blog's own URLs) all exist in the built site."""
    import json

    base = "https://team.example.com/daybook/"
    result = run_cli("review", "-q", "--offline", "--format", "json", "--site-url", base,
                     "-C", demo_site.parent)  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    urls = [a["url"] for a in data["attention"]]
    urls += [i["url"] for s in data["sections"] for i in s["items"]]
    kinds = {s["id"] for s in data["sections"] if s["items"]}
    assert {"notes", "actions", "failed"} <= kinds
    for url in urls:
        assert url.startswith(base)
        rel = url.removeprefix(base).split("#")[0]
        assert (demo_site / rel / "index.html").is_file(), url
