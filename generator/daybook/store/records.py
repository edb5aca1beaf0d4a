"""The site's own records about models: hand-written cards and the alias history file.

The one place that knows where they live (daybook.yml's `models:` settings) and appends to the
history. Reading the cards is `sources.cards`; deciding what moved is `analysis.deployments`;
the file format is `store.history`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from daybook.analysis.deployments import observe
from daybook.core.site import Site
from daybook.core.snapshot import ModelRecords, Problem, RegisteredModel
from daybook.sources.cards import read_cards
from daybook.store.history import append_history, read_history, repair_history, to_second


def read_records(site: Site) -> ModelRecords:
    """The cards and the recorded alias history, as they are on disk."""
    models = site.config.models
    events, problems = read_history(site.root / models.alias_history, models.alias_history)
    return ModelRecords(
        cards=read_cards(site.root, models.cards_dir),
        history=events,
        history_path=models.alias_history,
        problems=problems,
    )


def record_aliases(
    site: Site, models: Sequence[RegisteredModel], observed_at: int | None = None
) -> tuple[ModelRecords, int]:
    """Append the alias moves since the last recorded state (the whole state, the first time)
    and return the records with them, and how many were appended. `observed_at` is the pull's
    time; a history file with unreadable lines is not appended to (it would guess wrong). An
    unfinished last line (an append cut short) is dropped first and reported as a warning.
    Callers hold the site lock, so what is read here is what the previous run appended."""
    if not site.config.models.record_history:
        return read_records(site), 0
    history_path = site.config.models.alias_history
    torn = repair_history(site.root / history_path)
    records = read_records(site)
    if torn is not None:
        problem = Problem(
            history_path,
            torn.line,
            f"dropped an unfinished last line (an append cut short): {torn.text[:80]!r}; the "
            "moves it was recording are recorded again",
            "warning",
            "history.torn",
        )
        records = replace(records, problems=(*records.problems, problem))
    if any(p.code == "history.read" for p in records.problems):
        return records, 0
    when = to_second(int(time.time() * 1000) if observed_at is None else observed_at)
    new = observe(records.history, models, when)
    if not new:
        return records, 0
    append_history(site.root / site.config.models.alias_history, new)
    return replace(records, history=(*records.history, *new)), len(new)
