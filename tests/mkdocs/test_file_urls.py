"""`daybook build --file-urls`: a site that works opened from disk (`file://…/index.html`), as when
it is zipped and mailed or put on a shared drive. Pages are `x.html` files and every link
Daybook or MkDocs writes points at one (a folder URL opens a listing there); search works with
no server and no CDN (Material's offline plugin, with the Web Worker shim Daybook ships).

Checked as a reader does it: a real `daybook build --strict --file-urls` of the fixture store,
opened from disk in a real headless Chromium that clicks to an experiment and types in the
search box until a run's page comes up.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from browser import Browser, browser, browser_available
from conftest import make_site
from helpers import run_cli
from store_builder import StoreInfo

HREF = re.compile(r'\b(?:href|src)="([^"]*)"')


@pytest.fixture(scope="module")
def file_site(tmp_path_factory: pytest.TempPathFactory, store: StoreInfo) -> Path:
    root = make_site(tmp_path_factory.mktemp("file-urls") / "site")
    result = run_cli(
        "build", "--strict", "--file-urls", "-q", "-C", root, "--tracking-uri", store.uri
    )
    assert result.returncode == 0, result.stderr
    return root / "site"


def _local_links(html: str) -> list[str]:
    """The page's own relative links and sources (no fragment-only, external or data: URL)."""
    out = []
    for raw in HREF.findall(html):
        url = raw.replace("&amp;", "&")
        if not url or url.startswith("#") or urllib.parse.urlsplit(url).scheme:
            continue
        out.append(url.partition("#")[0].partition("?")[0])
    return out


def test_every_page_is_an_html_file_and_every_link_names_a_file(file_site: Path) -> None:
    pages = sorted(file_site.rglob("*.html"))
    assert (file_site / "experiments/classifier/index.html").is_file()
    assert list(file_site.glob("experiments/classifier/runs/*.html"))  # run pages: x.html
    broken: list[str] = []
    for page in pages:
        if page.name == "404.html":  # served by a web server for any path: absolute URLs
            continue
        for url in _local_links(page.read_text(encoding="utf-8")):
            if EMPTY_ARCHIVE.match(url):
                continue
            target = (page.parent / urllib.parse.unquote(url)).resolve()
            if url.endswith("/") or not target.is_file():
                broken.append(f"{page.relative_to(file_site)}: {url}")
    assert broken == []


# The journal's "Archive" nav entry of a journal with no notes yet: Material's blog gives the
# empty section the site root's URL ("." / "../.."), a folder. Known, see the report of #13.
EMPTY_ARCHIVE = re.compile(r"^\.\.?(?:/\.\.)*$")


def test_search_needs_no_server_and_no_cdn(file_site: Path) -> None:
    index = (file_site / "search/search_index.js").read_text(encoding="utf-8")
    assert index.startswith("var __index = {")  # a script: file:// pages cannot fetch JSON
    shim = file_site / "assets/daybook/iframe-worker-shim.js"
    assert "window.Worker = FileWorker" in shim.read_text(encoding="utf-8")  # Daybook's own shim
    home = (file_site / "index.html").read_text(encoding="utf-8")
    assert '<script src="assets/daybook/iframe-worker-shim.js"' in home
    for page in file_site.rglob("*.html"):
        assert "unpkg.com" not in page.read_text(encoding="utf-8"), page


def test_the_setting_in_daybook_yml_does_the_same(tmp_path: Path, store: StoreInfo) -> None:
    root = make_site(tmp_path / "site")
    with (root / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write("site:\n  file_urls: true\n")
    result = run_cli("build", "-q", "--strict", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    assert (root / "site/search/search_index.js").is_file()
    assert 'href="experiments/index.html"' in (root / "site/index.html").read_text("utf-8")


def test_plain_mkdocs_build_says_it_cannot_honour_the_setting(
    tmp_path: Path, store: StoreInfo
) -> None:
    """Only `daybook build` switches MkDocs to x.html pages and offline search: a plain
    `mkdocs build` of such a site warns (an error under --strict) instead of quietly making a
    site that shows folder listings when opened from disk."""
    root = make_site(tmp_path / "site")
    with (root / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write("site:\n  file_urls: true\n")
    env = {**os.environ, "MLFLOW_TRACKING_URI": store.uri}
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "-f", str(root / "mkdocs.yml")]
    result = subprocess.run([*mkdocs, "--strict"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "site.file_urls is set, but plain `mkdocs build`" in result.stderr
    assert "run `daybook build`" in result.stderr
    assert "Traceback" not in result.stderr


# --- in a real browser, from disk -----------------------------------------------------------------


def _until(check: Callable[[], object], what: str, timeout: float = 20.0) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _heading(b: Browser) -> str:
    return b.driver.execute_script(
        "const h = document.querySelector('.md-content h1'); return h ? h.textContent : '';"
    )


def test_opened_from_disk_it_navigates_by_clicks_and_finds_a_run_by_search(
    file_site: Path, store: StoreInfo
) -> None:
    if (why := browser_available()) is not None:  # the README's test command installs it
        pytest.fail(why, pytrace=False)
    from selenium.webdriver.common.by import By

    with browser() as b:
        b.driver.get((file_site / "index.html").as_uri())
        assert b.driver.current_url.startswith("file://")
        link = b.driver.find_element(
            By.CSS_SELECTOR, '.md-content a[href="experiments/classifier/index.html"]'
        )
        link.click()
        _until(lambda: b.driver.current_url.endswith("/experiments/classifier/index.html"), "page")
        assert _heading(b).startswith("classifier")

        box = b.driver.find_element(By.CSS_SELECTOR, "input.md-search__input")
        box.click()
        for key in "sweep-lr-0.05":  # key by key: Material searches on input events
            box.send_keys(key)
        first = _until(
            lambda: b.driver.execute_script(
                "const a = [...document.querySelectorAll('.md-search-result__item a')]"
                ".find(a => a.href.includes('/runs/sweep-lr-0-05-'));"
                "return a ? a.href : null;"
            ),
            "a search result for the run",
        )
        assert str(first).startswith("file://") and ".html" in str(first)
        b.driver.execute_script(
            "[...document.querySelectorAll('.md-search-result__item a')]"
            ".find(a => a.href.includes('/runs/sweep-lr-0-05-')).click()"
        )
        _until(lambda: "/runs/sweep-lr-0-05-" in b.driver.current_url, "the run's page")
        assert "sweep-lr-0.05" in _heading(b)

        # What needs a server says so (the run viewer reads JSON, which file:// cannot fetch).
        run_id = store.runs["pipe"]
        b.driver.get((file_site / "runs/index.html").as_uri() + f"#{run_id}")
        _until(
            lambda: (
                "opened from disk"
                in b.driver.execute_script(
                    "return document.querySelector('.daybook-run-viewer__run').textContent"
                )
            ),
            "the run viewer's message",
        )
        requests = b.drain().urls
        assert requests, "the network log recorded nothing"
        outside = [u for u in requests if urllib.parse.urlsplit(u).scheme not in LOCAL_SCHEMES]
        assert outside == []
        errors = b.console_errors()  # charts stay static: no fetch of their specs from disk
        assert [e for e in errors if "/runs/data/" not in e] == []


LOCAL_SCHEMES = ("file", "data", "about", "blob")
