"""The snapshot file (.daybook/snapshot.json.gz): round trips, determinism, strict JSON, and clear
refusals of files it cannot use."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import gzip
import itertools
import json
import math
import random
import types
import typing
import zlib
from pathlib import Path
from typing import Any

import pytest

from daybook import __version__
from daybook.core.config import DaybookConfig, ExperimentFilter, RunPages
from daybook.core.snapshot import Experiment, MetricHistory, Run, Snapshot
from daybook.store import snapshot_file
from daybook.store.pull import pull
from daybook.store.snapshot_file import (
    FORMAT,
    RUN_HALVES,
    VERSION,
    IncompatibleSnapshot,
    LazyRuns,
    SnapshotError,
    StoredSnapshot,
    config_fingerprint,
    digest,
    dumps,
    joined_shares,
    load,
    loads,
    own_parts,
    paused_gc,
    runs_from_parts,
    save,
    share_parts,
    snapshot_path,
    with_parts,
)
from helpers import error_lines, gzip_members, run_cli, same_file, snapshot_data
from store_builder import StoreInfo

EVERY_RUN = DaybookConfig(run_pages=RunPages(all=True))


def stored(snapshot: Snapshot, pulled_at: int = 1_764_000_000_000) -> StoredSnapshot:
    return StoredSnapshot(snapshot, pulled_at, "sha256:x", frozenset(snapshot.histories))


def document(data: bytes) -> dict[str, Any]:
    """The file as strict JSON Lines (NaN or Infinity tokens would fail here): its head, with
    the runs and histories of the parts after it put back into `snapshot`."""

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    head, *parts = (json.loads(line, parse_constant=refuse) for line in lines(data))
    runs: list[Any] = []
    histories: dict[str, Any] = {}
    for (kind, count, _, _), part in zip(head["parts"], parts, strict=True):
        assert len(part) == count
        if kind == "runs":
            runs.extend(part)
        else:
            histories.update(part)
    head["snapshot"].update(runs=runs, histories=histories)
    return head


def lines(data: bytes) -> list[bytes]:
    """The JSON lines of a file (gzip reads its members as one stream)."""
    return gzip.decompress(data).splitlines()


# --- round trips ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_snapshot(store: StoreInfo) -> Snapshot:
    """The fixture store with every run's details: hostile text, NaN and infinite metrics,
    datasets, artifacts, aliases, model files."""
    return pull(EVERY_RUN, store.uri)


def test_a_pulled_snapshot_survives_the_round_trip(full_snapshot: Snapshot) -> None:
    back = loads(dumps(stored(full_snapshot)))
    assert snapshot_data(back.snapshot) == snapshot_data(full_snapshot)
    assert back.pulled_at == 1_764_000_000_000
    assert back.detail_runs == frozenset(full_snapshot.histories)
    assert back.daybook == __version__
    nan_run = next(r for r in back.snapshot.runs if r.name == "nan-metrics")
    assert math.isnan(nan_run.metric("val_accuracy"))


_serial = itertools.count()


def _example(hint: Any, name: str, depth: int = 0) -> Any:
    """A value of type `hint` unlike any default, so a field the file forgets shows up."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        return _example(arms[0], name, depth)
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: _example(hints[f.name], f.name, depth + 1) for f in
                       dataclasses.fields(hint)})  # fmt: skip
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return (_example(args[0], name, depth), _example(args[0], name + "2", depth))
        return tuple(_example(a, name, depth) for a in args)
    if origin is dict:
        _, vt = typing.get_args(hint)
        value = _example(vt, name, depth)
        # a run's metrics, their steps and their times share their keys (`Run.__post_init__`)
        return {"metric-key" if name.startswith("metric") else f"{name}-key": value}
    if origin is list:
        return [_example(typing.get_args(hint)[0], name, depth)]
    if hint is str:
        return f"{name}-{next(_serial)} «ü» | \n <b>"  # unique: two histories, two keys
    if hint is bool:
        return True
    if hint is int:
        return 1_764_000_000_123 + depth
    if hint is float:
        return -math.inf
    if hint is dt.date:
        return dt.date(2026, 11, 26)
    if hint is dt.time:
        return dt.time(9, 30)
    # free-form values (a card's YAML front matter): every JSON type, nested, and a date
    return {"n": 1, "x": 1.5, "s": "t", "b": False, "none": None, "list": [dt.date(2026, 1, 2)]}


