"""The page memo (issue #14): the digest tells apart any two inputs that differ, whatever the
process, and the kept pages read back byte for byte; a damaged or foreign file is only a miss."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from markupsafe import Markup

import daybook.core.snapshot as model
from daybook.core.site import Generated
from daybook.core.snapshot import MetricHistory, Problem, Snapshot
from daybook.store.page_memo import MEMO_FILE, PageMemo, digest

VALUE = "({'b': frozenset({'x', 'y', 'z'}), 'a': {3, 1, 2}}, [1.5, None, 'é'])"


def _digest_in_fresh_process(seed: str) -> str:
    code = f"from daybook.store.page_memo import digest; print(digest({VALUE}))"
    env = {"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_equal_data_gives_the_same_digest_in_any_process() -> None:
    # Sets iterate in another order under another hash seed: the digest must not follow it.
    seeds = {_digest_in_fresh_process(seed) for seed in ("1", "2", "3")}
    assert seeds == {digest(eval(VALUE))}  # our own literal, as the other processes read it


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (math.nan, math.inf),
        (math.inf, -math.inf),
        (0.0, -0.0),
        (None, 0),
        (1, "1"),
        (True, 1),
        ("x", Markup("x")),  # Markup renders unescaped: not the same input as the text
        (("a", "b"), ("ab",)),
        ([1], (1,)),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # pages follow a dict's order
        (b"x", "x"),
        (Path("a/b"), "a/b"),
        (Problem("p", 1, "m"), Problem("p", 1, "m", level="warning")),
    ],
)
def test_different_inputs_give_different_digests(a: object, b: object) -> None:
    assert digest(a) != digest(b)


def test_a_type_the_digest_does_not_know_is_refused_not_guessed() -> None:
    with pytest.raises(TypeError, match="cannot digest"):
        digest({"x": object()})


def test_the_snapshot_digest_sees_every_run_field_and_every_float(snapshot: Snapshot) -> None:
    run = next(r for r in snapshot.runs if r.metrics)
    key = next(iter(run.metrics))

    def with_run(**changes: object) -> Snapshot:
        runs = tuple(dataclasses.replace(r, **changes) if r is run else r for r in snapshot.runs)
        return dataclasses.replace(snapshot, runs=runs)

    def with_value(value: float) -> Snapshot:
        return with_run(metrics={**run.metrics, key: value})

    base = digest(snapshot)
    assert digest(dataclasses.replace(snapshot)) == base  # an equal copy: the same key
    changed = {
        digest(with_run(params={**run.params, "lr": "0.5|<b>"})),
        digest(with_run(tags={**run.tags, "note": "x"})),
        digest(with_run(status="KILLED")),
        digest(with_run(metric_steps={**run.metric_steps, key: 10**6})),
        digest(with_value(math.nan)),
        digest(with_value(math.inf)),  # orjson writes both as null: the raw floats tell them apart
        digest(dataclasses.replace(snapshot, data_as_of=1)),
        digest(dataclasses.replace(snapshot, warnings=("a new warning",))),
    }
    assert base not in changed and len(changed) == 8

    rid, histories = next(iter(snapshot.histories.items()))
    h = histories[0]
    nan_history = MetricHistory(h.key, h.steps, (math.nan, *h.values[1:]), h.timestamps)
    inf_history = MetricHistory(h.key, h.steps, (math.inf, *h.values[1:]), h.timestamps)
    digests = {
        digest(dataclasses.replace(snapshot, histories={**snapshot.histories, rid: (hist,)}))
        for hist in (nan_history, inf_history)
    }
    assert len(digests) == 2 and base not in digests


def test_orjson_sees_every_field_of_a_run_and_the_floats_are_metric_values() -> None:
    # The snapshot digest writes runs and histories with orjson (see Digest._snapshot), which
    # skips fields named `_x` and writes NaN and infinity as null; it adds the raw bytes of the
    # metric values for that. A private field, or another float, would reach the key wrongly.
    floats = set()
    for cls in (model.Run, MetricHistory, model.DatasetInput):
        assert not [f.name for f in dataclasses.fields(cls) if f.name.startswith("_")]
        for name, hint in typing.get_type_hints(cls, vars(model)).items():
            if "float" in str(hint):
                floats.add(f"{cls.__name__}.{name}")
    assert floats == {"Run.metrics", "MetricHistory.values"}


def _generated() -> Generated:
    return Generated(
        pages={"index.md": "# Home — ünïcode ✓\n", "runs/a.md": "| a \\| b |\n", "e.json": ""},
        problems=[Problem("docs/notes/x.md", 3, "bad <b>", "warning", "note.x")],
        replaced=["docs/models/m.md"],
        files={"runs/a/plot.png": bytes(range(256))},
    )


def test_kept_pages_read_back_byte_for_byte_under_their_key_only(tmp_path: Path) -> None:
    memo = PageMemo(tmp_path / "cache")
    assert memo.get("k1") is None
    memo.put("k1", _generated())
    got = memo.get("k1")
    assert got == _generated()
    assert memo.get("k2") is None
    memo.put("k2", Generated({"other.md": "x\n"}))
    assert memo.get("k1") is None  # one file: the last render's pages only
    assert memo.get("k2") == Generated({"other.md": "x\n"})
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [MEMO_FILE]


def test_a_damaged_memo_is_a_miss_and_an_unwritable_one_only_slower(tmp_path: Path) -> None:
    memo = PageMemo(tmp_path / "cache")
    memo.put("k", _generated())
    path = tmp_path / "cache" / MEMO_FILE
    data = path.read_bytes()
    for broken in (data[:-3], data[:40], data.replace(b"index.md", b"index.mX", 1) + b"!"):
        path.write_bytes(broken)
        assert memo.get("k") is None
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    PageMemo(blocker).put("k", _generated())  # no error
    assert PageMemo(blocker).get("k") is None
