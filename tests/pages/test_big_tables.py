"""Big runs tables: the page holds the first rows, runs.json every row, and Daybook's table script
pages, sorts and filters them in a real headless Chromium, with hostile names shown as text.

The store is real (MLflow's client) and the site a real `daybook build --strict`; a low
`paged_above` makes a small store take the big-table path, so the browser tests stay quick.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from browser import Browser, StaticServer, serve
from daybook.commands.generate import load_site, render_site
from daybook.mkdocs.squeeze import squeeze_html
from daybook.pages.paths import page_url, relative_url
from daybook.store.pull import pull
from helpers import add_settings, parse_html, run_cli

T0 = 1_764_000_000_000
SECRET = "sk-live-RUNS-JSON-MUST-NOT-HOLD-THIS"
# Each would run script or make markup if a table cell took it as HTML or Markdown.
HOSTILE = [
    "<img src=x onerror=\"window.__pwned='img'\">",
    "</script><script>window.__pwned='script'</script>",
    "<svg onload=window.__pwned='svg'>",
    "a|b\nc",
    "\"quoted\" & 'single' `tick`",
    "{{ jinja }} {% raw %} ${x}",
    "**bold** [link](javascript:window.__pwned='md')",
    "javascript:window.__pwned='href'",
    "日本語のラン",
    "&lt;b&gt;entity&lt;/b&gt;",
]
HOSTILE_USER = "<u onclick=__pwned=2>eve</u>"  # short enough not to be cut (30)
HOSTILE_PARAM = "<b onclick=__pwned=3>adam</b>"  # (40)
PAGE_SIZE = 5
SITE_CONFIG = f"""
primary_metrics:
  - experiment: "*"
    metric: acc
    direction: maximize
run_pages:
  top: 3
run_table:
  paged_above: 10
  page_size: {PAGE_SIZE}
  params: 3
  metrics: 2
"""


@dataclass
class BigStore:
    uri: str
    big: str  # experiment id of the big experiment
    small: str
    names: dict[str, str] = field(default_factory=dict)  # run id -> name
    acc: dict[str, float] = field(default_factory=dict)  # run id -> acc


def _build_store(root: Path) -> BigStore:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    store = BigStore(uri, "", "")
    store.big = client.create_experiment(
        "big <i>runs</i> | table", artifact_location=(root / "a-big").as_uri()
    )
    store.small = client.create_experiment("small", artifact_location=(root / "a-small").as_uri())
    specs: list[tuple[str, str, float, dict[str, str], str | None]] = []
    for i, name in enumerate(HOSTILE):  # the best runs: they get pages, so their links are tested
        specs.append((store.big, name, 0.99 - i / 1000, {"opt": HOSTILE_PARAM}, None))
    for i in range(24):
        specs.append((store.big, f"plain-{i:02d}", 0.5 + i / 100, {"opt": "sgd"}, None))
    specs.append((store.big, "nan-run", math.nan, {}, None))
    specs.append((store.big, "inf-run", math.inf, {}, None))
    specs.append((store.big, "sweep", 0.6, {"opt": "grid"}, None))
    for i in range(3):
        specs.append((store.big, f"trial-{i}", 0.61 + i / 100, {"opt": "grid"}, "sweep"))
    for i in range(3):
        specs.append((store.small, f"small-{i}", 0.1 * i, {}, None))
    ids: dict[str, str] = {}
    for n, (eid, name, acc, params, parent) in enumerate(specs):
        start = T0 + n * 60_000
        tags = {"mlflow.user": HOSTILE_USER if n % 7 == 0 else "alice"}
        if parent:
            tags["mlflow.parentRunId"] = ids[parent]
        run = client.create_run(eid, start_time=start, tags=tags, run_name=name)
        rid = run.info.run_id
        ids[name] = rid
        client.log_batch(
            rid,
            metrics=[Metric("acc", acc, start, 0), Metric("loss", 1 - acc, start, 0)],
            params=[
                Param(k, v)
                for k, v in {**params, "lr": str(0.001 * (n + 1)), "api_token": SECRET}.items()
            ],
        )
        client.set_terminated(rid, "FAILED" if n % 5 == 0 else "FINISHED", end_time=start + n * 997)
        if eid == store.big:
            store.names[rid] = name
            store.acc[rid] = acc
    return store


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> BigStore:
    root = tmp_path_factory.mktemp("big-store")
    with contextlib.chdir(root):
        return _build_store(root)


def _make_site(root: Path, extra: str = "") -> Path:
    result = run_cli("init", root)
    assert result.returncode == 0, result.stderr
    add_settings(root / "daybook.yml", SITE_CONFIG)
    if extra:
        with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
            fh.write(extra)
    return root


@dataclass
class Built:
    root: Path
    html: Path
    exp_dir: str  # experiments/<slug>/ of the big experiment
    small_dir: str


def _build(root: Path, store: BigStore) -> Built:
    result = run_cli("build", "--strict", "-q", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    html = root / "site"
    (big,) = [p.parent for p in html.glob("experiments/big-*/index.html")]
    return Built(root, html, f"experiments/{big.name}/", "experiments/small/")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    """The server is up before the site is built: Material's instant navigation follows only the
    URLs of sitemap.xml, which carry site_url's port and path, so site_url must be this URL."""
    with serve(tmp_path_factory.mktemp("big-site") / "site" / "site") as s:
        yield s