def test_every_field_of_every_snapshot_class_survives_the_round_trip() -> None:
    """Built from the dataclasses' own type hints: a field added later without a place in the
    file fails here, not silently in someone's incremental pull."""
    example = _example(Snapshot, "snap")
    example = dataclasses.replace(example, data_as_of=None)  # render-time only, never saved
    back = loads(dumps(stored(example))).snapshot
    assert snapshot_data(back) == snapshot_data(example)
    assert back.runs[0].metrics == example.runs[0].metrics  # -inf compares equal to itself


def test_data_as_of_is_not_saved(full_snapshot: Snapshot) -> None:
    marked = dataclasses.replace(full_snapshot, data_as_of=123)
    assert loads(dumps(stored(marked))).snapshot.data_as_of is None


# --- the bytes ------------------------------------------------------------------------------------


def test_equal_data_gives_equal_bytes(full_snapshot: Snapshot, store: StoreInfo) -> None:
    again = pull(EVERY_RUN, store.uri)
    assert same_file(dumps(stored(full_snapshot)), dumps(stored(again)))
    header = dumps(stored(full_snapshot))[:10]
    assert header[4:8] == b"\0\0\0\0"  # gzip mtime 0: no build time in the file


def test_the_file_is_strict_json_with_a_documented_envelope(full_snapshot: Snapshot) -> None:
    data = dumps(stored(full_snapshot))
    doc = document(data)
    assert doc["format"] == FORMAT == "daybook-snapshot"
    assert doc["version"] == VERSION == 4
    assert doc["daybook"] == __version__
    assert doc["tracking_uri"] == full_snapshot.tracking_uri
    assert doc["pulled_at"] == 1_764_000_000_000
    assert doc["detail_runs"] == sorted(full_snapshot.histories)
    assert doc["run_order"] is None  # by run id, as pulls order them
    # the index: every run, in the file's order (by range of ids, then start time), and what a
    # pull compares
    index = doc["index"]
    in_time = sorted(
        full_snapshot.runs, key=lambda r: (r.run_id >= RUN_HALVES, r.start_time or 0, r.run_id)
    )
    assert index["ids"] == [r.run_id for r in in_time] == [r[0] for r in doc["snapshot"]["runs"]]
    assert index["statuses"] == [r.status for r in in_time]
    assert index["ends"] == [r.end_time for r in in_time]
    assert index["parents"] == {r.run_id: r.parent_id for r in in_time if r.parent_id}
    assert set(index["digests"]) == {r.run_id for r in in_time if r.status == "RUNNING"} != set()
    assert set(doc["snapshot"]) >= {"experiments", "runs", "models", "histories", "artifacts"}
    # one gzip member per line: the head, then the parts its table lists, with their sizes
    assert len(gzip_members(data)) == len(lines(data)) == 1 + len(doc["parts"])
    assert [size for _, _, size, _ in doc["parts"]] == [len(m) for m in gzip_members(data)[1:]]
    assert [crc for _, _, _, crc in doc["parts"]] == [zlib.crc32(m) for m in gzip_members(data)[1:]]
    nan_run = next(r for r in doc["snapshot"]["runs"] if r[2] == "nan-metrics")
    values, step, _ = nan_run[9]  # logged together: [{key: value}, step, timestamp]
    assert values["val_accuracy"] == "NaN" and type(step) is int
    infinite = dataclasses.replace(full_snapshot, warnings=())
    run = dataclasses.replace(full_snapshot.runs[0], metrics={})
    doc = document(dumps(stored(dataclasses.replace(infinite, runs=(run,)))))
    assert doc["snapshot"]["runs"][0][9] == {}


def test_secrets_are_masked_in_the_file(full_snapshot: Snapshot) -> None:
    text = gzip.decompress(dumps(stored(full_snapshot))).decode()
    assert "sk-live-THIS-MUST-NOT-APPEAR" not in text


# --- parts ----------------------------------------------------------------------------------------


def many_runs(count: int, seed: int = 14) -> Snapshot:
    """A store's worth of runs in one experiment (random ids, as MLflow's), the first 300 with
    metric histories: enough for several parts of each kind."""
    rng = random.Random(seed)
    runs = []
    for i in range(count):
        start = 1_764_000_000_000 + i * 60_000
        metrics = {"loss": rng.random(), "nan": math.nan}  # a NaN: logged at step 0, time 0
        runs.append(Run(f"{rng.getrandbits(128):032x}", "1", f"run-{i}", "FINISHED", start,
                        start + 50, "ada", "", {"lr": f"{rng.random():.4f}"}, metrics, {}, (),
                        {"loss": 49, "nan": 0}, {"loss": start + 50, "nan": 0}))  # fmt: skip
    runs.sort(key=lambda r: r.run_id)
    points = MetricHistory("loss", (0, 1), (0.5, math.inf), (1, 2))
    return Snapshot(
        "sqlite:///store.db",
        (Experiment("1", "churn", "", None, None),),
        tuple(runs),
        (),
        histories={r.run_id: (points,) for r in runs[:300]},
    )


