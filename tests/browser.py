"""A built site served on 127.0.0.1 and a headless Chromium to read it, for the reader-side
benchmark (bench_reader.py) and the browser tests (tests/pages/test_big_tables.py).

The server gzips text as GitHub Pages, Netlify or nginx do (turn it off to see raw bytes) and
records every path asked for. Chromium runs with a fresh profile (an empty cache), no background
networking, and a host resolver that maps every name but 127.0.0.1 to nowhere; its DevTools
performance log says what the page requested and how many bytes came over the wire.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import mimetypes
import os
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("DAYBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DAYBOOK_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1400,1000",
)
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map")


def browser_available() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file():
            return f"{path} not found (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


# --- the server ----------------------------------------------------------------------------------


@dataclass
class StaticServer:
    root: Path
    gzip: bool = True
    requests: list[str] = field(default_factory=list)  # paths, in the order asked
    _server: ThreadingHTTPServer | None = None
    _cache: dict[Path, bytes] = field(default_factory=dict)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> StaticServer:
        owner = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(owner.root), **kwargs)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                path = Path(self.translate_path(self.path))
                if path.is_dir():
                    if not urllib.parse.urlsplit(self.path).path.endswith("/"):
                        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                        parts = urllib.parse.urlsplit(self.path)
                        self.send_header("Location", parts.path + "/")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    path = path / "index.html"
                if not path.is_file():
                    body = b"not found"
                    self.send_response(HTTPStatus.NOT_FOUND)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                data = path.read_bytes()
                ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                zipped = (
                    owner.gzip
                    and path.suffix in COMPRESSIBLE
                    and "gzip" in self.headers.get("Accept-Encoding", "")
                )
                if zipped:
                    if path not in owner._cache:
                        owner._cache[path] = gzip.compress(data, 6, mtime=0)
                    data = owner._cache[path]
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                if zipped:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Cache-Control", "max-age=600")
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextlib.contextmanager
def serve(root: Path, *, gzip: bool = True) -> Iterator[StaticServer]:
    server = StaticServer(root, gzip=gzip).start()
    try:
        yield server
    finally:
        server.stop()


# --- the browser ---------------------------------------------------------------------------------


@dataclass
class Request:
    url: str
    bytes: int = 0  # encoded (over the wire) bytes, headers included
    status: int | None = None
    failed: str = ""


class NetworkLog:
    """The page's requests, read from Chromium's DevTools performance log."""

    def __init__(self) -> None:
        self.requests: dict[str, Request] = {}

    def feed(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            msg = json.loads(entry["message"])["message"]
            method, params = msg.get("method", ""), msg.get("params", {})
            rid = params.get("requestId")
            if method == "Network.requestWillBeSent":
                self.requests.setdefault(rid, Request(params["request"]["url"]))
                self.requests[rid].url = params["request"]["url"]
            elif method == "Network.responseReceived" and rid in self.requests:
                self.requests[rid].status = params["response"].get("status")
            elif method == "Network.loadingFinished" and rid in self.requests:
                self.requests[rid].bytes = int(params.get("encodedDataLength", 0))
            elif method == "Network.loadingFailed" and rid in self.requests:
                self.requests[rid].failed = params.get("errorText", "failed")

    @property
    def urls(self) -> list[str]:
        return [r.url for r in self.requests.values()]

    @property
    def total_bytes(self) -> int:
        return sum(r.bytes for r in self.requests.values())

    def foreign(self) -> list[str]:
        """Requests for anything but 127.0.0.1 (data: and about: URLs stay in the page)."""
        out = []
        for url in self.urls:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme in ("data", "about", "blob"):
                continue
            if parts.hostname != "127.0.0.1":
                out.append(url)
        return out


class Browser:
    """Headless Chromium through Selenium and the distribution's chromedriver (no downloads:
    Selenium Manager is skipped because the driver's path is given)."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        self.profile = Path(tempfile.mkdtemp(prefix="daybook-chromium-"))
        options = Options()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        service = Service(executable_path=CHROMEDRIVER)
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        self.driver.get("about:blank")  # leave the start page, and forget what it loaded
        self.driver.get_log("performance")
        self.network = NetworkLog()

    def on_new_document(self, script: str) -> None:
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})

    def drain(self) -> NetworkLog:
        self.network.feed(self.driver.get_log("performance"))
        return self.network

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


@contextlib.contextmanager
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.close()


def page_url(base: str, page: str) -> str:
    """The URL of a built page (`experiments/x/` or `experiments/x/index.html`) on the server."""
    return urllib.parse.urljoin(base, page.lstrip("/"))