@pytest.fixture(scope="module")
def built(server: StaticServer, big_store: BigStore) -> Built:
    root = _make_site(server.root.parent, f"\nsite_url: {server.url}\n")
    return _build(root, big_store)


def _runs_json(built: Built) -> dict[str, Any]:
    return json.loads((built.html / built.exp_dir / "runs.json").read_text(encoding="utf-8"))


def _folded(name: str) -> str:
    return "".join(" " if ord(c) < 32 else c for c in name)


# --- the generated files --------------------------------------------------------------------------


def test_big_page_holds_only_the_first_page(built: Built, big_store: BigStore) -> None:
    page = parse_html(built.html / built.exp_dir / "index.html")
    table = page.table_with("Run", "Status", "Started")
    assert len(table.body) == PAGE_SIZE
    doc = _runs_json(built)
    assert doc["total"] == len(big_store.names) == len(doc["rows"])
    first = [_folded(r[1]) for r in doc["rows"][:PAGE_SIZE]]
    assert [c.text.replace("↳", "").strip() for c in table.column("Run")] == [
        n.strip() for n in first
    ]
    assert f'data-total="{doc["total"]}"' in (built.html / built.exp_dir / "index.html").read_text()


def test_small_experiment_keeps_its_plain_table(built: Built) -> None:
    text = (built.html / built.small_dir / "index.html").read_text(encoding="utf-8")
    assert not (built.html / built.small_dir / "runs.json").exists()
    assert "runs-table.js" not in text and "daybook-runs" not in text
    assert len(parse_html(built.html / built.small_dir / "index.html").table_with("Run").body) == 3


def test_script_is_shipped_and_referenced_only_by_big_tables(built: Built) -> None:
    script = built.html / "assets/daybook/runs-table.js"
    assert script.is_file() and "textContent" in script.read_text()
    users = {
        p.relative_to(built.html).as_posix()
        for p in built.html.rglob("*.html")
        if "runs-table.js" in p.read_text(encoding="utf-8")
    }
    assert users == {built.exp_dir + "index.html"}
    page = parse_html(built.html / built.exp_dir / "index.html")
    (src,) = [
        a["src"] for tag, a in page.tags if tag == "script" and "runs-table" in (a.get("src") or "")
    ]
    assert (built.html / built.exp_dir / src).resolve() == script.resolve()


def test_runs_json_holds_every_run_redacted_and_in_page_order(
    built: Built, big_store: BigStore
) -> None:
    raw = (built.html / built.exp_dir / "runs.json").read_text(encoding="utf-8")
    assert SECRET not in raw
    assert raw.isascii() and "NaN," not in raw and "Infinity," not in raw  # strict JSON
    doc = json.loads(raw)
    rows = {r[0]: r for r in doc["rows"]}
    assert set(rows) == set(big_store.names)
    for rid, name in big_store.names.items():
        assert rows[rid][1] == _folded(name)
    acc = doc["metrics"].index("acc")
    nan_id = next(k for k, v in big_store.names.items() if v == "nan-run")
    inf_id = next(k for k, v in big_store.names.items() if v == "inf-run")
    at = 8 + len(doc["params"]) + acc
    assert rows[nan_id][at] == "NaN" and rows[inf_id][at] == "Infinity"
    starts = [r[5] for r in doc["rows"] if r[2] == 0]
    assert starts == sorted(starts, reverse=True)  # newest first, children under their parent
    depths = {big_store.names[r[0]]: r[2] for r in doc["rows"]}
    assert depths["trial-0"] == 1 and depths["sweep"] == 0
    if "api_token" in doc["params"]:  # masked at pull, and runs.json shows the mask
        token = 8 + doc["params"].index("api_token")
        assert {r[token] for r in doc["rows"]} == {"••••••"}