def with_runs(snapshot: Snapshot, *runs: Run) -> Snapshot:
    """`snapshot` with `runs` added or, by id, replacing its own."""
    by_id = {r.run_id: r for r in snapshot.runs}
    by_id.update((r.run_id, r) for r in runs)
    return dataclasses.replace(snapshot, runs=tuple(sorted(by_id.values(), key=lambda r: r.run_id)))


def test_runs_are_cut_into_parts_by_start_time_so_new_runs_change_only_the_newest() -> None:
    data = dumps(stored(many_runs(3000)))
    loaded = loads(data)
    snap = loaded.snapshot
    newest = max(snap.runs, key=lambda r: r.start_time or 0)
    new = dataclasses.replace(newest, run_id="f" * 32, name="new", start_time=newest.start_time + 1)
    finished = dataclasses.replace(snap.runs[10], status="FAILED")  # an old run changed
    changed = dataclasses.replace(loaded, held=with_runs(snap, new, finished), runs=None)
    again = dumps(changed)
    # Saved from the loaded objects or from fresh ones, the same data gives the same bytes.
    fresh = loads(dumps(changed)).snapshot  # new objects, nothing loaded to keep
    assert same_file(again, dumps(stored(fresh)))
    before, after = gzip_members(data), gzip_members(again)
    assert len(document(data)["parts"]) > 8
    # Only the head, the newest part (the new run) and the changed run's part differ.
    assert len(set(after) - set(before)) == 3
    assert snapshot_data(loads(again).snapshot) == snapshot_data(changed.snapshot)


def test_a_save_encodes_again_only_parts_whose_runs_are_not_the_objects_loaded() -> None:
    """The bytes of a part are kept when its runs are the very objects loaded from it: an
    incremental pull keeps unchanged runs as loaded (a run read again and found equal too)."""
    loaded = loads(dumps(stored(many_runs(3000))))
    assert loaded.snapshot.runs  # decoded: the parts' bytes are known for the runs made from them
    marker = b"kept, not encoded again"
    key, part = next((k, p) for k, p in loaded.encoded.items() if k[0] == "runs")
    marked = dataclasses.replace(part, data=marker)
    kept = dataclasses.replace(
        loaded, held=loaded.snapshot, runs=None, encoded={**loaded.encoded, key: marked}
    )
    assert marker in dumps(kept)
    copies = tuple(dataclasses.replace(r) for r in loaded.snapshot.runs)  # equal, not the same
    fresh = dataclasses.replace(
        kept, held=dataclasses.replace(loaded.snapshot, runs=copies), runs=None
    )
    assert marker not in dumps(fresh)


def test_each_range_of_run_ids_has_parts_of_its_own() -> None:
    """The runs below RUN_HALVES and the others are never in one part: the two processes of a
    big store's full pull each read one range, and each encodes its own range's parts."""
    saved = loads(dumps(stored(many_runs(3000)))).runs.saved  # type: ignore[union-attr]
    sides = [{rid >= RUN_HALVES for rid in saved.part_ids(k)} for k in range(len(saved.parts))]
    assert all(len(side) == 1 for side in sides)
    upper = [side == {True} for side in sides]
    assert upper == sorted(upper) and True in upper and False in upper  # the lower range first


