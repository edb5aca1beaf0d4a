"""Direct, read-only SQL reads of an MLflow sqlite store.

MLflow's own client costs seconds per thousand runs and (through its migrations) may write to the
file. A `mode=ro` connection can do neither, and reads the same tables in a fraction of the time.
It is used only for schema revisions Daybook knows; anything else goes through the client.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from daybook.core.errors import SourceError
from daybook.core.snapshot import (
    DatasetInput,
    Experiment,
    Metric,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
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

_CHUNK = 900  # stay under sqlite's bound-parameter limit


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


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _value(value: float | None, is_nan: int) -> float:
    if is_nan:
        return math.nan
    return float(value) if value is not None else math.nan


class SqliteReader:
    """Reads one MLflow sqlite file through a read-only connection."""

    kind = "sqlite (direct read-only SQL)"

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        cols = {r[1] for r in conn.execute("PRAGMA table_info(experiments)")}
        self._workspaces = "workspace" in cols

    def close(self) -> None:
        self.conn.close()

    def _ws(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return f" AND {prefix}workspace = 'default'" if self._workspaces else ""

    def read_experiments(self) -> list[Experiment]:
        q = self.conn.execute(
            "SELECT experiment_id, name, artifact_location, creation_time, last_update_time "
            "FROM experiments WHERE lifecycle_stage = 'active'" + self._ws()
        )
        rows = q.fetchall()
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, exp_id in self.conn.execute(
            "SELECT key, value, experiment_id FROM experiment_tags"
        ):
            tags[str(exp_id)][key] = value or ""
        return [
            Experiment(
                experiment_id=str(eid),
                name=name,
                artifact_location=loc or "",
                creation_time=ct,
                last_update_time=lu,
                tags=dict(sorted(tags.get(str(eid), {}).items())),
            )
            for eid, name, loc, ct, lu in rows
        ]

    def read_runs(self, experiment_ids: Sequence[str]) -> list[Run]:
        if not experiment_ids:
            return []
        marks = ",".join("?" * len(experiment_ids))
        ids = [int(e) for e in experiment_ids]
        return self._read_runs(f"experiment_id IN ({marks})", ids)

    def read_run_index(self, experiment_ids: Sequence[str]) -> dict[str, tuple[str, int | None]]:
        """run id -> (status, end_time) of every active run: one cheap query that tells an
        incremental pull which runs are new, changed or gone."""
        if not experiment_ids:
            return {}
        marks = ",".join("?" * len(experiment_ids))
        rows = self.conn.execute(
            "SELECT run_uuid, status, end_time FROM runs WHERE lifecycle_stage = 'active' "
            f"AND experiment_id IN ({marks})",
            [int(e) for e in experiment_ids],
        )
        return {rid: (status or "", end) for rid, status, end in rows}

    def read_runs_by_id(self, run_ids: Sequence[str], experiment_ids: Sequence[str]) -> list[Run]:
        """The given runs that are still active in these experiments, as `read_runs` reads them."""
        wanted = {str(e) for e in experiment_ids}
        out: list[Run] = []
        for chunk in _chunks(sorted(run_ids)):
            got = self._read_runs(f"run_uuid IN ({','.join('?' * len(chunk))})", chunk)
            out.extend(r for r in got if r.experiment_id in wanted)
        return out

    def _read_runs(self, where: str, args: Sequence[object]) -> list[Run]:
        """Active runs matching `where` (a condition on the runs table, with `args`)."""
        base = (
            "SELECT run_uuid, experiment_id, name, status, start_time, end_time, user_id, "
            f"artifact_uri FROM runs WHERE lifecycle_stage = 'active' AND {where}"
        )
        ids = list(args)
        run_rows = self.conn.execute(base, ids).fetchall()
        sub = f"SELECT run_uuid FROM runs WHERE lifecycle_stage = 'active' AND {where}"
        params: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, rid in self.conn.execute(
            f"SELECT key, value, run_uuid FROM params WHERE run_uuid IN ({sub})", ids
        ):
            params[rid][key] = value
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, rid in self.conn.execute(
            f"SELECT key, value, run_uuid FROM tags WHERE run_uuid IN ({sub})", ids
        ):
            tags[rid][key] = value or ""
        metrics: dict[str, dict[str, Metric]] = defaultdict(dict)
        for key, value, ts, step, is_nan, rid in self.conn.execute(
            "SELECT key, value, timestamp, step, is_nan, run_uuid FROM latest_metrics "
            f"WHERE run_uuid IN ({sub})",
            ids,
        ):
            metrics[rid][key] = Metric(key, _value(value, is_nan), int(step), int(ts or 0))
        datasets: dict[str, list[DatasetInput]] = defaultdict(list)
        for rid, name, digest, stype, source, context in self.conn.execute(
            "SELECT i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source, "
            "(SELECT t.value FROM input_tags t WHERE t.input_uuid = i.input_uuid "
            " AND t.name = 'mlflow.data.context') "
            "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
            "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' "
            f"AND i.destination_id IN ({sub})",
            ids,
        ):
            datasets[rid].append(DatasetInput(name, digest, stype, source, context or ""))
        runs = []
        for rid, eid, name, status, start, end, user, art in run_rows:
            rtags = tags.get(rid, {})
            runs.append(
                Run(
                    run_id=rid,
                    experiment_id=str(eid),
                    name=name or rtags.get("mlflow.runName", "") or "",
                    status=status or "",
                    start_time=start,
                    end_time=end,
                    user=user or "",
                    artifact_uri=art or "",
                    params=dict(sorted(params.get(rid, {}).items())),
                    metrics=dict(sorted(metrics.get(rid, {}).items())),
                    tags=dict(sorted(rtags.items())),
                    datasets=tuple(sorted(set(datasets.get(rid, [])), key=_dataset_key)),
                )
            )
        return runs

    def read_models(self) -> list[RegisteredModel]:
        ws = self._ws()
        models = self.conn.execute(
            "SELECT name, description, creation_time, last_updated_time FROM registered_models "
            "WHERE 1=1" + ws
        ).fetchall()
        mtags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, name in self.conn.execute(
            "SELECT key, value, name FROM registered_model_tags WHERE 1=1" + ws
        ):
            mtags[name][key] = value or ""
        aliases: dict[str, dict[str, int]] = defaultdict(dict)
        for alias, version, name in self.conn.execute(
            "SELECT alias, version, name FROM registered_model_aliases WHERE 1=1" + ws
        ):
            aliases[name][alias] = int(version)
        vtags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for key, value, name, version in self.conn.execute(
            "SELECT key, value, name, version FROM model_version_tags WHERE 1=1" + ws
        ):
            vtags[(name, int(version))][key] = value or ""
        versions: dict[str, list[ModelVersion]] = defaultdict(list)
        for name, version, ct, lu, desc, user, source, run_id, status in self.conn.execute(
            "SELECT name, version, creation_time, last_updated_time, description, user_id, "
            "source, run_id, status FROM model_versions "
            "WHERE current_stage IS NULL OR current_stage != 'Deleted_Internal'" + ws
        ):
            versions[name].append(
                ModelVersion(
                    name=name,
                    version=int(version),
                    creation_time=ct,
                    last_updated_time=lu,
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
                creation_time=ct,
                last_updated_time=lu,
                tags=dict(sorted(mtags.get(name, {}).items())),
                aliases=dict(sorted(aliases.get(name, {}).items())),
                versions=tuple(sorted(versions.get(name, []), key=lambda v: v.version)),
            )
            for name, desc, ct, lu in models
        ]

    def read_histories(self, run_ids: Sequence[str]) -> dict[str, tuple[MetricHistory, ...]]:
        points: dict[tuple[str, str], list[tuple[int, int, float]]] = defaultdict(list)
        for chunk in _chunks(sorted(run_ids)):
            marks = ",".join("?" * len(chunk))
            for rid, key, value, ts, step, is_nan in self.conn.execute(
                "SELECT run_uuid, key, value, timestamp, step, is_nan FROM metrics "
                f"WHERE run_uuid IN ({marks})",
                list(chunk),
            ):
                points[(rid, key)].append((int(step), int(ts), _value(value, is_nan)))
        return _assemble(points)


def _dataset_key(d: DatasetInput) -> tuple[str, str, str]:
    return (d.name, d.context, d.digest)


def _assemble(
    points: dict[tuple[str, str], list[tuple[int, int, float]]],
) -> dict[str, tuple[MetricHistory, ...]]:
    """Points grouped per run and key into histories, ordered by step, then time, then value."""
    per_run: dict[str, list[MetricHistory]] = defaultdict(list)
    for (rid, key), pts in points.items():
        pts.sort(key=lambda p: (p[0], p[1], _sortable(p[2])))
        per_run[rid].append(
            MetricHistory(
                key=key,
                steps=tuple(p[0] for p in pts),
                values=tuple(p[2] for p in pts),
                timestamps=tuple(p[1] for p in pts),
            )
        )
    return {rid: tuple(sorted(hs, key=lambda h: h.key)) for rid, hs in sorted(per_run.items())}


def _sortable(v: float) -> float:
    return math.inf if math.isnan(v) else v


assemble_histories = _assemble