def test_runs_json_links_reach_the_run_pages(built: Built, big_store: BigStore) -> None:
    doc = _runs_json(built)
    assert all(r[3] for r in doc["rows"])  # every run has a link
    linked = {r[0]: r[3] for r in doc["rows"] if "#" not in r[3]}
    run_pages = {p.parent for p in (built.html / built.exp_dir / "runs").glob("*/index.html")}
    assert len(linked) == len(run_pages) >= 4  # top 3 and the sweep parent
    for href in linked.values():
        assert href.startswith("runs/") and href.endswith("/")
        assert (built.html / built.exp_dir / href / "index.html").is_file(), href
    for rid, href in ((r[0], r[3]) for r in doc["rows"] if r[0] not in linked):
        assert href == f"../../runs/#{rid}"  # the run viewer, for runs without a page


def test_runs_json_is_deterministic_and_the_same_from_generate(
    built: Built, big_store: BigStore, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "generate", "-q", "-C", built.root, "--tracking-uri", big_store.uri, "--out", out
    )
    assert result.returncode == 0, result.stderr
    generated = (out / built.exp_dir / "runs.json").read_bytes()
    assert generated == (built.html / built.exp_dir / "runs.json").read_bytes()
    site = load_site(built.root, big_store.uri)
    again = render_site(site, pull(site.config, big_store.uri)).pages
    assert again[built.exp_dir + "runs.json"].encode() == generated


def test_links_follow_use_directory_urls_false(
    tmp_path_factory: pytest.TempPathFactory, big_store: BigStore
) -> None:
    root = _make_site(
        tmp_path_factory.mktemp("flat-site") / "site", "\nuse_directory_urls: false\n"
    )
    flat = _build(root, big_store)
    doc = _runs_json(flat)
    hrefs = [r[3].split("#")[0] for r in doc["rows"]]
    assert hrefs and all(h.endswith(".html") for h in hrefs)  # run pages, or runs/index.html
    for href in hrefs:
        assert (flat.html / flat.exp_dir / href).is_file(), href


@pytest.mark.parametrize(
    ("src", "dst", "dirs", "url"),
    [
        ("experiments/a/index.md", "experiments/a/runs/r-1.md", True, "runs/r-1/"),
        ("experiments/a/index.md", "experiments/a/runs/r-1.md", False, "runs/r-1.html"),
        (
            "experiments/a/index.md",
            "assets/daybook/runs-table.js",
            True,
            "../../assets/daybook/runs-table.js",
        ),
        ("experiments/a/runs/r-1.md", "experiments/a/index.md", True, "../../"),
        # Without directory URLs, MkDocs serves and links index pages as `index.html`.
        ("experiments/a/runs/r-1.md", "experiments/a/index.md", False, "../index.html"),
        ("index.md", "experiments/a/index.md", True, "experiments/a/"),
    ],
)
def test_relative_url(src: str, dst: str, dirs: bool, url: str) -> None:
    assert relative_url(src, dst, dirs) == url
    assert page_url("index.md", dirs) == ("" if dirs else "index.html")


def test_search_index_leaves_out_the_runs_table(built: Built, big_store: BigStore) -> None:
    index = json.loads((built.html / "search/search_index.json").read_text(encoding="utf-8"))
    text = " ".join(d["text"] for d in index["docs"])
    assert "plain-03" not in text  # a run without a page: only in the (excluded) table
    titles = " ".join(d["title"] for d in index["docs"])
    assert "sweep" in titles  # runs with pages stay findable by name


# --- in a real browser ----------------------------------------------------------------------------


ROWS_JS = """
return [...document.querySelectorAll('.daybook-runs tbody tr[data-run-id]')].map(tr => ({
  id: tr.getAttribute('data-run-id'),
  name: (tr.cells[0].querySelector('a, span') || tr.cells[0]).textContent,
  href: (tr.cells[0].querySelector('a') || {}).href || null,
  elements: tr.querySelectorAll('*').length - tr.cells.length
    - tr.cells[0].querySelectorAll('a, span').length
    - tr.cells[1].querySelectorAll('span.daybook-status').length,  // the script's status badge
  cells: [...tr.cells].map(td => td.textContent),
}));
"""


@pytest.fixture(scope="module")
def site_server(built: Built, server: StaticServer) -> str:
    return server.url


