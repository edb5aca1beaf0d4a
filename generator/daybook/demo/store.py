"""Embedded demo data: a real local MLflow store, built by really training small models.

Daybook needs something to render before a team points it at its own tracking server, and
a hand-written fixture would drift from what MLflow actually stores.  The stories
(`demo.stories`, written through `demo.writer`) say what goes in; this module creates the
store around them: a temporary database that is published as ``mlflow.db`` only once it is
complete, an artifact root it may reuse only if a demo build made it, MLflow's global state
scoped to the build, and the creation times MLflow offers no API to set.

Everything is seeded, and all timestamps are relative to ``now_ms``, so two builds differ
only in run/model ids and absolute times.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import sqlite3
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from daybook.demo.stories import write_stories
from daybook.demo.writer import StoryWriter

__all__ = [
    "DemoError",
    "DemoStore",
    "create_demo_store",
]

DB_NAME = "mlflow.db"
ARTIFACTS_NAME = "mlartifacts"
_PARTIAL_PREFIX = ".mlflow.db.partial-"
_MARKER = ".daybook-demo"


@dataclasses.dataclass(frozen=True)
class DemoStore:
    """Where the demo store lives, and whether this call actually built it."""

    directory: Path
    db_path: Path
    artifact_root: Path
    tracking_uri: str
    created: bool


class DemoError(Exception):
    """A demo build failed; the message is one line meant for the user."""


def create_demo_store(
    directory: Path,
    *,
    progress: Callable[[str], None] = lambda msg: None,
    now_ms: int | None = None,
) -> DemoStore:
    """Build the demo MLflow store in ``directory`` unless one is already there.

    An existing ``mlflow.db`` is never touched (it may be a user's store).  The database is
    written to a temporary file and renamed at the end, so an interrupted build never leaves
    a ``mlflow.db`` that looks complete.  Not safe to run concurrently on one directory.
    """
    directory = Path(directory).expanduser().absolute()
    db_path = directory / DB_NAME
    artifact_root = directory / ARTIFACTS_NAME
    store = DemoStore(
        directory=directory,
        db_path=db_path,
        artifact_root=artifact_root,
        tracking_uri=f"sqlite:///{db_path}",
        created=False,
    )
    if db_path.exists():
        progress(f"{db_path} already exists; leaving it alone")
        return store

    now = int(time.time() * 1000) if now_ms is None else int(now_ms)
    _prepare_directory(directory, artifact_root)

    tmp_path = directory / f"{_PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_uri = f"sqlite:///{tmp_path}"
    try:
        with _quiet_mlflow(), _scoped_mlflow_uris(tmp_uri):
            writer = StoryWriter(tmp_uri, artifact_root, now, progress)
            writer.create_database()
            write_stories(writer)
        _dispose_engines(tmp_uri)
        _backdate(tmp_path, writer.backdates)
        progress("finalising the store")
        _publish(tmp_path, db_path)
    except DemoError:
        _remove_partial(tmp_path, tmp_uri)
        raise
    except BaseException as exc:
        _remove_partial(tmp_path, tmp_uri)
        if isinstance(exc, Exception):
            first = (str(exc).strip().splitlines() or [""])[0]
            raise DemoError(
                f"building the demo store failed: {type(exc).__name__}: {first}"
            ) from exc
        raise
    return dataclasses.replace(store, created=True)


# --------------------------------------------------------------------------------------------
# Store plumbing: temp file, artifact root, global MLflow state
# --------------------------------------------------------------------------------------------


def _prepare_directory(directory: Path, artifact_root: Path) -> None:
    """Create ``directory`` and the artifact root; remove partial files of earlier builds."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _prepare_artifact_root(artifact_root)
        for stale in directory.glob(_PARTIAL_PREFIX + "*"):
            stale.unlink()
    except OSError as exc:
        raise DemoError(f"cannot prepare {directory}: {exc.strerror or exc}") from exc


def _prepare_artifact_root(artifact_root: Path) -> None:
    """Reuse an artifact root only if an earlier (interrupted) demo build created it."""
    if artifact_root.exists() and any(artifact_root.iterdir()):
        if not (artifact_root / _MARKER).exists():
            raise DemoError(
                f"{artifact_root} already exists and was not created by a Daybook demo build; "
                "use an empty directory"
            )
        shutil.rmtree(artifact_root)
    artifact_root.mkdir(parents=True, exist_ok=True)
    (artifact_root / _MARKER).write_text(
        "Artifacts of the Daybook demo MLflow store (see ../mlflow.db).\n", encoding="utf-8"
    )


def _publish(tmp_path: Path, db_path: Path) -> None:
    """Move the finished database into place without ever replacing an existing file."""
    try:
        os.link(tmp_path, db_path)
    except FileExistsError as exc:
        raise DemoError(
            f"{db_path} appeared while the demo was being built; left it alone"
        ) from exc
    except OSError:
        # Filesystems without hard links: fall back to a rename after re-checking.
        if db_path.exists():
            raise DemoError(
                f"{db_path} appeared while the demo was being built; left it alone"
            ) from None
        os.replace(tmp_path, db_path)
        return
    tmp_path.unlink()


def _remove_partial(tmp_path: Path, tmp_uri: str) -> None:
    """Best-effort cleanup so a failed build leaves no file that could be mistaken for a store."""
    with contextlib.suppress(Exception):
        _dispose_engines(tmp_uri)
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{tmp_path}{suffix}").unlink()


def _dispose_engines(db_uri: str) -> None:
    """Close MLflow's cached SQLAlchemy engines for the temp file before it is renamed.

    MLflow caches one engine per URI at class level; a pooled connection would otherwise keep
    pointing at the renamed inode.
    """
    from mlflow.store.model_registry.sqlalchemy_store import (
        SqlAlchemyStore as RegistryStore,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    for cls in (TrackingStore, RegistryStore):
        engine_map = getattr(cls, "_engine_map", None)
        if isinstance(engine_map, dict) and (engine := engine_map.pop(db_uri, None)) is not None:
            engine.dispose()


@contextlib.contextmanager
def _scoped_mlflow_uris(uri: str) -> Iterator[None]:
    """Point MLflow's *global* tracking/registry URI at ``uri`` and restore it afterwards.

    The fluent APIs (``start_run``, ``log_input``, ``log_model``) and, surprisingly, the
    registry's ``create_model_version`` for ``models:/`` sources only use the global URI.
    ``mlflow.set_tracking_uri`` also writes ``MLFLOW_TRACKING_URI`` into ``os.environ`` (and
    setting it back to ``None`` deletes it), so the environment is restored explicitly.
    A caller's ``mlflow.set_experiment`` would make resuming our runs fail, so the active
    experiment is cleared for the duration too.
    """
    import mlflow
    from mlflow.tracking import fluent
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    env_names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved_env = {name: os.environ.get(name) for name in env_names}
    saved_tracking = getattr(tracking_utils, "_tracking_uri", None)
    saved_registry = getattr(registry_utils, "_registry_uri", None)
    saved_experiment = getattr(fluent, "_active_experiment_id", None)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    fluent._active_experiment_id = None
    try:
        yield
    finally:
        fluent._active_experiment_id = saved_experiment
        mlflow.set_tracking_uri(saved_tracking)
        registry_utils._registry_uri = saved_registry
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """Silence migration chatter and library warnings; the caller gets ``progress`` lines."""
    import mlflow  # noqa: F401  (importing mlflow configures its logger; override afterwards)

    names = ("mlflow", "alembic")
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _backdate(db_file: Path, backdates: dict[str, list[tuple[Any, ...]]]) -> None:
    """Give experiments and registry objects the past creation times the story needs.

    MLflow stamps experiments, registered models, model versions and logged models with the
    wall clock and offers no API to choose the time (runs and metrics do take explicit
    times).  Without this, every version would look "registered in the last 24 hours".
    """
    statements = {
        "experiments": (
            "UPDATE experiments SET creation_time = ?, last_update_time = ? WHERE experiment_id = ?"
        ),
        "registered_models": (
            "UPDATE registered_models SET creation_time = ?, last_updated_time = ? WHERE name = ?"
        ),
        "model_versions": (
            "UPDATE model_versions SET creation_time = ?, last_updated_time = ? "
            "WHERE name = ? AND version = ?"
        ),
        "logged_models": (
            "UPDATE logged_models SET creation_timestamp_ms = ?, last_updated_timestamp_ms = ? "
            "WHERE model_id = ?"
        ),
    }
    conn = sqlite3.connect(db_file)
    try:
        with conn:
            for table, rows in backdates.items():
                for row in rows:
                    conn.execute(statements[table], row)
    finally:
        conn.close()
