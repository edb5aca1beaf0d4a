"""The demo site's journal, as a new user meets it: `daybook init site && cd site && daybook demo
&& daybook build --strict`, with the real demo store (real scikit-learn runs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import fingerprint, parse_html, run_cli


@dataclass(frozen=True)
class DemoSite:
    root: Path
    html: Path


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> DemoSite:
    root = tmp_path_factory.mktemp("demo") / "site"
    assert run_cli("init", root).returncode == 0
    demo = run_cli("demo", "-q", cwd=root, timeout=600)
    assert demo.returncode == 0, demo.stderr
    build = run_cli("build", "--strict", "-q", cwd=root, timeout=600)
    assert build.returncode == 0, build.stderr
    return DemoSite(root, root / "site")


def test_demo_writes_a_week_of_notes_and_their_authors(demo_site: DemoSite) -> None:
    docs = demo_site.root / "docs"
    notes = sorted(p.name for p in (docs / "notes").glob("*.md"))
    kinds = {name.split("-", 3)[3].split("-")[0] for name in notes}
    assert {"meeting", "decision", "postmortem"} <= kinds
    assert len(notes) >= 7
    assert (docs / "journal" / ".authors.yml").is_file()
    assert sorted(p.name for p in (docs / "assets" / "avatars").iterdir()) == [
        "alice.svg",
        "bob.svg",
        "chen.svg",
    ]
    plain = [n for n in notes if not (docs / "notes" / n).read_text().startswith("---")]
    assert plain, "one note is a plain file without front matter"


def test_the_demo_journal_passes_check(demo_site: DemoSite) -> None:
    result = run_cli("check", cwd=demo_site.root)
    assert result.returncode == 0, result.stdout
    ours = ("docs/notes/", "docs/journal/")
    assert not [line for line in result.stdout.splitlines() if line.startswith(ours)]


def test_the_meetings_decisions_and_action_items_have_their_pages(demo_site: DemoSite) -> None:
    decisions = parse_html(demo_site.html / "journal" / "decisions" / "index.html").text
    assert "Promote cancer-detector v2 to champion" in decisions
    assert "Serve diabetes-regressor v2" in decisions
    actions = parse_html(demo_site.html / "journal" / "actions" / "index.html")
    text = actions.text
    assert "@bob rotate the S3 access key that was logged as a run parameter" in text
    assert "write the shadow-evaluation checklist" in text
    # Checked in the meeting note: closed, so not among the open items, only in the done list
    # with the note that closed it.
    assert text.count("@bob point the champion alias") == 1
    assert "point the champion alias at cancer-detector v2 — closed in Weekly model review" in text
    owners = [h for tag, h in actions.headings if tag == "h2"]
    assert owners[-1] == "No owner" and "Bob Okafor (@bob)" in owners


def test_a_prefix_reference_links_the_run_and_the_run_lists_the_note(demo_site: DemoSite) -> None:
    [run] = demo_site.html.glob("experiments/breast-cancer/runs/random-forest-*/index.html")
    page = parse_html(run)
    rows = page.table_with("Date", "Note", "Authors", "Mentions").body
    notes = {r[1].text for r in rows}
    assert "Weekly model review" in notes
    [meeting] = demo_site.html.glob("journal/*/*/*/meeting-model-review/index.html")
    links = parse_html(meeting).links()
    assert any("runs/random-forest-" in h for h in links)
    assert any(h.endswith("models/cancer-detector/#v2") for h in links)


def test_demo_again_changes_nothing(demo_site: DemoSite) -> None:
    before = fingerprint(demo_site.root / "docs")
    result = run_cli("demo", "-q", cwd=demo_site.root, timeout=600)
    assert result.returncode == 0, result.stderr
    assert fingerprint(demo_site.root / "docs") == before


def test_daybook_note_on_the_demo_site_prefills_a_digest_that_links(demo_site: DemoSite) -> None:
    # The demo dates its notes by its runs, hours before the demo ran: late in a UTC day, chen's
    # note on the data refresh is today's, and `daybook note` would find it. So the note is for
    # the day after chen's last one: its digest starts there, at the refresh run.
    last = max(p.name[:10] for p in (demo_site.root / "docs" / "notes").glob("*-chen.md"))
    note_day = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    created = run_cli("note", "-q", "--author", "chen", "--date", note_day, cwd=demo_site.root)
    assert created.returncode == 0, created.stderr
    path = demo_site.root / created.stdout.split()[-1]
    text = path.read_text(encoding="utf-8")
    assert "since your previous note" in text
    assert "runs:/" in text and "experiments:/diabetes-regression" in text
    build = run_cli("build", "--strict", "-q", cwd=demo_site.root, timeout=600)
    assert build.returncode == 0, build.stderr
    day = path.stem[:10].replace("-", "/")
    page = demo_site.html / "journal" / day / path.stem[11:] / "index.html"
    links = parse_html(page).links()
    assert any("experiments/diabetes-regression/runs/" in h for h in links)
