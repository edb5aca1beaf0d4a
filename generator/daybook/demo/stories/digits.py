"""Digits: alice's logistic-regression baseline, a gradient-boosting sweep that tries to beat
it, a quick re-check of the linear model, and a deep-tree run she killed.

No registered model: this story shows sweeps (a parent run with one child per trial),
per-stage metric histories and a KILLED run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daybook.demo.constants import EXP_DIGITS, MIN_MS, SEED
from daybook.demo.writer import Point, RunSpec, StoryWriter

# (learning_rate, max_depth, n_estimators) of the sweep's trials, in the order they ran.
SWEEP_GRID: tuple[tuple[float, int, int], ...] = (
    (0.05, 2, 40),
    (0.1, 2, 30),
    (0.1, 3, 30),
    (0.2, 3, 25),
    (0.3, 3, 20),
    (0.2, 4, 20),
)


@dataclass(frozen=True)
class _Digits:
    """The experiment and its one train/validation split, shared by every run."""

    w: StoryWriter
    exp_id: str
    x_tr: Any
    x_va: Any
    y_tr: Any
    y_va: Any
    common: dict[str, Any]


@dataclass(frozen=True)
class _Trial:
    """One finished child run of the sweep."""

    accuracy: float
    run_id: str
    name: str
    prediction: Any
    duration_ms: int


def create_experiment(w: StoryWriter) -> str:
    return w.experiment(
        EXP_DIGITS,
        190,
        "Handwritten digit recognition on scikit-learn's `digits` set (8×8 images, "
        "10 classes). Owner: **alice**.\n\nGoal: beat the logistic-regression baseline "
        "with a small gradient-boosting model.",
        {"team": "vision", "owner": "alice"},
    )


def tell(w: StoryWriter, exp_id: str) -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)
    common = {"dataset": "sklearn.datasets.load_digits", "test_size": 0.25, "seed": SEED}
    d = _Digits(w, exp_id, x_tr, x_va, y_tr, y_va, common)

    baseline_acc = _linear_run(
        d,
        "logreg-baseline",
        180,
        1.0,
        False,
        "Baseline: plain **logistic regression** on raw 8×8 pixel intensities. "
        "Everything else has to beat this.",
    )
    _gbm_sweep(d, baseline_acc)
    _linear_run(
        d,
        "logreg-c0.1-scaled",
        9,
        0.1,
        True,
        "Quick check: does **standardizing** the pixels plus stronger regularization "
        "(`C=0.1`) close the gap to the GBM sweep?",
    )
    _killed_deep_run(d)


def _linear_run(d: _Digits, name: str, hours: float, c: float, scaled: bool, note: str) -> float:
    """A logistic-regression run; returns its validation accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    d.w.progress(f"{EXP_DIGITS}: training {name}")
    clf = LogisticRegression(C=c, max_iter=3000)
    model = make_pipeline(StandardScaler(), clf) if scaled else clf
    model.fit(d.x_tr, d.y_tr)
    pred = model.predict(d.x_va)
    spec = RunSpec(
        name, "alice", d.w.ago(hours), "digits/train_linear.py", f"digits-{name}", note=note
    )
    params = {"model": "logistic_regression", "C": c, "max_iter": 3000, "standardize": scaled}
    run_id = d.w.start(d.exp_id, spec, {**d.common, **params})
    end = spec.start_ms + 2 * MIN_MS + 10_000
    d.w.metrics(
        run_id,
        [
            ("train_accuracy", accuracy_score(d.y_tr, model.predict(d.x_tr)), end - 5000, 0),
            ("val_accuracy", accuracy_score(d.y_va, pred), end - 5000, 0),
            ("val_f1", f1_score(d.y_va, pred, average="macro"), end - 5000, 0),
        ],
    )
    d.w.finish(run_id, end)
    return float(accuracy_score(d.y_va, pred))


def _gbm_sweep(d: _Digits, baseline_acc: float) -> None:
    """The hyperparameter sweep: a parent run with one child run per configuration."""
    parent_spec = RunSpec("gbm-sweep", "alice", d.w.ago(148), "digits/sweep.py", "digits-sweep")
    parent_id = d.w.start(
        d.exp_id,
        parent_spec,
        {
            **d.common,
            "model": "gradient_boosting",
            "search": "grid",
            "n_trials": len(SWEEP_GRID),
            "objective": "val_accuracy",
        },
    )
    t = parent_spec.start_ms + 20_000
    trials: list[_Trial] = []
    for i, (lr, depth, n_est) in enumerate(SWEEP_GRID, start=1):
        d.w.progress(f"{EXP_DIGITS}: training gbm sweep ({i}/{len(SWEEP_GRID)})")
        trial = _sweep_trial(d, parent_id, t, lr, depth, n_est)
        trials.append(trial)
        t += trial.duration_ms + 15_000
    _close_sweep(d, parent_id, trials, baseline_acc, t)


