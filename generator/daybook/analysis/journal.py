"""What the journal says, beyond each note: decisions, action items, the digest for a new daily
note, and checks that need more than one note (duplicate days). Pure functions, no I/O."""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from daybook.analysis.mdscan import line_at, prose_mask
from daybook.analysis.ranking import Primary, primary_metric
from daybook.core.config import DaybookConfig
from daybook.core.snapshot import (
    AliasEvent,
    Experiment,
    Journal,
    ModelVersion,
    Note,
    Problem,
    Run,
    Snapshot,
)
from daybook.safety.secrets import find_secrets

ITEM_TYPES = ("meeting", "decision", "postmortem")  # notes whose decisions and tasks are collected
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_ITEM = re.compile(
    r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)])[ \t]+(?:\[(?P<check>[ xX])\][ \t]+)?(?P<text>\S.*)$"
)
_OWNER = re.compile(r"(?<![\w@])@(?P<id>[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)")
_DECISION_HEADINGS = ("decisions", "decision", "decided")
_DUE = re.compile(r"\(\s*due:?\s+(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})\s*\)", re.I)


@dataclass(frozen=True, slots=True)
class Item:
    """A decision or an action item: a list item of a note, with where it is."""

    note: Note
    text: str  # the item's Markdown (may hold references)
    line: int
    start: int  # span of `text` in the note's body; -1 when the item is the note's title
    end: int
    owner: str = ""  # action items: the first @id in the text
    done: bool = False  # action items: the box is checked
    due: dt.date | None = None  # action items: `(due 2026-12-05)` in the text

    def overdue(self, today: dt.date | None) -> bool:
        """Open, with a due date before `today`."""
        return not self.done and self.due is not None and today is not None and self.due < today

    def age(self, today: dt.date | None) -> int | None:
        """Days from the note's date to `today`."""
        if today is None or self.note.date is None:
            return None
        return (today - self.note.date).days


def note_items(note: Note) -> tuple[list[Item], list[Item]]:
    """The decisions and the action items of one note.

    Decisions are the list items of a `## Decisions` section; action items are task-list items
    (`- [ ] @alice retrain`) anywhere in the note. A decision record without such a section is
    one decision: its title.
    """
    if note.type not in ITEM_TYPES or not note.published:
        return [], []
    body = note.body
    masked = prose_mask(body)
    decisions: list[Item] = []
    actions: list[Item] = []
    section_level: int | None = None  # level of the open Decisions heading
    base_indent: int | None = None  # indentation of the section's top-level items
    pos = 0
    current: list[int] | None = None  # [start, end, kind (0 decision / 1 action), index]
    for raw in masked.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        h = _HEADING.match(raw)
        if h:
            current = None
            level = len(h.group("hashes"))
            name = h.group("text").strip().rstrip(":").lower()
            if section_level is not None and level <= section_level:
                section_level = None
            if level >= 2 and name in _DECISION_HEADINGS:
                section_level = level
                base_indent = None
            continue
        m = _ITEM.match(raw)
        if m:
            current = None
            text_start = start + m.start("text")
            line = line_at(body, start, note.body_line)
            if m.group("check") is not None:
                text = body[text_start:end]
                owner = _OWNER.search(masked[text_start:end])
                item = Item(
                    note,
                    text,
                    line,
                    text_start,
                    end,
                    owner.group("id") if owner else "",
                    m.group("check") in "xX",
                )
                actions.append(item)
                current = [text_start, end, 1, len(actions) - 1]
            elif section_level is not None:
                indent = len(m.group("indent").expandtabs(4))
                if base_indent is None:
                    base_indent = indent
                if indent <= base_indent:  # a nested list item is detail, not a decision
                    decisions.append(Item(note, body[text_start:end], line, text_start, end))
                    current = [text_start, end, 0, len(decisions) - 1]
            continue
        if not raw.strip():
            current = None
            continue
        if current is not None:  # a lazy continuation line of the item above
            target = decisions if current[2] == 0 else actions
            old = target[current[3]]
            new_end = end
            text = body[old.start : new_end]
            owner = old.owner
            if current[2] == 1 and not owner:
                found = _OWNER.search(masked[old.start : new_end])
                owner = found.group("id") if found else ""
            target[current[3]] = Item(note, text, old.line, old.start, new_end, owner, old.done)
    if note.type == "decision" and not decisions:
        decisions.append(Item(note, note.title, note.body_line, -1, -1))
    return decisions, [replace(a, due=_due(masked[a.start : a.end])) for a in actions]


def _due(text: str) -> dt.date | None:
    """The item's due date, `(due 2026-12-05)`; a date that does not exist counts as none."""
    m = _DUE.search(text)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group("day"))
    except ValueError:
        return None


