"""The fast constructors of the snapshot's most numerous objects (core/snapshot.py `maker`):
what they build is the dataclass itself, equal, hashed, frozen and pickled as one built by
calling the class, on every Python Daybook supports."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle

import pytest

from daybook.core.snapshot import DatasetInput, Run, maker, new_run


def _run_fields() -> tuple[object, ...]:
    return (
        "a" * 32, "1", "lr=0.1 | <b>", "FINISHED", 1_700_000_000_000, None, "ada", "file:///x",
        {"lr": "0.1"}, {"loss": math.inf}, {"mlflow.user": "ada"},
        (DatasetInput("d", "abc", "local", "/d", "training"),), {"loss": 3}, {"loss": 5},
    )  # fmt: skip


def test_a_made_dataset_input_is_one_in_every_respect() -> None:
    new_input = maker(DatasetInput)
    made, called = (
        new_input("d", "abc", "local", "/d", ""),
        DatasetInput("d", "abc", "local", "/d", ""),
    )
    assert type(made) is DatasetInput
    assert made == called and hash(made) == hash(called) and repr(made) == repr(called)
    assert pickle.loads(pickle.dumps(made)) == called
    assert copy.deepcopy(made) == called
    assert dataclasses.astuple(made) == ("d", "abc", "local", "/d", "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "e"  # type: ignore[misc]


def test_a_run_made_by_its_class_has_a_step_and_a_time_for_every_metric_and_no_other() -> None:
    fields = list(_run_fields())
    fields[9] = {"loss": 0.5, "acc": 0.9}
    fields[12:] = [{"loss": 3, "gone": 1}, {}]
    run = Run(*fields)
    assert run.metric_steps == {"loss": 3, "acc": 0} and run.metric_times == {"loss": 0, "acc": 0}
    assert run == Run(*fields[:12], {"acc": 0, "loss": 3}, {"acc": 0, "loss": 0})


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
