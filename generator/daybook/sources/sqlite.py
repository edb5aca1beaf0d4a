"""Opens an MLflow sqlite store read-only, for the shared direct SQL reader (daybook.sources.sql).

MLflow's own client costs seconds per thousand runs and (through its migrations) may write to the
file. A `mode=ro` connection can do neither, and reads the same tables in a fraction of the time.
It is used only for schema revisions Daybook knows; anything else goes through the client.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from daybook.core.errors import SourceError
from daybook.sources.sql import KNOWN_REVISIONS, SQLITE, SqlReader, assemble_histories

__all__ = [
    "KNOWN_REVISIONS",
    "SqliteReader",
    "assemble_histories",
    "connect_readonly",
    "schema_revision",
]


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that cannot write, create or migrate anything."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"sqlite:///{path}: cannot open as an MLflow database ({exc})") from None
    return conn


def schema_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


class SqliteReader(SqlReader):
    """The shared SQL reader (daybook.sources.sql) on one `mode=ro` connection of a sqlite file."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        super().__init__(
            conn,
            SQLITE,
            tables,
            kind="sqlite (direct read-only SQL)",
            display_uri=f"sqlite:///{path}",
            on_close=conn.close,
        )
