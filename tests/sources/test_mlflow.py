"""Choosing a reader for a tracking URI, MLflow's client as a reader, and unreachable servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from daybook.core.config import DaybookConfig, RunPages
from daybook.core.errors import SourceError
from daybook.sources import client as client_module
from daybook.sources.client import ClientReader
from daybook.sources.mlflow import open_reader, sqlite_path
from daybook.sources.sqlite import SqliteReader
from daybook.store.pull import pull
from helpers import error_lines, fingerprint, run_cli, snapshot_data, stray_files
from store_builder import StoreInfo

EVERY_RUN = DaybookConfig(run_pages=RunPages(all=True))
FAIL_FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "3"}


@pytest.fixture
def fail_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAIL_FAST.items():
        monkeypatch.setenv(key, value)


# --- URIs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("sqlite:////data/mlflow.db", "/data/mlflow.db"),
        ("sqlite+pysqlite:////data/mlflow.db", "/data/mlflow.db"),
        ("sqlite:////data/mlflow.db?timeout=5", "/data/mlflow.db"),
        ("sqlite+pysqlite:///file:/data/my%20store.db?mode=ro&uri=true", "/data/my store.db"),
        ("http://127.0.0.1:5000", None),
        ("postgresql://u@db/mlflow", None),
    ],
)
def test_sqlite_path_finds_the_database_file(uri: str, path: str | None) -> None:
    found = sqlite_path(uri)
    assert (str(found) if found else None) == path


def test_a_relative_sqlite_path_is_relative_to_the_cwd(workdir: Path) -> None:
    assert sqlite_path("sqlite:///sub/mlflow.db") == workdir / "sub" / "mlflow.db"


def test_the_client_reads_a_known_store_only_when_asked(store: StoreInfo) -> None:
    for force, kind in [(False, SqliteReader), (True, ClientReader)]:
        reader = open_reader(store.uri, force_client=force)
        try:
            assert isinstance(reader, kind)
        finally:
            reader.close()


@pytest.mark.parametrize(
    "uri", ["file:///tmp/mlruns", "/tmp/mlruns", "./mlruns", "s3://bucket/mlruns", "databricks"]
)
def test_unsupported_uris_are_refused_with_what_to_use(uri: str) -> None:
    with pytest.raises(SourceError, match="unsupported tracking URI") as info:
        open_reader(uri)
    assert str(info.value).startswith(f"{uri}: ")
    assert "sqlite:///" in str(info.value) and "http" in str(info.value)


# --- MLflow's client as a reader ------------------------------------------------------------------


def test_reading_through_the_client_leaves_no_trace(
    store: StoreInfo, store_before: dict, workdir: Path
) -> None:
    snap = pull(EVERY_RUN, store.uri, force_client=True)
    assert len(snap.runs) == len(store.runs)
    assert fingerprint(store.db_path.parent) == store_before
    assert stray_files(workdir) == []


def test_histories_split_across_many_bulk_requests_are_complete(
    store: StoreInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a cap of 2 points per bulk answer, every batch hits the cap, is split, and single
    runs are read page by page: the result must not lose or repeat a point."""
    expected = snapshot_data(pull(EVERY_RUN, store.uri))["histories"]
    monkeypatch.setattr(client_module, "BULK_MAX_POINTS", 2)
    monkeypatch.setattr(client_module, "BULK_MAX_RUNS", 2)
    got = snapshot_data(pull(EVERY_RUN, store.uri, force_client=True))["histories"]
    assert got == expected
    child = store.runs["child0"]
    assert [len(h["values"]) for h in got[child]] == [3, 3]


# --- servers that do not answer -------------------------------------------------------------------


def test_an_unreachable_server_is_one_line_naming_the_uri_without_its_password(
    fail_fast: None,
) -> None:
    with pytest.raises(SourceError) as info:
        pull(DaybookConfig(), "http://bob:hunter2@127.0.0.1:9")
    message = str(info.value)
    assert message.startswith("http://***@127.0.0.1:9: ")
    assert "hunter2" not in message
    assert "\n" not in message


def test_the_cli_reports_an_unreachable_server_in_one_line(tmp_path: Path, workdir: Path) -> None:
    site = tmp_path / "site"
    run_cli("init", site).check_returncode()
    result = run_cli(
        "build",
        "-q",
        "-C",
        site,
        "--tracking-uri",
        "http://bob:hunter2@127.0.0.1:9",
        env=FAIL_FAST,
    )
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith("Error: http://***@127.0.0.1:9: ")
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not (site / "site").exists()
    assert stray_files(workdir, site) == []