def test_parts_a_second_process_encoded_are_saved_as_it_encoded_them() -> None:
    """What a full pull in two processes does: the second sends its range's parts and their
    index (`share_parts`), the first decodes them when it must (`runs_from_parts`); the save
    writes their members as they came, and the file is the one a save of the same runs
    encoding everything writes. The index is the file's own of that range."""
    snap = many_runs(3000)
    upper = [r for r in snap.runs if r.run_id >= RUN_HALVES]
    counted, index = share_parts(reversed(upper))  # in any order: cut in the file's order
    parts = [member for _, member in counted]
    saved = loads(dumps(stored(snap))).runs.saved  # type: ignore[union-attr]
    at = len(saved.ids) - len(upper)  # the upper range comes last in the file
    assert index["ids"] == saved.ids[at:] and index["starts"] == saved.starts[at:]
    assert [n for n, _ in counted] == [n for n, _ in saved.parts[-len(counted) :]]
    back, encoded = runs_from_parts(parts)
    assert [r.run_id for r in back] != [r.run_id for r in upper]  # the file's order: by time
    # The same runs (their data is checked as bytes below: NaN is not == NaN on Python 3.13).
    assert sorted(r.run_id for r in back) == [r.run_id for r in upper]
    runs = sorted([*(r for r in snap.runs if r.run_id < RUN_HALVES), *back], key=lambda r: r.run_id)
    held = dataclasses.replace(snap, runs=tuple(runs))
    kept = dataclasses.replace(stored(held), encoded=encoded)
    assert same_file(dumps(kept), dumps(stored(snap)))
    marker = b"the member as the second process made it"
    key = next(iter(encoded))
    marked = {**encoded, key: dataclasses.replace(encoded[key], data=marker)}
    assert marker in dumps(dataclasses.replace(kept, encoded=marked))
    # Runs equal to the decoded ones, but not those objects: encoded again.
    copies = dataclasses.replace(held, runs=tuple(dataclasses.replace(r) for r in runs))
    assert marker not in dumps(dataclasses.replace(kept, held=copies, encoded=marked))


def test_parts_the_first_process_encoded_of_its_own_range_are_saved_as_they_are() -> None:
    """The first process of a full pull encodes its own range while the second reads the other
    (`own_parts`): the save writes those members, and the file is the one a save encoding
    everything writes."""
    snap = many_runs(3000)
    lower = [r for r in snap.runs if r.run_id < RUN_HALVES]
    encoded, index = own_parts(reversed(lower))
    assert {key[1] for key in encoded} <= {r.run_id for r in lower}
    assert sum(len(part.items) for part in encoded.values()) == len(lower)
    # ...and its index is the file's of that range (the lower range comes first).
    whole = loads(dumps(stored(snap))).runs.saved.index()  # type: ignore[union-attr]
    columns = ("ids", "experiments", "statuses", "starts", "ends")
    assert all(index[c] == whole[c][: len(lower)] for c in columns)
    assert index["parents"].items() <= whole["parents"].items()
    assert index["digests"].items() <= whole["digests"].items()
    kept = dataclasses.replace(stored(snap), encoded=encoded)
    assert same_file(dumps(kept), dumps(stored(snap)))
    marker = b"the member as the first process made it"
    key = next(iter(encoded))
    assert marker in dumps(
        dataclasses.replace(
            kept, encoded={**encoded, key: dataclasses.replace(encoded[key], data=marker)}
        )
    )


def test_both_shares_joined_save_as_the_file_of_every_run_without_decoding_the_second() -> None:
    """A split full pull's runs (`joined_shares`: the first process's parts and index, the
    second's members and index) save as the file a save of every run writes, the second's
    members as they came and never decoded."""
    snap = many_runs(3000)
    lower = [r for r in snap.runs if r.run_id < RUN_HALVES]
    upper = [r for r in snap.runs if r.run_id >= RUN_HALVES]
    own, own_index = own_parts(lower)
    counted, index = share_parts(upper)
    saved = joined_shares(own, own_index, counted, index)
    assert saved.decoded_parts == len(own)  # the first's Runs, as they were encoded
    assert saved.get(r.run_id for r in lower[:5]) == {r.run_id: r for r in lower[:5]}
    assert saved.decoded_parts == len(own)
    joined = dataclasses.replace(
        stored(dataclasses.replace(snap, runs=())), held=dataclasses.replace(snap, runs=()),
        runs=LazyRuns(saved), detail_runs=frozenset(snap.histories),
    )  # fmt: skip
    assert same_file(dumps(joined), dumps(stored(snap)))
    assert saved.decoded_parts == len(own)  # the save decoded none of the second's
    marker = b"the member as the second process made it"
    marked = joined_shares(own, own_index, [(counted[0][0], marker), *counted[1:]], index)
    assert marker in dumps(dataclasses.replace(joined, runs=LazyRuns(marked)))
    assert sorted(r.run_id for r in LazyRuns(saved).materialize({})) == [
        r.run_id for r in snap.runs
    ]


