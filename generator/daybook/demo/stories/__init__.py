"""The demo's four stories, told as a small team's training scripts would record them.

Small scikit-learn models are really trained on datasets that ship with scikit-learn, so
the store holds what MLflow actually writes: parent/child sweeps, metric histories, a
failed run and a killed one, dataset inputs, logged and registered models, aliases that
move, and a daily monitoring job whose last two evaluations degrade.  One module per
experiment; this one creates the experiments and tells the stories in order.
"""

from __future__ import annotations

from daybook.demo.stories import cancer, diabetes, digits, monitoring
from daybook.demo.writer import StoryWriter


def write_stories(w: StoryWriter) -> None:
    """All four experiments first (their ids follow this order), then each story."""
    exp_digits = digits.create_experiment(w)
    exp_cancer = cancer.create_experiment(w)
    exp_diabetes = diabetes.create_experiment(w)
    exp_monitor = monitoring.create_experiment(w)

    digits.tell(w, exp_digits)
    models = cancer.tell(w, exp_cancer)
    diabetes.tell(w, exp_diabetes)
    monitoring.tell(w, exp_monitor, models)
