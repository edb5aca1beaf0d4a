"""A note's body on the site: the author's Markdown as written (MkDocs renders it with the site's
extensions and the daybook plugin sanitizes the HTML), with references made links, secrets
masked and an excerpt separator added to long notes."""

from __future__ import annotations

from daybook.analysis.references import Catalog, Resolved, Target, find_references
from daybook.core.snapshot import Snapshot
from daybook.pages.note_body import render_body
from daybook.safety.sanitize import EXCERPT
from daybook.safety.secrets import find_secrets

MATERIAL = (
    '!!! note "Remember"\n\n    text\n\n=== "A"\n\n    a\n\n- [x] done\n\n'
    '```python title="t.py" linenums="1"\nif a < b: {}\n```\n\n'
    "Text[^1] `a < b {x}` [go](x.md){ .md-button }\n\n[^1]: foot\n\n<b>raw</b> a < b {x}\n"
)


def test_markdown_is_left_as_written_for_mkdocs_to_render() -> None:
    assert render_body(MATERIAL, [], lambda t: None) == MATERIAL


def test_references_become_links_and_broken_ones_say_why() -> None:
    body = "See runs:/abcdef0011, [that one](runs:/abcdef0011) and models:/x/9.\n"
    refs = find_references(body)
    good = Target("run", "abcdef0011", "sweep <1> (abcdef00)")
    resolved = [Resolved(refs[0], good), Resolved(refs[1], good), Resolved(refs[2], None, "no x")]
    out = render_body(body, resolved, lambda t: "../experiments/e/runs/sweep-abcdef00.md")
    assert "[sweep &lt;1&gt; &#40;abcdef00&#41;](../experiments/e/runs/sweep-abcdef00.md)" in out
    assert "[that one](../experiments/e/runs/sweep-abcdef00.md)" in out
    assert '<del class="daybook-broken" title="no x">models:/x/9</del> ⚠' in out


def test_a_target_without_a_page_is_shown_as_text(snapshot: Snapshot) -> None:
    [ref] = find_references("experiments:/regression")
    res = Catalog(snapshot).resolve(ref)
    assert render_body("experiments:/regression", [res], lambda t: None) == "regression"


def test_secrets_are_masked_even_in_code() -> None:
    body = "token: AKIAIOSFODNN7EXAMPLE\n\n```\nexport KEY=AKIAIOSFODNN7EXAMPLE\n```\n"
    out = render_body(body, [], lambda t: None, find_secrets(body))
    assert "AKIA" not in out
    assert out.count("••••••") == 2


def test_long_notes_get_an_excerpt_before_their_second_section() -> None:
    body = "Intro.\n\n## One\n\ntext\n\n## Two\n\nmore\n"
    out = render_body(body, [], lambda t: None)
    assert out.index(EXCERPT) < out.index("## Two") and out.index(EXCERPT) > out.index("## One")
    assert (
        render_body(f"a\n\n{EXCERPT}\n\n## One\n\n## Two\n", [], lambda t: None).count(EXCERPT) == 1
    )
