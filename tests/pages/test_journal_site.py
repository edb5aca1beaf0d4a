"""The journal end to end: notes over the real fixture store, built with the real
`daybook build --strict`, read back from the HTML."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import fingerprint, parse_html, read_tree, run_cli
from journal_helpers import front, html_page, journal_site, write_notes
from store_builder import StoreInfo


@dataclass(frozen=True)
class JournalBuild:
    root: Path
    html: Path
    notes_before: dict[str, tuple[str, int]]
    stderr: str


def _notes(store: StoreInfo) -> dict[str, str]:
    r = store.runs
    return {
        "2025-11-24-alice.md": front("2025-11-24", ["alice"], title="Sweep day")
        + f"## Experiments\n\nThe crash runs:/{r['failed'][:8]} was a typo. "
        f"[The sweep](runs:/{r['parent']}) is done; models:/digits-clf@champion stays.\n\n"
        "Compared experiments:/regression with <experiments:/My Model>. "
        f"Write `runs:/{r['failed']}` to refer to a run.\n\n"
        "## Learnings\n\n<script>alert('body')</script> [x](javascript:alert(1)) "
        "**bold** {: onclick=alert(2) }\n",
        # A plain Obsidian-style file: no front matter, no author.
        "2025-11-25.md": f"# Plain day\n\nLooked at runs:/{r['child1'][:10]} again.\n",
        "2025-11-25-meeting-review.md": front("2025-11-25", ["alice", "bob"], "meeting", "Review")
        + "## Decisions\n\n"
        f"- Promote models:/digits-clf/2; drop runs:/{r['child0'][:8]}.\n"
        "- Keep | pipes <b>and</b> tags as text.\n\n"
        "## Action items\n\n"
        "- [ ] @bob move the champion alias\n"
        "- [x] @alice retrain\n"
        "- [ ] write the checklist\n",
        "2025-11-26 Stand up.md": front("2025-11-26", ["bob"], "meeting", "Stand-up")
        + f"Looked into runs:/{r['hostile']}.\n",
        "2025-11-23-draft.md": "---\ndate: 2025-11-23\ndraft: true\n---\n"
        f"Not ready: runs:/{r['reg0']}.\n",
        "2025-11-26-bob.md": (
            "---\ndate: 2025-11-26\nauthors: [bob]\n"
            "title: \"<script>alert('t')</script> | x\"\ntags: ['<b>t</b>', drift]\n---\n\n"
            "Hostile front matter.\n"
        ),
    }


@pytest.fixture(scope="module")
def journal_build(tmp_path_factory: pytest.TempPathFactory, store: StoreInfo) -> JournalBuild:
    root = journal_site(tmp_path_factory.mktemp("journal") / "site", _notes(store))
    before = fingerprint(root / "docs" / "notes")
    result = run_cli("build", "--strict", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    return JournalBuild(root, root / "site", before, result.stderr)


def _run_page(html: Path, run_id: str) -> Path:
    [page] = html.glob(f"experiments/*/runs/*-{run_id[:8]}/index.html")
    return page


def test_a_strict_build_leaves_every_note_file_untouched(journal_build: JournalBuild) -> None:
    assert fingerprint(journal_build.root / "docs" / "notes") == journal_build.notes_before


def test_notes_are_blog_posts_with_archive_categories_and_authors(
    journal_build: JournalBuild,
) -> None:
    html = journal_build.html
    for path in (
        "journal/2025/11/24/alice/index.html",
        "journal/2025/11/25/daily/index.html",  # the plain file: its type names it
        "journal/2025/11/25/meeting-review/index.html",
        "journal/2025/11/26/stand-up/index.html",  # an unlinkable name, served from a slug
        "journal/archive/2025/11/index.html",
        "journal/category/meeting/index.html",
        "journal/author/alice/index.html",
    ):
        assert (html / path).is_file(), path
    assert sorted(p.name for p in (html / "journal/2025/11/26").iterdir()) == ["bob", "stand-up"]
    assert not (html / "journal/2025/11/23").exists()  # a draft is not published
    plain = parse_html(html / "journal/2025/11/25/daily/index.html")
    assert plain.heading() == "Plain day"
    index = parse_html(html / "journal/index.html").text
    assert "Sweep day" in index and "Review" in index


def test_references_link_to_the_generated_pages_with_readable_labels(
    journal_build: JournalBuild, store: StoreInfo
) -> None:
    html = journal_build.html
    page = parse_html(html / "journal/2025/11/24/alice/index.html")
    r = store.runs
    text = page.text
    assert f"The crash crashed ({r['failed'][:8]}) was a typo." in text
    assert "The sweep is done; digits-clf@champion (v2) stays." in text
    assert "Compared regression with My Model." in text
    assert f"Write runs:/{r['failed']} to refer to a run." in text  # code is left alone
    links = page.links()
    failed_page = _run_page(html, r["failed"])  # a run with no metric gets a page: a note names it
    assert any(
        (page_dir := html / "journal/2025/11/24/alice").joinpath(href).resolve()
        == failed_page.parent.resolve()
        for href in links
        if "runs/" in href
    ), links
    assert any(href.endswith("models/digits-clf/#v2") for href in links)
    assert page_dir.is_dir()


def _anchor(html: Path, page: Path, href: str) -> str:
    """The id an anchor link of `page` points to, checked to exist on the note it opens."""
    path, _, fragment = href.partition("#")
    note = (page.parent / path / "index.html").resolve()
    assert f'id="{fragment}"' in note.read_text(encoding="utf-8"), (href, note)
    return fragment


def test_run_experiment_and_model_pages_list_the_notes_that_mention_them(
    journal_build: JournalBuild, store: StoreInfo
) -> None:
    html = journal_build.html
    run_page = _run_page(html, store.runs["failed"])
    run = parse_html(run_page)
    table = run.table_with("Date", "Note", "Authors", "Mentions")
    [row] = table.body  # the note names the run twice (once in code, which is not a mention)
    assert [c.text for c in row[:3]] == ["2025-11-24", "Sweep day", "Alice Martin"]
    assert re.fullmatch(
        rf"line \d+: The crash crashed \({store.runs['failed'][:8]}\) was a typo\.", row[3].text
    ), row[3].text
    assert row[1].hrefs == ["../../../../journal/2025/11/24/alice/"]
    [href] = row[3].hrefs  # the mention itself, an anchor in the note
    assert href.startswith("../../../../journal/2025/11/24/alice/#ref-L")
    _anchor(html, run_page, href)

    model = parse_html(html / "models/digits-clf/index.html")
    rows = model.table_with("Date", "Note", "Authors", "Mentions").body
    assert [(c[0].text, c[1].text, c[3].text.split(":")[0]) for c in rows] == [
        ("2025-11-25", "Review", "v2"),  # newest first
        ("2025-11-24", "Sweep day", "@champion → v2"),
    ]

    exp_page = html / "experiments/classifier/index.html"
    exp = parse_html(exp_page)
    rows = exp.table_with("Date", "Note", "Authors", "Mentions").body
    notes = [c[1].text for c in rows]
    assert len(notes) == len(set(notes))  # one row per note, however often it mentions the runs
    by_note = {c[1].text: c for c in rows}
    hostile = f"<img src=x onerror=alert(1)> ({store.runs['hostile'][:8]})"  # shown as text
    assert by_note["Stand-up"][3].text == f"{hostile}: Looked into {hostile}."
    plain = f"sweep-lr-0.05 ({store.runs['child1'][:8]})"
    assert by_note["Plain day"][3].text == f"{plain}: Looked at {plain} again."
    # "Sweep day" names two of the experiment's runs in one sentence: both, in one row.
    sweep_day = by_note["Sweep day"][3]
    assert len(sweep_day.hrefs) == 2, sweep_day.text
    assert all(_anchor(html, exp_page, h).startswith("ref-L") for h in sweep_day.hrefs)

    reg = parse_html(html / "experiments/regression/index.html")
    [row] = reg.table_with("Date", "Note", "Authors", "Mentions").body
    assert row[3].text.endswith(": Compared regression with My Model.")


def test_the_decisions_log_and_open_action_items(
    journal_build: JournalBuild, store: StoreInfo
) -> None:
    html = journal_build.html
    decisions = parse_html(html / "journal/decisions/index.html")
    text = decisions.text
    assert (
        f"2025-11-25 · Promote digits-clf v2; drop sweep-lr-0.1 ({store.runs['child0'][:8]}). "
        "— Review (Alice Martin, Bob Okafor)"
    ) in text
    # Raw HTML in a note is rendered and sanitized (issue #10): the item keeps its <b>.
    assert "Keep | pipes and tags as text." in text
    assert ("b", {}) in decisions.tags
    assert "../2025/11/25/meeting-review/" in decisions.links()

    actions = parse_html(html / "journal/actions/index.html")
    text = actions.text
    assert "2 open, 1 done." in text
    m = re.search(r"as of (\d{4}-\d{2}-\d{2})", text)
    assert m
    age = (dt.date.fromisoformat(m.group(1)) - dt.date(2025, 11, 25)).days
    bob = actions.table_with("Age (days)", "Action", "Due", "From", "Date")
    assert [[c.text for c in row] for row in bob.body] == [
        [str(age), "@bob move the champion alias", "—", "Review", "2025-11-25"]
    ]
    assert [h for _, h in actions.headings if _ == "h2"] == ["Bob Okafor (@bob)", "No owner"]
    # Issue #12: a checked item is closed, and listed (collapsed) with the note that closed it.
    assert "1 done @alice retrain — closed in Review (2025-11-25)" in text


def test_nothing_a_note_holds_can_run_in_the_built_site(journal_build: JournalBuild) -> None:
    for path in (journal_build.html / "journal").rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert "<script>alert" not in html, path
        assert "onclick=alert" not in html.replace("onclick=alert(2) }", ""), path
        assert 'href="javascript:' not in html, path
    post = parse_html(journal_build.html / "journal/2025/11/26/bob/index.html")
    assert post.heading() == "‹script›alert(’t’)‹/script› | x"
    assert "‹b›t‹/b›" in post.text  # the tag, as text


def test_the_nav_has_the_journal_and_generate_writes_the_completed_notes(
    journal_build: JournalBuild, store: StoreInfo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "generate", "-q", "-C", journal_build.root, "--tracking-uri", store.uri, "--out", out
    )
    assert result.returncode == 0, result.stderr
    tree = read_tree(out)
    summary = tree["SUMMARY.md"].decode()
    assert summary.splitlines()[1:4] == [
        "- [Journal](journal/index.md)",
        "    - [Decisions](journal/decisions.md)",
        "    - [Open action items](journal/actions.md)",
    ]
    assert "notes/" not in summary  # posts are reached through the journal
    plain = tree["notes/2025-11-25.md"].decode()
    assert plain.startswith('---\ntitle: "Plain day"\ndate: 2025-11-25\ncategories:\n')
    assert 'slug: "daily"' in plain
    assert "notes/2025-11-26-stand-up.md" in tree
    assert "notes/2025-11-26 Stand up.md" not in tree


def test_a_broken_reference_fails_strict_and_the_rest_still_builds(
    tmp_path: Path, store: StoreInfo
) -> None:
    notes = {
        "2025-11-24-alice.md": front("2025-11-24", ["alice"], title="Fine") + "All good.\n",
        "2025-11-25-bob.md": front("2025-11-25", ["bob"], title="Broken")
        + "First line.\nSee runs:/deadbeefdeadbeef and models:/digits-clf/7.\n",
        "2025-11-26.md": "---\ndate: 2025-11-26\ntitle: [unclosed\n---\nBody survives.\n",
        "2025-11-27-zed.md": "---\nauthors: [zed]\n---\nWho?\n",
        "2025-11-28.md": b"\xfe\xff not utf-8\n",
    }
    root = journal_site(tmp_path / "site", notes)
    before = fingerprint(root / "docs" / "notes")
    strict = run_cli("build", "--strict", "-C", root, "--tracking-uri", store.uri)
    assert strict.returncode == 1
    warnings = [line for line in strict.stderr.splitlines() if line.startswith("WARNING")]
    assert any(
        "docs/notes/2025-11-25-bob.md:9: runs:/deadbeefdeadbeef: no run with this id" in w
        for w in warnings
    ), strict.stderr
    assert any("docs/notes/2025-11-25-bob.md:9: models:/digits-clf/7: model" in w for w in warnings)
    assert any("docs/notes/2025-11-26.md:3: invalid YAML front matter" in w for w in warnings)
    assert any("docs/notes/2025-11-27-zed.md:2: unknown author 'zed'" in w for w in warnings)
    assert any("docs/notes/2025-11-28.md:1: not UTF-8 text" in w for w in warnings)

    plain = run_cli("build", "-C", root, "--tracking-uri", store.uri)
    assert plain.returncode == 0, plain.stderr
    html = root / "site"
    assert "All good." in parse_html(html / "journal/2025/11/24/alice/index.html").text
    broken = (html / "journal/2025/11/25/bob/index.html").read_text(encoding="utf-8")
    assert '<del class="daybook-broken"' in broken
    assert "Problems in this note" in broken
    assert "Body survives." in parse_html(html_page(html, "journal/2025/11/26/daily.md")).text
    assert fingerprint(root / "docs" / "notes") == before


def test_check_and_build_agree_on_a_fixed_note(tmp_path: Path, store: StoreInfo) -> None:
    root = journal_site(
        tmp_path / "site",
        {"2025-11-24-alice.md": front("2025-11-24", ["alice"]) + "runs:/ffffffffffff\n"},
    )
    assert run_cli("check", "-C", root, "--tracking-uri", store.uri).returncode == 1
    write_notes(root, {"2025-11-24-alice.md": front("2025-11-24", ["alice"]) + "fixed\n"})
    assert run_cli("check", "-C", root, "--tracking-uri", store.uri).returncode == 0
    result = run_cli("build", "--strict", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr


def test_author_names_are_shown_as_text_whatever_the_authors_file_says(
    tmp_path: Path, store: StoreInfo
) -> None:
    authors = (
        "authors:\n  alice:\n    name: <img src=x onerror=alert(1)>\n"
        "    description: <b>ML</b>\n    avatar: assets/avatars/alice.svg\n"
    )
    root = journal_site(
        tmp_path / "site", {"2025-11-24-alice.md": front("2025-11-24") + "Hi.\n"}, authors
    )
    result = run_cli("build", "--strict", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    post = (root / "site" / "journal/2025/11/24/alice/index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in post and "<b>ML</b>" not in post
    assert "‹img src=x onerror=alert(1)›" in post


def test_a_draft_gives_no_backlink(journal_build: JournalBuild, store: StoreInfo) -> None:
    page = parse_html(_run_page(journal_build.html, store.runs["reg0"]))
    assert "Mentioned in" not in [text for _, text in page.headings]


def test_the_journal_pages_are_the_same_bytes_every_time(
    journal_build: JournalBuild, store: StoreInfo, tmp_path: Path
) -> None:
    trees = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = run_cli(
            "generate", "-q", "-C", journal_build.root, "--tracking-uri", store.uri, "--out", out
        )
        assert result.returncode == 0, result.stderr
        tree = read_tree(out)
        trees.append({k: v for k, v in tree.items() if k.startswith(("notes/", "journal/"))})
    assert trees[0] == trees[1]
    assert "journal/decisions.md" in trees[0] and "notes/2025-11-24-alice.md" in trees[0]
