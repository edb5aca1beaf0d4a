"""Two `daybook build`s of one site at once (a cron job and a person, two CI jobs): the second
waits for the first, so together they leave one consistent site and record each alias move once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from daybook.mkdocs.scaffold import init_site
from daybook.store.lock import site_lock
from daybook.store.snapshot_file import load, snapshot_path
from store_builder import StoreInfo

DAYBOOK = [sys.executable, "-m", "daybook.cli"]
WAITING = "waiting for another daybook run on this site (lock .daybook/lock)…"


def _start_build(site: Path, uri: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.Popen(
        [*DAYBOOK, "build", "-C", str(site), "--tracking-uri", uri],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_builds_started_together_leave_one_site_and_record_each_alias_move_once(
    tmp_path: Path, deleted_store: StoreInfo
) -> None:
    site = tmp_path / "site"
    init_site(site)
    builds = [_start_build(site, deleted_store.uri) for _ in range(2)]
    results = [b.communicate(timeout=600) for b in builds]
    for build, (_, stderr) in zip(builds, results, strict=True):
        assert build.returncode == 0, stderr
        assert "Traceback" not in stderr
    # one of them found the site taken and said so, once; the other never waited
    waited = [
        [line for line in stderr.splitlines() if line.endswith(WAITING)] for _, stderr in results
    ]
    assert sorted(len(w) for w in waited) == [0, 1], [r[1] for r in results]
    # one site: built, with the store's model, and a snapshot that loads
    assert (site / "site" / "index.html").is_file()
    assert (site / "site" / "models" / "m" / "index.html").is_file()
    assert load(snapshot_path(site)).tracking_uri.endswith("mlflow.db")
    # the alias was recorded once: the second build read what the first one appended
    lines = (site / "history" / "aliases.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(set(lines)) == 1
    event = json.loads(lines[0])
    assert (event["model"], event["alias"], event["to"], event["event"]) == (
        "m",
        "prod",
        1,
        "baseline",
    )
    # and nothing half-written is left behind
    assert not list((site / ".daybook").glob("*.tmp"))
    assert not list((site / ".daybook").glob(".*.tmp"))


def test_builds_lined_up_behind_a_held_site_go_one_at_a_time(
    tmp_path: Path, deleted_store: StoreInfo
) -> None:
    # The tightest race: both builds are waiting when the site is let go, at the same instant.
    site = tmp_path / "site"
    init_site(site)
    stderr: list[list[str]] = [[], []]
    with site_lock(site):
        builds = [_start_build(site, deleted_store.uri) for _ in range(2)]
        readers = [
            threading.Thread(target=lambda b=b, out=out: out.extend(b.stderr), daemon=True)
            for b, out in zip(builds, stderr, strict=True)
        ]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + 120
        while not all(any(WAITING in line for line in out) for out in stderr):
            assert time.monotonic() < deadline, stderr
            time.sleep(0.05)
    for build, reader in zip(builds, readers, strict=True):
        assert build.wait(timeout=600) == 0, stderr
        reader.join()
    # each said once that it waited (one waited for the test, then for the other build)
    assert [sum(WAITING in line for line in out) for out in stderr] == [1, 1]
    lines = (site / "history" / "aliases.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["event"] == "baseline"
    assert (site / "site" / "index.html").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_holds_the_site_only_while_it_regenerates(
    tmp_path: Path, deleted_store: StoreInfo
) -> None:
    site = tmp_path / "site"
    init_site(site)
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    store = ["-C", str(site), "--tracking-uri", deleted_store.uri]
    with log.open("w") as out:
        server = subprocess.Popen(
            [*DAYBOOK, "serve", *store, "-a", f"127.0.0.1:{_free_port()}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def logged(text: str, timeout: float = 120) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if text in log.read_text(encoding="utf-8"):
                    return True
                time.sleep(0.1)
            return False

        assert logged("Serving on"), log.read_text()
        # a cron build while the preview is idle does not wait for it
        build = subprocess.run(
            [*DAYBOOK, "build", *store],
            env={**env, "DAYBOOK_LOCK_TIMEOUT": "0"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert build.returncode == 0, build.stderr
        assert WAITING not in build.stderr
        # and a regeneration while a build holds the site waits for it
        with site_lock(site):
            about = site / "docs" / "about.md"
            about.write_text(about.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
            assert logged(WAITING), log.read_text()
        assert logged("Reloading browsers"), log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=60)
