"""One direct, read-only SQL reader of MLflow's tables, for sqlite, PostgreSQL and MySQL/MariaDB.

MLflow's client costs seconds per thousand runs (ORM objects, or REST pages) and, through its
migrations, may write to the store. Daybook instead runs a handful of plain SELECTs on a
connection that cannot write (sqlite `mode=ro`; a session the database server keeps read-only),
and only for schema revisions it knows (KNOWN_REVISIONS); anything else goes through the client.

Written once, over DBAPI cursors. For PostgreSQL and MySQL/MariaDB a SQLAlchemy engine opens the
connection (with the read-only settings of daybook.sources.database), and its dialect says how to
quote column names (`key` is reserved in MySQL) and which parameter marker the driver takes
(`%s`); for sqlite the standard library's `mode=ro` connection is used as it is, with `?` and
every name double-quoted (the Dialect `SQLITE`). The SELECTs are dialect-neutral SQL run on the
driver's own cursor, not through SQLAlchemy Core rows. Measured on the 20,000-run benchmark
store (2 cores, noisy, CPU time): fetching 450,000 metric points costs 0.55 s through sqlite3's
cursor, 0.75–0.87 s through Core (`text()` with an expanding IN) and 0.84–1.1 s through
`exec_driver_sql`; and importing SQLAlchemy at all costs 0.35–0.4 s of CPU (1 s of wall time on
a loaded machine) before the first row, against a raw-SQL floor of ~1 s of CPU for the whole
pull. Issue #14 holds the sqlite pull to 1.5× that floor, so the sqlite path never imports
SQLAlchemy (a test checks it). No value is converted by SQLAlchemy either, so every backend
gives the same Python values: booleans (`is_nan`) are tested for truth, bigints go through
`int()`.

Dialect differences handled here: identifier quoting, parameter markers, `IN` lists in chunks of
900 (sqlite's 999 bound parameters), NaN stored as 0 with `is_nan` set, booleans stored as 0/1 or
true/false, the `workspace` column of newer revisions, and on MySQL/MariaDB metric histories
folded on the server (`_read_folded_histories`: PyMySQL decodes rows in Python). Collations:
MySQL compares strings without case, so sorting is done in Python on the exact strings, and the
one GROUP BY on a key (the fold) relies only on MLflow's own primary key under that collation.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from daybook.core.errors import SourceError
from daybook.core.snapshot import (
    DatasetInput,
    Experiment,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
    new_run,
)

# Alembic revisions of MLflow's schema whose tables read here have the columns this module uses:
# from 7f2a7d5fae7d (MLflow 2.4: datasets and inputs) to the head of MLflow 3.17.
KNOWN_REVISIONS: tuple[str, ...] = (
    "7f2a7d5fae7d", "2d6e25af4d3e", "acf3f17fdcc7", "867495a8f9d4", "5b0e9adcef9c",
    "4465047574b1", "f5a4f2784254", "0584bdc529eb", "400f98739977", "6953534de441",
    "bda7b8c39065", "cbc13b556ace", "770bee3ae1dd", "a1b2c3d4e5f6", "de4033877273",
    "1a0cddfcaa16", "534353b11cbc", "71994744cf8e", "3da73c924c2f", "bf29a5ff90ea",
    "1bd49d398cd23", "b7c8d9e0f1a2", "5d2d30f0abce", "c9d4e5f6a7b8", "2c33131f4dae",
    "d3e4f5a6b7c8", "d0e1f2a3b4c5", "c8d9e0f1a2b3", "1b5f0d9ad7c1", "e1f2a3b4c5d6",
    "76601a5f987d", "c3d6457b6d8a", "a5b4c3d2e1f0", "ae8bbe7743c9", "7d34483879f0",
    "da6fb0208061", "89d3d66ed43f", "b7e4c1a90f23", "a8b9c0d1e2f3", "c1d2e3f4a5b6",
    "c3d9e7f1a2b4", "6f8d9c3b2a1e", "1971f2d9a75b", "17e22815139b", "b7e2c1a4d9f3",
    "75868b020152", "dc11669786a5",
)  # fmt: skip

CHUNK = 900  # ids per `IN (…)`: under sqlite's 999 bound parameters, fine everywhere else
# MySQL/MariaDB: the longest folded history (bytes of one GROUP_CONCAT); a longer one is re-read
# point by point. 1 GiB: the server also bounds a row by max_allowed_packet.
GROUP_CONCAT_MAX_LEN = 1 << 30
_F = TypeVar("_F", bound=Callable[..., Any])
_V = TypeVar("_V")


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _value(value: float | None, is_nan: object) -> float:
    if is_nan:
        return math.nan
    return float(value) if value is not None else math.nan


def _guarded(method: _F) -> _F:
    """A database error while reading (lost connection, a table the user may not SELECT) is one
    line naming the store, not a driver traceback."""

    @functools.wraps(method)
    def wrapper(self: SqlReader, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except self._errors as exc:
            text = str(exc).strip().splitlines()
            raise SourceError(
                f"{self.display_uri}: cannot read the database ({text[0] if text else exc!r})"
            ) from None

    return wrapper  # type: ignore[return-value]


class _Quoted(dict[str, str]):
    """`{name}` in a SQL template becomes the column name, quoted if the dialect reserves it."""

    def __init__(self, quote: Callable[[str], str]) -> None:
        super().__init__()
        self._quote = quote

    def __missing__(self, name: str) -> str:
        self[name] = self._quote(name)
        return self[name]


@dataclass(frozen=True)
class Dialect:
    """What the SQL here needs to know of a database: how to quote a column name, the driver's
    parameter marker, and the driver's base error class."""

    name: str
    mark: str  # "?" (sqlite3) or "%s" (psycopg2, psycopg, PyMySQL, mysqlclient)
    quote: Callable[[str], str]
    error: type[BaseException]


