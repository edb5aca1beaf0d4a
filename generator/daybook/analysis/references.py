"""MLflow URIs in notes: finding them, resolving them against the snapshot, and backlinks.

Notes refer to tracking data with MLflow's own URI forms, so a line copied from a notebook or
the MLflow UI works as is: `runs:/<run id, or a prefix of 8+ characters>`,
`models:/<name>/<version>`, `models:/<name>@<alias>`, `models:/<name>` and
`experiments:/<name or id>`. Each may be bare, in
angle brackets (for names with spaces: `<models:/my model/3>`) or the target of a Markdown link
(`[the new baseline](runs:/1a2b3c4d)`). Code spans and blocks are never searched.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from daybook.analysis.mdscan import line_at, prose_mask
from daybook.core.snapshot import Experiment, Journal, Note, Problem, RegisteredModel, Run, Snapshot

MIN_PREFIX = 8
_SCHEMES = r"(?:runs|models|experiments):/"
_REF = re.compile(
    r"\[(?P<label>[^\]\n]*)\]\(\s*(?P<lt><)?(?P<luri>" + _SCHEMES + r"(?(lt)[^>\n]*|[^)\s]*))"
    r"(?(lt)>)\s*\)"
    r"|<(?P<auri>" + _SCHEMES + r"[^>\n]*)>"
    r"|(?<![\w/:.@-])(?P<buri>" + _SCHEMES + r"[^\s<>\[\]()`|\"'*]*)"
)
_TRAILING = ".,;:!?"

Form = Literal["bare", "angle", "link"]
Kind = Literal["run", "model", "model_version", "model_alias", "experiment"]


@dataclass(frozen=True, slots=True)
class Reference:
    """One URI as written in a note's body."""

    uri: str  # the URI (percent-decoded when it was a link target)
    kind: Kind
    key: str  # run id or prefix / model name / experiment name or id
    detail: str  # version ("3", "latest"), alias, or the artifact path after a run id
    start: int  # span in the body of the whole token (link syntax included)
    end: int
    form: Form
    label: str  # the link text, for the link form
    line: int  # line in the note's file


@dataclass(frozen=True, slots=True)
class Target:
    """What a reference resolved to: a page of the site and how to name it."""

    kind: Literal["run", "experiment", "model"]
    key: str  # run id / experiment id / model name
    label: str  # e.g. "gbm-tuned (1a2b3c4d)", "cancer-detector v3"
    version: int | None = None
    about: str = ""  # what in the target, for backlinks: "v3", "@champion → v3"


@dataclass(frozen=True, slots=True)
class Resolved:
    ref: Reference
    target: Target | None
    reason: str = ""  # why it did not resolve


@dataclass(frozen=True, slots=True)
class Mention:
    """A note mentioning a target, for the target page's "Mentioned in"."""

    note: Note
    target: Target
    line: int
    context: str  # the sentence around the mention, as plain text


def find_references(body: str, first_line: int = 1) -> list[Reference]:
    """Every reference in the body's prose, in order."""
    masked = prose_mask(body)
    out: list[Reference] = []
    for m in _REF.finditer(masked):
        if m.group("luri") is not None:
            raw = body[m.start("luri") : m.end("luri")]
            uri, form, label = unquote(raw), "link", body[m.start("label") : m.end("label")]
            start, end = m.start(), m.end()
        elif m.group("auri") is not None:
            uri, form, label = body[m.start("auri") : m.end("auri")].strip(), "angle", ""
            start, end = m.start(), m.end()
        else:
            uri = body[m.start("buri") : m.end("buri")]
            stripped = uri.rstrip(_TRAILING)
            start, end = m.start(), m.start() + len(stripped)
            uri, form, label = stripped, "bare", ""
        kind, key, detail = parse_uri(uri)
        line = line_at(body, start, first_line)
        out.append(Reference(uri, kind, key, detail, start, end, form, label, line))  # type: ignore[arg-type]
    return out


def parse_uri(uri: str) -> tuple[Kind, str, str]:
    """`models:/a/3` -> ("model_version", "a", "3"); the URI's parts, not yet checked."""
    scheme, _, rest = uri.partition(":/")
    if scheme == "runs":
        rid, _, path = rest.partition("/")
        return "run", rid.strip(), path.strip("/")
    if scheme == "models":
        rest = rest.strip("/")
        if "@" in rest:
            name, _, alias = rest.rpartition("@")
            return "model_alias", name, alias
        name, _, version = rest.rpartition("/")
        if name and (version.isdigit() or version == "latest"):
            return "model_version", name, version
        return "model", rest, ""
    return "experiment", rest.strip().rstrip("/"), ""