@dataclass
class JournalItems:
    decisions: list[Item] = field(default_factory=list)  # oldest first
    open_actions: list[Item] = field(default_factory=list)  # oldest first
    done_actions: list[Item] = field(default_factory=list)  # newest note first

    @property
    def closed_actions(self) -> int:
        return len(self.done_actions)

    def overdue(self, today: dt.date | None) -> list[Item]:
        """Open items past their due date, the longest overdue first."""
        late = [a for a in self.open_actions if a.overdue(today)]
        return sorted(late, key=lambda a: (a.due, a.note.sort_key, a.line))


def journal_items(journal: Journal) -> JournalItems:
    out = JournalItems()
    for note in sorted(journal.notes, key=lambda n: n.sort_key):
        decisions, actions = note_items(note)
        out.decisions.extend(decisions)
        for a in actions:
            (out.done_actions if a.done else out.open_actions).append(a)
    out.done_actions.reverse()
    return out


def as_of(journal: Journal, snapshot: Snapshot) -> dt.date | None:
    """The day ages are counted to: the latest day anything happened in the journal or the store.
    A date from the data, not the clock, so the same inputs always build the same site."""
    days: list[dt.date] = [n.date for n in journal.notes if n.published and n.date]
    stamps = [t for r in snapshot.runs for t in (r.start_time, r.end_time) if t]
    stamps += [v.creation_time for m in snapshot.models for v in m.versions if v.creation_time]
    if stamps:
        days.append(_day(max(stamps)))
    return max(days) if days else None


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date()


def duplicate_days(journal: Journal) -> list[Problem]:
    """Two daily notes by one author for one day: the second is almost always a mistake (a
    renamed copy), and it splits the day's story in two."""
    seen: dict[tuple[str, dt.date], str] = {}
    out = []
    for note in sorted(journal.notes, key=lambda n: n.source):
        if note.type != "daily" or not note.date or note.draft:
            continue
        for author in note.authors:
            key = (author, note.date)
            if key in seen:
                out.append(
                    Problem(
                        _where(journal, note),
                        1,
                        f"a second daily note by {author!r} for {note.date} (the first is "
                        f"{seen[key]}); merge them",
                        "error",
                        "note.duplicate",
                    )
                )
            else:
                seen[key] = _where(journal, note)
    return out


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known id closest to a misspelt one (case aside), or None when none is close."""
    lowered = {c.lower(): c for c in sorted(known)}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


_UNKNOWN_AUTHOR = re.compile(r"^unknown author (?P<id>'[^']*'|\"[^\"]*\")")


def suggest_authors(journal: Journal, problems: Iterable[Problem]) -> list[Problem]:
    """Unknown authors in notes' front matter, with the closest id of .authors.yml: a misspelt
    author in an existing note stays an error (`daybook note` adds new people, check never does),
    but says what was probably meant."""
    out = []
    for p in problems:
        m = _UNKNOWN_AUTHOR.match(p.message) if p.code == "note.authors" else None
        if m:
            near = closest(ast.literal_eval(m.group("id")), journal.authors)
            if near is not None:
                hint = f" (did you mean {near!r}?)"
                p = replace(p, message=p.message[: m.end()] + hint + p.message[m.end() :])
        out.append(p)
    return out


def unknown_owners(journal: Journal, items: Iterable[Item]) -> list[Problem]:
    out = []
    for item in items:
        if item.owner and item.owner not in journal.authors:
            near = closest(item.owner, journal.authors)
            hint = f" (did you mean @{near}?)" if near else ""
            out.append(
                Problem(
                    _where(journal, item.note),
                    item.line,
                    f"action item owner @{item.owner} is not an author in .authors.yml{hint}",
                    "warning",
                    "note.owner",
                )
            )
    return out


def _where(journal: Journal, note: Note) -> str:
    return f"{journal.docs_prefix}/{note.source}" if journal.docs_prefix != "." else note.source


def secret_problems(
    journal: Journal, redact: Sequence[str], redact_values: Sequence[str] = ()
) -> list[Problem]:
    """Secret-looking text in notes (body, title, tags). The site masks it, but the secret is
    in the repository: it must be removed there, and rotated."""
    out = []
    for note in journal.notes:
        where = _where(journal, note)
        for s in find_secrets(note.body, redact, redact_values):
            line = note.body_line + note.body.count("\n", 0, s.start)
            out.append(
                Problem(
                    where,
                    line,
                    f"secret-looking text ({s.what}): remove it from "
                    "the note and rotate the secret",
                    "error",
                    "note.secret",
                )
            )
        for text in (note.title, *note.tags):
            for s in find_secrets(text, redact, redact_values):
                out.append(
                    Problem(
                        where,
                        1,
                        f"secret-looking text ({s.what}) in the title or "
                        "tags: remove it and rotate the secret",
                        "error",
                        "note.secret",
                    )
                )
    return out


def journal_problems(
    journal: Journal, redact: Sequence[str], redact_values: Sequence[str] = ()
) -> list[Problem]:
    """Every problem of the journal that needs no tracking store, sorted."""
    items = journal_items(journal)
    leaks = secret_problems(journal, redact, redact_values)
    out = [*suggest_authors(journal, journal.all_problems), *leaks, *duplicate_days(journal)]
    out += unknown_owners(journal, items.open_actions)
    return sorted(out, key=lambda p: (p.path, p.line, p.message))


# --- the digest of a new daily note ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewBest:
    experiment: Experiment
    run: Run
    primary: Primary
    value: float
    previous: Run | None
    previous_value: float | None


@dataclass(frozen=True, slots=True)
class AliasChange:
    model: str
    alias: str
    version: int | None  # None: the alias was removed
    previous: int | None  # None: a new alias, or where it pointed before is not known


@dataclass
class Digest:
    since_ms: int
    until_ms: int
    finished: list[tuple[Experiment, list[Run]]] = field(default_factory=list)
    bests: list[NewBest] = field(default_factory=list)
    failed: list[Run] = field(default_factory=list)
    versions: list[ModelVersion] = field(default_factory=list)
    aliases: list[AliasChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.finished or self.bests or self.failed or self.versions or self.aliases)


def previous_note(journal: Journal, author: str, before: dt.date) -> Note | None:
    """The author's latest note dated before `before` (what the digest continues from)."""
    mine = [n for n in journal.notes if author in n.authors and n.date and n.date < before]
    return max(mine, key=lambda n: n.sort_key) if mine else None