@pytest.mark.parametrize("empty", ["lower", "upper"])
def test_shares_joined_when_one_holds_no_run_save_as_the_file_of_every_run(empty: str) -> None:
    """MLflow's ids are random: a small store's runs may all sort on one side of the cut."""
    snap = many_runs(40)
    runs = [r for r in snap.runs if (r.run_id < RUN_HALVES) is (empty == "upper")]
    held = dataclasses.replace(snap, runs=tuple(runs), histories={})
    own, own_index = own_parts(runs if empty == "upper" else [])
    counted, index = share_parts(runs if empty == "lower" else [])
    saved = joined_shares(own, own_index, counted, index)
    joined = dataclasses.replace(
        stored(dataclasses.replace(held, runs=())), runs=LazyRuns(saved), detail_runs=frozenset()
    )
    assert same_file(
        dumps(joined), dumps(dataclasses.replace(stored(held), detail_runs=frozenset()))
    )


def test_a_file_with_its_ranges_cut_at_another_id_loads_and_saves_as_one_cut_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file written when the ranges met at another id (`"9"`, before the cut moved to halve
    the work) reads as it is; its next save, runs still undecoded, cuts them anew."""
    snap = many_runs(3000)
    monkeypatch.setattr(snapshot_file, "RUN_HALVES", "9")
    old = dumps(stored(snap))
    monkeypatch.undo()
    loaded = loads(old)
    assert dumps(loaded) != old
    assert same_file(dumps(loaded), dumps(stored(snap)))
    assert snapshot_data(loads(old).snapshot) == snapshot_data(snap)


def _run_with(run_id: str, *metrics: tuple[str, float, int, int]) -> Run:
    """A run with these (key, value, step, time) latest metrics."""
    values = {k: v for k, v, _, _ in metrics}
    steps, times = {k: s for k, _, s, _ in metrics}, {k: t for k, _, _, t in metrics}
    return Run(run_id, "1", "r", "FINISHED", 1, 2, "ada", "", {}, values, {}, (), steps, times)


def test_metrics_logged_together_keep_their_step_and_time_once_per_run() -> None:
    """Most runs log their metrics in one call: one step and time for all, written once. A run
    whose metrics differ in either keeps them per metric; both read back as they were."""
    together = _run_with("a" * 32, ("auc", 0.9, 49, 1_000), ("loss", math.nan, 49, 1_000))
    apart = _run_with("b" * 32, ("auc", 0.9, 49, 1_000), ("loss", 0.1, 48, 1_000))
    alone = _run_with("c" * 32)
    snap = Snapshot("sqlite:///store.db", (), (together, apart, alone), ())
    rows = {row[0]: row[9] for row in document(dumps(stored(snap)))["snapshot"]["runs"]}
    assert rows == {
        "a" * 32: [{"auc": 0.9, "loss": "NaN"}, 49, 1_000],
        "b" * 32: {"auc": [0.9, 49, 1_000], "loss": [0.1, 48, 1_000]},
        "c" * 32: {},
    }
    assert snapshot_data(loads(dumps(stored(snap))).snapshot) == snapshot_data(snap)


def _metrics_as_version_3(r: Run) -> dict[str, list[Any]]:
    return {k: [v if math.isfinite(v) else snapshot_file._f(v), r.metric_steps[k],
                r.metric_times[k]] for k, v in r.metrics.items()}  # fmt: skip


def test_a_version_3_file_loads_and_its_next_save_writes_every_part_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Version 3 wrote each metric with its own step and time: this version reads it as it
    is, and a save writes every part as this version does (never a version-3 part kept in a
    version-4 file), runs decoded or not."""
    together = [
        dataclasses.replace(
            r,
            metric_steps=dict.fromkeys(r.metrics, 49),
            metric_times=dict.fromkeys(r.metrics, 7),
        )
        for r in many_runs(3000).runs
    ]
    snap = dataclasses.replace(many_runs(3000), runs=tuple(together))
    monkeypatch.setattr(snapshot_file, "VERSION", 3)
    monkeypatch.setattr(snapshot_file, "_metrics_to_json", _metrics_as_version_3)
    # ...gzipped by zlib, as version 3 was: not a byte of it is in the new file, histories too
    monkeypatch.setattr(snapshot_file, "_gzip", lambda data: gzip.compress(data, 1, mtime=0))
    old = dumps(stored(snap))
    monkeypatch.undo()
    assert document(old)["version"] == 3
    assert isinstance(document(old)["snapshot"]["runs"][0][9], dict)
    now = dumps(stored(snap))
    assert same_file(dumps(loads(old)), now)  # runs undecoded
    decoded = loads(old)
    assert snapshot_data(decoded.snapshot) == snapshot_data(snap)
    assert same_file(dumps(decoded), now)  # runs decoded
    assert not set(gzip_members(now)) & set(gzip_members(old))


