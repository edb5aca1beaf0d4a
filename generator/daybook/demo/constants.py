"""Names and numbers the demo store, its stories and the demo's site files agree on.

A module of its own so the stories can use them without importing `store` (which imports
the stories), and so the site files (`models`, `settings`) can name the store's
experiments and models without caring how they were written.
"""

from __future__ import annotations

HOUR_MS = 3_600_000
MIN_MS = 60_000
SEED = 7  # every model and split in the stories is seeded with it

EXP_DIGITS = "digits-classifier"
EXP_CANCER = "breast-cancer"
EXP_DIABETES = "diabetes-regression"
EXP_MONITOR = "cancer-detector-monitoring"
MODEL_CANCER = "cancer-detector"
MODEL_DIABETES = "diabetes-regressor"
