"""What the site shows of the journal, computed once per build: the view of every note, its
backlinks, decisions and action items, with links as seen from the page that shows them.

Kept apart from the rendering (`pages.journal`) so run, model and home pages can use it without
importing the renderer that renders them."""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from markupsafe import Markup

from daybook.analysis.journal import Item, JournalItems, as_of, journal_items, journal_problems
from daybook.analysis.references import JournalRefs, Mention, Resolved, Target
from daybook.core.site import JournalLayout
from daybook.core.snapshot import TYPE_LABELS, Journal, Note, Problem, Snapshot
from daybook.pages.context import MentionAnchor, MentionView, NoteView
from daybook.pages.note_body import mention_anchor, render_body
from daybook.pages.paths import SitePaths, relative
from daybook.safety.escape import md_text
from daybook.safety.sanitize import markdown_inline
from daybook.safety.secrets import Secret, find_secrets
from daybook.safety.slug import slugify, unique_slugs


@dataclass(frozen=True)
class JournalPages:
    """Where the journal's generated pages live (beside the blog's own index page)."""

    index: str
    decisions: str
    actions: str

    @classmethod
    def under(cls, blog_dir: str) -> JournalPages:
        def at(name: str) -> str:
            return posixpath.normpath(posixpath.join(blog_dir, name))

        return cls(at("index.md"), at("decisions.md"), at("actions.md"))


@dataclass
class JournalView:
    """Everything the site shows about the journal, computed once per build."""

    journal: Journal
    refs: JournalRefs
    layout: JournalLayout
    items: JournalItems
    as_of: dt.date | None
    secrets: dict[str, list[Secret]]  # note source -> spans of its body to mask
    problems: list[Problem]  # every problem of the journal, sorted
    slugs: dict[str, str] = field(default_factory=dict)  # note source -> post slug
    redact: tuple[str, ...] = ()  # the site's redaction patterns (secrets in titles and tags)

    @classmethod
    def build(
        cls,
        journal: Journal,
        refs: JournalRefs,
        snapshot: Snapshot,
        layout: JournalLayout,
        redact: Sequence[str],
        today: dt.date | None = None,
    ) -> JournalView:
        """`today`: the build's day, which open items are aged to (default: the latest day
        anything happened in the journal or the store)."""
        items = journal_items(journal)
        secrets = {n.source: find_secrets(n.body, redact) for n in journal.notes}
        problems = journal_problems(journal, redact) + refs.problems
        problems.sort(key=lambda p: (p.path, p.line, p.message))
        return cls(
            journal,
            refs,
            layout,
            items,
            today or as_of(journal, snapshot),
            secrets,
            problems,
            _post_slugs(journal.notes),
            tuple(redact),
        )

    @property
    def pages(self) -> JournalPages:
        return JournalPages.under(self.layout.blog_dir)

    def author_names(self, ids: Sequence[str]) -> list[str]:
        return [self.journal.authors[a].name if a in self.journal.authors else a for a in ids]

    # --- backlinks -------------------------------------------------------------------------------

    def _views(self, mentions: list[Mention], about: bool) -> list[MentionView]:
        """One view per note (in the order of `mentions`: newest note first), holding each of
        its mentions once: a note that names a run four times is one row, not four."""
        out: dict[str, MentionView] = {}
        seen: set[tuple[str, str, int]] = set()
        for m in mentions:
            what = (
                m.target.about
                if m.target.kind == "model"
                else (m.target.label if about and m.target.kind == "run" else "")
            )
            key = (m.note.source, what, m.line)
            if key in seen:
                continue
            seen.add(key)
            view = out.get(m.note.source)
            if view is None:
                view = out[m.note.source] = MentionView(
                    date=m.note.date.isoformat() if m.note.date else "",
                    page=m.note.page,
                    title=m.note.title,
                    authors=self.author_names(m.note.authors),
                    anchors=[],
                )
            target = f"{m.note.page}#{mention_anchor(m.line)}"
            view.anchors.append(MentionAnchor(what, m.context, target, m.line))
        for view in out.values():
            view.anchors.sort(key=lambda a: a.line)
        return list(out.values())

    def mentions_for_run(self, run_id: str) -> list[MentionView]:
        return self._views(self.refs.mentions_of("run", run_id), about=False)

    def mentions_for_experiment(self, experiment_id: str, run_ids: set[str]) -> list[MentionView]:
        mentions = [
            m
            for m in self.refs.mentions
            if (m.target.kind == "experiment" and m.target.key == experiment_id)
            or (m.target.kind == "run" and m.target.key in run_ids)
        ]
        return self._views(mentions, about=True)

    def mentions_for_model(self, name: str) -> list[MentionView]:
        return self._views(self.refs.mentions_of("model", name), about=True)

    def recent(self, limit: int = 8) -> list[NoteView]:
        notes = sorted(
            (n for n in self.journal.notes if n.published),
            key=lambda n: (n.sort_key[0], n.sort_key[1]),
            reverse=True,
        )[:limit]
        return [
            NoteView(
                n.date.isoformat() if n.date else "",
                n.page,
                n.title,
                self.author_names(n.authors),
                TYPE_LABELS[n.type],
            )
            for n in notes
        ]