def test_of_two_parts_that_begin_with_one_run_the_one_holding_the_runs_kept_is_kept() -> None:
    """A full pull over a saved snapshot (settings or Daybook changed) keeps each run it found
    unchanged as the object loaded: the loaded file's part then holds the runs, not the part
    the second process encoded of the same runs."""
    loaded = loads(dumps(stored(many_runs(3000))))
    kept = {r.run_id: r for r in loaded.snapshot.runs}
    upper = [dataclasses.replace(r) for r in kept.values() if r.run_id >= RUN_HALVES]
    fresh, encoded = runs_from_parts([member for _, member in share_parts(upper)[0]])
    both = [key for key in encoded if key in loaded.encoded]
    assert both and len(both) == len(encoded)  # the same cuts: every part begins alike
    merged = with_parts(loaded.encoded, encoded, kept)
    assert all(merged[key] is loaded.encoded[key] for key in both)
    merged = with_parts(loaded.encoded, encoded, {**kept, **{r.run_id: r for r in fresh}})
    assert all(merged[key] is encoded[key] for key in both)
    assert merged.keys() == loaded.encoded.keys()  # the histories' parts stay


def test_a_loaded_snapshot_saves_the_same_bytes_without_decoding_a_run() -> None:
    """What a pull with nothing new does: load, save. The runs stay the file's bytes."""
    data = dumps(stored(many_runs(3000)))
    loaded = loads(data)
    assert same_file(dumps(loaded), data)
    assert loaded.runs is not None and loaded.runs.saved.decoded_parts == 0
    assert loaded.run_count == 3000 and "snapshot" not in vars(loaded)  # still not decoded


def test_runs_changed_without_decoding_the_rest_save_as_every_run_decoded_would() -> None:
    """An incremental pull hands the save the runs that changed and the saved ones gone: the
    save decodes only the parts they touch, and writes the bytes a save of every run writes."""
    loaded = loads(dumps(stored(many_runs(3000))))
    saved = loaded.runs.saved  # type: ignore[union-attr]
    first, middle, last = saved.get([saved.ids[0], saved.ids[1500], saved.ids[-1]]).values()
    newest = dataclasses.replace(last, run_id="f" * 32, name="new", start_time=last.start_time + 1)
    late = dataclasses.replace(middle, run_id="0" * 32, name="logged late")  # an old start time
    failed = dataclasses.replace(middle, status="FAILED")  # a saved run changed
    changed = {r.run_id: r for r in (newest, late, failed)}
    lazy = LazyRuns(saved, changed, frozenset({first.run_id}))
    data = dumps(dataclasses.replace(loaded, runs=lazy))
    assert 0 < saved.decoded_parts <= 4 < len(saved.parts)
    runs = {r.run_id: r for r in loaded.snapshot.runs if r.run_id != first.run_id}
    runs.update(changed)
    whole = dataclasses.replace(loaded.held, runs=tuple(runs[rid] for rid in sorted(runs)))
    assert same_file(data, dumps(dataclasses.replace(loaded, held=whole, runs=None)))
    assert dataclasses.replace(loaded, runs=lazy).snapshot == whole


def test_a_few_saved_runs_are_decoded_alone_without_keeping_their_parts() -> None:
    """`SavedRuns.some`: the runs `get` gives, from their own rows only; a part decoded before
    is used as it is, and no part is kept decoded for the few runs asked."""
    loaded = loads(dumps(stored(many_runs(3000))))
    saved = loaded.runs.saved  # type: ignore[union-attr]
    wanted = [saved.ids[5], saved.ids[1500], saved.ids[-1], "not-a-run", saved.ids[5]]  # twice
    got = saved.some(wanted)
    assert saved.decoded_parts == 0
    assert got.keys() == set(wanted[:3])
    whole = saved.get(wanted)  # decoded whole this time
    # The same runs, compared as saved data (NaN is not == NaN on Python 3.13).
    assert {k: digest(r) for k, r in got.items()} == {k: digest(r) for k, r in whole.items()}
    assert saved.decoded_parts > 0
    again = saved.some(wanted)
    assert all(again[rid] is saved.get([rid])[rid] for rid in wanted[:3])  # the kept ones


def test_runs_in_another_order_than_by_id_come_back_in_that_order() -> None:
    snap = many_runs(50)
    shuffled = list(snap.runs)
    random.Random(1).shuffle(shuffled)
    back = loads(dumps(stored(dataclasses.replace(snap, runs=tuple(shuffled))))).snapshot
    assert [r.run_id for r in back.runs] == [r.run_id for r in shuffled]