def _sweep_trial(d: _Digits, parent_id: str, t: int, lr: float, depth: int, n_est: int) -> _Trial:
    """One child run of the sweep, starting at ``t``, with its per-stage history."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import accuracy_score, f1_score

    model = GradientBoostingClassifier(
        n_estimators=n_est, learning_rate=lr, max_depth=depth, subsample=0.8, random_state=SEED
    ).fit(d.x_tr, d.y_tr)
    name = f"gbm-lr{lr}-d{depth}"
    note = "Tried **deeper trees**; see `max_depth`." if depth == 4 else None
    spec = RunSpec(
        name, "alice", t, "digits/sweep.py", "digits-sweep", note=note, parent_id=parent_id
    )
    params = {"learning_rate": lr, "max_depth": depth, "n_estimators": n_est, "subsample": 0.8}
    run_id = d.w.start(d.exp_id, spec, {**d.common, "model": "gradient_boosting", **params})
    duration = (n_est * depth * 6 + 30) * 1000
    points: list[Point] = []
    for stage, (pred, loss) in enumerate(
        zip(model.staged_predict(d.x_va), model.train_score_, strict=True), start=1
    ):
        ts = t + duration * stage // (n_est + 1)
        points.append(("val_accuracy", accuracy_score(d.y_va, pred), ts, stage))
        points.append(("train_loss", float(loss), ts, stage))
    final_pred = model.predict(d.x_va)
    points.append(
        ("val_f1", f1_score(d.y_va, final_pred, average="macro"), t + duration - 2000, n_est)
    )
    d.w.metrics(run_id, points)
    d.w.finish(run_id, t + duration)
    return _Trial(accuracy_score(d.y_va, final_pred), run_id, name, final_pred, duration)


def _close_sweep(
    d: _Digits, parent_id: str, trials: list[_Trial], baseline_acc: float, t: int
) -> None:
    """The best trial gets a confusion matrix; the parent run its score, tag and verdict."""
    from sklearn.metrics import confusion_matrix

    best = max(trials, key=lambda trial: trial.accuracy)
    matrix = confusion_matrix(d.y_va, best.prediction)
    header = "true\\pred " + " ".join(f"{digit:>3}" for digit in range(10))
    lines = [header] + [
        f"{digit:>9} " + " ".join(f"{v:>3}" for v in row) for digit, row in enumerate(matrix)
    ]
    d.w.mlc.log_text(best.run_id, "\n".join(lines) + "\n", "confusion_matrix.txt")
    d.w.metrics(parent_id, [("val_accuracy", best.accuracy, t, 0)])
    d.w.mlc.set_tag(parent_id, "best_run_id", best.run_id)
    verdict = (
        "."
        if best.accuracy > baseline_acc
        else f", still below the logistic-regression baseline ({baseline_acc:.4f})."
    )
    d.w.mlc.set_tag(
        parent_id,
        "mlflow.note.content",
        "Grid over `learning_rate` × `max_depth` for gradient boosting "
        f"({len(trials)} trials). Best: **{best.name}** with val_accuracy "
        f"{best.accuracy:.4f}" + verdict,
    )
    d.w.finish(parent_id, t + 5000)


def _killed_deep_run(d: _Digits) -> None:
    """A run stopped by hand in the last 24 hours: deep trees were far too slow.

    It logged the first stages of its history before it was killed.
    """
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import accuracy_score

    d.w.progress(f"{EXP_DIGITS}: recording a killed run")
    spec = RunSpec(
        "gbm-lr0.5-d6",
        "alice",
        d.w.ago(6),
        "digits/sweep.py",
        "digits-deep",
        note="Deeper trees (`max_depth=6`) at a high learning rate. **Killed** after five "
        "stages: each tree took minutes, and `val_accuracy` was not moving.",
    )
    deep = {"learning_rate": 0.5, "max_depth": 6, "n_estimators": 200, "subsample": 0.8}
    run_id = d.w.start(d.exp_id, spec, {**d.common, "model": "gradient_boosting", **deep})
    partial = GradientBoostingClassifier(
        n_estimators=5, learning_rate=0.5, max_depth=6, subsample=0.8, random_state=SEED
    ).fit(d.x_tr, d.y_tr)
    points: list[Point] = []
    for stage, (pred, loss) in enumerate(
        zip(partial.staged_predict(d.x_va), partial.train_score_, strict=True), start=1
    ):
        ts = spec.start_ms + stage * 40_000
        points.append(("val_accuracy", accuracy_score(d.y_va, pred), ts, stage))
        points.append(("train_loss", float(loss), ts, stage))
    d.w.metrics(run_id, points)
    d.w.finish(run_id, spec.start_ms + 215_000, status="KILLED")