@pytest.fixture
def chromium() -> Iterator[Browser]:
    b = Browser()
    b.on_new_document(
        "window.__pwned = undefined; window.alert = (m) => { window.__pwned = 'alert:' + m; };"
    )
    try:
        yield b
    finally:
        network = b.drain()
        foreign = network.foreign()
        errors = b.console_errors()
        pwned = _pwned(b)
        b.close()
        assert not foreign, f"requests left 127.0.0.1: {foreign}"
        assert not errors, errors
        assert pwned is None, f"a value ran as code: {pwned}"


def _pwned(b: Browser) -> Any:
    with contextlib.suppress(Exception):
        return b.driver.execute_script(
            "return window.__pwned === undefined ? null : window.__pwned"
        )
    return None


def _wait(b: Browser, script: str, timeout: float = 15.0, *args: Any) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = b.driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def _until(check: Any, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _click(b: Browser, selector: str) -> None:
    b.driver.execute_script("document.querySelector(arguments[0]).click()", selector)


PAGE_LABEL = "document.querySelector('.daybook-runs-page').textContent"


def _page_label(b: Browser) -> str:
    return b.driver.execute_script(
        "return document.querySelector('.daybook-runs-page').textContent"
    )


def _open(b: Browser, url: str) -> None:
    b.driver.get(url)
    _wait(b, "return !!document.querySelector('.daybook-runs-controls')")


def test_paging_reaches_every_run_and_shows_names_as_text(
    chromium: Browser, site_server: str, built: Built, big_store: BigStore
) -> None:
    b = chromium
    _open(b, site_server + built.exp_dir)
    first_server_row = b.driver.execute_script(
        "return document.querySelector('.daybook-runs tbody tr').cells[0].textContent"
    )
    assert first_server_row.strip()  # the first page is there before any script ran
    b.driver.find_element("css selector", ".daybook-runs-filter").click()  # focus loads the data
    _wait(b, "return document.querySelectorAll('.daybook-runs tbody tr[data-run-id]').length")
    seen: list[dict[str, Any]] = []
    pages = math.ceil(len(big_store.names) / PAGE_SIZE)
    for n in range(1, pages + 1):
        _wait(
            b,
            f"return /Page {n} of {pages}$/.test({PAGE_LABEL})",
        )
        seen.extend(b.driver.execute_script(ROWS_JS))
        if n < pages:
            _click(b, ".daybook-runs-next")
    assert b.driver.execute_script("return document.querySelector('.daybook-runs-next').disabled")
    ids = [r["id"] for r in seen]
    assert len(ids) == len(set(ids)) == len(big_store.names)
    assert set(ids) == set(big_store.names)
    for row in seen:
        assert row["name"] == _folded(big_store.names[row["id"]])
        assert row["elements"] == 0, row  # no element came from a value
    hostile_linked = [r for r in seen if big_store.names[r["id"]] == HOSTILE[0]]
    assert hostile_linked[0]["href"].startswith(site_server + built.exp_dir + "runs/")
    texts = " ".join(c for r in seen for c in r["cells"])
    assert HOSTILE_USER in texts and HOSTILE_PARAM in texts
    assert (
        b.driver.execute_script("return document.querySelectorAll('.daybook-runs img').length") == 0
    )
    # A linked run opens its page.
    b.driver.execute_script("[...document.querySelectorAll('.daybook-runs tbody a')][0].click()")
    _wait(b, "return /\\/runs\\//.test(location.pathname) && !!document.querySelector('h1')")


def test_sorting_and_filtering_reach_every_run(
    chromium: Browser, site_server: str, built: Built, big_store: BigStore
) -> None:
    b = chromium
    _open(b, site_server + built.exp_dir)
    doc = _runs_json(built)
    acc_col = 5 + len(doc["params"]) + doc["metrics"].index("acc")
    header = f".daybook-runs thead th:nth-child({acc_col + 1}) .daybook-sort"
    finite = {k: v for k, v in big_store.acc.items() if not math.isnan(v)}
    _click(b, header)  # metrics sort highest first
    _wait(b, "return document.querySelector('.daybook-runs th[aria-sort=descending]')")
    top = b.driver.execute_script(ROWS_JS)
    assert [r["id"] for r in top] == sorted(finite, key=lambda k: -finite[k])[:PAGE_SIZE]
    assert top[0]["cells"][acc_col] == "∞"
    _click(b, header)
    _wait(b, "return document.querySelector('.daybook-runs th[aria-sort=ascending]')")
    bottom = b.driver.execute_script(ROWS_JS)
    assert [r["id"] for r in bottom] == sorted(finite, key=lambda k: finite[k])[:PAGE_SIZE]
    _click(b, ".daybook-runs-last")  # NaN sorts last in both directions
    _wait(
        b,
        f"return /Page (\\d+) of \\1$/.test({PAGE_LABEL})",
    )
    last = b.driver.execute_script(ROWS_JS)
    assert big_store.names[last[-1]["id"]] == "nan-run" and last[-1]["cells"][acc_col] == "NaN"

    field = b.driver.find_element("css selector", ".daybook-runs-filter")
    for name in (HOSTILE[1], "日本語", "plain-17"):
        field.clear()
        field.send_keys(name)
        want = sorted(k for k, v in big_store.names.items() if name.lower() in _folded(v).lower())
        _until(lambda want=want: sorted(r["id"] for r in b.driver.execute_script(ROWS_JS)) == want)
    some_id = next(iter(big_store.names))
    field.clear()
    field.send_keys(some_id)  # a run id finds its run
    _until(lambda: [r["id"] for r in b.driver.execute_script(ROWS_JS)] == [some_id])
    field.clear()
    field.send_keys("no-such-run-anywhere")
    _wait(
        b, "return /No run matches/.test(document.querySelector('.daybook-runs tbody').textContent)"
    )


def test_works_after_instant_navigation(chromium: Browser, site_server: str, built: Built) -> None:
    b = chromium
    b.driver.get(site_server)
    b.driver.execute_script("window.__sameDocument = true")
    href = b.driver.execute_script(
        "return [...document.querySelectorAll('article a')]"
        ".find(a => a.href.endsWith(arguments[0])).href",
        built.exp_dir,
    )
    b.driver.execute_script(
        "[...document.querySelectorAll('article a')].find(a => a.href === arguments[0]).click()",
        href,
    )
    _wait(b, "return !!document.querySelector('.daybook-runs-controls')")
    assert b.driver.execute_script("return window.__sameDocument === true"), "not instant"
    _click(b, ".daybook-runs-next")
    _wait(b, "return /^Page 2 of/.test(document.querySelector('.daybook-runs-page').textContent)")
    # Away and back again: one set of controls, working.
    b.driver.execute_script(
        "document.querySelector('.md-header__button.md-logo, a.md-logo').click()"
    )
    _wait(b, "return !document.querySelector('.daybook-runs') && location.pathname.endsWith('/')")
    b.driver.execute_script(
        "[...document.querySelectorAll('article a')].find(a => a.href === arguments[0]).click()",
        href,
    )
    _wait(b, "return !!document.querySelector('.daybook-runs-controls')")
    assert b.driver.execute_script("return window.__sameDocument === true")
    assert (
        b.driver.execute_script("return document.querySelectorAll('.daybook-runs-controls').length")
        == 1
    )
    _click(b, ".daybook-runs-last")
    _wait(
        b,
        f"return /Page (\\d+) of \\1$/.test({PAGE_LABEL})",
    )
    assert _page_label(b).startswith("Page ")


# --- page weight ----------------------------------------------------------------------------------


def test_every_page_stays_under_60_kb(built: Built) -> None:
    sizes = {
        p.relative_to(built.html).as_posix(): p.stat().st_size for p in built.html.rglob("*.html")
    }
    assert max(sizes.values()) <= 60 * 1024, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]


