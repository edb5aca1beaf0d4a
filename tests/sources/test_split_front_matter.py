"""Notes and model cards share one front matter splitter: same mistake, same line number."""

from __future__ import annotations

from daybook.sources.front_matter import split_front_matter


def test_text_without_a_leading_rule_is_all_body() -> None:
    fm = split_front_matter("# Title\n\nbody\n")
    assert (fm.meta, fm.body, fm.body_line, fm.trouble) == ({}, "# Title\n\nbody\n", 1, None)


def test_metadata_and_body_with_the_line_of_each_key() -> None:
    fm = split_front_matter("---\ndate: 2026-11-26\ntags: [a]\n---\nHello\n")
    assert fm.meta["tags"] == ["a"]
    assert fm.key_lines() == {"date": 2, "tags": 3}
    assert (fm.body, fm.body_line, fm.trouble) == ("Hello\n", 5, None)


def test_broken_yaml_names_the_file_line_and_keeps_the_body() -> None:
    fm = split_front_matter("---\ntitle: ok\ntags: [unclosed\n---\nstill here\n")
    assert fm.trouble == "yaml" and fm.meta == {}
    assert fm.trouble_line in (3, 4, 5)  # where YAML noticed, as a line of the file
    assert fm.body == "still here\n" and fm.body_line == 5


def test_an_unclosed_block_and_a_non_mapping_are_troubles_too() -> None:
    assert split_front_matter("---\ntitle: x\n").trouble == "unclosed"
    fm = split_front_matter("---\n- a\n- b\n---\nbody")
    assert (fm.trouble, fm.trouble_line, fm.meta) == ("not-mapping", 2, {})