def digest(
    config: DaybookConfig,
    snapshot: Snapshot,
    since_ms: int,
    until_ms: int,
    alias_events: Sequence[AliasEvent] = (),
) -> Digest:
    """What happened in the store between two instants: runs finished per experiment, new bests
    by primary metric, failed runs, new model versions and alias changes.

    MLflow keeps only where each alias points now, so alias changes come from the moves Daybook
    observed (the alias history each build appends to) and from aliases that point at a version
    registered in the window (which must have moved there within it).
    """
    out = Digest(since_ms, until_ms)

    def within(ms: int | None) -> bool:
        return ms is not None and since_ms <= ms < until_ms

    exps = sorted(snapshot.experiments, key=lambda e: (e.name.lower(), e.experiment_id))
    by_exp: dict[str, list[Run]] = {}
    for r in snapshot.runs:
        by_exp.setdefault(r.experiment_id, []).append(r)
    for exp in exps:
        runs = by_exp.get(exp.experiment_id, [])
        done = [r for r in runs if r.status == "FINISHED" and within(r.end_time)]
        done.sort(key=lambda r: (-(r.end_time or 0), r.run_id))
        if done:
            out.finished.append((exp, done))
        primary = primary_metric(config, exp, runs)
        if primary and done:
            best = _best(done, primary)
            before = [
                r
                for r in runs
                if r.status == "FINISHED" and r.end_time is not None and r.end_time < since_ms
            ]
            prev = _best(before, primary)
            if best and (prev is None or _better(best[1], prev[1], primary)):
                out.bests.append(
                    NewBest(
                        exp,
                        best[0],
                        primary,
                        best[1],
                        prev[0] if prev else None,
                        prev[1] if prev else None,
                    )
                )
        out.failed.extend(
            r
            for r in runs
            if r.status in ("FAILED", "KILLED") and within(r.end_time or r.start_time)
        )
    out.failed.sort(key=lambda r: (-(r.end_time or r.start_time or 0), r.run_id))
    seen: set[tuple[str, str]] = set()
    for e in sorted(alias_events, key=lambda e: (e.observed_at, e.model, e.alias)):
        if e.kind != "baseline" and within(e.observed_at):
            seen.add((e.model, e.alias))
            out.aliases.append(AliasChange(e.model, e.alias, e.to_version, e.from_version))
    for m in sorted(snapshot.models, key=lambda m: m.name.lower()):
        created = {v.version for v in m.versions if within(v.creation_time)}
        out.versions.extend(v for v in m.versions if v.version in created)
        for alias, version in sorted(m.aliases.items()):
            if version in created and (m.name, alias) not in seen:
                out.aliases.append(AliasChange(m.name, alias, version, None))
    return out


def _best(runs: list[Run], primary: Primary) -> tuple[Run, float] | None:
    scored = [(r, r.metric(primary.metric)) for r in runs]
    scored = [(r, v) for r, v in scored if v is not None and math.isfinite(v)]
    if not scored:
        return None
    sign = 1 if primary.direction == "minimize" else -1
    return min(scored, key=lambda rv: (sign * rv[1], rv[0].end_time or 0, rv[0].run_id))


def _better(a: float, b: float, primary: Primary) -> bool:
    return a < b if primary.direction == "minimize" else a > b
