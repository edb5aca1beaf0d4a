"""Reads any MLflow tracking store through MLflow's client: REST servers, database URIs, and sqlite
files whose schema revision the direct reader does not know.

Bulk calls only: `search_runs` in pages of 50,000, histories through the bulk endpoints in
batches that stay under their silent truncation limits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from daybook.errors import SourceError
from daybook.redact import strip_credentials
from daybook.snapshot import (
    DatasetInput,
    Experiment,
    Metric,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
)
from daybook.sources.sqlite import assemble_histories

RUN_PAGE = 50_000
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
        try:
            self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        except Exception as exc:  # MLflow raises many types for a bad URI
            raise SourceError(
                f"{display_uri}: cannot open tracking store ({_short(exc)})"
            ) from None
        if self.is_rest:
            self._probe()

    def _probe(self) -> None:
        """One quick request first, so a wrong URI or missing credentials is one clear line
        now rather than minutes of retries later."""
        from mlflow.utils.rest_utils import http_request

        creds = self.client._tracking_client.store.get_host_creds()
        try:
            resp = http_request(
                creds,
                "/api/2.0/mlflow/experiments/search",
                "GET",
                max_retries=2,
                backoff_factor=1,
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
            raise SourceError(
                f"{self.display_uri}: the server refused access (HTTP {resp.status_code}). Set "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN."
            )
        if resp.status_code == 404:
            raise SourceError(
                f"{self.display_uri}: no MLflow API there (HTTP 404). Check the URI (the server's "
                "base address, without a UI or API path)."
            )
        if resp.status_code != 200:
            raise SourceError(
                f"{self.display_uri}: the server answered HTTP {resp.status_code} to a search."
            )

    def close(self) -> None:
        pass

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except SourceError:
            raise
        except Exception as exc:
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
        from mlflow.entities import ViewType

        if not experiment_ids:
            return []
        out: list[Run] = []
        token = None
        while True:
            page = self._call(
                "searching runs",
                lambda t=token: self.client.search_runs(
                    list(experiment_ids),
                    run_view_type=ViewType.ACTIVE_ONLY,
                    max_results=RUN_PAGE,
                    page_token=t,
                ),
            )
            out.extend(_run(r) for r in page)
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
        self, run_ids: Sequence[str], keys_of: dict[str, dict[str, Metric]]
    ) -> dict[str, tuple[MetricHistory, ...]]:
        """Every point of every metric of the given runs, a metric key at a time in bulk."""
        by_key: dict[str, list[str]] = defaultdict(list)
        for rid in sorted(run_ids):
            for key in keys_of.get(rid, {}):
                by_key[key].append(rid)
        points: dict[tuple[str, str], list[tuple[int, int, float]]] = defaultdict(list)
        for key in sorted(by_key):
            for rid, m in self._history_for_key(key, by_key[key], keys_of):
                points[(rid, key)].append(m)
        return assemble_histories(points)

    def _history_for_key(
        self, key: str, run_ids: list[str], keys_of: dict[str, dict[str, Metric]]
    ) -> list[tuple[str, tuple[int, int, float]]]:
        # Pack runs into batches whose expected size (last step + 1 points each) fits one response.
        batches: list[list[str]] = []
        current: list[str] = []
        size = 0
        for rid in run_ids:
            expected = max(1, keys_of[rid][key].step + 1)
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

    def _rest_bulk(self, key: str, run_ids: list[str]) -> list[tuple[str, tuple[int, int, float]]]:
        from mlflow.utils.rest_utils import http_request

        creds = self.client._tracking_client.store.get_host_creds()
        resp = http_request(
            creds,
            "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
            "GET",
            params=[("run_id", r) for r in run_ids]
            + [("metric_key", key), ("max_results", str(BULK_MAX_POINTS))],
        )
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
    latest = {}
    # search_runs returns only the latest value per key; step and time come from the same entry.
    for m in getattr(data, "_metric_objs", None) or []:
        latest[m.key] = Metric(m.key, float(m.value), int(m.step), int(m.timestamp or 0))
    if not latest:
        latest = {k: Metric(k, float(v), 0, 0) for k, v in (data.metrics or {}).items()}
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
        tags=dict(sorted(tags.items())),
        datasets=tuple(sorted(set(datasets), key=lambda d: (d.name, d.context, d.digest))),
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return strip_credentials(text)[:300]  # MLflow's messages repeat the URI, password and all
