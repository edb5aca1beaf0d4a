"""A big store's full pull is read in two shares, the runs whose ids sort from `SPLIT_ID` by a
forked second process on its own connection: the snapshot is the one a pull in one process saves.
`daybook pull --full` in fresh processes (a fork needs a process with no other threads, which
a pytest-xdist worker is not); `DAYBOOK_PROCESSES=2` splits even the fixture store."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import make_site
from daybook.core.config import DaybookConfig, PrimaryMetric
from daybook.core.fork import ENV_PROCESSES
from daybook.core.snapshot import Experiment
from daybook.sources.mlflow import Reader
from daybook.store import pull
from daybook.store.pull import SPLIT_ID, PullResult, update
from daybook.store.snapshot_file import dumps, load, snapshot_path
from helpers import add_settings, run_cli, same_file, snapshot_data
from store_builder import StoreInfo

SPLIT = re.compile(r"read \d+ experiments, (\d+) runs \((\d+) of them read by a second process\)")
AHEAD = re.compile(r"read metric histories of (\d+) runs(?: \((\d+) of them with the runs\))?")


def _pull(root: Path, uri: str, processes: str) -> str:
    result = run_cli("pull", "--full", "-C", root, "--tracking-uri", uri,
                     env={ENV_PROCESSES: processes})  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_pull_read_in_two_halves_saves_the_snapshot_one_process_saves(
    tmp_path: Path, store: StoreInfo
) -> None:
    one, two = make_site(tmp_path / "one"), make_site(tmp_path / "two")
    assert "second process" not in _pull(one, store.uri, "1")
    said = _pull(two, store.uri, "2")
    found = SPLIT.search(said)
    assert found, "the pull was not split"
    total, apart = int(found[1]), int(found[2])
    assert 0 < apart < total  # both processes had runs to read
    a, b = load(snapshot_path(one)), load(snapshot_path(two))
    assert snapshot_data(a.snapshot) == snapshot_data(b.snapshot)  # NaN made comparable
    assert same_file(dumps(replace(a, pulled_at=0)), dumps(replace(b, pulled_at=0)))
    # The parts of runs as saved: those of the second process's range are the members it made.
    assert a.runs is not None and b.runs is not None
    assert a.runs.saved.parts == b.runs.saved.parts
    assert sum(r.run_id >= SPLIT_ID for r in b.snapshot.runs) == apart


def test_each_process_reads_ahead_the_histories_of_the_page_runs_its_share_tells_of(
    tmp_path: Path, store: StoreInfo
) -> None:
    """Each process reads, with its share of runs, the histories of the page runs of its range
    that share tells of (the top of each experiment within the share, the parents it names);
    the page runs it cannot tell (a run behind a model version, here, with a top of one) are
    read after: the snapshot is still the one a pull in one process saves."""
    one, two = make_site(tmp_path / "one"), make_site(tmp_path / "two")
    for root in (one, two):
        add_settings(root / "daybook.yml", "run_pages:\n  top: 1\n  parents: true\n")
    said_one = _pull(one, store.uri, "1")
    assert "with the runs" not in said_one  # one process: nothing is read ahead
    said = _pull(two, store.uri, "2")
    assert SPLIT.search(said), "the pull was not split"
    found = AHEAD.search(said)
    assert found and found[2], said
    total, early = int(found[1]), int(found[2])
    assert 0 < early < total  # some read ahead, and some (model versions' runs) after
    assert int(AHEAD.search(said_one)[1]) == total  # type: ignore[index]
    a, b = load(snapshot_path(one)), load(snapshot_path(two))
    assert snapshot_data(a.snapshot) == snapshot_data(b.snapshot)
    assert same_file(dumps(replace(a, pulled_at=0)), dumps(replace(b, pulled_at=0)))


# The fixture sites' settings (conftest.SITE_CONFIG): one experiment's primary metric set.
CONFIG = DaybookConfig(primary_metrics=[PrimaryMetric(experiment="regression", metric="val_rmse")])


def _split_here(upper_config: DaybookConfig) -> object:
    """`_read_split` with both shares read in this process (a pytest worker cannot fork), the
    second ranked with `upper_config`."""

    def read_split(
        reader: Reader, config: DaybookConfig, experiments: list[Experiment], masker: object,
        uri: str, force_client: bool,
    ) -> pull._Split:  # fmt: skip
        lower = pull._read_lower(reader, config, experiments, masker)  # type: ignore[arg-type]
        upper = pull._read_upper(uri, force_client, upper_config, experiments, masker)  # type: ignore[arg-type]
        return pull._Split(*lower, upper)

    return read_split


def _same_save(a: PullResult, b: PullResult) -> None:
    assert same_file(dumps(replace(a.stored, pulled_at=0)), dumps(replace(b.stored, pulled_at=0)))
    assert snapshot_data(a.snapshot) == snapshot_data(b.snapshot)
    assert a.report.summary() == b.report.summary()


def test_a_split_pull_leaves_the_second_share_as_the_file_s_parts(
    monkeypatch: pytest.MonkeyPatch, store: StoreInfo
) -> None:
    """The page runs come from both shares' leaders merged and the second's index: its runs
    stay the file's parts, saved as they came, and the file, the snapshot and the report are a
    pull in one process's."""
    one = update(CONFIG, store.uri, None)
    monkeypatch.setattr(pull, "_read_split", _split_here(CONFIG))
    said: list[str] = []
    two = update(CONFIG, store.uri, None, progress=said.append)
    assert two.stored.runs is not None and "snapshot" not in two.stored.__dict__
    saved = two.stored.runs.saved  # both shares: the first's decoded, the second's mostly not
    upper = [k for k in range(len(saved.parts)) if saved.part_ids(k)[0] >= SPLIT_ID]
    assert upper and all(rid >= SPLIT_ID for k in upper for rid in saved.part_ids(k))
    assert len(saved.parts) - len(upper) <= saved.decoded_parts < len(saved.parts)
    assert not any("cannot tell" in line for line in said)
    _same_save(two, one)


def test_shares_ranked_by_another_primary_metric_are_decoded_and_ranked_whole(
    monkeypatch: pytest.MonkeyPatch, store: StoreInfo
) -> None:
    """When a share's leaders were ranked by another primary metric than the whole's, the
    pull decodes the second share and ranks every run: the same file, snapshot and report."""
    one = update(CONFIG, store.uri, None)
    other = DaybookConfig(primary_metrics=[PrimaryMetric(experiment="*", metric="not_logged")])
    monkeypatch.setattr(pull, "_read_split", _split_here(other))
    said: list[str] = []
    two = update(CONFIG, store.uri, None, progress=said.append)
    assert any("cannot tell the whole's" in line for line in said)
    assert "snapshot" in two.stored.__dict__ or two.stored.runs is None  # decoded
    _same_save(two, one)
