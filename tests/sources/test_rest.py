"""Daybook against a real `mlflow server` on 127.0.0.1, and against small HTTP servers of our own
that answer what real deployments answer when things go wrong (401, 403, 404, 5xx, dropped
connections). Real sockets and MLflow's real client throughout; nothing is mocked.

The server serves a copy of the fixture store with one more experiment, `bulk-history`, whose
runs log more than 25,000 points of one metric: the bulk endpoint's silent cap must not lose any.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import difflib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric

from daybook.core.config import DaybookConfig, ExperimentFilter, RunPages
from daybook.core.errors import SourceError
from daybook.core.snapshot import Snapshot
from daybook.store.pull import pull, update
from daybook.store.snapshot_file import dumps, loads
from helpers import error_lines, read_tree, run_cli, snapshot_data
from store_builder import StoreInfo

EVERY_RUN = DaybookConfig(run_pages=RunPages(all=True))
BULK_KEY = "loss"
# Four runs log 7,000 points each at step 0 (their last step says "1 point": one request asks
# for all four, and the server answers 25,000 of 28,000), one run logs 26,000 (over the cap
# alone: read page by page).
BULK_RUNS = {"flat-a": 7_000, "flat-b": 7_000, "flat-c": 7_000, "flat-d": 7_000, "long": 26_000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the real server ------------------------------------------------------------------------------


@dataclasses.dataclass
class Server:
    url: str
    store: StoreInfo  # the database the server writes (read directly by the sqlite reader too)
    bulk_runs: dict[str, str]  # label -> run id
    log: Path


def _add_bulk_experiment(info: StoreInfo) -> dict[str, str]:
    c = MlflowClient(tracking_uri=info.uri, registry_uri=info.uri)
    eid = c.create_experiment(
        "bulk-history", artifact_location=(info.artifact_root / "bulk").as_uri()
    )
    runs = {}
    for i, (label, count) in enumerate(BULK_RUNS.items()):
        rid = c.create_run(eid, start_time=1_764_000_000_000 + i, run_name=label).info.run_id
        flat = label.startswith("flat")
        points = [
            Metric(BULK_KEY, 1.0 / (n + 1) + i, 1_764_000_000_000 + n, 0 if flat else n)
            for n in range(count)
        ]
        for k in range(0, count, 1000):
            c.log_batch(rid, metrics=points[k : k + 1000])
        c.set_terminated(rid, "FINISHED", end_time=1_764_000_100_000)
        runs[label] = rid
    return runs


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, store: StoreInfo) -> Iterator[Server]:
    """`mlflow server` over a copy of the fixture store, started once, always stopped."""
    root = tmp_path_factory.mktemp("server")
    db = root / "mlflow.db"
    shutil.copy2(store.db_path, db)
    info = dataclasses.replace(store, db_path=db, uri=f"sqlite:///{db}", runs=dict(store.runs))
    with contextlib.chdir(root):
        bulk = _add_bulk_experiment(info)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    log = root / "server.log"
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", info.uri, "--artifacts-destination", str(root / "served"),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server not healthy in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Server(url, info, bulk, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's retry schedule without the waiting."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(key, raising=False)


# --- a proxy of our own, in front of the real server ----------------------------------------------


class _Proxy(BaseHTTPRequestHandler):
    """Forwards every request to the real server and records it, with how many metric points
    a get-history-bulk answer held. With `flaky`, every other request fails instead: a 503, or
    the connection dropped without an answer (a restarting server, a load balancer)."""

    upstream = ""
    flaky = False
    lock = threading.Lock()
    count = 0
    failed: ClassVar[list[str]] = []
    bulk: ClassVar[list[tuple[int, int]]] = []  # (run ids asked for, points answered)

    def _forward(self) -> None:
        with self.lock:
            type(self).count += 1
            n = type(self).count
        path = self.path.split("?")[0]
        if self.flaky and n % 2 == 1:
            self.failed.append(path)
            if n % 4 == 1:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.close_connection = True  # no answer at all
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection(self.upstream.removeprefix("http://"), timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if path.endswith("/metrics/get-history-bulk") and resp.status == 200:
            asked = len(parse_qs(urlsplit(self.path).query).get("run_id", []))
            self.bulk.append((asked, len(json.loads(data).get("metrics", []))))
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


def proxy(upstream: str, *, flaky: bool = False) -> type[_Proxy]:
    attrs = {"upstream": upstream, "flaky": flaky, "count": 0, "failed": [], "bulk": []}
    return type("Proxy", (_Proxy,), attrs)


@contextlib.contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@dataclasses.dataclass
class Pulled:
    direct: Snapshot  # the served database, read with direct SQL
    remote: Snapshot  # the same, through the server
    bulk: list[tuple[int, int]]  # the get-history-bulk requests the remote pull sent


@pytest.fixture(scope="module")
def pulled(server: Server) -> Pulled:
    handler = proxy(server.url)
    with http_server(handler) as url:
        remote = pull(EVERY_RUN, url)
    return Pulled(pull(EVERY_RUN, server.store.uri), remote, handler.bulk)


# --- same store, same snapshot, same pages --------------------------------------------------------

PARTS = ("experiments", "runs", "models", "histories", "artifacts", "model_files", "absent_runs")


def test_the_server_and_the_sqlite_file_give_the_same_snapshot(pulled: Pulled) -> None:
    a, b = snapshot_data(pulled.direct), snapshot_data(pulled.remote)
    for part in PARTS:
        assert a[part] == b[part], part


def test_the_server_and_the_sqlite_file_give_the_same_pages(server: Server, tmp_path: Path) -> None:
    """`daybook generate` of one site from each: byte-identical but for the tracking URI the
    home page names. The clock is kept out of the pages (a fixed review reference point, no
    alias history, whose times are those of each pull) so the two builds may be minutes apart."""
    trees = {}
    for name, uri in (("sqlite", server.store.uri), ("rest", server.url)):
        site = tmp_path / name
        assert run_cli("init", site).returncode == 0
        with (site / "daybook.yml").open("a", encoding="utf-8") as fh:
            fh.write("\nmodels:\n  record_history: false\n")
        out = tmp_path / f"{name}-out"
        result = run_cli(
            "generate", "-q", "-C", site, "--tracking-uri", uri, "--out", out,
            "--since", "2025-11-24",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        trees[name] = read_tree(out)
    a, b = trees["sqlite"], trees["rest"]
    assert set(a) == set(b) and len(a) > 20
    differ = [p for p in a if a[p] != b[p]]
    assert differ == ["index.md"], _diff(a, b, next(p for p in differ if p != "index.md"))
    # The local store is named by its path relative to the store's folder, never absolutely.
    assert str(server.store.db_path.parent) not in a["index.md"].decode()
    home_a = a["index.md"].decode().replace("sqlite:///mlflow.db", "URI")
    home_b = b["index.md"].decode().replace(server.url, "URI")
    assert home_a == home_b


def _diff(a: dict[str, bytes], b: dict[str, bytes], path: str) -> str:
    lines = difflib.unified_diff(
        a[path].decode().splitlines(), b[path].decode().splitlines(), "sqlite", "rest", lineterm=""
    )
    return f"{path} differs:\n" + "\n".join(list(lines)[:40])


def test_no_point_is_lost_to_the_bulk_endpoints_cap(server: Server, pulled: Pulled) -> None:
    """28,000 points of one key in one batch of four runs (the server answers 25,000 without
    saying so), and one run of 26,000: the reader notices the cap, splits, and pages."""
    histories = snapshot_data(pulled.remote)["histories"]
    expected = snapshot_data(pulled.direct)["histories"]
    for label, count in BULK_RUNS.items():
        rid = server.bulk_runs[label]
        [hist] = pulled.remote.histories[rid]
        assert hist.key == BULK_KEY and len(hist.values) == count, label
        assert histories[rid] == expected[rid], label
    assert sum(BULK_RUNS.values()) > 2 * 25_000


def test_bulk_requests_respect_the_servers_limits(pulled: Pulled) -> None:
    """Every bulk request names at most 100 runs (the server refuses more); the cap was met
    (28,000 points asked for in one request) and the answer was not kept."""
    assert pulled.bulk and all(asked <= 100 for asked, _ in pulled.bulk)
    assert any(points == 25_000 for _, points in pulled.bulk)


# --- retries --------------------------------------------------------------------------------------


def test_5xx_answers_and_dropped_connections_are_retried(
    server: Server, pulled: Pulled, quick_retries: None
) -> None:
    handler = proxy(server.url, flaky=True)
    with http_server(handler) as url:
        through = pull(EVERY_RUN, url)
    a, b = snapshot_data(pulled.direct), snapshot_data(through)
    for part in PARTS:
        assert a[part] == b[part], part
    assert len(handler.failed) >= 5
    # Daybook's own requests (the probe, the bulk endpoint) and MLflow's client's alike.
    assert "/api/2.0/mlflow/experiments/search" in handler.failed
    assert "/ajax-api/2.0/mlflow/metrics/get-history-bulk" in handler.failed
    assert "/api/2.0/mlflow/runs/search" in handler.failed


# --- answers a user must act on -------------------------------------------------------------------


def answering(status: int, body: bytes = b"", seen: list[dict[str, str]] | None = None):
    """A handler class that answers every request with `status` (recording the headers)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if seen is not None:
                seen.append({k.lower(): v for k, v in self.headers.items()})
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if body else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "the server refused access (HTTP 401); set MLFLOW_TRACKING_USERNAME and "
              "MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN."),
        (403, "the server denied permission (HTTP 403); set MLFLOW_TRACKING_USERNAME and "
              "MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN."),
        (404, "no MLflow API there (HTTP 404). Check the URI (the server's base address, "
              "without a UI or API path)."),
        (500, "the server answered HTTP 500 to a search (after retries)."),
    ],
)  # fmt: skip
def test_refusals_are_one_line_saying_what_to_do(
    status: int, expected: str, quick_retries: None
) -> None:
    seen: list[dict[str, str]] = []
    with http_server(answering(status, seen=seen)) as url, pytest.raises(SourceError) as info:
        pull(DaybookConfig(), url)
    assert str(info.value) == f"{url}: {expected}"
    # 5xx are retried (here 2 quick retries for the first request); the others are not
    assert len(seen) == (3 if status == 500 else 1)