# --- resolving -----------------------------------------------------------------------------------


class Catalog:
    """What references can point at: the runs, experiments and models of one snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.runs: dict[str, Run] = {r.run_id: r for r in snapshot.runs}
        self.run_ids = sorted(self.runs)
        self.experiments_by_id: dict[str, Experiment] = {
            e.experiment_id: e for e in snapshot.experiments
        }
        self.experiments_by_name: dict[str, Experiment] = {e.name: e for e in snapshot.experiments}
        self.models: dict[str, RegisteredModel] = {m.name: m for m in snapshot.models}

    def runs_with_prefix(self, prefix: str) -> list[str]:
        prefix = prefix.lower()
        i = bisect.bisect_left(self.run_ids, prefix)
        out = []
        while i < len(self.run_ids) and self.run_ids[i].startswith(prefix):
            out.append(self.run_ids[i])
            i += 1
        return out

    def resolve(self, ref: Reference) -> Resolved:
        try:
            return Resolved(ref, self._target(ref))
        except LookupError as exc:
            return Resolved(ref, None, str(exc.args[0]))

    def _target(self, ref: Reference) -> Target:
        uri = ref.uri
        if ref.kind == "run":
            run = self._run(ref.key, uri)
            label = f"{run.name} ({run.run_id[:8]})" if run.name else run.run_id[:8]
            if ref.detail:
                label += f" / {ref.detail}"
            return Target("run", run.run_id, label)
        if ref.kind == "experiment":
            exp = self.experiments_by_name.get(ref.key) or self.experiments_by_id.get(ref.key)
            if exp is None:
                raise LookupError(f"{uri}: no experiment with this name or id in the site")
            return Target("experiment", exp.experiment_id, exp.name)
        model = self.models.get(ref.key)
        if model is None:
            hint = (
                "; this looks like a logged model id: refer to a registered version "
                "(models:/<name>/<version>) instead"
                if ref.key.startswith("m-")
                else ""
            )
            raise LookupError(f"{uri}: no registered model named {ref.key!r}{hint}")
        versions = [v.version for v in model.versions]
        if ref.kind == "model":
            return Target("model", model.name, model.name)
        if ref.kind == "model_alias":
            if ref.detail not in model.aliases:
                known = ", ".join(sorted(model.aliases)) or "none"
                raise LookupError(
                    f"{uri}: model {model.name!r} has no alias {ref.detail!r} (aliases: {known})"
                )
            v = model.aliases[ref.detail]
            return Target(
                "model", model.name, f"{model.name}@{ref.detail} (v{v})", v, f"@{ref.detail} → v{v}"
            )
        if ref.detail == "latest":
            if not versions:
                raise LookupError(f"{uri}: model {model.name!r} has no versions yet")
            v = max(versions)
            return Target("model", model.name, f"{model.name} v{v}", v, f"v{v} (latest)")
        v = int(ref.detail)
        if v not in versions:
            span = f"versions {min(versions)}–{max(versions)}" if versions else "no versions"
            raise LookupError(f"{uri}: model {model.name!r} has no version {v} ({span})")
        return Target("model", model.name, f"{model.name} v{v}", v, f"v{v}")

    def _run(self, key: str, uri: str) -> Run:
        if key in self.runs:
            return self.runs[key]
        if len(key) < MIN_PREFIX:
            raise LookupError(
                f"{uri}: a run id prefix needs at least {MIN_PREFIX} characters to stay "
                "unambiguous as runs are added"
            )
        matches = self.runs_with_prefix(key)
        if not matches:
            raise LookupError(
                f"{uri}: no run with this id among the {len(self.runs)} runs in the site "
                "(deleted, in an excluded experiment, or in another tracking store?)"
            )
        if len(matches) > 1:
            shown = ", ".join(m[:12] for m in matches[:3])
            raise LookupError(
                f"{uri}: {len(matches)} runs start with {key!r} ({shown}…); write more of the id"
            )
        return self.runs[matches[0]]


def resolve_run_ids(keys: Iterable[str], run_ids: Sequence[str]) -> set[str]:
    """Full run ids for the given ids or unambiguous prefixes (the rest are dropped), so runs a
    note mentions can be given a page before anything is rendered."""
    ordered = sorted(run_ids)
    known = set(ordered)
    out: set[str] = set()
    for key in keys:
        key = key.lower()
        if key in known:
            out.add(key)
            continue
        if len(key) < MIN_PREFIX:
            continue
        i = bisect.bisect_left(ordered, key)
        hits = []
        while i < len(ordered) and ordered[i].startswith(key) and len(hits) < 2:
            hits.append(ordered[i])
            i += 1
        if len(hits) == 1:
            out.add(hits[0])
    return out


def run_keys(journal: Journal) -> list[str]:
    """The run ids and prefixes published notes mention (read before the store is pulled)."""
    keys: set[str] = set()
    for note in journal.notes:
        if note.published:
            keys.update(r.key for r in find_references(note.body) if r.kind == "run" and r.key)
    return sorted(keys)


# --- the journal's references, resolved ----------------------------------------------------------


@dataclass
class JournalRefs:
    """Every reference of every note, resolved; the problems; and the backlinks."""

    by_note: dict[str, list[Resolved]] = field(default_factory=dict)  # note source ->
    problems: list[Problem] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)  # newest note first

    def mentions_of(self, kind: str, key: str) -> list[Mention]:
        return [m for m in self.mentions if m.target.kind == kind and m.target.key == key]

    def mentions_of_runs(self, run_ids: set[str]) -> list[Mention]:
        return [m for m in self.mentions if m.target.kind == "run" and m.target.key in run_ids]


def resolve_journal(journal: Journal, snapshot: Snapshot) -> JournalRefs:
    """Resolve every note's references. A note that is not published (no date, or a draft) is
    still checked, but gives no backlinks: there is no page to link back to."""
    catalog = Catalog(snapshot)
    out = JournalRefs()
    for note in journal.notes:
        resolved = [catalog.resolve(r) for r in find_references(note.body, note.body_line)]
        out.by_note[note.source] = resolved
        where = (
            f"{journal.docs_prefix}/{note.source}" if journal.docs_prefix != "." else note.source
        )
        for res in resolved:
            if res.target is None:
                out.problems.append(Problem(where, res.ref.line, res.reason, "error", "ref"))
        if not note.published:
            continue
        seen: set[tuple[str, str, int | None]] = set()
        for res in resolved:
            if res.target is None:
                continue
            key = (res.target.kind, res.target.key, res.target.version)
            if key in seen:
                continue
            seen.add(key)
            text = context(note.body, res.ref, resolved)
            out.mentions.append(Mention(note, res.target, res.ref.line, text))
    out.mentions.sort(key=lambda m: (_neg_date(m.note), m.note.source, m.line))
    return out


def _neg_date(note: Note) -> tuple[int, int]:
    d = note.sort_key
    return (-d[0].toordinal(), -(d[1].hour * 3600 + d[1].minute * 60 + d[1].second))


# --- the sentence around a mention ---------------------------------------------------------------

_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|#{1,6}\s|>|\|)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKERS = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?|^\s*#{1,6}\s+|^\s*>\s?")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
CONTEXT_LIMIT = 240


def context(body: str, ref: Reference, all_refs: Sequence[Resolved]) -> str:
    """The sentence of `body` that holds `ref`, as plain text with every reference in it shown by
    its label: what a reader of the target page needs to see why the note mentions it."""
    lines = body.split("\n")
    line_starts = [0]
    for ln in lines[:-1]:
        line_starts.append(line_starts[-1] + len(ln) + 1)
    idx = bisect.bisect_right(line_starts, ref.start) - 1
    first = last = idx
    while first > 0 and lines[first - 1].strip() and not _BLOCK_START.match(lines[first]):
        first -= 1
    while (
        last + 1 < len(lines)
        and lines[last + 1].strip()
        and not _BLOCK_START.match(lines[last + 1])
    ):
        last += 1
    b_start = line_starts[first]
    b_end = line_starts[last] + len(lines[last])
    # Sentence bounds inside the block, around the reference.
    s_start, s_end = b_start, b_end
    block = body[b_start:b_end]
    for m in _SENTENCE_END.finditer(block):
        cut = b_start + m.start()
        if cut <= ref.start:
            s_start = b_start + m.end()
        elif cut >= ref.end:
            s_end = cut
            break
    pieces: list[str] = []
    pos = s_start
    for res in sorted(all_refs, key=lambda r: r.ref.start):
        r = res.ref
        if r.start < s_start or r.end > s_end:
            continue
        pieces.append(body[pos : r.start])
        if r.form == "link" and r.label.strip():
            pieces.append(r.label)
        else:
            pieces.append(res.target.label if res.target else r.uri)
        pos = r.end
    pieces.append(body[pos:s_end])
    text = "".join(pieces)
    text = " ".join(_MARKERS.sub("", ln) for ln in text.split("\n"))
    text = _MD_LINK.sub(r"\1", text)
    text = re.sub(r"(\*\*|__|`|~~)", "", text)
    text = " ".join(text.split())
    if len(text) > CONTEXT_LIMIT:
        text = text[: CONTEXT_LIMIT - 1].rstrip() + "…"
    return text
