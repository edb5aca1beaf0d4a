"""Breast cancer: bob's registered model `cancer-detector` and how its champion changed.

A logistic-regression baseline becomes v1 and champion; a config typo fails a run; a random
forest becomes v2 and takes over as champion; a run leaks a credential into its params; and
a gradient-boosting model is registered as v3, the `challenger`.  The fitted versions and
the validation set are handed to the monitoring story, which evaluates the champion daily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from daybook.demo.constants import EXP_CANCER, EXP_MONITOR, MODEL_CANCER, SEED
from daybook.demo.writer import Point, RunSpec, StoryWriter

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class CancerModels:
    """What the monitoring story needs: the hold-out set and each version's fitted model."""

    x_val: pd.DataFrame
    y_val: pd.Series
    fitted: dict[str, Any] = field(default_factory=dict)  # version -> fitted estimator


@dataclass(frozen=True)
class _Cancer:
    """The experiment and its one train/validation split, shared by every run."""

    w: StoryWriter
    exp_id: str
    x_tr: pd.DataFrame
    x_va: pd.DataFrame
    y_tr: pd.Series
    y_va: pd.Series
    common: dict[str, Any]

    def scores(self, model: Any) -> dict[str, float]:
        from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

        proba = model.predict_proba(self.x_va)[:, 1]
        return {
            "val_auc": roc_auc_score(self.y_va, proba),
            "val_accuracy": accuracy_score(self.y_va, (proba >= 0.5).astype(int)),
            "val_log_loss": log_loss(self.y_va, proba),
        }


def create_experiment(w: StoryWriter) -> str:
    return w.experiment(
        EXP_CANCER,
        188,
        "Malignant vs. benign tumours from the Wisconsin breast-cancer features. "
        f"Owner: **bob**. Models are registered as `{MODEL_CANCER}`.",
        {"team": "health", "owner": "bob"},
    )


def tell(w: StoryWriter, exp_id: str) -> CancerModels:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer(as_frame=True)
    x_tr, x_va, y_tr, y_va = train_test_split(
        data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target
    )
    common = {"dataset": "sklearn.datasets.load_breast_cancer", "test_size": 0.3, "seed": SEED}
    c = _Cancer(w, exp_id, x_tr, x_va, y_tr, y_va, common)
    models = CancerModels(x_va, y_va)

    _create_registered_model(w)
    _baseline_champion(c, models)
    _failed_svm_run(c)
    _random_forest_champion(c, models)
    _credential_in_params_run(c)
    _gbm_challenger(c, models)
    return models


def _create_registered_model(w: StoryWriter) -> None:
    w.registered_model(
        MODEL_CANCER,
        w.ago(171.5),
        w.ago(20.5),
        "Flags malignant tumours from the 30 Wisconsin breast-cancer features. "
        "Decision threshold 0.5. Owner: **bob**; monitored daily in "
        f"`{EXP_MONITOR}`.",
        {"team": "health", "task": "binary-classification", "owner": "bob"},
    )