def test_with_credentials_set_a_401_says_to_check_them(
    quick_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "wrong")
    with http_server(answering(401)) as url, pytest.raises(SourceError) as info:
        pull(DaybookConfig(), url)
    assert str(info.value).endswith(
        "(HTTP 401); check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or "
        "MLFLOW_TRACKING_TOKEN."
    )


def test_the_cli_reports_a_401_in_one_line_without_the_password(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("init", site).returncode == 0
    with http_server(answering(401)) as url:
        uri = url.replace("http://", "http://bob:hunter2@")
        result = run_cli("build", "-q", "-C", site, "--tracking-uri", uri)
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith(f"Error: {url.replace('http://', 'http://***@')}: the server refused")
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize("scheme", ["basic", "token"])
def test_mlflows_authentication_variables_are_sent_with_every_request(
    scheme: str, quick_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLFLOW_TRACKING_USERNAME/PASSWORD (HTTP basic) or MLFLOW_TRACKING_TOKEN (bearer) reach
    the server on Daybook's own requests and on MLflow's client's."""
    if scheme == "basic":
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ada")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
        expected = "Basic " + base64.b64encode(b"ada:s3cret").decode()
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok-123")
        expected = "Bearer tok-123"
    seen: list[dict[str, str]] = []
    # An empty MLflow store answers `{}` to every search.
    with http_server(answering(200, json.dumps({}).encode(), seen)) as url:
        snap = pull(DaybookConfig(), url)
    assert snap.experiments == () and snap.models == ()
    assert len(seen) >= 3 and all(h.get("authorization") == expected for h in seen)


# --- incremental pulls over REST ------------------------------------------------------------------


def test_an_incremental_pull_over_rest_reads_only_what_changed(server: Server) -> None:
    """Last in this file: it writes to the served store (through the server, as a team does)."""
    config = DaybookConfig(experiments=ExperimentFilter(exclude=["bulk-history"]))
    first = update(config, server.url, None)
    c = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    exp = server.store.experiments["classifier"]
    new = c.create_run(exp, run_name="over-rest").info.run_id
    c.log_metric(new, "val_accuracy", 0.999, step=0)
    c.set_terminated(new, "FINISHED")
    c.delete_run(server.store.runs["failed"])
    result = update(config, server.url, loads(dumps(first.stored)))  # as from the file
    report = result.report
    assert not report.full and report.from_index  # no saved run decoded but those that went
    assert (report.new_runs, report.updated_runs, report.deleted_runs) == (1, 0, 1)
    assert report.histories_read == 1 + sum(  # the new run and any page run still going
        1 for r in result.snapshot.runs if r.status == "RUNNING" and r.run_id in
        result.stored.detail_runs
    )  # fmt: skip
    full = update(config, server.url, None)
    assert snapshot_data(result.snapshot) == snapshot_data(full.snapshot)
    direct = update(config, server.store.uri, None)
    assert snapshot_data(result.snapshot)["runs"] == snapshot_data(direct.snapshot)["runs"]
