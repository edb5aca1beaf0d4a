"""Structural adversarial fuzzing of the sanitizer: Hypothesis builds hostile Markdown (fences
with attribute lists, reference links, nested emphasis, raw and inline HTML with event handlers,
autolinks, entity tricks, admonitions, tabs, tables, `/// html` blocks, snippet lines) and every
rendered result must hold nothing that runs, takes Material's ids or classes, or fetches.

Two levels: Python-Markdown with the site's full extension set (fast, many examples), and a few
batches through a real `daybook build` (MkDocs, the daybook plugin, the blog's excerpts), read
back from the built HTML. Both are derandomized so CI sees the same examples every time.
"""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from daybook.safety.sanitize import (
    SNIPPET_SENTINEL,
    clean_html,
    markdown_block,
    markdown_inline,
    neutralize_snippets,
    restore_snippets,
)
from sanitize_helpers import (
    SECRET,
    build,
    description_regions,
    document,
    hostile_site,
    note_regions,
    problems_in,
    site_extensions,
    write_notes,
    write_runs,
)


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> markdown.Markdown:
    """Python-Markdown with the site's extensions; snippets read from a folder with a secret."""
    base = tmp_path_factory.mktemp("snippets")
    (base / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    names, configs = site_extensions(base)
    return markdown.Markdown(extensions=names, extension_configs=configs)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=document)
def test_no_rendered_markdown_keeps_anything_unsafe(renderer: markdown.Markdown, text: str) -> None:
    renderer.reset()
    note = restore_snippets(clean_html(renderer.convert(neutralize_snippets(text))))
    assert problems_in(note) == [], (text, note)
    assert SECRET not in note and SNIPPET_SENTINEL not in note, text
    description = markdown_block(text)
    assert problems_in(description) == [], (text, description)
    item = str(markdown_inline(text))
    assert problems_in(item) == [], (text, item)
    assert "\n" not in item and "|" not in item, item


# --- through a real build -------------------------------------------------------------------------

BATCH = 15


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_site(tmp_path_factory.mktemp("fuzz") / "site")


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],  # no shrinking: each example is a whole site build
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    notes=st.lists(document, min_size=BATCH, max_size=BATCH),
    descriptions=st.lists(document, min_size=BATCH, max_size=BATCH),
)
def test_no_built_note_or_description_keeps_anything_unsafe(
    fuzz_site: Path, notes: list[str], descriptions: list[str]
) -> None:
    write_notes(fuzz_site, notes)
    write_runs(fuzz_site, descriptions, experiment=descriptions[0])
    code, stderr = build(fuzz_site)
    assert code == 0, stderr
    html = fuzz_site / "site"
    posts = 0
    for path in sorted(html.glob("journal/**/*.html")):
        regions = note_regions(path.read_text(encoding="utf-8"))
        assert regions.problems() == [], path
        posts += regions.count
    assert posts >= 2 * BATCH  # every post page, and its excerpt on the journal's index
    described = 0
    for path in sorted(html.glob("experiments/**/*.html")):
        regions = description_regions(path.read_text(encoding="utf-8"))
        assert regions.problems() == [], path
        described += regions.count
    assert described >= BATCH
    for path in html.rglob("*"):
        if path.suffix in (".html", ".json", ".xml"):
            text = path.read_text(encoding="utf-8")
            assert SECRET not in text and SNIPPET_SENTINEL not in text, path
