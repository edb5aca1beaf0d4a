"""Diabetes: chen's regression model `diabetes-regressor`, and a dataset that changes.

A ridge baseline becomes v1 and champion, a lasso run does not help, gradient boosting
becomes v2 and champion.  In the last 24 hours the dataset is refreshed (380 -> 442
patients), the baseline is re-run on it, and a deeper boosting model does clearly worse.
Every run records its training and validation CSVs as dataset inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daybook.demo.constants import EXP_DIABETES, MODEL_DIABETES, SEED
from daybook.demo.writer import Point, RunSpec, StoryWriter

if TYPE_CHECKING:
    import pandas as pd

SPLIT_SEED = 42  # a split on which the story's ordering of models holds
GBR_SHALLOW = {"n_estimators": 150, "learning_rate": 0.05, "max_depth": 2, "subsample": 0.8}
GBR_DEEP = {"n_estimators": 200, "learning_rate": 0.5, "max_depth": 8, "subsample": 1.0}


@dataclass(frozen=True)
class _Diabetes:
    """The experiment and the two dataset versions: name -> (rows, CSV path)."""

    w: StoryWriter
    exp_id: str
    versions: dict[str, tuple[pd.DataFrame, Path]]

    def split(self, version: str) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
        from sklearn.model_selection import train_test_split

        df, csv = self.versions[version]
        train, val = train_test_split(df, test_size=0.2, random_state=SPLIT_SEED)
        return train.reset_index(drop=True), val.reset_index(drop=True), csv


@dataclass(frozen=True)
class _Trained:
    """A trained run, still open: metrics logged, model not yet logged."""

    run_id: str
    model: Any
    spec: RunSpec
    end_ms: int
    step: int


def create_experiment(w: StoryWriter) -> str:
    return w.experiment(
        EXP_DIABETES,
        186,
        "Disease progression one year after baseline (scikit-learn `diabetes` set). "
        f"Owner: **chen**. Lower `val_rmse` is better. Registered as `{MODEL_DIABETES}`.",
        {"team": "health", "owner": "chen"},
    )


def tell(w: StoryWriter, exp_id: str) -> None:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    data_dir = w.artifact_root / "datasets"
    # The older snapshot had 380 patients; the refresh (used in the last 24 hours) has 442.
    versions = {
        "v1": (frame.iloc[:380].reset_index(drop=True), data_dir / "diabetes-v1.csv"),
        "v2": (frame.reset_index(drop=True), data_dir / "diabetes-v2.csv"),
    }
    d = _Diabetes(w, exp_id, versions)
    x_sample = d.split("v1")[1].drop(columns="target").head(5)

    _create_registered_model(w)
    _ridge_champion(d, x_sample)
    _lasso_run(d)
    _gbr_champion(d, x_sample)
    _after_the_refresh(d)


def _create_registered_model(w: StoryWriter) -> None:
    w.registered_model(
        MODEL_DIABETES,
        w.ago(167.5),
        w.ago(100),
        "Predicts a quantitative measure of disease progression one year after baseline. "
        "Owner: **chen**. Serve the `champion` alias.",
        {"team": "health", "task": "regression", "owner": "chen"},
    )


def _ridge_champion(d: _Diabetes, x_sample: pd.DataFrame) -> None:
    """v1: the ridge baseline, with its coefficients as an artifact; the first champion."""
    from sklearn.linear_model import Ridge

    run = _train_run(
        d,
        "ridge-alpha1",
        168,
        "v1",
        Ridge(alpha=1.0),
        {"model": "ridge", "alpha": 1.0},
        "Linear baseline: **ridge** regression, `alpha=1.0`.",
        staged=False,
    )
    ridge = run.model
    features = [c for c in d.versions["v1"][0].columns if c != "target"]
    coefficients = dict(zip(features, map(float, ridge.coef_), strict=True))
    d.w.mlc.log_dict(
        run.run_id, {"intercept": float(ridge.intercept_), **coefficients}, "coefficients.json"
    )
    model_id = d.w.finish_with_model(
        EXP_DIABETES, run.run_id, ridge, x_sample, run.spec, run.end_ms, run.step
    )
    d1 = d.w.register(
        MODEL_DIABETES,
        run.run_id,
        model_id,
        d.w.ago(167.5),
        "Ridge baseline (`alpha=1.0`) trained on the 380-patient snapshot.",
        {"validation_status": "approved", "data_version": "v1"},
    )
    d.w.set_champion(MODEL_DIABETES, d1, d.w.ago(167.4))


def _lasso_run(d: _Diabetes) -> None:
    """A lasso run that does not beat the baseline; nothing registered."""
    from sklearn.linear_model import Lasso

    run = _train_run(
        d, "lasso-alpha0.1", 140, "v1", Lasso(alpha=0.1), {"model": "lasso", "alpha": 0.1}, None
    )
    d.w.finish(run.run_id, run.end_ms)


def _gbr_champion(d: _Diabetes, x_sample: pd.DataFrame) -> None:
    """v2: shallow gradient boosting, the best `val_rmse` so far; promoted to champion."""
    from sklearn.ensemble import GradientBoostingRegressor

    run = _train_run(
        d,
        "gbr-shallow",
        108,
        "v1",
        GradientBoostingRegressor(**GBR_SHALLOW, random_state=SEED),
        {"model": "gradient_boosting", **GBR_SHALLOW},
        "**Gradient boosting** with depth-2 trees; `val_rmse` is logged per stage.",
        staged=True,
    )
    model_id = d.w.finish_with_model(
        EXP_DIABETES, run.run_id, run.model, x_sample, run.spec, run.end_ms, run.step
    )
    d2 = d.w.register(
        MODEL_DIABETES,
        run.run_id,
        model_id,
        d.w.ago(106),
        "Gradient boosting, 150 depth-2 trees; best `val_rmse` so far.",
        {"validation_status": "approved", "data_version": "v1"},
    )
    d.w.set_champion(MODEL_DIABETES, d2, d.w.ago(100))


def _after_the_refresh(d: _Diabetes) -> None:
    """The last 24 hours: the data refresh, then a clearly worse experiment."""
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge

    run = _train_run(
        d,
        "ridge-alpha1-refresh",
        20,
        "v2",
        Ridge(alpha=1.0),
        {"model": "ridge", "alpha": 1.0},
        "Re-ran the baseline on the **refreshed** dataset (442 patients instead of 380).",
    )
    d.w.finish(run.run_id, run.end_ms)
    run = _train_run(
        d,
        "gbr-deep",
        4,
        "v2",
        GradientBoostingRegressor(**GBR_DEEP, random_state=SEED),
        {"model": "gradient_boosting", **GBR_DEEP},
        "Trying **deeper trees** and a higher learning rate on the refreshed data.",
        staged=True,
    )
    d.w.finish(run.run_id, run.end_ms)


def _train_run(
    d: _Diabetes,
    name: str,
    hours: float,
    data: str,
    model: Any,
    params: dict[str, Any],
    note: str | None,
    staged: bool = False,
) -> _Trained:
    """Fit ``model`` on dataset version ``data``; start its run with params, dataset inputs
    and metrics (per stage if ``staged``). The caller logs the model and finishes the run."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    d.w.progress(f"{EXP_DIABETES}: training {name}")
    train, val, csv = d.split(data)
    features = [c for c in train.columns if c != "target"]
    model.fit(train[features], train["target"])
    spec = RunSpec(name, "chen", d.w.ago(hours), "diabetes/train.py", f"diabetes-{name}", note=note)
    run_params = {
        "dataset": "diabetes",
        "dataset_version": data,
        "n_rows": len(d.versions[data][0]),
        "test_size": 0.2,
        "seed": SPLIT_SEED,
        **params,
    }
    run_id = d.w.start(d.exp_id, spec, run_params)
    d.w.log_dataset(run_id, train, csv.with_name(csv.stem + "-train.csv"), "diabetes", "training")
    d.w.log_dataset(run_id, val, csv.with_name(csv.stem + "-val.csv"), "diabetes", "validation")
    points: list[Point] = []
    step = 0
    end = spec.start_ms + 70_000
    if staged:
        points, step = _staged_history(model, val[features], val["target"], spec.start_ms)
        end = spec.start_ms + step * 800 + 40_000
    pred = model.predict(val[features])
    final = {
        "val_rmse": float(mean_squared_error(val["target"], pred) ** 0.5),
        "val_mae": mean_absolute_error(val["target"], pred),
        "val_r2": r2_score(val["target"], pred),
    }
    if staged:
        del final["val_rmse"]  # already the last point of the history
    points += [(k, v, end - 20_000, step) for k, v in final.items()]
    d.w.metrics(run_id, points)
    return _Trained(run_id, model, spec, end, step)


def _staged_history(model: Any, x_val: Any, y_val: Any, start_ms: int) -> tuple[list[Point], int]:
    """`val_rmse` and `train_loss` after every boosting stage; returns them and the last step."""
    from sklearn.metrics import mean_squared_error

    points: list[Point] = []
    for stage, (pred, loss) in enumerate(
        zip(model.staged_predict(x_val), model.train_score_, strict=True), start=1
    ):
        ts = start_ms + stage * 800
        rmse = float(mean_squared_error(y_val, pred) ** 0.5)
        points.append(("val_rmse", rmse, ts, stage))
        points.append(("train_loss", float(loss), ts, stage))
    return points, model.n_estimators