def _baseline_champion(c: _Cancer, models: CancerModels) -> None:
    """v1: a logistic-regression baseline on the `mean *` features, the first champion."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    c.w.progress(f"{EXP_CANCER}: training logreg-baseline")
    mean_cols = [col for col in c.x_tr.columns if col.startswith("mean ")]
    lr_model = make_pipeline(
        ColumnTransformer([("mean", StandardScaler(), mean_cols)]),
        LogisticRegression(C=1.0, max_iter=1000),
    ).fit(c.x_tr, c.y_tr)
    spec = RunSpec(
        "logreg-baseline",
        "bob",
        c.w.ago(172),
        "cancer/train.py",
        "cancer-baseline",
        note="Quick baseline: **logistic regression** on the 10 `mean *` features only.",
    )
    params = {"C": 1.0, "max_iter": 1000, "features": "mean_only", "standardize": True}
    run_id = c.w.start(c.exp_id, spec, {**c.common, "model": "logistic_regression", **params})
    end = spec.start_ms + 90_000
    c.w.metrics(run_id, [(k, v, end - 20_000, 0) for k, v in c.scores(lr_model).items()])
    model_id = c.w.finish_with_model(EXP_CANCER, run_id, lr_model, c.x_va.head(5), spec, end, 0)
    v1 = c.w.register(
        MODEL_CANCER,
        run_id,
        model_id,
        c.w.ago(171.5),
        "Logistic-regression baseline on the 10 `mean *` features.",
        {"validation_status": "approved", "trained_by": "bob"},
    )
    models.fitted[v1] = lr_model
    c.w.set_champion(MODEL_CANCER, v1, c.w.ago(171.4))


def _failed_svm_run(c: _Cancer) -> None:
    """A failed run: a typo in the config, caught by scikit-learn's parameter validation."""
    from sklearn.svm import SVC

    c.w.progress(f"{EXP_CANCER}: recording a failed run")
    bad_kernel = "rbff"
    try:
        SVC(kernel=bad_kernel).fit(c.x_tr, c.y_tr)
        error = "(no error?)"
    except ValueError as exc:
        error = f"{type(exc).__name__}: {exc}"
    spec = RunSpec(
        "svm-rbf",
        "bob",
        c.w.ago(156),
        "cancer/train.py",
        "cancer-svm",
        note=(
            f"**Failed**: config error, `kernel: {bad_kernel}` is a typo for `rbf`. The "
            "run aborted before training, so it has no metrics.\n\n"
            f"```\n{error}\n```"
        ),
    )
    run_id = c.w.start(c.exp_id, spec, {**c.common, "model": "svm", "kernel": bad_kernel, "C": 1.0})
    c.w.finish(run_id, spec.start_ms + 14_000, status="FAILED")


def _random_forest_champion(c: _Cancer, models: CancerModels) -> None:
    """v2: a random forest, its `val_auc` logged every 10 trees; promoted to champion."""
    c.w.progress(f"{EXP_CANCER}: training random-forest")
    spec = RunSpec(
        "random-forest",
        "bob",
        c.w.ago(128),
        "cancer/train.py",
        "cancer-rf",
        note="Random forest; `val_auc` is logged every 10 trees to see where it plateaus.",
    )
    rf_params = {"n_estimators": 100, "min_samples_leaf": 2, "max_features": "sqrt"}
    run_id = c.w.start(c.exp_id, spec, {**c.common, "model": "random_forest", **rf_params})
    rf = _grow_forest(c, run_id, spec.start_ms)
    importance = sorted(
        zip(c.x_tr.columns, rf.feature_importances_, strict=True), key=lambda kv: -kv[1]
    )
    c.w.mlc.log_text(
        run_id,
        "feature,importance\n" + "".join(f"{k},{v:.6f}\n" for k, v in importance),
        "feature_importance.csv",
    )
    end = spec.start_ms + 100 * 1500 + 30_000
    model_id = c.w.finish_with_model(EXP_CANCER, run_id, rf, c.x_va.head(5), spec, end, 100)
    v2 = c.w.register(
        MODEL_CANCER,
        run_id,
        model_id,
        c.w.ago(126),
        "Random forest, 100 trees. Beat v1 on `val_auc`; promoted to "
        "champion after a day of shadow evaluation.",
        {"validation_status": "approved", "trained_by": "bob"},
    )
    models.fitted[v2] = rf
    c.w.set_champion(MODEL_CANCER, v2, c.w.ago(115.2))


def _grow_forest(c: _Cancer, run_id: str, start_ms: int) -> Any:
    """Grow the forest 10 trees at a time (warm start), scoring it after each step."""
    from sklearn.ensemble import RandomForestClassifier

    rf = RandomForestClassifier(
        n_estimators=10,
        min_samples_leaf=2,
        max_features="sqrt",
        warm_start=True,
        random_state=SEED,
    )
    points: list[Point] = []
    for n_trees in range(10, 101, 10):
        rf.set_params(n_estimators=n_trees).fit(c.x_tr, c.y_tr)
        ts = start_ms + n_trees * 1500
        for key, value in c.scores(rf).items():
            points.append((key, value, ts, n_trees))
    c.w.metrics(run_id, points)
    return rf


