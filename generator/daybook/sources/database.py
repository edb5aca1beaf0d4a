"""Opens PostgreSQL and MySQL/MariaDB tracking stores read-only, before anything reads them.

Why: MLflow's SqlAlchemyStore creates every table (and a Default experiment) in a database that
lacks them, and migrates one whose schema is older. So Daybook first connects on its own, in a
session the database server itself keeps read-only, and checks that the database is an MLflow
store and which schema revision it has:

- PostgreSQL: libpq's `options=-c default_transaction_read_only=on` (psycopg2 or psycopg);
- MySQL/MariaDB: PyMySQL's (or mysqlclient's) `init_command=SET SESSION TRANSACTION READ ONLY`.

A revision Daybook knows is read on that same session by the direct SQL reader
(daybook.sources.sql), as sqlite files are. Any other revision goes to MLflow's client, with the
same read-only setting in its URI (so that not even its own start-up can write), and only if it
is the revision this MLflow reads without migrating.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from daybook.core.errors import SourceError
from daybook.safety.redact import strip_credentials
from daybook.sources.client import ClientReader
from daybook.sources.sql import KNOWN_REVISIONS, SqlReader, dialect_of

PG_READ_ONLY = "-c default_transaction_read_only=on"
MYSQL_READ_ONLY = "SET SESSION TRANSACTION READ ONLY"
CONNECT_TIMEOUT = 10  # seconds: a wrong host is one line soon, not a hang
_PG_DRIVERS = ("psycopg2", "psycopg")  # pass URI query parameters on to libpq
_MYSQL_DRIVERS = ("pymysql", "mysqldb")  # take `init_command`
_SCHEME = re.compile(r"^(?P<backend>[a-zA-Z]+)(\+(?P<driver>\w+))?://")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|passwd|sslpassword)=)[^&]*")


def is_database_uri(uri: str) -> bool:
    """A PostgreSQL or MySQL/MariaDB URI, any `+driver` spelling."""
    m = _SCHEME.match(uri)
    return bool(m) and m.group("backend").lower() in ("postgresql", "mysql", "mariadb")


def display_uri(uri: str) -> str:
    """The URI as shown: no password in the user part, nor in the query."""
    return _QUERY_SECRET.sub(r"\1***", strip_credentials(uri))


def readonly_url(uri: str) -> Any:
    """The SQLAlchemy URL of `uri` whose every session the server keeps read-only.

    No driver given means the one Daybook installs (psycopg2, PyMySQL), whatever SQLAlchemy's
    default is; `mariadb://` is read with MySQL's dialect, the one MLflow knows."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    display = display_uri(uri)
    try:
        url = make_url(uri)
    except (ArgumentError, ValueError) as exc:
        raise SourceError(f"{display}: not a database URI ({_line(exc)})") from None
    m = _SCHEME.match(uri)
    assert m is not None  # is_database_uri() chose this module
    backend, driver = m.group("backend").lower(), (m.group("driver") or "").lower()
    if not url.database:
        raise SourceError(f"{display}: the URI names no database (…/DATABASE at its end).")
    if backend == "postgresql":
        driver = driver or "psycopg2"
        if driver not in _PG_DRIVERS:
            raise SourceError(
                f"{display}: Daybook reads PostgreSQL through psycopg2 or psycopg only (they can "
                "open a read-only session); write postgresql:// or postgresql+psycopg2://."
            )
        options = " ".join(x for x in (url.query.get("options", ""), PG_READ_ONLY) if x)
        return url.set(drivername=f"postgresql+{driver}").update_query_dict({"options": options})
    driver = driver or "pymysql"
    if driver not in _MYSQL_DRIVERS:
        raise SourceError(
            f"{display}: Daybook reads MySQL and MariaDB through PyMySQL or mysqlclient only "
            "(they can open a read-only session); write mysql:// or mysql+pymysql://."
        )
    if "init_command" in url.query:
        raise SourceError(
            f"{display}: remove init_command from the URI; Daybook sets it to open the "
            "database read-only."
        )
    return url.set(drivername=f"mysql+{driver}").update_query_dict(
        {"init_command": MYSQL_READ_ONLY}
    )


def open_database(uri: str, *, force_client: bool = False) -> SqlReader | ClientReader:
    """The direct SQL reader on a read-only session, once that session found an MLflow store at
    a schema revision Daybook knows; else MLflow's client on a read-only URI, if the revision is
    the one this MLflow reads (it would migrate an older one, and cannot read a newer one)."""
    display = display_uri(uri)
    url = readonly_url(uri)
    engine, conn = _connect(url, display)
    try:
        revision, tables = check_store(conn, display)
        if revision in KNOWN_REVISIONS and not force_client:

            def release() -> None:
                conn.close()
                engine.dispose()

            return SqlReader(
                conn.connection.dbapi_connection,
                dialect_of(conn),
                tables,
                kind=f"{_product(url)}, direct SQL in a read-only session",
                display_uri=display,
                on_close=release,
            )
    except BaseException:
        conn.close()
        engine.dispose()
        raise
    conn.close()
    engine.dispose()
    _check_revision(revision, display)
    _quiet_mlflow_tracebacks()
    reader = ClientReader(url.render_as_string(hide_password=False), display)
    reader.kind = f"MLflow client, read-only {_product(url)} session"
    reader.open_registry()  # MLflow opens it at first use: its start-up errors belong here
    return reader