def test_a_snapshot_without_runs_or_histories_has_a_head_only() -> None:
    empty = Snapshot("sqlite:///store.db", (), (), ())
    data = dumps(stored(empty))
    assert len(gzip_members(data)) == 1 and document(data)["parts"] == []
    assert loads(data).snapshot == empty


# --- saving ---------------------------------------------------------------------------------------


def test_save_replaces_the_file_whole_and_leaves_no_temporary(
    tmp_path: Path, full_snapshot: Snapshot
) -> None:
    path = snapshot_path(tmp_path)
    assert path == tmp_path / ".daybook" / "snapshot.json.gz"
    save(path, stored(full_snapshot, 1))
    save(path, stored(full_snapshot, 2))
    assert load(path).pulled_at == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["snapshot.json.gz"]


def test_a_snapshot_that_cannot_be_encoded_leaves_the_old_file_intact(
    tmp_path: Path, full_snapshot: Snapshot
) -> None:
    path = snapshot_path(tmp_path)
    save(path, stored(full_snapshot))
    before = path.read_bytes()
    broken = dataclasses.replace(full_snapshot, warnings=(object(),))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        save(path, stored(broken))
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["snapshot.json.gz"]


def test_a_folder_that_cannot_be_written_is_one_line(
    tmp_path: Path, full_snapshot: Snapshot
) -> None:
    (tmp_path / ".daybook").write_text("a file where the folder should be")
    with pytest.raises(SnapshotError, match="cannot write the snapshot") as info:
        save(snapshot_path(tmp_path), stored(full_snapshot))
    assert str(info.value).startswith(f"{snapshot_path(tmp_path)}: ")
    assert "\n" not in str(info.value)


# --- refusals -------------------------------------------------------------------------------------


def _rewrite(path: Path, **changes: Any) -> None:
    """Change fields of the file's head; the parts after it stay as they were."""
    head, *parts = gzip_members(path.read_bytes())
    doc = json.loads(gzip.decompress(head))
    doc.update(changes)
    path.write_bytes(gzip.compress(json.dumps(doc).encode() + b"\n") + b"".join(parts))


def test_a_snapshot_of_another_format_version_is_refused_with_the_fix(
    tmp_path: Path, full_snapshot: Snapshot
) -> None:
    path = snapshot_path(tmp_path)
    save(path, stored(full_snapshot))
    _rewrite(path, version=0, daybook="0.0.1")
    with pytest.raises(IncompatibleSnapshot) as info:
        load(path)
    assert str(info.value) == (
        f"{path}: written by Daybook 0.0.1 in snapshot format v0; this Daybook ({__version__}) "
        f"reads v{VERSION}. Run `daybook pull --full` to replace it"
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"not gzip at all", gzip.compress(b"{not json"), gzip.compress(b'{"format": "other"}')],
    ids=["empty", "not-gzip", "not-json", "other-format"],
)
def test_a_file_that_is_not_a_snapshot_is_refused(tmp_path: Path, content: bytes) -> None:
    path = snapshot_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(SnapshotError, match="not a Daybook snapshot") as info:
        load(path)
    assert "\n" not in str(info.value) and "daybook pull --full" in str(info.value)


def test_a_damaged_snapshot_is_refused(tmp_path: Path, full_snapshot: Snapshot) -> None:
    path = snapshot_path(tmp_path)
    save(path, stored(full_snapshot))
    _rewrite(path, snapshot={"runs": []})
    with pytest.raises(SnapshotError, match=r"damaged snapshot .*daybook pull --full"):
        load(path)


def _damage_table(data: bytes) -> bytes:
    head, *parts = gzip_members(data)
    doc = json.loads(gzip.decompress(head))
    doc["parts"][0][2] += 1
    return gzip.compress(json.dumps(doc).encode()) + b"".join(parts)


def _damage_count(data: bytes) -> bytes:
    head, *parts = gzip_members(data)
    doc = json.loads(gzip.decompress(head))
    doc["parts"][-1][1] += 1
    return gzip.compress(json.dumps(doc).encode()) + b"".join(parts)


