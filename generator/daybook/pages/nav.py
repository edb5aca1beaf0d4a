"""The site's navigation as a literate-nav SUMMARY.md: deep, and never more than 50 entries on
one level, so Material's pruned navigation stays small on every page."""

from __future__ import annotations

from collections.abc import Sequence

from daybook.pages.context import SiteModel
from daybook.pages.paths import EXPERIMENTS, HOME, MODELS, VIEWER, SitePaths, run_label
from daybook.safety.escape import title_text

MAX_PER_LEVEL = 50


def _label(text: object) -> str:
    # literate-nav reads labels as Markdown: keep them free of Markdown and HTML syntax.
    safe = title_text(text, 60)
    for ch in "[]*_\\|#!~^$@{}()":
        safe = safe.replace(ch, " ")
    return " ".join(safe.split()) or "untitled"


def _entry(indent: int, label: object, path: str) -> str:
    return f"{'    ' * indent}- [{_label(label)}]({path})"


def _chunked(
    indent: int, entries: Sequence[tuple[str, str]], noun: str, room: int = MAX_PER_LEVEL
) -> list[str]:
    """Entries as-is when they fit the `room` left on their level, else grouped in sections of
    MAX_PER_LEVEL."""
    if len(entries) <= room:
        return [_entry(indent, label, path) for label, path in entries]
    lines = []
    for start in range(0, len(entries), MAX_PER_LEVEL):
        chunk = entries[start : start + MAX_PER_LEVEL]
        lines.append(f"{'    ' * indent}- {noun} {start + 1}–{start + len(chunk)}")
        lines.extend(_entry(indent + 1, label, path) for label, path in chunk)
    return lines


def build_nav(
    site: SiteModel,
    paths: SitePaths,
    handwritten: Sequence[str],
    journal: Sequence[tuple[str, str]] = (),
    monitors: str | None = None,  # the monitors page, when daybook.yml has monitors
    sweeps: Sequence[tuple[str, str, str]] = (),  # (experiment id, label, compare page)
) -> str:
    """`journal`: (label, page) of the journal's index and then its pages; the blog plugin adds
    its archive and categories beside them. Every generated page is in the nav (compare pages
    in a "Sweeps" section of their experiment), so MkDocs reports no page as left out."""
    lines = [_entry(0, "Home", HOME)]
    if monitors:
        lines.append(_entry(0, "Monitors", monitors))
    if journal:
        lines.append(_entry(0, journal[0][0], journal[0][1]))
        lines.extend(_entry(1, label, path) for label, path in journal[1:])
    lines.append(_entry(0, "Experiments", EXPERIMENTS))
    exp_entries: list[tuple[str, str]] = []
    exp_children: dict[str, list[str]] = {}
    by_exp: dict[str, list[tuple[str, str]]] = {}
    for exp_id, label, page in sweeps:
        by_exp.setdefault(exp_id, []).append((label, page))
    for e in site.experiments:
        eid = e.experiment.experiment_id
        path = paths.experiment(eid)
        exp_entries.append((e.experiment.name, path))
        runs = [
            (run_label(r), paths.run_pages[r.run_id]) for r in e.runs if r.run_id in paths.run_pages
        ]
        compares = sorted(by_exp.get(eid, []))
        room = MAX_PER_LEVEL - (1 if compares else 0)  # the Sweeps section shares the level
        exp_children[path] = _chunked(2, runs, "Runs", room) if runs else []
        if compares:
            exp_children[path].append(f"{'    ' * 2}- Sweeps")
            exp_children[path].extend(_chunked(3, compares, "Sweeps"))
    if len(exp_entries) <= MAX_PER_LEVEL:
        for label, path in exp_entries:
            lines.append(_entry(1, label, path))
            lines.extend(exp_children[path])
    else:
        for start in range(0, len(exp_entries), MAX_PER_LEVEL):
            chunk = exp_entries[start : start + MAX_PER_LEVEL]
            lines.append(f"    - Experiments {start + 1}–{start + len(chunk)}")
            for label, path in chunk:
                lines.append(_entry(2, label, path))
                lines.extend("    " + line for line in exp_children[path])
    lines.append(_entry(0, "Runs", VIEWER))  # the run viewer: every run, at runs/#<run id>
    lines.append(_entry(0, "Models", MODELS))
    models = [m.model.name for m in site.models]
    grouped = len(models) > MAX_PER_LEVEL
    for i, name in enumerate(models):  # each model a section: its page, then its card
        if grouped and i % MAX_PER_LEVEL == 0:
            chunk = models[i : i + MAX_PER_LEVEL]
            lines.append(f"    - Models {i + 1}–{i + len(chunk)}")
        depth = 2 if grouped else 1
        lines.append(_entry(depth, name, paths.model(name)))
        lines.append(_entry(depth + 1, "Model card", paths.card(name)))
    for name in handwritten:
        label = _label(name.removesuffix(".md").replace("-", " ").capitalize())
        target = name if name.endswith(".md") else name + "/"
        lines.append(f"- [{label}]({target})")
    return "\n".join(lines) + "\n"
