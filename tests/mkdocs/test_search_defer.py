"""The search index waits for the search box: the script goes before Material's bundle, once,
on pages that have the bundle; the browser side is tested in tests/pages/test_charts_in_browser.py
(test_chart_library_and_search_index_wait_until_needed)."""

from __future__ import annotations

from daybook.mkdocs.search_defer import SCRIPT, defer_search_index

BUNDLE = '<script src="../assets/javascripts/bundle.a5f9d56c.min.js"></script>'
PAGE = f"<html><body><p>runs</p>\n{BUNDLE}\n<script src='x.js'></script></body></html>"


def test_the_script_goes_just_before_materials_bundle_once() -> None:
    out = defer_search_index(PAGE)
    assert out.count(SCRIPT) == 1 and out.index(SCRIPT) + len(SCRIPT) == out.index(BUNDLE)
    assert defer_search_index(out) == out  # a second pass (mkdocs serve) adds nothing


def test_pages_without_the_bundle_are_left_alone() -> None:
    page = "<html><body><script src='other/bundle.js'></script></body></html>"
    assert defer_search_index(page) == page


def test_the_script_holds_back_only_the_search_index_and_is_one_inline_element() -> None:
    assert SCRIPT.startswith("<script>") and SCRIPT.count("</script>") == 1
    assert r"search_index\.json" in SCRIPT and "focusin" in SCRIPT and "h=" in SCRIPT
