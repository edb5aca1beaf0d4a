"""Front matter: the YAML block at the top of a note or a model card, and the typed models that say
what its keys may hold.

One set of rules for notes and cards, checked the way `core.config` checks daybook.yml: a pydantic
model, with each error mapped back to the file line of the offending key (`line_of`, shared with
daybook.yml). People write these files by hand, so one wrong key never hides the others: every
error is reported, in line order, and the valid keys are still read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from daybook.core.snapshot import NOTE_TYPES, Problem

Trouble = Literal["unclosed", "yaml", "not-mapping"]


@dataclass
class FrontMatter:
    """A Markdown file split into its YAML block and its body (see `sources.front_matter`)."""

    meta: dict[str, Any] = field(default_factory=dict)
    node: yaml.Node | None = None  # the YAML tree, for the line of each key
    body: str = ""
    body_line: int = 1  # file line of the body's first line
    trouble: Trouble | None = None
    trouble_line: int = 1
    detail: str = ""  # what YAML said, for trouble == "yaml"

    def key_lines(self) -> dict[str, int]:
        """File line of each top-level key."""
        if not isinstance(self.node, yaml.MappingNode):
            return {}
        return {str(getattr(k, "value", "")): k.start_mark.line + 2 for k, _ in self.node.value}

    def line(self, *loc: Any) -> int:
        """File line of a key (or of an item below it), as deep as the block has it; 1 without
        a block."""
        return line_of(self.node, loc, offset=1) or 1


def line_of(node: yaml.Node | None, loc: tuple[Any, ...], offset: int = 0) -> int | None:
    """The line of the YAML node at a pydantic error location (1-based), as deep as it exists.

    `offset` is the number of file lines before the YAML text (1 for a front matter block, whose
    first line is `---`). Shared by daybook.yml, notes and model cards."""
    line = node.start_mark.line + 1 + offset if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == part:
                    nxt = v
                    line = k.start_mark.line + 1 + offset
                    break
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1 + offset
        else:
            break
    return line


# --- the rules: each raises "expected …, got …" ---------------------------------------------------


def _expected(what: str, value: Any, then: str = "") -> PydanticCustomError:
    return PydanticCustomError(
        "front_matter", "{message}", {"message": f"expected {what}, got {_shown(value)}{then}"}
    )


def _shown(value: Any, limit: int = 80) -> str:
    """A value as the person wrote it: text quoted, the rest as one line of YAML."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            dumped = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True)
            text = dumped.removesuffix("\n...\n").strip()
        except yaml.YAMLError:
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_text(value: Any) -> bool:
    """Text or a number YAML read as one (a tag `2026`, a title `42`), never true/false."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _calendar(value: Any) -> dt.date:
    """A date, a datetime (tz dropped: the wall time as written) or ISO text. Text without a time
    is a date; with one, a datetime."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return parsed.replace(tzinfo=None) if len(value.strip()) > 10 else parsed.date()
    raise _expected("a date (YYYY-MM-DD)", value)


def _note_date(value: Any) -> dt.date:
    if isinstance(value, dict):  # the blog plugin's `date: {created: …, updated: …}`
        if "created" not in value:
            raise _expected("`created: YYYY-MM-DD` in the mapping form", value)
        value = value["created"]
    return _calendar(value)


def _day(value: Any) -> dt.date:
    day = _calendar(value)
    return day.date() if isinstance(day, dt.datetime) else day


def _one_or_list(what: str, one: Callable[[Any], bool]) -> Callable[[Any], list[Any]]:
    """A single value stands for a list of one; anything else but a list is an error."""

    def check(value: Any) -> list[Any]:
        if isinstance(value, list):
            return value
        if one(value):
            return [value]
        raise _expected(what, value)

    return check


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float))  # true/false too: then refused as a tag


def _author_id(value: Any) -> str:
    if not _is_text(value) or isinstance(value, float):
        raise _expected("an author id (text) for each entry", value)
    return str(value).strip()


def _tag(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
        raise _expected("a word or phrase (text) for each tag", value)
    return " ".join(str(value).split())


def _distinct(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in tags if t))


def _note_type(value: Any) -> str:
    kind = str(value).strip().lower() if value is not None else ""
    if kind not in NOTE_TYPES:
        raise _expected(f"one of {', '.join(NOTE_TYPES)}", value, " (read as daily)")
    return kind