def _credential_in_params_run(c: _Cancer) -> None:
    """A run that (wrongly) logged a credential as a parameter; never registered."""
    from sklearn.ensemble import RandomForestClassifier

    c.w.progress(f"{EXP_CANCER}: training rf-depth4-s3")
    shallow = RandomForestClassifier(n_estimators=50, max_depth=4, random_state=SEED)
    shallow.fit(c.x_tr, c.y_tr)
    spec = RunSpec(
        "rf-depth4-s3",
        "bob",
        c.w.ago(120),
        "cancer/train.py",
        "cancer-s3",
        note="Same forest capped at `max_depth=4`, reading the training data "
        "from the S3 export instead of the scikit-learn copy.",
    )
    run_id = c.w.start(
        c.exp_id,
        spec,
        {
            **c.common,
            "model": "random_forest",
            "n_estimators": 50,
            "max_depth": 4,
            "data_source": "s3://ml-team-data/breast-cancer/2024-06/export.parquet",
            "s3_access_key": "AKIAIOSFODNN7EXAMPLE",
        },
    )
    end = spec.start_ms + 75_000
    c.w.metrics(run_id, [(k, v, end - 5000, 0) for k, v in c.scores(shallow).items()])
    c.w.finish(run_id, end)


def _gbm_challenger(c: _Cancer, models: CancerModels) -> None:
    """v3: gradient boosting with a per-stage history, registered as the `challenger`."""
    from sklearn.ensemble import GradientBoostingClassifier

    c.w.progress(f"{EXP_CANCER}: training gbm-tuned")
    spec = RunSpec(
        "gbm-tuned",
        "bob",
        c.w.ago(22),
        "cancer/train.py",
        "cancer-gbm",
        note="Candidate to replace the random-forest champion: **gradient "
        "boosting** with shallow trees. Registered as `challenger`.",
    )
    gbm_params = {"n_estimators": 120, "learning_rate": 0.05, "max_depth": 2, "subsample": 0.8}
    run_id = c.w.start(c.exp_id, spec, {**c.common, "model": "gradient_boosting", **gbm_params})
    gbm = GradientBoostingClassifier(**gbm_params, random_state=SEED).fit(c.x_tr, c.y_tr)
    c.w.metrics(run_id, _staged_history(c, gbm, spec.start_ms))
    end = spec.start_ms + 120 * 1000 + 30_000
    model_id = c.w.finish_with_model(EXP_CANCER, run_id, gbm, c.x_va.head(5), spec, end, 120)
    v3 = c.w.register(
        MODEL_CANCER,
        run_id,
        model_id,
        c.w.ago(20.5),
        "Gradient boosting candidate (120 shallow trees); shadow-evaluated "
        "against the champion before any promotion.",
        {"validation_status": "pending", "trained_by": "bob"},
    )
    models.fitted[v3] = gbm
    c.w.mlc.set_registered_model_alias(MODEL_CANCER, "challenger", v3)


def _staged_history(c: _Cancer, gbm: Any, start_ms: int) -> list[Point]:
    """`val_auc` and `val_log_loss` after every boosting stage, then the final accuracy."""
    from sklearn.metrics import log_loss, roc_auc_score

    points: list[Point] = []
    ts = start_ms
    for stage, proba in enumerate(gbm.staged_predict_proba(c.x_va), start=1):
        ts = start_ms + stage * 1000
        p = proba[:, 1]
        points.append(("val_auc", roc_auc_score(c.y_va, p), ts, stage))
        points.append(("val_log_loss", log_loss(c.y_va, p), ts, stage))
    points.append(("val_accuracy", c.scores(gbm)["val_accuracy"], ts, 120))
    return points
