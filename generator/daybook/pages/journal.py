"""The journal on the site: each note's built copy, the Decisions and Open action items pages,
and the "Mentioned in" rows that run, experiment and model pages show.

A note's built copy replaces the file only inside the build (mkdocs-gen-files serves it instead
of the file on disk): front matter completed for the blog plugin, references made links,
problems shown on top. The file a person wrote is never changed.
"""

from __future__ import annotations

from dataclasses import replace

from markupsafe import Markup

from daybook.core.snapshot import TYPE_LABELS, Note
from daybook.pages.journal_view import (
    JournalView,
    decision_months,
    done_action_items,
    href_from,
    owners_of,
)
from daybook.pages.note_body import render_body
from daybook.pages.render import Renderer
from daybook.safety.redact import MASK
from daybook.safety.secrets import find_secrets

UNDATED = "1970-01-01"  # the blog needs a date even for a note it will not publish


def render_journal(renderer: Renderer, view: JournalView) -> dict[str, str]:
    """The built copy of every note, and the journal's generated pages."""
    pages: dict[str, str] = {}
    for note in view.journal.notes:
        pages[note.page] = render_note(renderer, view, note)
    jp = view.pages
    pages[jp.decisions] = renderer.render_page(
        ["decisions.md.j2"], jp.decisions, {"months": decision_months(renderer.paths, view)}
    )
    owners = owners_of(renderer.paths, view)
    pages[jp.actions] = renderer.render_page(
        ["actions.md.j2"],
        jp.actions,
        {
            "owners": owners,
            "open_count": len(view.items.open_actions),
            "closed_count": view.items.closed_actions,
            "done": done_action_items(renderer.paths, view, jp.actions),
            "overdue_count": len(view.items.overdue(view.as_of)),
            "as_of": view.as_of.isoformat() if view.as_of else "",
        },
    )
    return pages


def render_note(renderer: Renderer, view: JournalView, note: Note) -> str:
    resolved = view.refs.by_note.get(note.source, [])
    body = render_body(
        note.body,
        resolved,
        href_from(renderer.paths, note.page),
        view.secrets.get(note.source, ()),
        anchors=True,
    )
    where = view.layout.site_path(note.source)
    problems = [p for p in view.problems if p.path == where]
    if note.date is None:
        date = UNDATED
    elif note.time is not None:
        date = f"{note.date.isoformat()} {note.time.strftime('%H:%M:%S')}"
    else:
        date = note.date.isoformat()
    title = note.title
    tags = list(note.tags)
    for s in sorted(find_secrets(title, view.redact), key=lambda s: -s.start):
        title = title[: s.start] + MASK + title[s.end :]
    tags = [t for t in tags if not find_secrets(t, view.redact)]
    return renderer.render_page(
        ["note.md.j2"],
        note.page,
        {
            "note": replace(note, title=title, tags=tuple(tags)),
            "date": Markup(date),
            "category": TYPE_LABELS[note.type],
            "slug": view.slugs.get(note.source, note.type),
            "draft": not note.published,
            "problems": problems,
            "body": Markup(body),
        },
    )
