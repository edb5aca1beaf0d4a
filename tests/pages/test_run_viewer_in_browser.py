"""A permanent link for every run, checked as a reader follows it: `daybook link runs:/<prefix>`
prints a URL that, opened in a real headless Chromium on the built site served over HTTP, shows
the run's name and params; after a rebuild in which the run lost its own page, the link printed
then works too, and so does the `--permanent` link printed before.

The store is real (MLflow's client), the site a real `daybook build --strict`, served with
site_url set (so `daybook link` prints absolute URLs, as people paste them).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from browser import Browser, StaticServer, serve
from daybook.cli import main as daybook_cli
from helpers import run_cli

T0 = 1_764_000_000_000
HOSTILE = "<img src=x onerror=\"window.__pwned='img'\"> & co"
KEEP_PAGES = "run_pages:\n  top: 2\n  recent: 0\n"  # the best 2, the parent, the registered run
NO_PAGES = "run_pages:\n  top: 0\n  parents: false\n  registered: false\n  recent: 0\n"


@dataclass
class ViewerStore:
    uri: str
    names: dict[str, str] = field(default_factory=dict)  # run id -> name
    params: dict[str, dict[str, str]] = field(default_factory=dict)


def _build_store(root: Path) -> ViewerStore:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    store = ViewerStore(uri)
    exp = client.create_experiment("viewer", artifact_location=(root / "art").as_uri())
    ids: dict[str, str] = {}
    for i, name in enumerate(["sweep", "trial-a", "trial-b", HOSTILE, "plain", "last"]):
        tags = {"mlflow.user": "alice", "team": "vision"}
        if name.startswith("trial"):
            tags["mlflow.parentRunId"] = ids["sweep"]
        run = client.create_run(exp, start_time=T0 + i * 60_000, tags=tags, run_name=name)
        rid = ids[name] = run.info.run_id
        params = {"lr": f"0.0{i + 1}", "depth": str(i + 2), "loss_fn": f"huber-{i}"}
        client.log_batch(
            rid,
            metrics=[Metric("acc", 0.5 + i / 20, T0, 0)],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(rid, "FINISHED", end_time=T0 + i * 60_000 + 5_000)
        store.names[rid], store.params[rid] = name, params
    client.create_registered_model("viewer-model")
    client.create_model_version("viewer-model", "runs:/" + ids["plain"] + "/model", ids["plain"])
    return store


@pytest.fixture(scope="module")
def viewer_store(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> ViewerStore:
    root = tmp_path_factory.mktemp("viewer-store")
    with contextlib.chdir(root):
        return _build_store(root)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    # Not gzipped: the server keeps what it gzipped, and the site is rebuilt under it.
    with serve(tmp_path_factory.mktemp("viewer-site") / "site" / "site", gzip=False) as s:
        yield s


@pytest.fixture(scope="module")
def site_root(server: StaticServer) -> Path:
    root = server.root.parent
    result = run_cli("init", root)
    assert result.returncode == 0, result.stderr
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"\nsite_url: {server.url}\n")
    return root


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


def _build(root: Path, store: ViewerStore, run_pages: str) -> None:
    base = (root / "daybook.yml").read_text(encoding="utf-8").split("run_pages:")[0]
    (root / "daybook.yml").write_text(base + run_pages, encoding="utf-8")
    result = run_cli("build", "--strict", "-q", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    assert "INFO" not in result.stderr, result.stderr  # no page lists, no anchor reports


def _link(root: Path, uri: str, *options: str) -> str:
    result = CliRunner().invoke(daybook_cli, ["link", "-C", str(root), *options, uri])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _wait(check: Any, what: str, timeout: float = 15.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


SHOWN_JS = """
const viewer = document.querySelector('#daybook-run-viewer .daybook-run-viewer__name');
const article = document.querySelector('article.md-content__inner');
if (viewer) return {viewer: true, name: viewer.textContent,
                    text: document.querySelector('.daybook-run-viewer__run').innerText};
if (!document.getElementById('daybook-run-viewer') && article)
  return {viewer: false, name: article.querySelector('h1').firstChild.textContent,
          text: article.innerText};
return null;
"""


def _shows_run(b: Browser, url: str, store: ViewerStore, run_id: str) -> dict[str, Any]:
    """Open `url` and wait until the page shows the run: its name, and every param."""
    b.driver.get(url)
    name = store.names[run_id]

    def shown() -> dict[str, Any] | None:
        seen = b.driver.execute_script(SHOWN_JS)
        return seen if seen and seen["name"].strip() == name else None

    seen = _wait(shown, f"{name!r} at {url}")
    for key, value in store.params[run_id].items():
        assert key in seen["text"] and value in seen["text"], (url, key, value)
    if seen["viewer"]:
        assert run_id in seen["text"]  # the run id row
    assert b.driver.execute_script("return window.__pwned === undefined"), "a name ran as code"
    return seen


def test_every_run_link_works_before_and_after_it_loses_its_page(
    chromium: Browser, site_root: Path, viewer_store: ViewerStore, server: StaticServer
) -> None:
    _build(site_root, viewer_store, KEEP_PAGES)
    permanent: dict[str, str] = {}
    kinds: dict[str, bool] = {}
    for run_id in viewer_store.names:
        url = _link(site_root, f"runs:/{run_id[:8]}")
        assert url.startswith(server.url)
        kinds[run_id] = _shows_run(chromium, url, viewer_store, run_id)["viewer"]
        assert ("/runs/#" in url) == kinds[run_id]
        permanent[run_id] = _link(site_root, f"runs:/{run_id[:8]}", "--permanent")
        assert permanent[run_id] == f"{server.url}runs/#{run_id}"
    assert set(kinds.values()) == {True, False}  # some runs have a page of their own, some not

    _build(site_root, viewer_store, NO_PAGES)
    chromium.driver.get("about:blank")  # a tab kept open across a rebuild keeps its old shards
    assert not list((site_root / "site" / "experiments").glob("*/runs/*/index.html"))
    for run_id in viewer_store.names:
        url = _link(site_root, f"runs:/{run_id[:8]}")
        assert url == permanent[run_id]  # no run has a page now: the viewer it is
        assert _shows_run(chromium, url, viewer_store, run_id)["viewer"]


def test_viewer_links_a_run_with_a_page_to_it_and_says_when_a_run_is_unknown(
    chromium: Browser, site_root: Path, viewer_store: ViewerStore, server: StaticServer
) -> None:
    _build(site_root, viewer_store, KEEP_PAGES)
    chromium.driver.get("about:blank")  # a tab kept open across a rebuild keeps its old shards
    plain = next(rid for rid, name in viewer_store.names.items() if name == "plain")
    page = _link(site_root, f"runs:/{plain}")  # registered: it has a page
    assert "/runs/#" not in page
    _shows_run(chromium, f"{server.url}runs/#{plain}", viewer_store, plain)
    href = chromium.driver.execute_script(
        "return document.querySelector('.daybook-run-viewer__page a').href"
    )
    assert href == page
    versions = chromium.driver.execute_script(
        "return [...document.querySelectorAll('.daybook-run-viewer__facts a')].map(a => a.href)"
    )
    assert f"{server.url}models/viewer-model/#v1" in versions

    chromium.driver.get(f"{server.url}runs/#{'f' * 32}")
    text = _wait(
        lambda: chromium.driver.execute_script(
            "const m = document.querySelector('.daybook-run-viewer__unknown');"
            "return m && m.textContent;"
        ),
        "the unknown-run message",
    )
    assert "No run with the id" in text
