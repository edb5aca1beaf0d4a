"""The morning review outside the site: for chat and email (`daybook review`).

`review_report` computes the same review as the home page (the same Renderer context: review,
"Needs attention", notes and action items) as plain JSON-able data, every link absolute from the
site's address; `to_markdown`, `to_slack` and `to_json` lay it out. The JSON form is documented
by a JSON Schema shipped beside this module (`review.schema.json`, copied into the user guide).

Every name in it comes from a tracking server or a note: Markdown output escapes it
(safety.escape), Slack output escapes `&`, `<` and `>` (so no name can become a link or an
@channel), and JSON carries it as data.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import urllib.parse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from daybook.analysis.policy import page_run_ids, shown_experiments
from daybook.analysis.references import resolve_run_ids
from daybook.core.numbers import format_number
from daybook.core.site import JournalInput, ReferencePoint, Site
from daybook.core.snapshot import ModelRecords, Note, Snapshot
from daybook.pages.journal_view import JournalView
from daybook.pages.paths import HOME, page_url, run_label
from daybook.pages.render import Renderer
from daybook.pages.review_pages import MONITORS
from daybook.pages.site import journal_view, publishing_redactor
from daybook.safety.escape import md_chat

SCHEMA = Path(__file__).resolve().parent / "review.schema.json"
SCHEMA_ID = "https://daybook.dev/schemas/review-1.json"
SLACK_BLOCKS = 50  # Block Kit: at most 50 blocks a message
SLACK_TEXT = 3000  # … and 3000 characters in a section's text
_SLACK_ROOM = SLACK_TEXT - 200  # room kept for the "…and N more" line
_LEVEL = {"fail": "✖", "error": "✖", "warn": "⚠"}
_KIND = {"monitor": "Monitor", "failed": "Failed run", "stuck": "Stuck run",
         "challenger": "Challenger", "card": "Stale card", "action": "Overdue"}  # fmt: skip


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def review_renderer(
    site: Site,
    snapshot: Snapshot,
    records: ModelRecords,
    journal: JournalInput | None,
    reference: ReferencePoint,
) -> Renderer:
    """The home page's context, prepared as pages.site.render prepares it (secrets masked,
    machine paths rewritten, the same runs with a page), without rendering any page."""
    publish = publishing_redactor(site, snapshot)
    snapshot = publish.value(snapshot)
    if site.config.display_uri:
        snapshot = replace(snapshot, tracking_uri=site.config.display_uri)
    records = publish.value(records)
    journal = publish.value(journal) if journal is not None else None
    shown = shown_experiments(site.config, snapshot.experiments, snapshot.runs)
    snapshot = replace(snapshot, experiments=shown)
    run_ids = [r.run_id for r in snapshot.runs]
    mentioned = resolve_run_ids(journal.run_keys, run_ids) if journal else set()
    page_runs = page_run_ids(site.config, snapshot.experiments, snapshot.runs, snapshot.models,
                             mentioned, reference.since_ms)  # fmt: skip
    today = dt.datetime.fromtimestamp(reference.now_ms / 1000, tz=dt.UTC).date()
    view = journal_view(site, snapshot, journal, today) if journal else None
    return Renderer(site.config, snapshot, page_runs, None, site.directory_urls, journal=view,
                    records=records, reference=reference)  # fmt: skip


def review_report(renderer: Renderer, reference: ReferencePoint, base_url: str) -> dict[str, Any]:
    """The review as data (see review.schema.json); links absolute from `base_url`."""
    paths = renderer.paths
    base = base_url.rstrip("/") + "/"

    j = renderer.journal
    notes = {n.page: n for n in j.journal.notes} if j is not None else {}

    def url(target: str | None) -> str:
        if target in notes and j is not None:  # a note is served by the blog as a post
            return base + post_url(j, notes[target], paths.directory_urls)
        return base + paths.site_url(target) if target else base

    def run_url(run_id: str) -> str:
        return url(paths.run(run_id))

    review = renderer.extras.review
    assert review is not None  # a reference point always gives a review
    limit = renderer.config.review.items
    attention = []
    for a in renderer.attention():
        t = a.target
        if t[0] == "monitor":
            link = url(f"{MONITORS}#{t[1]}")
        elif t[0] == "run":
            link = run_url(t[1])
        elif t[0] == "model" and t[1] in paths.model_slugs:
            link = url(paths.model(t[1]) + f"#v{int(t[2])}")
        elif t[0] == "card" and t[1] in paths.model_slugs:
            link = url(paths.card(t[1]))
        elif t[0] == "note":
            link = url(t[1])
        else:
            link = url(HOME)
        attention.append({"kind": a.kind, "level": a.level, "id": a.key, "title": a.title,
                          "detail": a.detail, "url": link})  # fmt: skip

    def exp_url(eid: str) -> str:
        return url(paths.experiment(eid)) if eid in paths.experiment_slugs else url(HOME)

    def exp_name(eid: str) -> str:
        ev = renderer.model.experiments_by_id.get(eid)
        return ev.experiment.name if ev else eid

    sections: list[dict[str, Any]] = []

    def section(key: str, title: str, items: list[dict[str, str]]) -> None:
        sections.append({"id": key, "title": title, "total": len(items),
                         "items": items[:limit], "url": url(HOME)})  # fmt: skip

    section("bests", "New best results", [
        {"text": f"{b.experiment.name}: {b.primary.metric} "
                 f"{_num(b.previous_value) if b.previous else '—'} → {_num(b.value)} "
                 f"({run_label(b.run)})", "url": run_url(b.run.run_id)}
        for b in review.bests
    ])  # fmt: skip
    section("runs", "Runs", [
        {"text": f"{a.experiment.name}: {a.started} started, {a.finished} finished"
                 + (f", {a.failed} failed or killed" if a.failed else "")
                 + (f", {a.running} still running" if a.running else ""),
         "url": exp_url(a.experiment.experiment_id)}
        for a in review.activity
    ])  # fmt: skip
    section("failed", "Failed and killed runs", [
        {"text": f"{run_label(r)} ({r.run_id[:8]}) in {exp_name(r.experiment_id)}: "
                 f"{r.status.lower()}", "url": run_url(r.run_id)}
        for r in review.failed
    ])  # fmt: skip
    section("versions", "New model versions", [
        {"text": f"{v.name} v{v.version}", "url": url(paths.model(v.name) + f"#v{v.version}")
         if v.name in paths.model_slugs else url(HOME)}
        for v in review.versions
    ])  # fmt: skip
    section("aliases", "Alias moves", [
        {"text": f"{c.model} @{c.alias}: "
                 + (f"v{c.previous} → " if c.previous is not None else "")
                 + (f"v{c.version}" if c.version is not None else "removed"),
         "url": url(paths.model(c.model)) if c.model in paths.model_slugs else url(HOME)}
        for c in review.aliases
    ])  # fmt: skip
    section("data", "Data updates", [
        {"text": f"{u.name} ({u.context or 'no context'}): new digest {u.digest}",
         "url": run_url(u.runs[0].run_id)}
        for u in review.data_updates
    ])  # fmt: skip
    if j is not None:
        section("notes", "Notes", [
            {"text": f"{n.date} {n.title} ({', '.join(n.authors)})", "url": url(n.page)}
            for n in j.recent(renderer.config.review.notes)
        ])  # fmt: skip
        section("actions", "Open action items", [
            {"text": " ".join(i.text.split())
                     + (f" (overdue, due {i.due})" if i.overdue(j.as_of) else
                        f" (due {i.due})" if i.due else ""),
             "url": url(i.note.page)}
            for i in j.items.open_actions
        ])  # fmt: skip
    started = sum(a.started for a in review.activity)
    return {
        "$schema": SCHEMA_ID,
        "title": renderer.config.title,
        "site_url": base,
        "home": url(HOME),
        "window": {
            "since": _iso(reference.since_ms),
            "until": _iso(reference.now_ms),
            "source": reference.source,
            "text": reference.window,
        },
        "summary": {
            "runs_started": started,
            "experiments": len(review.activity),
            "new_bests": len(review.bests),
            "failed": len(review.failed),
            "new_versions": len(review.versions),
        },
        "attention": attention,
        "sections": sections,
    }


def post_url(view: JournalView, note: Note, directory_urls: bool) -> str:
    """Where Material's blog serves a note, from the site's root: `<blog>/YYYY/MM/DD/<slug>/`
    (the blog's default `post_url_format`); the journal's page for a note without a date."""
    if note.date is None or note.source not in view.slugs:
        return page_url(view.pages.index, directory_urls)
    folder = posixpath.join(view.layout.blog_dir, note.date.strftime("%Y/%m/%d"))
    return page_url(posixpath.join(folder, view.slugs[note.source] + ".md"), directory_urls)


def _num(value: float | None) -> str:
    return format_number(value)


# --- layouts -------------------------------------------------------------------------------------


def md_url(label: object, url: str) -> str:
    """A Markdown link to an absolute address of the site: the label escaped, the address
    percent-encoded down to characters that cannot end or break the link."""
    safe = urllib.parse.quote(url, safe=":/#%~.-_")
    if not safe.startswith(("https://", "http://")):
        raise ValueError(f"not an absolute http(s) address: {url!r}")
    return f"[{md_chat(label)}]({safe})"


def _more(n: int, url: str, link: Callable[[str, str], str]) -> str:
    return f"…and {n} more: " + link("see the site", url)


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown for email or a chat that renders it: every name escaped, links absolute."""
    w = report["window"]
    lines = [f"# {md_chat(report['title'])}: morning review", "",
             f"Changes {md_chat(w['text'])}: {_summary(report)}.", ""]  # fmt: skip
    attention = report["attention"]
    lines.append(f"## Needs attention ({len(attention)})" if attention else "## All clear")
    lines.append("")
    for n, a in enumerate(attention, 1):
        lines.append(f"{n}. {_LEVEL[a['level']]} **{_KIND[a['kind']]}** "
                     f"{md_url(a['title'], a['url'])}: {md_chat(a['detail'])}")  # fmt: skip
    if not attention:
        lines.append("Nothing needs attention.")
    for s in report["sections"]:
        lines += ["", f"## {s['title']}", ""]
        if not s["items"]:
            lines.append("*None.*")
        for item in s["items"]:
            lines.append(f"- {md_url(item['text'], item['url'])}")
        if s["total"] > len(s["items"]):
            lines.append(f"- …and {s['total'] - len(s['items'])} more: "
                         f"{md_url('the site', s['url'])}")  # fmt: skip
    lines += ["", f"{md_url('Open the site', report['home'])}", ""]
    return "\n".join(lines)


def _summary(report: dict[str, Any]) -> str:
    s = report["summary"]

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    return (f"{n(s['runs_started'], 'run')} started, {n(s['new_bests'], 'new best result')}, "
            f"{n(s['failed'], 'failed or killed run')}, "
            f"{n(s['new_versions'], 'new model version')}")  # fmt: skip


def slack_escape(text: str) -> str:
    """Untrusted text for Slack mrkdwn: no `<…>` link, mention or @channel can come of it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(text: str, url: str) -> str:
    label = slack_escape(text).replace("|", "¦")
    return f"<{url.replace('>', '%3E').replace('|', '%7C')}|{label}>"


def _slack_section(title: str, lines: list[str], total: int, more_url: str) -> dict[str, Any]:
    """One section block within Slack's 3000 characters: lines that do not fit are counted
    in an "…and N more" line with a link."""
    text = f"*{slack_escape(title)}*"
    shown = 0
    for line in lines:
        if len(text) + 1 + len(line) > _SLACK_ROOM:
            break
        text += "\n" + line
        shown += 1
    if total > shown:
        text += "\n" + _more(total - shown, more_url, _slack_link)
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_TEXT]}}


def to_slack(report: dict[str, Any]) -> dict[str, Any]:
    """A Slack message (Block Kit) within Slack's limits: at most 50 blocks, section text at most
    3000 characters, a header at most 150; `text` is the notification's fallback."""
    w = report["window"]
    title = f"{report['title']}: morning review"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(
            f"Changes {w['text']}: {_summary(report)}.")[:SLACK_TEXT]}]},
    ]  # fmt: skip
    attention = report["attention"]
    lines = [f"{n}. {_LEVEL[a['level']]} *{_KIND[a['kind']]}* {_slack_link(a['title'], a['url'])}"
             f": {slack_escape(a['detail'])}" for n, a in enumerate(attention, 1)]  # fmt: skip
    head = f"Needs attention ({len(attention)})" if attention else "All clear"
    if not attention:
        lines = ["Nothing needs attention."]
    blocks.append(_slack_section(head, lines, len(attention), report["home"]))
    for s in report["sections"]:
        if not s["items"]:
            continue
        if len(blocks) >= SLACK_BLOCKS - 2:  # keep room for the last link
            break
        blocks.append({"type": "divider"})
        lines = [f"• {_slack_link(i['text'], i['url'])}" for i in s["items"]]
        blocks.append(_slack_section(s["title"], lines, s["total"], s["url"]))
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": _slack_link("Open the site", report["home"])}]})  # fmt: skip
    fallback = f"{title}: {len(attention)} need attention; {_summary(report)}"
    return {"text": slack_escape(fallback)[:SLACK_TEXT], "blocks": blocks[:SLACK_BLOCKS]}


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
