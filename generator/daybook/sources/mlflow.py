"""Picks the reader for a tracking URI, and lists artifacts.

The only module (with its readers) that knows MLflow exists. The rule it enforces: reading
never changes the store, and never leaves a file behind.
"""

from __future__ import annotations

import os
import re
from collections import deque
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from daybook.core.errors import SourceError
from daybook.core.snapshot import Artifact, Experiment, MetricHistory, RegisteredModel, Run
from daybook.safety.redact import strip_credentials

_SQLITE = re.compile(r"^sqlite(\+\w+)?:///(?P<path>.*)$")
MAX_ARTIFACTS = 200  # per run: a listing, not a mirror


class Reader(Protocol):
    kind: str

    def read_experiments(self) -> list[Experiment]: ...
    def read_runs(self, experiment_ids: list[str]) -> list[Run]: ...
    def read_models(self) -> list[RegisteredModel]: ...
    def read_runs_by_id(self, run_ids: list[str], experiment_ids: list[str]) -> list[Run]: ...
    def close(self) -> None: ...


@runtime_checkable
class IndexedReader(Reader, Protocol):
    """A reader that lists every active run's id, status and end time in one cheap query, so an
    incremental pull can tell exactly what is new, changed or gone (the sqlite reader)."""

    def read_run_index(self, experiment_ids: list[str]) -> dict[str, tuple[str, int | None]]: ...


@runtime_checkable
class SplitReader(Reader, Protocol):
    """A reader that counts the runs and reads them by a range of ids, so a big store's full
    pull is read in two halves by two processes (the direct SQL readers)."""

    def count_runs(self, experiment_ids: list[str]) -> int: ...
    def read_runs(
        self,
        experiment_ids: list[str],
        ids_from: str | None = None,
        ids_before: str | None = None,
    ) -> list[Run]: ...


@runtime_checkable
class SearchingReader(Reader, Protocol):
    """A reader that can only search (MLflow's client: servers, other databases): an incremental
    pull asks for runs started or ended since a time, and for the ids of deleted runs."""

    def read_changed_runs(self, experiment_ids: list[str], since_ms: int) -> list[Run]: ...
    def read_deleted_run_ids(self, experiment_ids: list[str]) -> set[str]: ...


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///…` URI (also the `file:…?mode=ro` form), else None."""
    m = _SQLITE.match(uri)
    if not m:
        return None
    raw = m.group("path")
    raw = unquote(urlsplit(raw).path) if raw.startswith("file:") else raw.split("?", 1)[0]
    return Path("/" + raw.lstrip("/")) if raw.startswith("/") else Path(raw).resolve()


def open_reader(uri: str, *, force_client: bool = False) -> Reader:
    """The fastest correct reader for `uri`.

    sqlite: a read-only connection; direct SQL when the schema revision is known, else MLflow's
    client on a read-only URI (with the `sqlite+pysqlite` spelling, which keeps MLflow from
    creating a `file:/…` folder tree in the working directory). PostgreSQL and MySQL/MariaDB:
    the same direct SQL in a session the server keeps read-only, when the schema revision is
    known, else MLflow's client in such sessions (daybook.sources.database).
    """
    from daybook.sources.client import ClientReader
    from daybook.sources.database import is_database_uri, open_database
    from daybook.sources.sqlite import (
        KNOWN_REVISIONS,
        SqliteReader,
        connect_readonly,
        schema_revision,
    )

    display = strip_credentials(uri)
    path = sqlite_path(uri)
    if path is not None:
        if not path.is_file():
            raise SourceError(
                f"{display}: no MLflow database at {path}. Check the path, set --tracking-uri or "
                "MLFLOW_TRACKING_URI, or run `daybook demo` to create the demo store."
            )
        conn = connect_readonly(path)
        revision = schema_revision(conn)
        if revision is None:
            conn.close()
            raise SourceError(f"{display}: {path} is not an MLflow tracking database")
        if revision in KNOWN_REVISIONS and not force_client:
            return SqliteReader(path, conn)
        conn.close()
        ro = f"sqlite+pysqlite:///file:{path}?mode=ro&uri=true"
        try:
            return ClientReader(ro, display)
        except SourceError as exc:
            raise SourceError(
                f"{display}: schema revision {revision} is unknown to Daybook and MLflow's client "
                f"cannot read it read-only ({exc}). Upgrade Daybook's mlflow to the version that "
                "wrote this store."
            ) from None
    if uri.startswith(("http://", "https://")):
        return ClientReader(uri, display)
    if is_database_uri(uri):
        return open_database(uri, force_client=force_client)
    if uri.startswith("mssql"):
        raise SourceError(
            f"{display}: Daybook cannot open SQL Server read-only, and MLflow's client would "
            "create tables in it: read it through an `mlflow server` (http://…) instead."
        )
    raise SourceError(
        f"{display}: unsupported tracking URI. Use sqlite:///path/to/mlflow.db, "
        "postgresql://…, mysql://… or an http(s):// MLflow server (file stores: convert with "
        "`mlflow migrate-filestore`)."
    )


def read_histories(
    reader: Reader, run_ids: list[str], steps_of: dict[str, dict[str, int]]
) -> dict[str, tuple[MetricHistory, ...]]:
    """The histories of `run_ids`; `steps_of`: each run's `metric_steps` (the MLflow client
    reads a metric at a time, sized by its last step)."""
    from daybook.sources.client import ClientReader

    if isinstance(reader, ClientReader):
        return reader.read_histories(run_ids, steps_of)
    return reader.read_histories(run_ids)  # type: ignore[attr-defined]


def list_artifacts(artifact_uri: str, tracking_uri: str) -> tuple[Artifact, ...]:
    """A bounded listing of a run's artifacts, read from its artifact root directly (a local
    walk, or one artifact-repository listing per folder) instead of a `list_artifacts` round
    trip per run through the tracking server."""
    if not artifact_uri:
        return ()
    local = _local_path(artifact_uri)
    if local is not None:
        return _walk_local(local)
    try:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        repo = get_artifact_repository(artifact_uri, tracking_uri=tracking_uri)
        out: list[Artifact] = []
        queue: deque[str | None] = deque([None])
        while queue and len(out) < MAX_ARTIFACTS:
            for info in repo.list_artifacts(queue.popleft()):
                out.append(Artifact(info.path, bool(info.is_dir), info.file_size))
                if info.is_dir:
                    queue.append(info.path)
        return tuple(sorted(out[:MAX_ARTIFACTS], key=lambda a: a.path))
    except Exception:
        return ()


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file:"):
        return Path(unquote(urlsplit(uri).path))
    if uri.startswith("/"):
        return Path(uri)
    return None


def _walk_local(root: Path) -> tuple[Artifact, ...]:
    if not root.is_dir():
        return ()
    out: list[Artifact] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = Path(dirpath).relative_to(root)
        for d in dirnames:
            out.append(Artifact((rel / d).as_posix(), True, None))
        for f in sorted(filenames):
            try:
                size = (Path(dirpath) / f).stat().st_size
            except OSError:
                size = None
            out.append(Artifact((rel / f).as_posix(), False, size))
        if len(out) >= MAX_ARTIFACTS:
            break
    return tuple(sorted(out[:MAX_ARTIFACTS], key=lambda a: a.path))
