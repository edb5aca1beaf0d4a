"""Monitoring: a daily job evaluates `cancer-detector@champion` on a bootstrap sample of the
hold-out set, for the past week.

Each day's run evaluates the version that was champion at the time (so the v1 -> v2 move
shows), and the last two days see noisier features from an upstream change, so their
accuracy drops below the alert threshold the demo site's monitor uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from daybook.demo.constants import EXP_MONITOR, MODEL_CANCER
from daybook.demo.stories.cancer import CancerModels
from daybook.demo.writer import RunSpec, StoryWriter

DAYS = 7
DRIFTED_DAYS = 2  # the most recent evaluations that see the noisier features


def create_experiment(w: StoryWriter) -> str:
    return w.experiment(
        EXP_MONITOR,
        170,
        f"Daily evaluation of `{MODEL_CANCER}@champion` on a bootstrap sample of the "
        "hold-out set. Alert if `accuracy` drops below 0.9.",
        {"team": "health", "owner": "bob", "job": "daily-eval"},
    )


def tell(w: StoryWriter, exp_id: str, models: CancerModels) -> None:
    """One evaluation run a day, oldest first; ``k`` is how many days ago it ran."""
    for k in range(DAYS - 1, -1, -1):
        _daily_evaluation(w, exp_id, models, k)


def _daily_evaluation(w: StoryWriter, exp_id: str, models: CancerModels, k: int) -> None:
    from sklearn.metrics import accuracy_score, roc_auc_score

    start = w.ago(24 * k + 2)
    day = datetime.fromtimestamp(start / 1000, tz=UTC).strftime("%Y-%m-%d")
    w.progress(f"{EXP_MONITOR}: evaluating {day} ({DAYS - k}/{DAYS})")
    version = [v for at, v in w.champions[MODEL_CANCER] if at <= start][-1]
    seed = 1000 + (DAYS - k)
    xs, ys = _bootstrap_sample(models, seed, drifted=k < DRIFTED_DAYS)
    proba = models.fitted[version].predict_proba(xs)[:, 1]
    spec = RunSpec(
        f"eval-{day}",
        "bob",
        start,
        "monitoring/daily_eval.py",
        "monitoring",
        tags={"model_name": MODEL_CANCER, "model_version": version, "model_alias": "champion"},
    )
    run_id = w.start(
        exp_id,
        spec,
        {"sample": "bootstrap", "sample_size": len(ys), "sample_seed": seed, "threshold": 0.5},
    )
    end = start + 45_000
    w.metrics(
        run_id,
        [
            ("accuracy", accuracy_score(ys, (proba >= 0.5).astype(int)), end - 5000, 0),
            ("auc", roc_auc_score(ys, proba), end - 5000, 0),
        ],
    )
    w.finish(run_id, end)


def _bootstrap_sample(models: CancerModels, seed: int, drifted: bool) -> tuple[Any, Any]:
    """A seeded bootstrap sample of the hold-out set, as (features frame, labels).

    When ``drifted``, an upstream change: the imaging pipeline started sending noisier
    features.
    """
    import numpy as np
    import pandas as pd

    x_arr, y_arr = models.x_val.to_numpy(), models.y_val.to_numpy()
    n = len(y_arr)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, n)
    xs, ys = x_arr[idx], y_arr[idx]
    if drifted:
        xs = xs + rng.normal(0.0, 1.2, xs.shape) * x_arr.std(axis=0)
    return pd.DataFrame(xs, columns=models.x_val.columns), ys
