"""The snapshot file (.daybook/snapshot.json.gz): round trips, determinism, strict JSON, and clear
refusals of files it cannot use."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import itertools
import json
import math
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from daybook import __version__
from daybook.core.config import DaybookConfig, ExperimentFilter, RunPages
from daybook.core.snapshot import Snapshot
from daybook.store.pull import pull
from daybook.store.snapshot_file import (
    FORMAT,
    VERSION,
    IncompatibleSnapshot,
    SnapshotError,
    StoredSnapshot,
    config_fingerprint,
    dumps,
    load,
    loads,
    save,
    snapshot_path,
)
from helpers import error_lines, run_cli, snapshot_data
from store_builder import StoreInfo

EVERY_RUN = DaybookConfig(run_pages=RunPages(all=True))


def stored(snapshot: Snapshot, pulled_at: int = 1_764_000_000_000) -> StoredSnapshot:
    return StoredSnapshot(snapshot, pulled_at, "sha256:x", frozenset(snapshot.histories))


def document(data: bytes) -> dict[str, Any]:
    """The file as strict JSON: NaN or Infinity tokens would fail here."""

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(gzip.decompress(data), parse_constant=refuse)


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
        # a Metric is kept under its own key, as every reader keeps it
        return {getattr(value, "key", f"{name}-key"): value}
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
    assert dumps(stored(full_snapshot)) == dumps(stored(again))
    header = dumps(stored(full_snapshot))[:10]
    assert header[4:8] == b"\0\0\0\0"  # gzip mtime 0: no build time in the file


def test_the_file_is_strict_json_with_a_documented_envelope(full_snapshot: Snapshot) -> None:
    doc = document(dumps(stored(full_snapshot)))
    assert doc["format"] == FORMAT == "daybook-snapshot"
    assert doc["version"] == VERSION == 1
    assert doc["daybook"] == __version__
    assert doc["tracking_uri"] == full_snapshot.tracking_uri
    assert doc["pulled_at"] == 1_764_000_000_000
    assert doc["detail_runs"] == sorted(full_snapshot.histories)
    assert set(doc["snapshot"]) >= {"experiments", "runs", "models", "histories", "artifacts"}
    nan_run = next(r for r in doc["snapshot"]["runs"] if r["name"] == "nan-metrics")
    assert nan_run["metrics"]["val_accuracy"][0] == "NaN"
    infinite = dataclasses.replace(full_snapshot, warnings=())
    run = dataclasses.replace(full_snapshot.runs[0], metrics={})
    doc = document(dumps(stored(dataclasses.replace(infinite, runs=(run,)))))
    assert doc["snapshot"]["runs"][0]["metrics"] == {}


def test_secrets_are_masked_in_the_file(full_snapshot: Snapshot) -> None:
    text = gzip.decompress(dumps(stored(full_snapshot))).decode()
    assert "sk-live-THIS-MUST-NOT-APPEAR" not in text


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
    doc = document(path.read_bytes())
    doc.update(changes)
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))


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