def _post_slugs(notes: Sequence[Note]) -> dict[str, str]:
    """A slug per note for its URL (`<blog>/YYYY/MM/DD/<slug>/`): the file name without its date
    (or the note's type), made unique among the notes of one day."""
    base: dict[str, str] = {}
    for n in notes:
        stem = posixpath.basename(n.page).removesuffix(".md")
        rest = stem[10:].strip("-_ ") if n.date and stem.startswith(n.date.isoformat()) else stem
        base[n.source] = slugify(rest) if rest else n.type
    groups: dict[tuple[str, str], list[str]] = {}
    for n in notes:
        groups.setdefault((str(n.date), base[n.source]), []).append(n.source)
    out: dict[str, str] = {}
    for (_, b), sources in groups.items():
        if len(sources) == 1:
            out[sources[0]] = b
        else:
            unique = unique_slugs(s.removesuffix(".md") for s in sources)
            for s in sources:
                out[s] = unique[s.removesuffix(".md")]
    return out


def href_from(paths: SitePaths, page: str):
    def href(target: Target) -> str | None:
        if target.kind == "run":
            dest = paths.run_page(target.key)  # notes' runs all get a page
        elif target.kind == "experiment":
            dest = paths.experiment(target.key) if target.key in paths.experiment_slugs else None
        else:
            dest = paths.model(target.key) if target.key in paths.model_slugs else None
        if dest is None:
            return None
        anchor = f"#v{int(target.version)}" if target.version is not None else ""
        return relative(page, dest) + anchor

    return href


@dataclass
class ItemView:
    date: str
    text: Markup  # the item as sanitized inline HTML, references linked
    page: str  # the note's page
    title: str
    authors: list[str]
    age: int | None = None  # days, for action items
    due: str = ""  # action items: the due date, when the item gives one
    overdue: bool = False  # open and past its due date
    owner: str = ""  # action items: the owner's id
    source: str = ""  # the note's file (under the notes folder): a stable id for the browser


def _item_text(paths: SitePaths, view: JournalView, item: Item, page: str) -> Markup:
    if item.start < 0:  # the note's title: front matter text, shown as it is
        return md_text(item.text)
    shifted: list[Resolved] = []
    for res in view.refs.by_note.get(item.note.source, []):
        r = res.ref
        if item.start <= r.start and r.end <= item.end:
            shifted.append(
                replace(res, ref=replace(r, start=r.start - item.start, end=r.end - item.start))
            )
    secrets = [
        Secret(s.start - item.start, s.end - item.start, s.what)
        for s in view.secrets.get(item.note.source, [])
        if item.start <= s.start and s.end <= item.end
    ]
    # The item is Markdown from a note, shown on a page the daybook plugin does not sanitize.
    return markdown_inline(
        render_body(item.text, shifted, href_from(paths, page), secrets, excerpt=False)
    )


def decision_months(paths: SitePaths, view: JournalView) -> list[tuple[str, list[ItemView]]]:
    page = view.pages.decisions
    months: dict[str, list[ItemView]] = {}
    for item in view.items.decisions:
        d = item.note.date
        assert d is not None
        months.setdefault(d.strftime("%B %Y"), []).append(
            ItemView(
                d.isoformat(),
                _item_text(paths, view, item, page),
                item.note.page,
                item.note.title,
                view.author_names(item.note.authors),
            )
        )
    return list(months.items())


def open_action_items(paths: SitePaths, view: JournalView, page: str) -> list[ItemView]:
    """Every open action item, oldest first, its text linked as seen from `page` (e.g. the home
    page's short list)."""
    return [_item_view(paths, view, item, page) for item in view.items.open_actions]


def _item_view(paths: SitePaths, view: JournalView, item: Item, page: str) -> ItemView:
    """One action item as a row, its age counted to the build's day."""
    d = item.note.date
    assert d is not None
    return ItemView(
        d.isoformat(),
        _item_text(paths, view, item, page),
        item.note.page,
        item.note.title,
        view.author_names(item.note.authors),
        item.age(view.as_of),
        item.due.isoformat() if item.due else "",
        item.overdue(view.as_of),
        item.owner,
        f"{item.note.source}:{item.line}",
    )


def overdue_action_items(paths: SitePaths, view: JournalView, page: str) -> list[ItemView]:
    """Open items past their due date, the longest overdue first (for Needs attention)."""
    return [_item_view(paths, view, item, page) for item in view.items.overdue(view.as_of)]


def done_action_items(paths: SitePaths, view: JournalView, page: str) -> list[ItemView]:
    """Checked items, newest note first, each with the note that closed it."""
    return [_item_view(paths, view, item, page) for item in view.items.done_actions]


def owners_of(paths: SitePaths, view: JournalView) -> list[tuple[str, list[ItemView]]]:
    page = view.pages.actions
    groups: dict[str, list[ItemView]] = {}
    for item in view.items.open_actions:
        if item.owner in view.journal.authors:
            label = f"{view.journal.authors[item.owner].name} (@{item.owner})"
        elif item.owner:
            label = f"@{item.owner}"
        else:
            label = ""
        groups.setdefault(label, []).append(_item_view(paths, view, item, page))
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0].lower()))
    return [
        (label or "No owner", sorted(items, key=lambda i: (-(i.age or 0), i.date, i.page)))
        for label, items in ordered
    ]