# sqlite3 straight from the standard library: SQLAlchemy's import alone costs ~0.35 s of CPU,
# which this path (the floor of issue #14) does not pay. Double quotes are SQL's own quoting,
# and sqlite's; every name is quoted, so no list of reserved words is needed.
SQLITE = Dialect("sqlite", "?", lambda name: f'"{name}"', sqlite3.Error)


def dialect_of(connection: Any) -> Dialect:
    """The Dialect of a SQLAlchemy connection: its dialect's quoting (only the words that
    backend reserves) and its driver's marker and errors."""
    d = connection.dialect
    if d.paramstyle not in ("qmark", "format", "pyformat"):
        raise ValueError(f"{d.name}+{d.driver}: parameter style {d.paramstyle} not supported")
    mark = "?" if d.paramstyle == "qmark" else "%s"
    return Dialect(d.name, mark, d.identifier_preparer.quote, d.loaded_dbapi.Error)


class SqlReader:
    """Reads one MLflow store through one read-only DBAPI connection (`dbapi`) whose database
    speaks `dialect` and has `tables`."""

    def __init__(
        self,
        dbapi: Any,
        dialect: Dialect,
        tables: Iterable[str],
        *,
        kind: str,
        display_uri: str,
        on_close: Callable[[], None],
    ) -> None:
        self.kind = kind
        self.display_uri = display_uri
        self.dialect = dialect
        self.tables = frozenset(tables)
        self._dbapi = dbapi
        self._on_close = on_close
        self._errors: tuple[type[BaseException], ...] = (dialect.error,)
        self._names = _Quoted(dialect.quote)
        self._workspaces = "workspace" in self._columns("experiments")
        # sqlite: the share of the runs table from which a read scans params, tags and latest
        # metrics whole instead of looking each run up in their index (see `_read_runs`)
        self.scan_share = 1 / 3
        self._table_runs: int | None = None  # the runs table's size, counted once per reader

    # --- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self._on_close()

    def _sql(self, template: str) -> str:
        """`template` with `{column}` fields quoted for this dialect."""
        return template.format_map(self._names)

    def _rows(self, template: str, args: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        cur = self._dbapi.cursor()
        try:
            cur.execute(self._sql(template), tuple(args))
            yield from cur
        finally:
            cur.close()

    def _marks(self, n: int) -> str:
        return ",".join([self.dialect.mark] * n)

    def _columns(self, table: str) -> set[str]:
        cur = self._dbapi.cursor()
        try:
            cur.execute(f"SELECT * FROM {table} WHERE 1 = 0")
            cur.fetchall()
            return {d[0].lower() for d in cur.description}
        finally:
            cur.close()

    def _ws(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return f" AND {prefix}workspace = 'default'" if self._workspaces else ""

    # --- the Reader protocol ----------------------------------------------------------------

    @_guarded
    def read_experiments(self) -> list[Experiment]:
        rows = list(
            self._rows(
                "SELECT experiment_id, {name}, artifact_location, creation_time, "
                "last_update_time FROM experiments WHERE lifecycle_stage = 'active'" + self._ws()
            )
        )
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, exp_id in self._rows(
            "SELECT {key}, {value}, experiment_id FROM experiment_tags"
        ):
            tags[str(exp_id)][key] = value or ""
        return [
            Experiment(
                experiment_id=str(eid),
                name=name,
                artifact_location=loc or "",
                creation_time=_int(ct),
                last_update_time=_int(lu),
                tags=dict(sorted(tags.get(str(eid), {}).items())),
            )
            for eid, name, loc, ct, lu in rows
        ]

    @_guarded
    def read_runs(
        self,
        experiment_ids: Sequence[str],
        ids_from: str | None = None,
        ids_before: str | None = None,
    ) -> list[Run]:
        """The active runs of these experiments; with `ids_from` / `ids_before`, only those
        whose id sorts in [ids_from, ids_before): a big store read in two halves by two
        processes (store/pull.py), each scanning only its own rows into Python."""
        if not experiment_ids:
            return []
        ids = [int(e) for e in experiment_ids]
        span: list[str] = []
        bounds: list[object] = []
        for op, bound in ((">=", ids_from), ("<", ids_before)):
            if bound is not None:
                span.append(f"run_uuid {op} {self.dialect.mark}")
                bounds.append(bound)
        where = " AND ".join([f"experiment_id IN ({self._marks(len(ids))})", *span])
        return self._read_runs(where, [*ids, *bounds], (span, bounds))

    @_guarded
    def count_runs(self, experiment_ids: Sequence[str]) -> int:
        """How many active runs these experiments hold (one cheap query)."""
        if not experiment_ids:
            return 0
        ((count,),) = self._all(
            "SELECT COUNT(*) FROM runs WHERE lifecycle_stage = 'active' "
            f"AND experiment_id IN ({self._marks(len(experiment_ids))})",
            [int(e) for e in experiment_ids],
        )
        return int(count)

    @_guarded
    def read_run_index(self, experiment_ids: Sequence[str]) -> dict[str, tuple[str, int | None]]:
        """run id -> (status, end_time) of every active run: one cheap query that tells an
        incremental pull which runs are new, changed or gone."""
        if not experiment_ids:
            return {}
        rows = self._all(
            "SELECT run_uuid, {status}, end_time FROM runs WHERE lifecycle_stage = 'active' "
            f"AND experiment_id IN ({self._marks(len(experiment_ids))})",
            [int(e) for e in experiment_ids],
        )
        # One row per run of the store: ints (sqlite's) pass as they are, without a call each.
        return {
            rid: (status or "", end if type(end) is int or end is None else int(end))
            for rid, status, end in rows
        }

    @_guarded
    def read_runs_by_id(self, run_ids: Sequence[str], experiment_ids: Sequence[str]) -> list[Run]:
        """The given runs that are still active in these experiments, as `read_runs` reads them."""
        wanted = {str(e) for e in experiment_ids}
        out: list[Run] = []
        for chunk in chunks(sorted(run_ids)):
            got = self._read_runs(f"run_uuid IN ({self._marks(len(chunk))})", chunk)
            out.extend(r for r in got if r.experiment_id in wanted)
        return out

    def _read_runs(
        self,
        where: str,
        args: Sequence[object],
        span: tuple[Sequence[str], Sequence[object]] = ((), ()),
    ) -> list[Run]:
        """Active runs matching `where` (a condition on the runs table, with `args`; `span`: the
        conditions of it on run ids alone, with their args, which a whole-table read applies).

        When the runs wanted are most of the store's (a full pull), sqlite reads params, tags
        and latest metrics whole rather than looking up the runs' ids in its index: the same
        rows for half the CPU (20,000-run store: 0.48 s against 0.84 s; 100,000 runs: 3.2 s
        against 6.2 s), and rows of other runs are never looked up. Params and tags then come
        as one JSON object per run (`_objects`), the latest metrics from a scan of the table in
        which `+run_uuid` keeps sqlite from walking the run-id index for a range of ids, a row at
        a time (100,000 runs: a half's three scans 0.62 s against 0.90 s through the index)."""
        ids = list(args)
        run_rows = list(
            self._rows(
                "SELECT run_uuid, experiment_id, {name}, {status}, start_time, end_time, "
                f"user_id, artifact_uri FROM runs WHERE lifecycle_stage = 'active' AND {where}",
                ids,
            )
        )
        whole = self._scan_whole(len(run_rows))
        if whole:
            conds, cond_args = span
            cond = f" WHERE {' AND '.join(f'+{c}' for c in conds)}" if conds else ""
            in_span = f" WHERE {' AND '.join(conds)}" if conds else ""
        else:
            sub = f"SELECT run_uuid FROM runs WHERE lifecycle_stage = 'active' AND {where}"
            cond = in_span = f" WHERE run_uuid IN ({sub})"
            cond_args = ids
        params = self._key_values("params", "{value}", whole, (in_span, cond), cond_args)
        tags = self._key_values("tags", "COALESCE({value}, '')", whole, (in_span, cond), cond_args)
        # A run's latest values, steps and times, in three dicts by key (`Run.metrics`): no
        # object per (run, metric), 500,000 at 100,000 runs.
        metrics: dict[str, dict[str, float]] = {}
        steps: dict[str, dict[str, int]] = {}
        times: dict[str, dict[str, int]] = {}
        nan = math.nan
        last = None
        per_run: dict[str, float] = {}
        per_step: dict[str, int] = {}
        per_time: dict[str, int] = {}
        one = _shared().setdefault
        for key, value, ts, step, is_nan, rid in self._all(
            "SELECT {key}, {value}, {timestamp}, {step}, is_nan, run_uuid FROM latest_metrics"
            + cond,
            cond_args,
        ):
            if rid != last:
                if (per_run := metrics.get(rid)) is None:  # type: ignore[assignment]
                    per_run = metrics[rid] = {}
                    per_step = steps[rid] = {}
                    per_time = times[rid] = {}
                else:
                    per_step, per_time = steps[rid], times[rid]
                last = rid
            key = one(key, key)
            per_run[key] = nan if is_nan or value is None else float(value)
            per_step[key] = int(step)
            per_time[key] = int(ts or 0)
        _in_key_order(metrics)  # the order a file's JSON keeps (steps and times: looked up)
        sub = f"SELECT run_uuid FROM runs WHERE lifecycle_stage = 'active' AND {where}"
        datasets: dict[str, list[DatasetInput]] = defaultdict(list)
        for rid, name, digest, stype, source, context in self._rows(
            "SELECT i.destination_id, d.{name}, d.digest, d.dataset_source_type, "
            "d.dataset_source, (SELECT t.{value} FROM input_tags t WHERE t.input_uuid = "
            "i.input_uuid AND t.{name} = 'mlflow.data.context') "
            "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
            "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' "
            f"AND i.destination_id IN ({sub})",
            ids,
        ):
            datasets[rid].append(DatasetInput(name, digest, stype, source, context or ""))
        empty: dict[str, Any] = {}
        runs = []
        for rid, eid, name, status, start, end, user, art in run_rows:
            rtags = tags.get(rid, empty)
            ds = datasets.get(rid)
            runs.append(
                new_run(
                    rid,
                    str(eid),
                    name or rtags.get("mlflow.runName", "") or "",
                    status or "",
                    _int(start),
                    _int(end),
                    user or "",
                    art or "",
                    params.get(rid) or {},
                    metrics.get(rid) or {},
                    rtags or {},
                    tuple(sorted(set(ds), key=_dataset_key)) if ds else (),
                    steps.get(rid) or {},
                    times.get(rid) or {},
                )
            )
        return runs

    def _key_values(
        self,
        table: str,
        value: str,
        whole: bool,
        where: tuple[str, str],
        args: Sequence[object],
    ) -> dict[str, dict[str, Any]]:
        """run id -> {key: value} of `table` (params or tags), `value` being the SQL of the
        value: one JSON object per run when the table is read whole (`_objects`; `where[0]`),
        else, or where sqlite cannot make one, row by row (`where[1]`)."""
        if whole and (found := self._objects(table, value, where[0], args)) is not None:
            return found
        return _by_run(self._all(f"SELECT {{key}}, {value}, run_uuid FROM {table}{where[1]}", args))

    def _objects(
        self, table: str, value: str, where: str, args: Sequence[object]
    ) -> dict[str, dict[str, Any]] | None:
        """sqlite: the (key, `value`) rows of `table` (params or tags) matching `where`, as run
        id -> {key: value} in key order, each run's made into one JSON object by sqlite in C
        (`json_group_object`, walking the run-id index) and parsed by orjson: no Python step
        per row (100,000 runs, a half's params: 0.69 -> 0.25 s; tags: 0.58 -> 0.41 s). Exact for
        text, which is all these tables hold (sqlite's JSON prints a REAL with 15 digits, so the
        metrics are never read this way). None where sqlite cannot (a BLOB value, a build
        without JSON functions, text that is not UTF-8): the caller reads the rows one by one,
        and meets the same error there if there is one."""
        try:
            rows = self._all(
                f"SELECT run_uuid, json_group_object({{key}}, {value}) FROM {table}{where} "
                "GROUP BY run_uuid",
                args,
            )
            return _in_key_order(
                dict(zip(map(_FIRST, rows), map(orjson.loads, map(_SECOND, rows)), strict=True))
            )
        except (sqlite3.Error, UnicodeDecodeError, orjson.JSONDecodeError):
            return None

    def _scan_whole(self, wanted: int) -> bool:
        """Whether reading the child tables of `wanted` runs is cheaper as whole-table scans:
        on sqlite, when they are at least `scan_share` of the runs table (a row found through
        the index costs ~3x a row of a scan; measured on the 20,000-run store)."""
        if self.dialect is not SQLITE or wanted == 0:
            return False
        if self._table_runs is None:  # once: a reader serves one pull, and this only steers
            ((total,),) = self._rows("SELECT COUNT(*) FROM runs")  # (by-id reads come in chunks)
            self._table_runs = int(total)
        return wanted >= self.scan_share * self._table_runs

    def _all(self, template: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cur = self._dbapi.cursor()
        try:
            cur.execute(self._sql(template), tuple(args))
            return cur.fetchall()
        finally:
            cur.close()

    @_guarded
    def read_models(self) -> list[RegisteredModel]:
        ws = self._ws()
        models = list(
            self._rows(
                "SELECT {name}, description, creation_time, last_updated_time "
                "FROM registered_models WHERE 1=1" + ws
            )
        )
        mtags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, name in self._rows(
            "SELECT {key}, {value}, {name} FROM registered_model_tags WHERE 1=1" + ws
        ):
            mtags[name][key] = value or ""
        aliases: dict[str, dict[str, int]] = defaultdict(dict)
        for alias, version, name in self._rows(
            "SELECT alias, {version}, {name} FROM registered_model_aliases WHERE 1=1" + ws
        ):
            aliases[name][alias] = int(version)
        vtags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for key, value, name, version in self._rows(
            "SELECT {key}, {value}, {name}, {version} FROM model_version_tags WHERE 1=1" + ws
        ):
            vtags[(name, int(version))][key] = value or ""
        versions: dict[str, list[ModelVersion]] = defaultdict(list)
        for name, version, ct, lu, desc, user, source, run_id, status in self._rows(
            "SELECT {name}, {version}, creation_time, last_updated_time, description, user_id, "
            "{source}, run_id, {status} FROM model_versions WHERE (current_stage IS NULL OR "
            "current_stage != 'Deleted_Internal')" + ws
        ):
            versions[name].append(
                ModelVersion(
                    name=name,
                    version=int(version),
                    creation_time=_int(ct),
                    last_updated_time=_int(lu),
                    description=desc or "",
                    status=status or "",
                    source=source or "",
                    run_id=run_id or "",
                    user=user or "",
                    tags=dict(sorted(vtags.get((name, int(version)), {}).items())),
                )
            )
        return [
            RegisteredModel(
                name=name,
                description=desc or "",
                creation_time=_int(ct),
                last_updated_time=_int(lu),
                tags=dict(sorted(mtags.get(name, {}).items())),
                aliases=dict(sorted(aliases.get(name, {}).items())),
                versions=tuple(sorted(versions.get(name, []), key=lambda v: v.version)),
            )
            for name, desc, ct, lu in models
        ]

    @_guarded
    def read_histories(self, run_ids: Sequence[str]) -> dict[str, tuple[MetricHistory, ...]]:
        points: dict[tuple[str, str], list[tuple[int, int, float]]] = defaultdict(list)
        if self.dialect.name in ("mysql", "mariadb"):
            self._read_folded_histories(sorted(run_ids), points)
            return assemble_histories(points)
        out: dict[str, tuple[MetricHistory, ...]] = {}
        for chunk in chunks(sorted(run_ids)):
            rows = self._all(
                "SELECT run_uuid, {key}, {value}, {timestamp}, {step}, is_nan FROM metrics "
                f"WHERE run_uuid IN ({self._marks(len(chunk))}) "
                "ORDER BY run_uuid, {key}, {step}",  # the order of MLflow's index on them
                chunk,
            )
            histories = histories_from_rows(rows)
            if histories is None:  # a key split by the database's collation: the slow way
                self._read_point_rows(chunk, points)
            else:
                out.update(histories)
        if points:
            out.update(assemble_histories(points))
        return dict(sorted(out.items()))

    def _read_point_rows(
        self,
        run_ids: Sequence[str],
        points: dict[tuple[str, str], list[tuple[int, int, float]]],
        key: str | None = None,
    ) -> None:
        """Every point of `run_ids` (of one metric `key` if given) into `points`, a row each."""
        where = f"run_uuid IN ({self._marks(len(run_ids))})"
        args: list[object] = list(run_ids)
        for rid, k, value, ts, step, is_nan in self._rows(
            "SELECT run_uuid, {key}, {value}, {timestamp}, {step}, is_nan FROM metrics "
            f"WHERE {where}",
            args,
        ):
            if key is None or k == key:
                points[(rid, k)].append((int(step), int(ts), _value(value, is_nan)))

    def _read_folded_histories(
        self, run_ids: Sequence[str], points: dict[tuple[str, str], list[tuple[int, int, float]]]
    ) -> None:
        """MySQL/MariaDB: one row per (run, metric) with its points folded into one text.

        PyMySQL, a pure-Python driver, decodes a result field by field: 300,000 point rows cost
        ~2.7 s of CPU, most of a whole pull (benchmarks/bench_database.py). Folded on the server,
        the same points are 15,000 rows, one GROUP_CONCAT each ("step ts value is_nan,…": one
        aggregate, so the fields of a point stay together), which Python splits and converts in
        C. A DOUBLE inside GROUP_CONCAT is printed as the text protocol prints the column
        (shortest round-trip digits; tests/sources/test_database.py checks awkward values),
        unlike CAST(… AS CHAR) or CONCAT, which round. No ORDER BY inside it and a GROUP BY on
        the plain columns, so the server walks its (run_uuid, key, step) index without a sort
        (a BINARY key or an ordered GROUP_CONCAT made it 5× slower); assemble_histories orders
        the points. Grouping by `key` under the column's collation is exact for any store
        MLflow wrote: its latest_metrics primary key (key, run_uuid), same collation, refuses a
        second key that the collation calls equal. A history longer than
        group_concat_max_len is cut by the server (with only a warning), so a row as long as the
        limit, or with fewer fields than its COUNT(*) says, is read again point by point.
        """
        self._session(f"SET SESSION group_concat_max_len = {int(GROUP_CONCAT_MAX_LEN)}")
        cut: list[tuple[str, str]] = []
        for chunk in chunks(run_ids):
            for rid, key, n, folded in self._rows(
                "SELECT run_uuid, {key}, COUNT(*), "
                "GROUP_CONCAT({step}, ' ', {timestamp}, ' ', {value}, ' ', is_nan SEPARATOR ' ') "
                f"FROM metrics WHERE run_uuid IN ({self._marks(len(chunk))}) "
                "GROUP BY run_uuid, {key}",
                chunk,
            ):
                key = _text(key)
                text = _text(folded)  # ASCII: its length is its length in bytes
                fields = text.split(" ")
                if len(fields) != 4 * int(n) or len(text) >= GROUP_CONCAT_MAX_LEN:
                    cut.append((rid, key))
                    continue
                values: Iterable[float] = map(float, fields[2::4])
                nans = fields[3::4]
                if "1" in nans:  # is_nan: the stored value is a placeholder
                    flags = zip(values, nans, strict=True)
                    values = (math.nan if f == "1" else v for v, f in flags)
                steps, stamps = map(int, fields[0::4]), map(int, fields[1::4])
                points[(rid, key)].extend(zip(steps, stamps, values, strict=True))
        for rid, key in cut:
            self._read_point_rows([rid], points, key)

    def _session(self, statement: str) -> None:
        cur = self._dbapi.cursor()
        try:
            cur.execute(statement)
        finally:
            cur.close()

    # --- what sources/model_files.py asks besides -----------------------------------------

    @_guarded
    def run_stages(self, run_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """run id -> (the run's lifecycle stage, its experiment's), for runs that exist."""
        out: dict[str, tuple[str, str | None]] = {}
        for chunk in chunks(sorted(run_ids)):
            for rid, run_stage, exp_stage in self._rows(
                "SELECT r.run_uuid, r.lifecycle_stage, e.lifecycle_stage FROM runs r "
                "LEFT JOIN experiments e ON e.experiment_id = r.experiment_id "
                f"WHERE r.run_uuid IN ({self._marks(len(chunk))})",
                chunk,
            ):
                out[rid] = (run_stage, exp_stage)
        return out

    @_guarded
    def logged_model_locations(self, model_ids: Sequence[str]) -> dict[str, str]:
        """LoggedModel id -> its artifact location (stores older than LoggedModels have none)."""
        out: dict[str, str] = {}
        if "logged_models" not in self.tables:
            return out
        for chunk in chunks(sorted(model_ids)):
            for mid, loc in self._rows(
                "SELECT model_id, artifact_location FROM logged_models "
                f"WHERE model_id IN ({self._marks(len(chunk))})",
                chunk,
            ):
                out[mid] = loc or ""
        return out

    @_guarded
    def artifact_roots(self, run_ids: Sequence[str]) -> dict[str, str]:
        """run id -> artifact root, for any run (deleted ones too)."""
        out: dict[str, str] = {}
        for chunk in chunks(sorted(run_ids)):
            for rid, uri in self._rows(
                f"SELECT run_uuid, artifact_uri FROM runs WHERE run_uuid IN "
                f"({self._marks(len(chunk))})",
                chunk,
            ):
                out[rid] = uri or ""
        return out


def _text(value: str | bytes) -> str:
    """GROUP_CONCAT's result as text (MySQL types it a BLOB, so drivers may give bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def _int(value: Any) -> int | None:
    """Epoch milliseconds (bigint) as a Python int, whatever number type the driver returns."""
    return int(value) if value is not None else None


def _dataset_key(d: DatasetInput) -> tuple[str, str, str]:
    return (d.name, d.context, d.digest)


def _by_run(rows: Iterable[tuple[Any, Any, str]]) -> dict[str, dict[str, Any]]:
    """(key, value, run id) rows -> run id -> {key: value}, each dict in key order.

    Rows come in the table's order, where a run's rows lie together (MLflow writes a run's
    params in one batch): a run's dict is looked up only when the run changes, which keeps a
    100,000-run read from hopping around memory."""
    out: dict[str, dict[str, Any]] = {}
    last = None
    per_run: dict[str, Any] = {}
    one = _shared().setdefault
    for key, value, rid in rows:
        if rid != last:
            if (per_run := out.get(rid)) is None:  # type: ignore[assignment]
                per_run = out[rid] = {}
            last = rid
        per_run[one(key, key)] = one(value, value)
    return _in_key_order(out)


def _shared() -> dict[Any, Any]:
    """A new table, one per pass over a table's rows, in which equal strings become one object
    (`setdefault(s, s)`). The driver makes a new string for every value of every row: at 100,000
    runs, 1.2 million params and tags hold 21 distinct keys and 114,000 distinct values; shared,
    the read's peak is ~100 MB lower (620 -> 517 MB), and on a VM memory a process touches for
    the first time costs more system time than the lookups (docs/guide/scale.md, "Memory is time
    on this machine"). Params and tags read as JSON objects (`SqlReader._objects`) share their
    keys through orjson's cache, not their values: ~12 MB more at a 100,000-run half, where
    sharing them would cost back most of the time that reading saves."""
    return {}


def _in_key_order(dicts: dict[str, dict[str, _V]]) -> dict[str, dict[str, _V]]:
    """Every dict of `dicts` with its keys in Python's string order (not any collation of the
    database). Runs mostly share one order of keys, not always Python's (MLflow writes a run's
    params and tags in no key order): each order is sorted once, and a dict in another order is
    rebuilt from it in C. The orders are found in C too (a tuple of keys per dict, a set of
    them): only the dicts to rebuild take a Python step (100,000 runs' params, tags and metrics
    already in order: 0.14 s -> 0.03 s)."""
    key_orders = list(map(tuple, dicts.values()))
    orders = {keys: wanted for keys in set(key_orders) if (wanted := tuple(sorted(keys))) != keys}
    if not orders:
        return dicts
    for rid, keys in zip(list(dicts), key_orders, strict=True):
        if (order := orders.get(keys)) is not None:
            d = dicts[rid]
            dicts[rid] = dict(zip(order, map(d.__getitem__, order), strict=True))
    return dicts


_RUN_AND_KEY = operator.itemgetter(0, 1)
_FIRST = operator.itemgetter(0)
_SECOND = operator.itemgetter(1)


def histories_from_rows(
    rows: list[tuple[Any, ...]],
) -> dict[str, tuple[MetricHistory, ...]] | None:
    """Point rows (run id, key, value, timestamp, step, is_nan) ordered by run id, key and step
    as histories, as `assemble_histories` makes them; None when a (run, key) is not in
    one stretch (a collation that orders keys apart from equality). The points of a history are
    taken apart in C (`zip`); only a history with a repeated step, a NaN, a NULL or a value of
    another type goes point by point (~2 µs a point: 367,000 points at 100,000 runs)."""
    per_run: dict[str, list[MetricHistory]] = defaultdict(list)
    seen = 0
    for (rid, key), group in itertools.groupby(rows, _RUN_AND_KEY):
        _, _, values, stamps, steps, nans = zip(*group, strict=True)
        if (
            any(nans)
            or not all(map(operator.lt, steps, steps[1:]))  # a step twice: by time, then value
            or not _FLOAT_ONLY.issuperset(map(type, values))
            or not _INT_ONLY.issuperset(map(type, steps))
            or not _INT_ONLY.issuperset(map(type, stamps))
        ):
            pts = sorted(
                zip(map(int, steps), map(int, stamps), map(_value, values, nans), strict=True),
                key=_point_order,
            )
            steps, stamps, values = zip(*pts, strict=True)
        per_run[rid].append(MetricHistory(key, steps, values, stamps))
        seen += 1
    out = {rid: tuple(sorted(hs, key=_HISTORY_KEY)) for rid, hs in per_run.items()}
    if sum(len({h.key for h in hs}) for hs in out.values()) != seen:
        return None
    return out


_FLOAT_ONLY = frozenset({float})
_INT_ONLY = frozenset({int})
_HISTORY_KEY = operator.attrgetter("key")


def _point_order(p: tuple[int, int, float]) -> tuple[int, int, bool, float, float]:
    """Step, then time, then value, NaN after every number and -0.0 before 0.0: a total
    order, so the points of one step come out the same in whatever order the database hands
    them (with NaN sorted as infinity, a NaN and an infinity at one step and time kept the
    order they came in)."""
    v = p[2]
    nan = math.isnan(v)
    return p[0], p[1], nan, 0.0 if nan else v, math.copysign(1.0, v)


def assemble_histories(
    points: dict[tuple[str, str], list[tuple[int, int, float]]],
) -> dict[str, tuple[MetricHistory, ...]]:
    """Points grouped per run and key into histories, ordered by step, then time, then value."""
    per_run: dict[str, list[MetricHistory]] = defaultdict(list)
    for (rid, key), pts in points.items():
        pts.sort(key=_point_order)
        per_run[rid].append(
            MetricHistory(
                key=key,
                steps=tuple(p[0] for p in pts),
                values=tuple(p[2] for p in pts),
                timestamps=tuple(p[1] for p in pts),
            )
        )
    return {rid: tuple(sorted(hs, key=lambda h: h.key)) for rid, hs in sorted(per_run.items())}
