"""The data files' JSON: orjson's speed, the standard library's meaning."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from daybook.pages.json_text import compact

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4),
    max_leaves=25,
)


@given(_values)
def test_any_data_reads_back_the_same_in_ascii_and_with_sorted_keys(value: object) -> None:
    text = compact(value, sort_keys=True, ascii_only=True)
    assert text.isascii()
    assert json.loads(text) == json.loads(json.dumps(value, sort_keys=True))
    assert text == compact(value, sort_keys=True, ascii_only=True)  # equal data, equal text


def test_sorted_keys_are_in_the_order_json_sorts_them() -> None:
    doc = {"b": 1, "a": {"z": 2, "é": 3, "Z": 4}, "\U0001f600": 5}
    assert json.loads(compact(doc, sort_keys=True), object_pairs_hook=list) == json.loads(
        json.dumps(doc, sort_keys=True), object_pairs_hook=list
    )


def test_ascii_only_escapes_as_json_does_even_past_the_basic_plane() -> None:
    doc = {"name": "naïve \u2028 \U0001f600"}
    assert compact(doc, ascii_only=True) == json.dumps(doc, separators=(",", ":"))


def test_what_orjson_refuses_still_comes_out_as_json() -> None:
    lone = "run-\ud800"  # a hostile name with a lone surrogate
    assert json.loads(compact({"name": lone}, ascii_only=True)) == {"name": lone}
    assert json.loads(compact([2**70, -(2**70)])) == [2**70, -(2**70)]
    assert json.loads(compact({1: "one"})) == {"1": "one"}


def test_nan_and_infinities_are_written_as_null_never_as_bare_tokens() -> None:
    text = compact({"y": [math.nan, math.inf, -math.inf], "title": None})
    assert json.loads(text) == {"y": [None, None, None], "title": None}
    assert "NaN" not in text and "Infinity" not in text