def test_built_pages_are_squeezed_but_keep_their_text(built: Built) -> None:
    html = (built.html / built.exp_dir / "index.html").read_text(encoding="utf-8")
    assert "\n  " not in squeeze_html(html) and squeeze_html(html) == html  # already squeezed
    page = parse_html(built.html / built.exp_dir / "index.html")
    assert len(page.table_with("Run", "Status").body) == PAGE_SIZE


def test_squeeze_keeps_whitespace_where_it_counts() -> None:
    page = (
        "<ul>\n    <li>\n      <a href='x'>\n        nav entry\n      </a>\n    </li>\n</ul>\n"
        "<pre><code>def f():\n    return  1\n</code></pre>\n  <p>a <code>x  \n   y</code>\n   b</p>"
        "\n  <script>\n  var s = 'a\\n    b';\n</script>\n  <textarea>\n  keep\n</textarea>"
    )
    out = squeeze_html(page)
    assert "<ul>\n<li>\n<a href='x'>\nnav entry\n</a>\n</li>\n</ul>" in out
    kept = [
        "<pre><code>def f():\n    return  1\n</code></pre>",
        "<code>x  \n   y</code>",
        "<script>\n  var s = 'a\\n    b';\n</script>",
        "<textarea>\n  keep\n</textarea>",
    ]
    for block in kept:
        assert block in out
    assert parse_html_text(out) == parse_html_text(page)


def parse_html_text(html: str) -> str:
    from helpers import HtmlPage

    return HtmlPage(html).text
