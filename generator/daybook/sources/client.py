"""Reads any MLflow tracking store through MLflow's client: REST servers, database URIs, and sqlite
files whose schema revision the direct reader does not know.

Bulk calls only: `search_runs` in pages of 50,000, histories through the bulk endpoints in
batches that stay under their silent truncation limits.
"""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from daybook.core.errors import SourceError
from daybook.core.snapshot import (
    DatasetInput,
    Experiment,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
)
from daybook.safety.redact import strip_credentials
from daybook.sources.sql import assemble_histories

RUN_PAGE = 50_000
_RUN_ID = re.compile(r"^[0-9A-Za-z_-]+$")  # safe to quote in a search filter
# How PostgreSQL, MySQL/MariaDB and sqlite refuse a write in a read-only session.
_WRITE_REFUSED = re.compile(r"(?i)read[- ]only transaction|readonly database")
BULK_MAX_RUNS = 100  # get-history-bulk takes at most 100 run ids …
BULK_MAX_POINTS = 25_000  # … and silently returns at most 25,000 points


def _ms(value: Any) -> int | None:
    return int(value) if value is not None else None


class ClientReader:
    """Reads through `MlflowClient`; `tracking_uri` must already be a read-only form for sqlite."""

    def __init__(self, tracking_uri: str, display_uri: str) -> None:
        from mlflow import MlflowClient

        self.display_uri = display_uri
        self.is_rest = tracking_uri.startswith(("http://", "https://"))
        self.kind = "MLflow REST API" if self.is_rest else "MLflow client"
        self._bulk_endpoint = True  # until the server answers 404 to it
        try:
            self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        except Exception as exc:  # MLflow raises many types for a bad URI
            text = _short(exc)
            if _WRITE_REFUSED.search(text):  # its start-up wanted to add something
                raise SourceError(
                    f"{display_uri}: MLflow's client tried to write to the store while opening "
                    f"it and the read-only connection refused ({text}); Daybook never writes to "
                    "a store: let MLflow itself (e.g. `mlflow server`) open it once, then retry."
                ) from None
            raise SourceError(f"{display_uri}: cannot open tracking store ({text})") from None
        if self.is_rest:
            self._probe()

    def open_registry(self) -> None:
        """Open the model registry's store now: MLflow opens it at its first use, and a store
        that fails to open should fail before anything is read, as one line."""
        self._call("opening the model registry", lambda: self.client._get_registry_client())

    def _probe(self) -> None:
        """One quick request first, so a wrong URI or missing credentials is one clear line
        now rather than minutes of retries later."""
        from mlflow.environment_variables import (
            MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
            MLFLOW_HTTP_REQUEST_MAX_RETRIES,
        )
        from mlflow.utils.rest_utils import http_request

        creds = self.client._tracking_client.store.get_host_creds()
        try:
            resp = http_request(
                creds,
                "/api/2.0/mlflow/experiments/search",
                "GET",
                # a few quick retries (a server restarting answers 503 for a moment); the long
                # default schedule is for the requests after this one
                max_retries=min(2, MLFLOW_HTTP_REQUEST_MAX_RETRIES.get()),
                backoff_factor=min(1, MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get()),
                timeout=15,
                raise_on_status=False,
                params={"max_results": "1"},
            )
        except Exception as exc:
            text = _short(exc)
            if "NewConnectionError" in text or "Connection refused" in text:
                text = "connection refused"
            elif "timed out" in text.lower():
                text = "timed out"
            raise SourceError(
                f"{self.display_uri}: cannot reach the MLflow server ({text[:160]}). "
                "Is it running, and is the URI right?"
            ) from None
        if resp.status_code in (401, 403):
            raise SourceError(self._refused(resp.status_code))
        if resp.status_code == 404:
            raise SourceError(
                f"{self.display_uri}: no MLflow API there (HTTP 404). Check the URI (the server's "
                "base address, without a UI or API path)."
            )
        if resp.status_code != 200:
            raise SourceError(
                f"{self.display_uri}: the server answered HTTP {resp.status_code} to a search "
                "(after retries)."
            )

    def _refused(self, status: int, what: str = "") -> str:
        during = f" while {what}" if what else ""
        creds = (
            "check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN"
            if any(os.environ.get(k) for k in _AUTH_VARIABLES)
            else "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or "
            "MLFLOW_TRACKING_TOKEN"
        )
        kind = "refused access" if status == 401 else "denied permission"
        return f"{self.display_uri}: the server {kind} (HTTP {status}){during}; {creds}."

    def close(self) -> None:
        pass

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        """Run one client call; any failure becomes one line naming the URI and the call.
        (MLflow's own requests already retried 5xx and connection errors with backoff.)"""
        try:
            return fn()
        except SourceError:
            raise
        except Exception as exc:
            status = _http_status(exc)
            if status in (401, 403):
                raise SourceError(self._refused(status, what)) from None
            raise SourceError(f"{self.display_uri}: {what} failed: {_short(exc)}") from None

    def read_experiments(self) -> list[Experiment]:
        from mlflow.entities import ViewType

        out: list[Experiment] = []
        token = None
        while True:
            page = self._call(
                "listing experiments",
                lambda t=token: self.client.search_experiments(
                    view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=t
                ),
            )
            for e in page:
                out.append(
                    Experiment(
                        experiment_id=str(e.experiment_id),
                        name=e.name,
                        artifact_location=e.artifact_location or "",
                        creation_time=_ms(e.creation_time),
                        last_update_time=_ms(e.last_update_time),
                        tags=dict(sorted((e.tags or {}).items())),
                    )
                )
            token = page.token
            if not token:
                return out

    def read_runs(self, experiment_ids: Sequence[str]) -> list[Run]:
        return [_run(r) for r in self._search(experiment_ids)]

    def read_runs_by_id(self, run_ids: Sequence[str], experiment_ids: Sequence[str]) -> list[Run]:
        """The given runs that are still active, 100 ids to a search."""
        ids = sorted(r for r in run_ids if _RUN_ID.match(r))
        out: list[Run] = []
        for i in range(0, len(ids), 100):
            quoted = ", ".join(f"'{r}'" for r in ids[i : i + 100])
            out.extend(_run(r) for r in self._search(experiment_ids, f"run_id IN ({quoted})"))
        return out

    def read_changed_runs(self, experiment_ids: Sequence[str], since_ms: int) -> list[Run]:
        """Active runs that started or ended at or after `since_ms`, and every run still going:
        what can have changed since a pull at that time (the search API has no update time)."""
        found: dict[str, Run] = {}
        for where in (
            f"attributes.start_time >= {int(since_ms)}",
            f"attributes.end_time >= {int(since_ms)}",
            "attributes.status = 'RUNNING'",
            "attributes.status = 'SCHEDULED'",
        ):
            for r in self._search(experiment_ids, where):
                found.setdefault(r.info.run_id, _run(r))
        return list(found.values())

    def read_deleted_run_ids(self, experiment_ids: Sequence[str]) -> set[str]:
        """Ids of runs in the deleted state (not yet removed for good by `mlflow gc`)."""
        from mlflow.entities import ViewType

        return {r.info.run_id for r in self._search(experiment_ids, view=ViewType.DELETED_ONLY)}

    def _search(self, experiment_ids: Sequence[str], where: str = "", view: Any = None) -> list:
        """Every run `search_runs` returns for `where`, in pages of RUN_PAGE."""
        from mlflow.entities import ViewType

        if not experiment_ids:
            return []
        out: list = []
        token = None
        while True:
            page = self._call(
                "searching runs",
                lambda t=token: self.client.search_runs(
                    list(experiment_ids),
                    filter_string=where,
                    run_view_type=view if view is not None else ViewType.ACTIVE_ONLY,
                    max_results=RUN_PAGE,
                    page_token=t,
                ),
            )
            out.extend(page)
            token = page.token
            if not token:
                return out

    def read_models(self) -> list[RegisteredModel]:
        models = []
        token = None
        while True:
            page = self._call(
                "listing registered models",
                lambda t=token: self.client.search_registered_models(
                    max_results=1000, page_token=t
                ),
            )
            models.extend(page)
            token = page.token
            if not token:
                break
        versions: dict[str, list[ModelVersion]] = defaultdict(list)
        token = None
        while True:
            page = self._call(
                "listing model versions",
                lambda t=token: self.client.search_model_versions(max_results=10_000, page_token=t),
            )
            for v in page:
                versions[v.name].append(
                    ModelVersion(
                        name=v.name,
                        version=int(v.version),
                        creation_time=_ms(v.creation_timestamp),
                        last_updated_time=_ms(v.last_updated_timestamp),
                        description=v.description or "",
                        status=str(v.status or ""),
                        source=v.source or "",
                        run_id=v.run_id or "",
                        user=v.user_id or "",
                        tags=dict(sorted((v.tags or {}).items())),
                    )
                )
            token = page.token
            if not token:
                break
        return [
            RegisteredModel(
                name=m.name,
                description=m.description or "",
                creation_time=_ms(m.creation_timestamp),
                last_updated_time=_ms(m.last_updated_timestamp),
                tags=dict(sorted((m.tags or {}).items())),
                aliases=dict(sorted((a, int(v)) for a, v in (m.aliases or {}).items())),
                versions=tuple(sorted(versions.get(m.name, []), key=lambda v: v.version)),
            )
            for m in models
        ]

    def read_histories(
        self, run_ids: Sequence[str], steps_of: dict[str, dict[str, int]]
    ) -> dict[str, tuple[MetricHistory, ...]]:
        """Every point of every metric of the given runs, a metric key at a time in bulk."""
        by_key: dict[str, list[str]] = defaultdict(list)
        for rid in sorted(run_ids):
            for key in steps_of.get(rid, {}):
                by_key[key].append(rid)
        points: dict[tuple[str, str], list[tuple[int, int, float]]] = defaultdict(list)
        for key in sorted(by_key):
            for rid, m in self._history_for_key(key, by_key[key], steps_of):
                points[(rid, key)].append(m)
        return assemble_histories(points)

    def _history_for_key(
        self, key: str, run_ids: list[str], steps_of: dict[str, dict[str, int]]
    ) -> list[tuple[str, tuple[int, int, float]]]:
        # Pack runs into batches whose expected size (last step + 1 points each) fits one response.
        batches: list[list[str]] = []
        current: list[str] = []
        size = 0
        for rid in run_ids:
            expected = max(1, steps_of[rid][key] + 1)
            if current and (len(current) >= BULK_MAX_RUNS or size + expected > BULK_MAX_POINTS):
                batches.append(current)
                current, size = [], 0
            current.append(rid)
            size += expected
        if current:
            batches.append(current)
        out: list[tuple[str, tuple[int, int, float]]] = []
        while batches:
            batch = batches.pop()
            rows = self._bulk(key, batch)
            if rows is None:  # hit the cap: the answer may be cut short, so split and ask again
                if len(batch) == 1:
                    out.extend(self._paged_single(key, batch[0]))
                else:
                    half = len(batch) // 2
                    batches.extend([batch[:half], batch[half:]])
                continue
            out.extend(rows)
        return out

    def _bulk(
        self, key: str, run_ids: list[str]
    ) -> list[tuple[str, tuple[int, int, float]]] | None:
        """One bulk request; None when the answer reached the point cap (maybe truncated)."""
        if self.is_rest:
            rows = self._call("reading metric histories", lambda: self._rest_bulk(key, run_ids))
            if rows is None:  # no bulk endpoint here: the public per-run API, paged
                return [(rid, p) for rid in run_ids for _, p in self._paged_single(key, rid)]
        else:
            store = self.client._tracking_client.store
            if not hasattr(store, "get_metric_history_bulk"):
                return [(rid, p) for rid in run_ids for _, p in self._paged_single(key, rid)] or []
            got = self._call(
                "reading metric histories",
                lambda: store.get_metric_history_bulk(run_ids, key, BULK_MAX_POINTS),
            )
            rows = [
                # MetricWithRunId is a Metric: step, timestamp and value are its own attributes.
                (m.run_id, (int(m.step), int(m.timestamp), float(m.value)))
                for m in got
            ]
        if len(rows) >= BULK_MAX_POINTS:
            return None
        return rows

    def _rest_bulk(
        self, key: str, run_ids: list[str]
    ) -> list[tuple[str, tuple[int, int, float]]] | None:
        """get-history-bulk (the UI's endpoint, under /ajax-api); None when the server (or a
        proxy in front of it) does not serve it."""
        from mlflow.utils.rest_utils import http_request

        if not self._bulk_endpoint:
            return None
        creds = self.client._tracking_client.store.get_host_creds()
        resp = http_request(
            creds,
            "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
            "GET",
            params=[("run_id", r) for r in run_ids]
            + [("metric_key", key), ("max_results", str(BULK_MAX_POINTS))],
        )
        if resp.status_code in (401, 403):
            raise SourceError(self._refused(resp.status_code, "reading metric histories"))
        if resp.status_code == 404:
            self._bulk_endpoint = False
            return None
        if resp.status_code != 200:
            raise SourceError(
                f"{self.display_uri}: get-history-bulk answered HTTP {resp.status_code}"
            )
        return [
            (m["run_id"], (int(m.get("step", 0)), int(m.get("timestamp", 0)), _num(m.get("value"))))
            for m in resp.json().get("metrics", [])
        ]

    def _paged_single(self, key: str, run_id: str) -> list[tuple[str, tuple[int, int, float]]]:
        hist = self._call(
            "reading a metric history", lambda: self.client.get_metric_history(run_id, key)
        )
        return [(run_id, (int(m.step), int(m.timestamp), float(m.value))) for m in hist]


