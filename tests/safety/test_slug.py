"""Slugs: the one place names become paths. No name, however hostile, escapes its folder or
takes another name's page."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daybook.safety.slug import is_slug, page_path, slugify, unique_slugs

SLUG = re.compile(r"[a-z0-9-]+")
names = st.text(max_size=120)
# Names made mostly of characters that fold to the same slug, so collisions are common.
colliding = st.text(alphabet="aA -_.Ééß模🚀", min_size=0, max_size=6)


@given(names)
def test_a_slug_is_a_safe_path_part(name: str) -> None:
    slug = slugify(name)
    assert slug not in ("", ".", "..")
    assert "/" not in slug and "\\" not in slug
    assert SLUG.fullmatch(slug), slug
    assert is_slug(slug)
    assert len(slug) <= 60 + 7  # the longest base plus a hash suffix for reserved names


@given(names)
def test_slugify_is_a_function_of_the_name(name: str) -> None:
    assert slugify(name) == slugify(name)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Model", "my-model"),
        ("café", "cafe"),
        ("Crème brûlée v2", "creme-brulee-v2"),
        ("  --a__b--  ", "a-b"),
        ("🚀 rocket", "rocket"),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Windows", "c-windows"),
    ],
)
def test_names_fold_to_readable_ascii(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["模型", "模型型", "🚀", "🚀🚀", "", "...", "/", "\\", "——"])
def test_names_without_ascii_letters_get_a_stable_hashed_slug(name: str) -> None:
    slug = slugify(name)
    assert slug.startswith("n-") and is_slug(slug)
    assert slug == slugify(name)


def test_different_non_ascii_names_get_different_slugs() -> None:
    assert len({slugify(n) for n in ["模型", "模型2", "🚀", "🚀🚀", "..."]}) == 5


@pytest.mark.parametrize("name", ["index", "INDEX", "search", "assets", "con", "nul"])
def test_names_that_mean_something_to_mkdocs_or_windows_are_not_used_bare(name: str) -> None:
    slug = slugify(name)
    assert slug != name.lower()
    assert slug.startswith(name.lower() + "-")
    assert is_slug(slug)


@given(st.lists(names, max_size=12), st.lists(colliding, max_size=12))
def test_unique_slugs_gives_every_name_its_own_slug(some: list[str], similar: list[str]) -> None:
    group = set(some) | set(similar)
    slugs = unique_slugs(group)
    assert set(slugs) == group
    assert len(set(slugs.values())) == len(group)
    assert all(is_slug(s) for s in slugs.values())


@given(st.lists(colliding, max_size=10, unique=True).flatmap(lambda xs: st.permutations(xs)))
def test_unique_slugs_does_not_depend_on_the_order_of_names(names_: list[str]) -> None:
    assert unique_slugs(names_) == unique_slugs(sorted(names_)) == unique_slugs(names_[::-1])


def test_a_name_that_is_its_own_slug_keeps_it() -> None:
    slugs = unique_slugs(["My Model", "my-model"])
    assert slugs["my-model"] == "my-model"
    assert slugs["My Model"] != "my-model"
    assert slugs["My Model"].startswith("my-model-")


def test_unique_slugs_for_unicode_names() -> None:
    slugs = unique_slugs(["café", "cafe", "Café", "模型", "模型 ", "🚀"])
    assert len(set(slugs.values())) == 6
    assert slugs["cafe"] == "cafe"


def test_adding_a_name_keeps_the_slugs_of_names_that_do_not_collide() -> None:
    before = unique_slugs(["alpha", "beta"])
    after = unique_slugs(["alpha", "beta", "Gamma"])
    assert after["alpha"] == before["alpha"] and after["beta"] == before["beta"]


def test_page_path_joins_slugs() -> None:
    assert page_path("experiments", "my-model", "index") == "experiments/my-model/index.md"
    assert page_path("a", suffix="") == "a"


@pytest.mark.parametrize(
    "part", ["", ".", "..", "a/b", "a\\b", "A", "-a", "a-", "café", "a b", "/etc", "a.md"]
)
def test_page_path_refuses_anything_that_is_not_a_slug(part: str) -> None:
    with pytest.raises(ValueError, match="not a slug"):
        page_path("experiments", part, "index")


@given(st.lists(names, min_size=1, max_size=4))
def test_page_paths_from_any_names_stay_inside_the_site(parts: list[str]) -> None:
    path = page_path(*(slugify(p) for p in parts))
    assert not path.startswith("/")
    assert ".." not in path.split("/")
    assert path.endswith(".md")
