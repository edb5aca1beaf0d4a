"""Which params earn a column in a leaderboard or a runs table: the ones that tell runs apart.

A column whose every cell reads the same (`optimizer=adam` in every run, or a secret masked to
`••••••` everywhere) costs width and says nothing, so it never gets one. Of the params that vary,
the ones with more distinct values come first (a run missing the param counts as one more
value), then the ones more runs have, then by name, so the choice is stable from build to build.
A site can name its own (`run_table.param_keys` in daybook.yml): those come first, in its order.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

from daybook.core.snapshot import Run
from daybook.safety.redact import MASK

_MISSING = object()


def varying_params(runs: Sequence[Run]) -> list[str]:
    """Every param that varies across `runs` and is never masked whole, most varied first."""
    dicts = [r.params for r in runs]
    values: dict[str, int] = {}  # distinct values, "absent" counting as one
    counts: dict[str, int] = {}
    # A column at a time, each read in C across the runs (20,000 runs × 6 params, or a wide
    # experiment's 300 runs × 2,000 params: the Python loop is over keys, never over runs).
    for k in sorted(set().union(*dicts)):
        column = list(map(dict.get, dicts, repeat(k), repeat(_MISSING)))
        distinct = set(column)
        if len(distinct) > 1 and MASK not in distinct:
            values[k] = len(distinct)
            counts[k] = len(column) - column.count(_MISSING)
    return sorted(values, key=lambda k: (-values[k], -counts[k], k))


def param_columns(runs: Sequence[Run], limit: int, chosen: Sequence[str] = ()) -> list[str]:
    """At most `limit` param columns for `runs`: the site's `chosen` keys that some run has
    (never a masked one), then the most varied of the rest."""
    dicts = [r.params for r in runs]
    present = set().union(*dicts)
    masked = {k for d in dicts if MASK in d.values() for k, v in d.items() if v == MASK}
    picked = [k for k in dict.fromkeys(chosen) if k in present and k not in masked]
    rest = [k for k in varying_params(runs) if k not in picked]
    return (picked + rest)[: max(limit, 0)]


def prefix_of(key: str) -> str:
    """The group a column belongs to in the picker: the key up to its first `.` or `/`,
    separator included (`optimizer.lr` -> `optimizer.`), or "" for a key with neither."""
    cut = min((i for i in (key.find("."), key.find("/")) if i > 0), default=-1)
    return key[: cut + 1] if cut > 0 else ""


def prefix_groups(keys: Sequence[str]) -> list[tuple[str, list[str]]]:
    """`keys` grouped by prefix, groups and keys sorted by name (the ungrouped ones, "", last)."""
    groups: dict[str, list[str]] = {}
    for key in sorted(set(keys)):
        groups.setdefault(prefix_of(key), []).append(key)
    return sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0]))


def constant_params(runs: Sequence[Run]) -> dict[str, str]:
    """The params every run of `runs` has with one same value: a run page folds them under one
    line. Empty for fewer than two runs (nothing to be constant across)."""
    if len(runs) < 2:
        return {}
    first, *rest = runs
    same = dict(first.params)
    for r in rest:
        same = {k: v for k, v in same.items() if r.params.get(k, _MISSING) == v}
        if not same:
            break
    return dict(sorted(same.items()))


def all_keys(runs: Sequence[Run]) -> tuple[list[str], list[str]]:
    """Every param key and every metric key any of `runs` logged, sorted."""
    return (sorted({k for r in runs for k in r.params}),
            sorted({k for r in runs for k in r.metrics}))  # fmt: skip
