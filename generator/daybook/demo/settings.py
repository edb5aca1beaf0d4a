"""`daybook demo` in a site: the settings that make the demo store's story show.

The demo store has a production model watched daily (`cancer-detector-monitoring`) whose
accuracy falls below 0.9 on the last two days. A monitor on it in daybook.yml makes the home page
and `daybook check --monitors` say so. Appended to the site's daybook.yml, as text (comments and
all stay), and only for keys the file does not set yet.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from daybook.core.config import CONFIG_NAME
from daybook.demo.constants import EXP_CANCER, EXP_DIABETES, EXP_DIGITS, EXP_MONITOR, MODEL_CANCER

PRIMARY_METRICS = f"""
# Added by `daybook demo`: how the demo's experiments rank their runs.
primary_metrics:
  - experiment: {EXP_DIGITS}
    metric: val_accuracy
  - experiment: {EXP_CANCER}
    metric: val_auc
  - experiment: {EXP_DIABETES}
    metric: val_rmse
    direction: minimize
  - experiment: {EXP_MONITOR}
    metric: accuracy
"""

MONITORS = f"""
# Added by `daybook demo`: a monitor on the demo's production model. Its daily
# evaluations (runs tagged model_name / model_version in {EXP_MONITOR})
# fall below 0.9 on the last two days: it fails, and `daybook check --monitors` exits 1.
monitors:
  - name: {MODEL_CANCER} accuracy
    model: models:/{MODEL_CANCER}@champion
    experiment: {EXP_MONITOR}
    metric: accuracy
    min: 0.9           # fail below 0.9
    max_drop: "5%"     # fail when 5 % below the version's first evaluation
    warn: {{min: 0.93}}  # warn below 0.93
"""


def write_demo_settings(site: Path) -> list[str]:
    """Append the demo's primary metrics and monitor to `site`/daybook.yml where missing;
    returns the keys added. A daybook.yml that does not parse is left alone."""
    path = site / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        data = yaml.safe_load(text) if text.strip() else {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(data, dict):
        return []
    added = []
    extra = ""
    if "primary_metrics" not in data:
        extra += PRIMARY_METRICS
        added.append("primary_metrics")
    if "monitors" not in data:
        extra += MONITORS
        added.append("monitors")
    if extra:
        sep = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + sep + extra, encoding="utf-8")
    return added