def _flip_a_byte(data: bytes) -> bytes:
    middle = len(data) - len(gzip_members(data)[-1]) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def _flip_a_byte_in_runs(data: bytes) -> bytes:
    """A byte of the first part of runs: its bytes are checked on load, though the part is
    gunzipped only when its runs are asked for."""
    middle = len(gzip_members(data)[0]) + len(gzip_members(data)[1]) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-10],
        lambda data: data + b"more",
        _damage_table,
        _damage_count,
        _flip_a_byte,
        lambda data: gzip_members(data)[0] + b"".join(gzip_members(data)[2:]),
        _flip_a_byte_in_runs,
    ],
    ids=[
        "cut-short",
        "runs-on",
        "table-sizes",
        "table-counts",
        "flipped-byte",
        "part-missing",
        "flipped-byte-in-runs",
    ],
)
def test_a_damaged_part_or_table_of_parts_is_one_line(
    tmp_path: Path, damage: typing.Callable[[bytes], bytes]
) -> None:
    path = snapshot_path(tmp_path)
    save(path, stored(many_runs(600)))
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SnapshotError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: damaged snapshot (")
    assert str(info.value).endswith("; run `daybook pull --full` to write a new one")
    assert "\n" not in str(info.value)


def test_a_part_of_runs_unlike_its_index_is_refused_in_one_line_when_decoded(
    tmp_path: Path,
) -> None:
    """Whole bytes holding other runs than the head's index says (a file put together by
    hand): refused when the part is decoded, in the same one line."""
    path = snapshot_path(tmp_path)
    save(path, stored(many_runs(600)))
    head, first, *rest = gzip_members(path.read_bytes())
    rows = json.loads(gzip.decompress(first))
    swapped = gzip.compress(json.dumps(rows[::-1]).encode())
    doc = json.loads(gzip.decompress(head))
    doc["parts"][0][2:] = [len(swapped), zlib.crc32(swapped)]
    path.write_bytes(gzip.compress(json.dumps(doc).encode()) + swapped + b"".join(rest))
    loaded = load(path)
    with pytest.raises(SnapshotError) as info:
        assert loaded.snapshot
    assert str(info.value) == (
        f"{path}: damaged snapshot (ValueError: a part of runs does not hold the runs the index "
        "says); run `daybook pull --full` to write a new one"
    )


def test_a_version_1_file_in_several_members_is_named_as_such(tmp_path: Path) -> None:
    """Version 1 was one JSON document cut into gzip members of 8 MB: its first member is not
    a whole document, and the message still names its version and the fix."""
    text = json.dumps(
        {"format": FORMAT, "version": 1, "daybook": "0.0.9", "snapshot": {"runs": []}},
        separators=(",", ":"),
    ).encode()
    path = snapshot_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(gzip.compress(text[:60]) + gzip.compress(text[60:]))
    with pytest.raises(IncompatibleSnapshot, match=r"Daybook 0\.0\.9 in snapshot format v1;"):
        load(path)


def test_a_missing_snapshot_says_to_pull(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot yet; run `daybook pull` first"):
        load(snapshot_path(tmp_path))


def test_the_cli_refuses_an_old_snapshot_offline_in_one_line(
    tmp_path: Path, store: StoreInfo
) -> None:
    site = tmp_path / "site"
    assert run_cli("init", site).returncode == 0
    assert run_cli("pull", "-q", "-C", site, "--tracking-uri", store.uri).returncode == 0
    _rewrite(snapshot_path(site), version=0, daybook="0.0.1")
    result = run_cli("generate", "-q", "--offline", "-C", site, "--out", tmp_path / "out")
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith(f"Error: {snapshot_path(site)}: written by Daybook 0.0.1")
    assert line.endswith("Run `daybook pull --full` to replace it")
    # Online, the old snapshot is replaced by a full pull.
    result = run_cli("pull", "-C", site, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    assert "pulling in full instead" in result.stderr
    assert load(snapshot_path(site)).pulled_at > 0


# --- what forces a full pull ----------------------------------------------------------------------


def test_the_fingerprint_covers_what_a_pull_keeps_and_nothing_else() -> None:
    base = config_fingerprint(DaybookConfig())
    assert config_fingerprint(DaybookConfig(title="Other", run_pages=RunPages(top=3))) == base
    assert config_fingerprint(DaybookConfig(experiments=ExperimentFilter(exclude=["x"]))) != base
    assert config_fingerprint(DaybookConfig(redact=["password", "pin"])) != base


# --- garbage collection ---------------------------------------------------------------------------


def test_objects_made_while_collection_is_paused_are_not_left_for_the_next_collection() -> None:
    """They go to the oldest generation on the way out: left in the youngest, the first
    collection after a big pull would walk them all (a second of CPU at 100,000 runs)."""
    assert gc.isenabled()
    with paused_gc():
        made = [[i] for i in range(100_000)]
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_count()[0] < 1_000  # the youngest generation does not hold them
    assert all(gc.is_tracked(m) for m in made[:10])
