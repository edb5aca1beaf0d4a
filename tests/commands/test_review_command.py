# ruff: noqa: F811  (the session fixtures imported from review_store are used as arguments)
"""Issue #12: the morning review every day.

- The window is "since the last published build" (a committed line `daybook build --publish`
  appends), so two builds in a row show the same review, and publishing moves it.
- `daybook review` prints that review for chat and email: Markdown and Slack with absolute
  links (Slack within its size limits), JSON valid against its documented schema.

All on a real store (tests/review_store.py) and real `daybook build` runs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema
import pytest

from daybook.mkdocs.scaffold import init_site
from daybook.pages.review_text import SCHEMA, SLACK_BLOCKS, SLACK_TEXT, _slack_section
from helpers import run_cli
from review_store import REVIEW_CONFIG, SINCE, ReviewStore, review_store  # noqa: F401

SITE_URL = "https://team.example.com/daybook/"
SINCE_TEXT = "2025-11-29T16:00:00Z"  # = SINCE
PUBLISHED = f'{{"published_at": "{SINCE_TEXT}", "tracking_uri": "sqlite:///mlflow.db"}}\n'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, review_store: ReviewStore) -> Path:
    """A site whose last published build was at SINCE, built once (a plain local build)."""
    root = tmp_path_factory.mktemp("review-command") / "site"
    init_site(root)
    (root / "daybook.yml").write_text(
        f"tracking_uri: {review_store.uri}\n{REVIEW_CONFIG}", encoding="utf-8"
    )
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"\nsite_url: {SITE_URL}\n")
    (root / "history").mkdir()
    (root / "history" / "published.jsonl").write_text(PUBLISHED, encoding="utf-8")
    result = run_cli("build", "--strict", "-q", "-C", root, timeout=300)
    assert result.returncode == 0, result.stderr
    return root


def _review_part(root: Path) -> str:
    """The home page from its first line to the end of the morning review, as built."""
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    start = html.index('<h1 id="review-test"')
    return html[start : html.index('id="latest-activity"')]


def test_two_builds_in_a_row_show_the_same_review_and_publishing_moves_it(site: Path) -> None:
    first = _review_part(site)
    assert "since the published build of 2025-11-29 16:00 UTC" in first
    assert "new-best" in first and "Needs attention" in first and "nothing new" not in first
    # The second build publishes: its review still starts at the previous published build …
    result = run_cli("build", "--strict", "-q", "--publish", "-C", site, timeout=300)
    assert result.returncode == 0, result.stderr
    assert _review_part(site) == first
    lines = (site / "history" / "published.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[0] == PUBLISHED.strip()
    published = json.loads(lines[1])["published_at"]
    # … and the next build starts at it: nothing new in the store since.
    result = run_cli("build", "--strict", "-q", "-C", site, timeout=300)
    assert result.returncode == 0, result.stderr
    moved = _review_part(site)
    when = dt.datetime.fromisoformat(published.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")
    assert f"since the published build of {when} UTC" in moved
    assert "nothing new in the store" in moved
    # The marker is written only by --publish: the plain build added no line.
    assert len((site / "history" / "published.jsonl").read_text().splitlines()) == 2


def _review(site: Path, *args: str) -> str:
    result = run_cli("review", "-q", "--offline", "--since", SINCE_TEXT, "-C", site, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_markdown_review_has_every_section_and_absolute_links(site: Path) -> None:
    text = _review(site, "--format", "markdown")
    heads = re.findall(r"^## (.+)$", text, re.M)
    assert heads == ["Needs attention (5)", "New best results", "Runs", "Failed and killed runs",
                     "New model versions", "Alias moves", "Data updates", "Notes",
                     "Open action items"]  # fmt: skip
    first = text.split("## Needs attention (5)\n\n", 1)[1].splitlines()[0]
    assert first.startswith("1. ✖ **Monitor** [m accuracy](https://team.example.com/daybook/")
    # Read raw in email or chat: plain words, no entities (names are backslash-escaped).
    assert "Changes since 2025-11-29 16:00 UTC (set with --since" in text
    assert "&#" not in text
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert links and all(u.startswith(SITE_URL) for u in links)
    assert f"{SITE_URL}monitors/#m-accuracy" in links


def test_slack_review_stays_within_slack_limits(site: Path) -> None:
    message = json.loads(_review(site, "--format", "slack"))
    blocks = message["blocks"]
    assert 3 < len(blocks) <= SLACK_BLOCKS
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= SLACK_TEXT for t in sections)
    assert sections[0].startswith("*Needs attention (5)*\n1. ✖ *Monitor* <https://team.example")
    urls = re.findall(r"<([^|>]+)\|", "\n".join(sections))
    assert urls and all(u.startswith(SITE_URL) for u in urls)
    # A long section is cut within the limit and says how many more, with a link.
    lines = [f"• <{SITE_URL}runs/#{i:032x}|run number {i} with a long name>" for i in range(400)]
    block = _slack_section("Runs", lines, 400, SITE_URL)
    text = block["text"]["text"]
    assert len(text) <= SLACK_TEXT
    shown = text.count("\n• ")
    assert 0 < shown < 400 and text.endswith(f"…and {400 - shown} more: <{SITE_URL}|see the site>")


def test_slack_text_cannot_mention_or_link() -> None:
    from daybook.pages.review_text import slack_escape

    assert slack_escape("<!channel> <https://evil|x> & co") == (
        "&lt;!channel&gt; &lt;https://evil|x&gt; &amp; co"
    )


def test_json_review_validates_against_the_documented_schema(site: Path) -> None:
    data = json.loads(_review(site, "--format", "json"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    assert data["window"]["since"] == SINCE_TEXT and data["window"]["source"] == "since"
    assert [a["kind"] for a in data["attention"]] == ["monitor"] * 3 + ["failed"] * 2
    assert data["summary"]["failed"] == 2
    # The copy in the user guide is the shipped schema.
    guide = Path(__file__).resolve().parents[2] / "docs" / "guide" / "review.schema.json"
    assert json.loads(guide.read_text(encoding="utf-8")) == schema


def test_review_uses_the_sites_window_by_default(site: Path) -> None:
    result = run_cli("review", "-q", "--offline", "--format", "json", "-C", site)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["window"]["source"] in ("published", "default")


def test_review_without_a_site_url_is_one_clear_line(tmp_path: Path) -> None:
    root = tmp_path / "site"
    init_site(root)
    result = run_cli("review", "--offline", "-C", root)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "no site_url" in result.stderr and "--site-url" in result.stderr
