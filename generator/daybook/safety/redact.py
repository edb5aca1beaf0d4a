"""Masking of secrets before anything is written: one pass over every value from the store or
from files (the snapshot, the alias history, notes and cards).

A value is masked whole when its key is secret (`redact` in daybook.yml), and in part where it
holds a secret-looking span whatever its key (see `daybook.safety.secrets`). The pass walks any
dataclass tree, so a field added to the snapshot later is covered without being listed here.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import operator
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, TypeVar

from daybook import __version__
from daybook.core.config import DEFAULT_PATTERNS
from daybook.core.fork import halves, processes_wanted, why_not
from daybook.core.snapshot import DatasetInput, Run
from daybook.safety import secrets as secret_rules
from daybook.safety.paths import LocalPaths
from daybook.safety.secrets import SecretKeys, SecretScanner

__all__ = ["DEFAULT_PATTERNS", "MASK", "Redactor", "strip_credentials"]

MASK = "••••••"
T = TypeVar("T")
_REMEMBER = 1 << 21  # strings known clean, kept between calls (references, not copies)
SPLIT_FROM = 50_000  # unseen strings from which a batch is checked by two processes

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


class Redactor:
    """Masks secrets by key and by value, with one site's settings; with `paths`, also
    rewrites the building machine's paths (for what is published; the snapshot keeps them,
    since later reads of artifacts and model files need them)."""

    def __init__(
        self,
        patterns: Sequence[str] = DEFAULT_PATTERNS,
        extra_shapes: Iterable[str] = (),
        paths: LocalPaths | None = None,
        scan: bool = True,  # False: the text was masked with these settings (see `after`)
    ) -> None:
        self._settings = (tuple(patterns), tuple(extra_shapes))
        self.masking = masking_id(*self._settings)
        self._scan = scan
        self._keys = SecretKeys(patterns)
        self._scanner = SecretScanner(patterns, extra_shapes)
        self._secret_free = _secret_free(tuple(patterns), tuple(extra_shapes))
        self._paths = paths
        self.text = functools.lru_cache(maxsize=1 << 18)(self._text)
        self._plain_keys: set[str] = set()  # neither secret nor changed by `text`
        self._clean_values: set[str] = set()  # unchanged by `text`

    @classmethod
    def for_config(cls, config: Any, paths: LocalPaths | None = None) -> Redactor:
        """The redactor of a site's daybook.yml (`redact`, `redact_values`)."""
        return _cached(tuple(config.redact), tuple(config.redact_values), paths)

    def after(self, masked_by: str) -> Redactor:
        """The redactor for values that went through the masking `masked_by` (a snapshot's): when
        that is this one's, one that does not scan them for secrets again (a pull found none
        with these settings) and only rewrites local paths; else this one. A fresh process's
        publishing pass then reads 71,000 strings of a 20,000-run snapshot once, in C, instead of
        scanning each."""
        if masked_by != self.masking or not self._scan:
            return self
        return _cached(*self._settings, self._paths, scan=False)

    def is_secret(self, key: str) -> bool:
        return self._keys.is_secret(key)

    def _text(self, text: str) -> str:
        """`text` with every secret-looking span replaced by MASK (and local paths rewritten)."""
        free = self._secret_free
        if self._scan and text not in free:
            found = self._scanner.find(text)
            for s in reversed(found):
                text = text[: s.start] + MASK + text[s.end :]
            if not found:
                if len(free) > _REMEMBER:
                    free.clear()
                free.add(text)
        return self._paths.text(text) if self._paths is not None else text

    def mask(self, items: Mapping[str, str]) -> dict[str, str]:
        """Params or tags: a secret key hides its value; any other value is scanned."""
        out = self._mask(items)
        return dict(items) if out is items else out

    def _mask(self, items: Mapping[str, str]) -> Any:
        """`items` itself when nothing changes (most runs hold no secret: no copy, no compare).

        Params of a wide experiment are 600,000 pairs, mostly strings seen before (the same
        key in every run, constant values): `changed_keys` and `changed` answer for a whole
        dict with set operations in C, scanning only strings never seen."""
        if not self.changed_keys(items.keys()) and not self.changed(items.values()):
            return items
        text, secret = self.text, self.is_secret
        changed = False
        pairs = []
        for k, v in items.items():
            nk = text(k)
            nv = MASK if secret(k) else text(v)
            changed = changed or nk != k or nv != v
            pairs.append((nk, nv))
        return dict(pairs) if changed else items

    def changed(self, values: Iterable[object]) -> set[object]:
        """The values among `values` that masking would change, or that are not strings. Strings
        found clean are remembered, so a batch of runs (store/pull.py) or a dict of params costs
        set operations for what was seen before. Values must be hashable."""
        return set(self._changes(values))

    def _changes(self, values: Iterable[object]) -> dict[object, object]:
        """`changed`, each with what masking makes of it (a value that is not a string: itself).

        A batch of `SPLIT_FROM` unseen strings or more (a big store's first pull, or the
        publishing pass that rewrites paths) is shared with a forked second process
        (daybook.core.fork): it checks every second one and sends back only the few that change,
        masked, and which held a secret; the rest are clean, so nothing else travels."""
        found = set(values)
        clean = self._clean_values
        if clean.issuperset(found):
            return {}
        if len(clean) > _REMEMBER:  # a long-lived `serve`: start again
            clean.clear()
        todo = list(self._without_plain(found - clean))
        split = len(todo) >= SPLIT_FROM and not why_not(processes_wanted())
        both = None
        if split:  # halves: None when other threads are running
            mine, theirs = (functools.partial(self._check, todo, start) for start in (0, 1))
            both = halves(mine, theirs)
        if both is None:
            bad = self._check(todo, None)
        else:
            bad, (their_bad, secrets) = both
            bad.update(their_bad)
            free = self._secret_free
            for v in todo[1::2]:
                if v not in their_bad:
                    clean.add(v)  # type: ignore[arg-type]
                    free.add(v)  # type: ignore[arg-type]
                elif type(v) is str and v not in secrets:
                    free.add(v)  # changed by a path rewrite only: no secret in it
        return bad

    def _without_plain(self, todo: set[object]) -> set[object]:
        """`todo` without the strings known to hold no secret (every string, when not scanning)
        and no local path, which are remembered as clean: found with set operations and one
        search in C each (`LocalPaths.probe`), where `_check` makes a Python call each."""
        known = todo & self._secret_free if self._scan else {v for v in todo if type(v) is str}
        if not known:
            return todo
        probe = self._paths.probe if self._paths is not None else None
        plain = known - set(filter(probe, known)) if probe is not None else known
        self._clean_values.update(plain)  # type: ignore[arg-type]
        return todo - plain

    def _check(self, todo: list[object], start: int | None) -> Any:
        """Masks every second item of `todo` from `start` (None: every item), remembering the
        clean ones; the changed ones with their masked text. In the second process (start 1),
        also which of those held a secret (not just a local path), as the first needs to know."""
        text = self.text
        clean, free = self._clean_values, self._secret_free
        # Scanning alone (no path to rewrite): the scanner asked directly, not through `text`,
        # whose cache costs more than it saves on strings never seen (163,000 strings: 0.27 s
        # against 0.43 s). A string found clean is what `text` would remember it as.
        find = self._scanner.find if self._scan and self._paths is None else None
        if len(free) > _REMEMBER:
            free.clear()
        bad: dict[object, object] = {}
        for v in todo if start is None else todo[start::2]:
            if type(v) is not str:
                bad[v] = v
            elif find is not None and not find(v):
                clean.add(v)
                free.add(v)
            elif (new := text(v)) == v:
                clean.add(v)
            else:
                bad[v] = new
        if start != 1:
            return bad
        return bad, {v for v in bad if v not in self._secret_free}

    def changed_keys(self, keys: Iterable[str]) -> set[str]:
        """The param or tag keys among `keys` that are secret (their value is hidden) or that
        masking would change; the others are remembered."""
        found = set(keys)
        plain = self._plain_keys
        if plain.issuperset(found):
            return set()
        if len(plain) > _REMEMBER:
            plain.clear()
        text, secret = self.text, self.is_secret
        bad: set[str] = set()
        for k in found - plain:
            if type(k) is str and not secret(k) and text(k) == k:
                plain.add(k)
            else:
                bad.add(k)
        return bad

    def _known_clean(self, strings: Iterable[object]) -> bool:
        """True when every item is a str that `text` leaves as it is."""
        return not self.changed(strings)

    def _unchanged_dict(self, obj: dict[Any, Any]) -> bool:
        """A dict whose keys are clean strings and whose values are clean strings, numbers (a
        run's `metrics`, its steps and times: 500 each in a wide experiment), or all
        dataclasses of one type whose text fields are clean strings, checked a field at a time
        in C."""
        if not obj or not self._known_clean(obj.keys()):
            return False
        values = list(obj.values())
        kinds = set(map(type, values))
        if len(kinds) != 1:
            return False
        [kind] = kinds
        if kind is str:
            return self._known_clean(values)
        if kind is float or kind is int:
            return True
        fields = _text_fields(kind)
        if not fields or any(keyed for _, keyed in fields):
            return False
        return all(self._known_clean(map(operator.attrgetter(name), values)) for name, _ in fields)

    def runs(self, runs: Iterable[Run]) -> list[Run]:
        """`runs` masked, in order; a run masking leaves as it is comes back as itself.

        Runs are most of a snapshot and almost never hold a secret, so the text of a whole
        batch is checked at once: every distinct string of every run (ids, names, param and
        tag keys and values, metric keys, datasets) is gathered into sets in C and checked by
        `changed` / `changed_keys` (each distinct string scanned once, then remembered). A run
        whose params, tags, metrics or datasets hold a string masking changes goes through the
        generic walk; one whose plain text fields do (a local artifact path, when publishing)
        gets those fields replaced. Used only while `Run` and `DatasetInput` have
        exactly the fields it knows: a field added later falls back to the walk."""
        runs = list(runs)
        if not _FAST_CHECK:
            return [self._walk(r) for r in runs]
        try:
            bad_values, bad_keys, inside = self._unclean_in(runs)
        except TypeError:  # an unhashable value (no reader makes one): the walk handles it
            return [self._walk(r) for r in runs]
        if not bad_values and not bad_keys:
            return runs
        bad = bad_values.keys()
        # Most often (a local artifact root, when publishing) only plain fields change: then no
        # run needs the check of its params, tags, metrics and datasets.
        check_inside = bool(bad_keys) or not bad.isdisjoint(inside)
        if not check_inside:
            return _with_plain_fields(runs, bad_values, self._walk)
        names = _FAST_FIELDS[Run]
        out = []
        for r in runs:
            changed = [n for n in _RUN_TEXT if getattr(r, n) in bad]
            if (check_inside and _touches_inside(r, bad, bad_keys)) or not all(
                type(getattr(r, n)) is str for n in changed
            ):
                out.append(self._walk(r))
            elif changed:  # a new Run of its fields, positionally (dataclasses.replace: 3x dearer)
                masked = {n: bad_values[getattr(r, n)] for n in changed}
                out.append(Run(*[masked[n] if n in masked else getattr(r, n) for n in names]))
            else:
                out.append(r)
        return out

    def _unclean_in(self, runs: list[Run]) -> tuple[dict[object, object], set[str], set[object]]:
        """(values, keys, inside) of `runs`: the strings anywhere in a run that masking would
        change (with what masking makes of them), the param or tag keys that are secret or
        changed, and every value held inside a run's params, tags, metrics and datasets."""
        values: set[object] = set()
        for name in _RUN_TEXT:
            values.update(map(operator.attrgetter(name), runs))
        inside: set[object] = set()
        keys: set[str] = set()
        for name in ("params", "tags"):
            dicts = list(map(operator.attrgetter(name), runs))
            inside.update(itertools.chain.from_iterable(map(dict.values, dicts)))
            keys.update(itertools.chain.from_iterable(dicts))
        metrics = map(operator.attrgetter("metrics"), runs)
        inside.update(itertools.chain.from_iterable(metrics))  # keys: the values are numbers
        for r in runs:
            for d in r.datasets:
                inside.update((d.name, d.digest, d.source_type, d.source, d.context))
        return self._changes(values | inside), self.changed_keys(keys), inside

    def value(self, obj: T) -> T:
        """`obj` (a snapshot, a run, a journal, a card…) with every text in it masked: string
        fields, dict keys and values (by key for `dict[str, str]` fields), nested values. What
        holds no secret comes back as the very same object."""
        return typing.cast(T, self._walk(obj))

    def _walk(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is str:
            new = self.text(obj)
            return obj if new == obj else new
        fields = _text_fields(kind)
        if fields is not None:
            changes = {}
            for name, keyed in fields:
                old = getattr(obj, name)
                if type(old) is str:  # the common case, without a call
                    new = self.text(old)
                    if new != old:
                        changes[name] = new
                    continue
                new = self._mask(old) if keyed and _str_dict(old) else self._walk(old)
                if new is not old:
                    changes[name] = new
            return dataclasses.replace(obj, **changes) if changes else obj
        if kind is dict:
            if self._unchanged_dict(obj):
                return obj
            changed = False
            pairs = []
            for k, v in obj.items():
                nk, nv = self._walk(k), self._walk(v)
                changed = changed or nk is not k or nv is not v
                pairs.append((nk, nv))
            return dict(pairs) if changed else obj
        if kind is tuple or kind is list:
            if obj and type(obj[0]) is Run and all(type(v) is Run for v in obj):
                items: list[Any] = self.runs(obj)
            else:
                items = [self._walk(v) for v in obj]
            same = all(a is b for a, b in zip(items, obj, strict=True))
            return obj if same else kind(items)
        return obj


_RUN_TEXT = ("run_id", "experiment_id", "name", "status", "user", "artifact_uri")
# The fields `Redactor.runs` reads: its batch check is off if any of these classes changes.
_FAST_FIELDS: dict[type, tuple[str, ...]] = {
    Run: ("run_id", "experiment_id", "name", "status", "start_time", "end_time", "user",
          "artifact_uri", "params", "metrics", "tags", "datasets", "metric_steps",
          "metric_times"),
    DatasetInput: ("name", "digest", "source_type", "source", "context"),
}  # fmt: skip
_FAST_CHECK = all(
    tuple(f.name for f in dataclasses.fields(c)) == n for c, n in _FAST_FIELDS.items()
)


def _with_plain_fields(
    runs: list[Run], masked: Mapping[object, object], walk: Callable[[Any], Any]
) -> list[Run]:
    """`runs` with their plain text fields masked (`masked`: value -> what masking makes of it),
    where nothing inside a run (params, tags, metrics, datasets) changes: a local artifact root
    rewritten in every run when publishing. Column by column, in C (`map`), where a loop over
    20,000 runs asking each of its fields in Python took as long as the rest of the pass; a
    changed field that is not a string (a run with no name) sends its run through `walk`."""
    bad = masked.keys()
    names = _FAST_FIELDS[Run]
    columns = [list(map(operator.attrgetter(n), runs)) for n in names]
    text = [names.index(n) for n in _RUN_TEXT]
    flags = [list(map(bad.__contains__, columns[i])) for i in text]
    rows = list(itertools.compress(range(len(runs)), map(any, zip(*flags, strict=True))))
    if not rows:
        return runs
    odd: set[int] = set()  # rows with a changed field that is not a string (None)
    if odd_values := {v for v in bad if type(v) is not str}:
        for t in text:
            odd.update(
                itertools.compress(range(len(runs)), map(odd_values.__contains__, columns[t]))
            )
    for t in text:
        columns[t] = list(map(masked.get, columns[t], columns[t]))  # masked, else itself
    out = list(runs)
    plain = [i for i in rows if i not in odd]
    # Most often every run (each one's artifact folder): the columns as they are.
    chosen = columns if len(plain) == len(runs) else [[col[j] for j in plain] for col in columns]
    for i, run in zip(plain, map(Run, *chosen), strict=True):
        out[i] = run
    for i in odd:
        out[i] = walk(runs[i])
    return out


def _touches_inside(run: Run, bad_values: AbstractSet[object], bad_keys: set[str]) -> bool:
    """Whether `run`'s params, tags, metrics or datasets hold a value or key masking changes."""
    return not (
        bad_keys.isdisjoint(run.params)
        and bad_keys.isdisjoint(run.tags)
        and bad_values.isdisjoint(run.params.values())
        and bad_values.isdisjoint(run.tags.values())
        and bad_values.isdisjoint(run.metrics)  # the keys (those of its steps and times too)
        and all(
            bad_values.isdisjoint((d.name, d.digest, d.source_type, d.source, d.context))
            for d in run.datasets
        )
    )


@functools.lru_cache(maxsize=8)
def _secret_free(patterns: tuple[str, ...], extra: tuple[str, ...]) -> set[str]:
    """Strings the scanner of these settings found no secret in, shared by the redactors of
    the same settings: a build's pull and its publishing pass (which also rewrites paths)
    then scan each of a store's strings once (330,000 distinct strings at 100,000 runs)."""
    return set()


@functools.lru_cache(maxsize=8)
def _cached(
    patterns: tuple[str, ...], extra: tuple[str, ...], paths: LocalPaths | None, scan: bool = True
) -> Redactor:
    return Redactor(patterns, extra, paths, scan)


@functools.lru_cache(maxsize=8)
def masking_id(patterns: tuple[str, ...], extra: tuple[str, ...]) -> str:
    """What text masked with these settings went through: the settings, and the code that
    decides what a secret is (this module and daybook/safety/secrets.py, read as written, so a
    changed rule is another masking before any release says so). Equal ids: equal masking."""
    h = hashlib.sha256(f"{__version__}\0{patterns!r}\0{extra!r}\0".encode())
    for module in (__file__, secret_rules.__file__):
        try:
            h.update(Path(module).read_bytes())
        except OSError:  # no source beside the code (a zipped install): the version must do
            h.update(b"?")
    return "sha256:" + h.hexdigest()


def _str_dict(value: object) -> bool:
    return isinstance(value, dict) and all(map(isinstance, value.values(), itertools.repeat(str)))


@functools.cache
def _text_fields(cls: type) -> tuple[tuple[str, bool], ...] | None:
    """The fields of a dataclass that can hold text (numbers and dates are skipped, which keeps
    a 500,000-point metric history free), and whether each is a `dict[str, str]` (params,
    tags), masked by key. None for a type that is not a dataclass."""
    if not dataclasses.is_dataclass(cls):
        return None
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name, Any)
        if _may_hold_text(hint):
            keyed = typing.get_origin(hint) is dict and typing.get_args(hint) == (str, str)
            out.append((f.name, keyed))
    return tuple(out)


def _may_hold_text(hint: Any, seen: frozenset[Any] = frozenset()) -> bool:
    if hint is str or hint is Any or hint is object:
        return True
    if hint in seen:
        return False
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return any(_may_hold_text(h, seen | {hint}) for h in hints.values())
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin is None and not args:
        return False  # int, float, bool, date, Path, None …
    if origin in (typing.Union, types.UnionType) or args:
        return any(_may_hold_text(a, seen) for a in args if a is not Ellipsis)
    return True


_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|passwd|pwd|token)=)[^&#\s]+")


def strip_credentials(url: str) -> str:
    """`https://user:pw@host/x?password=y` -> `https://***@host/x?password=***`: URIs are shown,
    their credentials are not."""
    url = _URL_USERINFO.sub(lambda m: m.group("scheme") + "***@", url)
    return _QUERY_PASSWORD.sub(lambda m: m.group(1) + "***", url)
