"""The fast constructors of the snapshot's most numerous objects (core/snapshot.py `maker`):
what they build is the dataclass itself, equal, hashed, frozen and pickled as one built by
calling the class, on every Python Daybook supports."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle

import pytest

from daybook.core.snapshot import DatasetInput, Metric, Run, maker, new_metric, new_run


def _run_fields() -> tuple[object, ...]:
    return (
        "a" * 32, "1", "lr=0.1 | <b>", "FINISHED", 1_700_000_000_000, None, "ada", "file:///x",
        {"lr": "0.1"}, {"loss": Metric("loss", math.inf, 3, 5)}, {"mlflow.user": "ada"},
        (DatasetInput("d", "abc", "local", "/d", "training"),),
    )  # fmt: skip


def test_a_made_metric_is_a_metric_in_every_respect() -> None:
    made, called = new_metric("loss", 0.25, 3, 17), Metric("loss", 0.25, 3, 17)
    assert type(made) is Metric
    assert made == called and hash(made) == hash(called) and repr(made) == repr(called)
    assert pickle.loads(pickle.dumps(made)) == called
    assert copy.deepcopy(made) == called
    assert dataclasses.astuple(made) == ("loss", 0.25, 3, 17)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = 1.0  # type: ignore[misc]


def test_a_made_run_is_a_run_in_every_respect() -> None:
    made, called = new_run(*_run_fields()), Run(*_run_fields())
    assert type(made) is Run
    assert made == called and repr(made) == repr(called)
    assert pickle.loads(pickle.dumps(made)) == called
    assert dataclasses.replace(made, name="other") == dataclasses.replace(called, name="other")
    assert made.duration_ms is None and made.metric("loss") == math.inf
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = "FAILED"  # type: ignore[misc]


def test_a_maker_needs_every_field_and_a_slotted_dataclass() -> None:
    with pytest.raises(TypeError):
        new_run("a" * 32, "1")  # the defaults are the class's business, not the maker's

    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    with pytest.raises(TypeError, match="not a slotted dataclass"):
        maker(Plain)
