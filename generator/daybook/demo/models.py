"""The demo's model records: a hand-written card for `cancer-detector` (some sections left for
someone to write) and the alias history of the demo story, so the demo site shows the card's
completeness score, its "needs input" flags and the champion's move from v1 to v2.

The history is the story's own sequence (`set_champion` and the challenger in `stories/`),
timed from the same `now` the store was built with. It is only written when it ends exactly
where the store's aliases are; otherwise the first build records a baseline as usual.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from daybook.analysis.deployments import alias_state, state_after
from daybook.core.config import load_config
from daybook.core.snapshot import AliasEvent
from daybook.demo.constants import HOUR_MS, MODEL_CANCER, MODEL_DIABETES
from daybook.demo.store import DemoStore
from daybook.sources.mlflow import open_reader
from daybook.store.history import append_history, to_second

# (hours before now, model, alias, from version, to version) — the stories' alias moves.
STORY: tuple[tuple[float, str, str, int | None, int], ...] = (
    (171.4, MODEL_CANCER, "champion", None, 1),
    (167.4, MODEL_DIABETES, "champion", None, 1),
    (115.2, MODEL_CANCER, "champion", 1, 2),
    (100.0, MODEL_DIABETES, "champion", 1, 2),
    (20.5, MODEL_CANCER, "challenger", None, 3),
)
CARD_AGE_DAYS = 3  # the card was last reviewed when v2 was promoted: older than v3


def demo_history(now_ms: int) -> list[AliasEvent]:
    out = []
    for hours, model, alias, old, new in STORY:
        kind = "set" if old is None else "moved"
        out.append(
            AliasEvent(to_second(now_ms - round(hours * HOUR_MS)), model, alias, old, new, kind)
        )
    return out


def write_demo_models(site: Path, store: DemoStore, now_ms: int) -> list[Path]:
    """Write the demo card and alias history into `site`; files that exist are left alone."""
    config = load_config(site)
    written = []
    card = site / config.models.cards_dir / f"{MODEL_CANCER}.md"
    if not card.exists():
        card.parent.mkdir(parents=True, exist_ok=True)
        day = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC).date()
        text = DEMO_CARD.replace("{last_updated}", (day - dt.timedelta(CARD_AGE_DAYS)).isoformat())
        with card.open("x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        written.append(card)
    history = site / config.models.alias_history
    if not history.exists():
        events = demo_history(now_ms)
        reader = open_reader(store.tracking_uri)
        try:
            models = reader.read_models()
        finally:
            reader.close()
        if state_after(events) == alias_state(models):
            append_history(history, events)
            written.append(history)
    return written


DEMO_CARD = """\
---
license: apache-2.0
language: [en]
tags: [medical, tabular, breast-cancer]
datasets: [scikit-learn/breast-cancer-wisconsin]
pipeline_tag: tabular-classification
last_updated: {last_updated}
---

# Model card for cancer-detector

Flags likely-malignant breast tumours from the 30 Wisconsin features, so a radiologist
reviews those first. It ranks; it does not diagnose.

## Model Details

- **Developed by:** the health team (bob, with chen reviewing)
- **Model type:** binary classifier on tabular features (scikit-learn)
- **Decision threshold:** 0.5 on the predicted probability of *malignant*

The serving alias is `champion`; candidates are registered as `challenger` and shadow-evaluated
for at least a day before a promotion.

## Uses

### Direct Use

Triage: order the day's cases so that likely-malignant ones are read first.

### Out-of-Scope Use

- Any decision without a radiologist reading the case.
- Images or features from a different imaging pipeline than the one it was trained on (see
  the monitoring experiment: accuracy drops when the features get noisier).

## Bias, Risks, and Limitations

Trained on 569 cases from one hospital (the Wisconsin dataset, 1995). It has not been
evaluated on other populations or scanners. False negatives are the costly error: a
malignant case ranked low waits longer.

## Training Details

Features are used as provided; the logistic-regression baseline (v1) standardizes the ten
`mean *` features, the forest (v2) needs no scaling. 70/30 stratified split, seed 7.

## Evaluation

Hold-out evaluation on the 30 % split (171 cases); the daily monitoring job re-evaluates the
`champion` on a bootstrap sample and alerts below 0.9 accuracy.

## Environmental Impact

<!-- Nobody has measured this yet. -->

## Technical Specifications

## Citation

## Model Card Authors

bob, chen

## Model Card Contact

The `#health-ml` channel on chat
"""
