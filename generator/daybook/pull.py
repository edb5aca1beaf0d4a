"""One pull: read the store, mask secrets, decide which runs get pages, read their details.

The only step that talks to the outside world; everything after works from the Snapshot it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from daybook.analysis.policy import page_run_ids
from daybook.config import DaybookConfig
from daybook.redact import Redactor, strip_credentials
from daybook.snapshot import Experiment, RegisteredModel, Run, Snapshot
from daybook.sources.mlflow import list_artifacts, open_reader, read_histories

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def pull(
    config: DaybookConfig,
    tracking_uri: str,
    *,
    progress: Progress = _quiet,
    extra_page_runs: Iterable[str] = (),
    force_client: bool = False,
) -> Snapshot:
    reader = open_reader(tracking_uri, force_client=force_client)
    display = strip_credentials(tracking_uri)
    try:
        progress(f"reading {display} ({reader.kind})")
        experiments = sorted(
            (e for e in reader.read_experiments() if config.experiments.wants(e.name)),
            key=lambda e: e.experiment_id,
        )
        runs = sorted(
            reader.read_runs([e.experiment_id for e in experiments]), key=lambda r: r.run_id
        )
        progress(f"read {len(experiments)} experiments, {len(runs)} runs")
        models = sorted(reader.read_models(), key=lambda m: m.name)
        progress(f"read {len(models)} registered models")
        redactor = Redactor(config.redact)
        experiments = [_mask_experiment(e, redactor) for e in experiments]
        runs = [_mask_run(r, redactor) for r in runs]
        models = [_mask_model(m, redactor) for m in models]
        wanted = sorted(page_run_ids(config, experiments, runs, models, extra_page_runs))
        latest = {r.run_id: r.metrics for r in runs if r.run_id in set(wanted)}
        histories = read_histories(reader, wanted, latest)
        progress(f"read metric histories of {len(histories)} runs")
        by_id = {r.run_id: r for r in runs}
        artifacts = {}
        for rid in wanted:
            listing = list_artifacts(by_id[rid].artifact_uri, tracking_uri)
            if listing:
                artifacts[rid] = listing
        progress(f"listed artifacts of {len(wanted)} runs")
    finally:
        reader.close()
    return Snapshot(
        tracking_uri=display,
        experiments=tuple(experiments),
        runs=tuple(runs),
        models=tuple(models),
        histories=histories,
        artifacts=artifacts,
    )


def _mask_run(run: Run, redactor: Redactor) -> Run:
    return replace(
        run,
        params=redactor.mask(run.params),
        tags=redactor.mask(run.tags),
        artifact_uri=strip_credentials(run.artifact_uri),
        datasets=tuple(replace(d, source=strip_credentials(d.source)) for d in run.datasets),
    )


def _mask_experiment(exp: Experiment, redactor: Redactor) -> Experiment:
    return replace(exp, tags=redactor.mask(exp.tags))


def _mask_model(model: RegisteredModel, redactor: Redactor) -> RegisteredModel:
    versions = tuple(replace(v, tags=redactor.mask(v.tags)) for v in model.versions)
    return replace(model, tags=redactor.mask(model.tags), versions=versions)