def _title(value: Any) -> str:
    if not _is_text(value):
        raise _expected("text", value)
    return " ".join(str(value).split())


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _expected("true or false", value)
    return value


AuthorId = Annotated[str, PlainValidator(_author_id)]
Tag = Annotated[str, PlainValidator(_tag)]


class FrontMatterModel(BaseModel):
    """Base of the front matter models: keys it does not name are kept (`model_extra`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    # True: a key the model does not name is reported as a warning (a note's typo); False: it
    # passes silently (a card's Hugging Face metadata).
    warn_unknown: ClassVar[bool] = False


class NoteFrontMatter(FrontMatterModel):
    """What a note's front matter may say. Every key is optional; the rules that need more than
    the block (the date in the file name, the authors in .authors.yml, a default title) are the
    reader's, in `sources.notes`."""

    warn_unknown: ClassVar[bool] = True

    # a date, or a datetime (naive, as written) when a time was given
    date: Annotated[dt.date | None, PlainValidator(_note_date)] = None
    authors: Annotated[
        list[AuthorId],
        BeforeValidator(_one_or_list("an author id or a list of author ids", _is_str)),
    ] = []
    type: Annotated[str, PlainValidator(_note_type)] = "daily"
    tags: Annotated[
        list[Tag],
        BeforeValidator(_one_or_list("a word or a list of words", _is_scalar)),
        AfterValidator(_distinct),
    ] = []
    title: Annotated[str, PlainValidator(_title)] = ""
    draft: Annotated[bool, PlainValidator(_flag)] = False

    @property
    def when(self) -> tuple[dt.date | None, dt.time | None]:
        """The day, and the time of day when one was given."""
        if isinstance(self.date, dt.datetime):
            return self.date.date(), self.date.time()
        return self.date, None


class CardFrontMatter(FrontMatterModel):
    """The keys of a model card's metadata that Daybook reads; Hugging Face's own keys (license,
    tags, datasets …) pass through untouched as extras."""

    last_updated: Annotated[dt.date | None, PlainValidator(_day)] = None  # last human review


M = TypeVar("M", bound=FrontMatterModel)


def validate_front_matter(
    model: type[M], fm: FrontMatter, where: str, code: str
) -> tuple[M, list[Problem]]:
    """`fm.meta` read by `model`, and a `Problem` (`where:line: \\`key\\`: expected …`) for every
    key that breaks a rule, in line order. A wrong key (or a wrong item of a list) is left out
    and the rest is still read, so a bad `tags` never costs the `date`.

    `code` names the problems, `{key}` standing for the key (`note.{key}` gives `note.tags`);
    unknown keys of a `warn_unknown` model are warnings with `key` = "front-matter"."""
    data = dict(fm.meta)
    found: list[tuple[int, Problem]] = []  # (key order, problem) for a stable sort by line
    order = {key: i for i, key in enumerate(data)}

    def report(loc: tuple[Any, ...], message: str, level: str = "error") -> None:
        key = str(loc[0]) if loc else "front-matter"
        problem = Problem(
            where,
            fm.line(*loc),
            f"`{key}`: {message}",
            level,
            code.format(key="front-matter" if level == "warning" else key),
        )
        found.append((order.get(key, -1), problem))

    if model.warn_unknown:
        known = ", ".join(model.model_fields)
        for key in data:
            if key not in model.model_fields:
                report((key,), f"unknown key (ignored; known: {known})", "warning")

    while True:
        try:
            value = model.model_validate(data)
            break
        except ValidationError as exc:
            errors = exc.errors()
        drop: dict[str, set[int]] = {}
        for err in errors:
            loc = tuple(err["loc"])
            report(loc, err["msg"])
            if not loc or loc[0] not in data:
                continue
            items = data[loc[0]]
            if len(loc) > 1 and isinstance(loc[1], int) and isinstance(items, list):
                drop.setdefault(str(loc[0]), set()).add(loc[1])  # only that item is wrong
            else:
                drop[str(loc[0])] = set()  # the whole key is
        if not drop:  # an error no key explains: nothing of the block is used
            value = model()
            break
        for key, indexes in drop.items():
            if indexes:
                data[key] = [v for i, v in enumerate(data[key]) if i not in indexes]
            else:
                del data[key]
    found.sort(key=lambda p: (p[1].line, p[0]))
    return value, [p for _, p in found]