def _num(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str):  # the REST API spells NaN and infinities as strings
        return float(value)
    return float(value)


def _run(r: Any) -> Run:
    info, data = r.info, r.data
    datasets = []
    for di in getattr(r.inputs, "dataset_inputs", None) or []:
        ctx = next((t.value for t in di.tags or [] if t.key == "mlflow.data.context"), "")
        d = di.dataset
        datasets.append(DatasetInput(d.name, d.digest, d.source_type, d.source, ctx or ""))
    latest: dict[str, float] = {}
    steps: dict[str, int] = {}
    times: dict[str, int] = {}
    # search_runs returns only the latest value per key; step and time come from the same entry.
    for m in getattr(data, "_metric_objs", None) or []:
        latest[m.key] = float(m.value)
        steps[m.key], times[m.key] = int(m.step), int(m.timestamp or 0)
    if not latest:  # no step or time known: 0 (`Run.__post_init__`)
        latest = {k: float(v) for k, v in (data.metrics or {}).items()}
    tags = dict(data.tags or {})
    return Run(
        run_id=info.run_id,
        experiment_id=str(info.experiment_id),
        name=info.run_name or tags.get("mlflow.runName", "") or "",
        status=str(info.status),
        start_time=_ms(info.start_time),
        end_time=_ms(info.end_time),
        user=info.user_id or "",
        artifact_uri=info.artifact_uri or "",
        params=dict(sorted((data.params or {}).items())),
        metrics=dict(sorted(latest.items())),
        metric_steps=steps,
        metric_times=times,
        tags=dict(sorted(tags.items())),
        datasets=tuple(sorted(set(datasets), key=lambda d: (d.name, d.context, d.digest))),
    )


_AUTH_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an MLflow error, when it is one of access (401/403)."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, UNAUTHENTICATED

    if isinstance(exc, MlflowException):
        code = getattr(exc, "error_code", None)
        if code in ("UNAUTHENTICATED", UNAUTHENTICATED):
            return 401
        if code in ("PERMISSION_DENIED", PERMISSION_DENIED):
            return 403
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return strip_credentials(text)[:300]  # MLflow's messages repeat the URI, password and all
