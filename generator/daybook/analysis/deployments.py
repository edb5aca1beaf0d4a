"""Deployment history: which version each alias pointed at, and when Daybook saw it move.

MLflow keeps only where each alias points now. Each pull compares that with the state the
recorded history ends in and produces the events to append; everything shown on a page is
derived from the recorded events alone, so the same history gives the same page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from daybook.core.snapshot import AliasEvent, RegisteredModel

Key = tuple[str, str]  # (model name, alias)


def alias_state(models: Iterable[RegisteredModel]) -> dict[Key, int]:
    """Where every alias of every model points now."""
    return {(m.name, a): v for m in models for a, v in m.aliases.items()}


def state_after(events: Iterable[AliasEvent]) -> dict[Key, int]:
    """The alias state the history ends in (events replayed in order)."""
    state: dict[Key, int] = {}
    for e in events:
        if e.to_version is None:
            state.pop((e.model, e.alias), None)
        else:
            state[(e.model, e.alias)] = e.to_version
    return state


def observe(
    history: Sequence[AliasEvent], models: Iterable[RegisteredModel], observed_at: int
) -> list[AliasEvent]:
    """The events that bring `history` up to the registry's current state, sorted by model and
    alias. With no history at all, the current state is recorded as the baseline."""
    first = not history
    before = state_after(history)
    now = alias_state(models)
    out = []
    for key in sorted(before.keys() | now.keys()):
        old, new = before.get(key), now.get(key)
        if old == new:
            continue
        if first:
            kind = "baseline"
        elif old is None:
            kind = "set"
        elif new is None:
            kind = "removed"
        else:
            kind = "moved"
        out.append(AliasEvent(observed_at, key[0], key[1], old, new, kind))
    return out


@dataclass(frozen=True, slots=True)
class Holding:
    """A stretch of time an alias pointed at one version, as far as the history knows."""

    alias: str
    version: int
    start: int  # epoch ms the move was observed
    start_known: bool  # False: a baseline; the alias may have pointed there long before
    end: int | None  # None: it still does (as of the last recorded event)


def timeline(model: str, history: Sequence[AliasEvent]) -> list[AliasEvent]:
    """The model's recorded events, newest first (file order breaks ties)."""
    indexed = [(e.observed_at, i, e) for i, e in enumerate(history) if e.model == model]
    return [e for _, _, e in sorted(indexed, key=lambda t: (-t[0], -t[1]))]


def holdings(model: str, history: Sequence[AliasEvent]) -> list[Holding]:
    """Every stretch an alias of `model` pointed at a version, oldest first."""
    open_: dict[str, Holding] = {}
    done: list[Holding] = []
    for e in history:
        if e.model != model:
            continue
        current = open_.pop(e.alias, None)
        if current is not None:
            done.append(
                Holding(
                    current.alias,
                    current.version,
                    current.start,
                    current.start_known,
                    e.observed_at,
                )
            )
        if e.to_version is not None:
            open_[e.alias] = Holding(
                e.alias, e.to_version, e.observed_at, e.kind != "baseline", None
            )
    out = done + list(open_.values())
    return sorted(out, key=lambda h: (h.start, h.alias, h.version))


def holdings_by_version(model: str, history: Sequence[AliasEvent]) -> dict[int, list[Holding]]:
    out: dict[int, list[Holding]] = {}
    for h in holdings(model, history):
        out.setdefault(h.version, []).append(h)
    return out