class _NoTracebacks(logging.Filter):
    """Drops MLflow's logged tracebacks of database errors: the same error reaches Daybook as
    an exception and is reported as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None


def _quiet_mlflow_tracebacks() -> None:
    logger = logging.getLogger("mlflow.store.db.utils")
    if not any(isinstance(f, _NoTracebacks) for f in logger.filters):
        logger.addFilter(_NoTracebacks())


def _connect(url: Any, display: str) -> tuple[Any, Any]:
    """An engine and one open connection to `url` (a read-only URL), or a SourceError (one line)
    when the driver is missing or the database cannot be reached."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    try:
        engine = sqlalchemy.create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT}
        )
    except ModuleNotFoundError as exc:
        raise SourceError(
            f"{display}: the database driver is not installed ({exc.name}); install it, or use "
            "postgresql:// (psycopg2) or mysql:// (PyMySQL), which Daybook brings."
        ) from None
    try:
        conn = engine.connect()
        if engine.dialect.name == "postgresql":
            # One snapshot for the whole read, as InnoDB's default already gives on MySQL: runs,
            # params and metrics written while Daybook reads never half-appear.
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return engine, conn
    except sqlalchemy.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise SourceError(
            f"{display}: cannot connect to the database ({_short(exc)}). Check the host, "
            "port, database name and credentials."
        ) from None


def check_store(conn: Any, display: str) -> tuple[str, list[str]]:
    """The store's schema revision and tables, read on `conn`; a SourceError (one line) when
    the session is not read-only at the server or the database is no MLflow store."""
    import sqlalchemy

    try:
        if not _read_only(conn):
            raise SourceError(
                f"{display}: the server did not open a read-only session (a connection "
                "pooler that drops startup options?); Daybook reads databases only "
                "read-only. Connect to the database server directly."
            )
        tables = sorted(sqlalchemy.inspect(conn).get_table_names())
        if not tables:
            raise SourceError(
                f"{display}: the database is empty, not an MLflow tracking store. Daybook "
                "opens databases read-only and never creates tables: check the database "
                "name, or point it at the database your MLflow server writes to."
            )
        revision = None
        if {"alembic_version", "experiments"} <= set(tables):
            row = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
            revision = next(iter(row.scalars()), None)
        if not revision:
            shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
            raise SourceError(
                f"{display}: not an MLflow tracking database (no alembic_version revision "
                f"and experiments table; it has {len(tables)} other table"
                f"{'s' if len(tables) != 1 else ''}: {shown}). Daybook opens databases "
                "read-only and never creates tables: check the database name in the URI."
            )
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise SourceError(f"{display}: cannot read the database ({_short(exc)}).") from None
    return str(revision), tables


def _read_only(conn: Any) -> bool:
    """Whether the server itself refuses writes in this session."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    if conn.dialect.name == "postgresql":
        return str(conn.execute(text("SHOW transaction_read_only")).scalar()) == "on"
    for variable in ("@@session.transaction_read_only", "@@session.tx_read_only"):
        try:  # MySQL ≥ 5.7.20 and MariaDB ≥ 11.1 have the first, older MariaDB the second
            return bool(int(conn.execute(text(f"SELECT {variable}")).scalar()))
        except SQLAlchemyError:
            conn.rollback()
    return False


def _check_revision(revision: str, display: str) -> None:
    """Refuse a schema MLflow would migrate (older) or cannot read (newer), before MLflow's
    store meets it."""
    import mlflow
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    migrations = Path(mlflow.__file__).parent / "store" / "db_migrations"
    try:
        script = ScriptDirectory(str(migrations))
        head = script.get_current_head()
    except Exception:  # MLflow moved its migrations: its own check (in ClientReader) still runs
        return
    if revision == head:
        return
    try:
        known = script.get_revision(revision) is not None
    except CommandError:
        known = False
    if known:
        raise SourceError(
            f"{display}: the store's MLflow schema (revision {revision}) is older than MLflow "
            f"{mlflow.__version__} reads ({head}), and Daybook never migrates a database (it "
            "opens it read-only): back it up and run `mlflow db upgrade <uri>`, then pull again."
        )
    raise SourceError(
        f"{display}: the store's MLflow schema (revision {revision}) is newer than MLflow "
        f"{mlflow.__version__} knows; upgrade Daybook's mlflow to the version that wrote it."
    )


def _product(url: Any) -> str:
    return "PostgreSQL" if url.get_backend_name() == "postgresql" else "MySQL/MariaDB"


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _short(exc: BaseException) -> str:
    """The driver's own first line (not SQLAlchemy's wrapper text), without credentials."""
    orig = getattr(exc, "orig", None)
    text = _line(orig) if orig is not None else _line(exc)
    return display_uri(text)[:300]
