"""The policy memo: an experiment's leaders updated from the runs that changed alone are the
leaders decided from every run, or the memo says it cannot tell (None) — never a guess."""

from __future__ import annotations

import math

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from daybook.analysis.policy_memo import (
    Leaders,
    PolicyMemo,
    leaders_of,
    merged_leaders,
    updated_leaders,
)
from daybook.analysis.ranking import Primary
from daybook.core.config import DaybookConfig, PrimaryMetric
from daybook.core.snapshot import Experiment, Run

EXP = Experiment("1", "exp", "", 0, 0, {})
GUESS = DaybookConfig()
LOSS = DaybookConfig(primary_metrics=[PrimaryMetric(experiment="exp", metric="loss")])
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 0.5, 1.0, -1.0, math.nan, 1.7976931348623157e308]),
)


def run(i: int, metrics: dict[str, float], start: int) -> Run:
    return Run(
        run_id=f"{i:032x}",
        experiment_id="1",
        name=f"r{i}",
        status="FINISHED",
        start_time=start,
        end_time=start + 1,
        user="",
        artifact_uri="",
        metrics=dict(metrics),
    )


RUNS = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(["val_loss", "loss", "acc"]), VALUES, max_size=3),
        st.integers(0, 5),  # start times that tie often
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    before=RUNS,
    added=RUNS,
    removed=st.sets(st.integers(0, 39)),
    changed=st.sets(st.integers(0, 39)),
    top=st.integers(1, 4),
    configured=st.booleans(),
)
def test_updated_leaders_are_the_leaders_of_every_run_or_none(
    before: list, added: list, removed: set[int], changed: set[int], top: int, configured: bool
) -> None:
    config = LOSS if configured else GUESS
    old_runs = [run(i, m, s) for i, (m, s) in enumerate(before)]
    memo = leaders_of(config, EXP, old_runs, top)
    gone = [r for r in old_runs if int(r.run_id, 16) in removed | changed]
    # a run changed is taken out as it was and put in as it is now (its metrics halved)
    now = [
        run(int(r.run_id, 16), {k: v / 2 for k, v in r.metrics.items()}, r.start_time or 0)
        for r in gone
        if int(r.run_id, 16) in changed - removed
    ]
    new = [run(100 + i, m, s) for i, (m, s) in enumerate(added)]
    after = [r for r in old_runs if r not in gone] + now + new
    got = updated_leaders(config, EXP, memo, gone, now + new, top)
    want = leaders_of(config, EXP, after, top)
    if got is None:
        return
    assert got.primary == want.primary
    assert dict(got.counts) == dict(want.counts)
    assert got.ranked == want.ranked
    assert got.top(top) == want.top(top)
    assert list(got.best) == list(want.best[: len(got.best)])  # a true head of the order


@settings(max_examples=300, deadline=None)
@given(runs=RUNS, cut=st.integers(0, 40), top=st.integers(1, 4), configured=st.booleans())
def test_leaders_merged_from_shares_are_the_leaders_of_every_run_or_none(
    runs: list, cut: int, top: int, configured: bool
) -> None:
    """A split full pull ranks each share of the runs apart (`leaders_of`) and merges them:
    the same leaders as from every run at once, or None when a share was ranked by another
    primary metric than the whole's and logs the whole's (never a guess)."""
    config = LOSS if configured else GUESS
    every = [run(i, m, s) for i, (m, s) in enumerate(runs)]
    shares = [leaders_of(config, EXP, part, top) for part in (every[:cut], every[cut:])]
    got = merged_leaders(config, EXP, shares, top)
    want = leaders_of(config, EXP, every, top)
    if got is None:
        assert not configured  # a configured metric is every share's
        assert any(s.primary != want.primary and s.counts.get(want.primary.metric) for s in shares)  # type: ignore[union-attr]
        return
    assert got == want
    assert PolicyMemo(top, {"1": got}).to_data() == PolicyMemo(top, {"1": want}).to_data()


def test_shares_guessing_another_primary_metric_cannot_be_merged() -> None:
    lower = [run(i, {"loss": float(i)}, i) for i in range(3)]  # guesses loss
    upper = [run(10 + i, {"acc": 0.5, "loss": 1.0}, i) for i in range(2)]  # acc before loss
    shares = [leaders_of(GUESS, EXP, part, 1) for part in (lower, upper)]
    assert shares[0].primary != shares[1].primary
    assert merged_leaders(GUESS, EXP, shares, 1) is None
    # A share that does not log the whole's metric at all merges: it ranks no run by it.
    only_acc = [run(20, {"acc": 0.9}, 0)]
    merged = merged_leaders(GUESS, EXP, [shares[0], leaders_of(GUESS, EXP, only_acc, 1)], 1)
    assert merged == leaders_of(GUESS, EXP, [*lower, *only_acc], 1)


def test_the_memo_cannot_tell_when_the_primary_metric_changes() -> None:
    runs = [run(i, {"loss": float(i)}, i) for i in range(3)]
    memo = leaders_of(GUESS, EXP, runs, 1)
    assert memo.primary == Primary("loss", "minimize", False)
    many_acc = [run(10 + i, {"acc": 0.5}, 10 + i) for i in range(5)]
    assert updated_leaders(GUESS, EXP, memo, [], many_acc, 1) is None


def test_the_memo_cannot_tell_when_too_many_of_its_leaders_go() -> None:
    runs = [run(i, {"loss": float(i)}, i) for i in range(10)]
    memo = leaders_of(GUESS, EXP, runs, 2)
    assert len(memo.best) == 4 and not memo.complete  # the best 2 × 2 of 10
    assert updated_leaders(GUESS, EXP, memo, runs[:2], [], 2) is not None  # 2 of 4 gone
    assert updated_leaders(GUESS, EXP, memo, runs[:3], [], 2) is None  # 3 of 4: cannot tell


def test_the_memo_survives_the_snapshot_file_as_json() -> None:
    runs = [run(i, {"loss": v}, i) for i, v in enumerate([0.25, -0.0, 1e-300, 3.0])]
    memo = PolicyMemo(2, {"1": leaders_of(GUESS, EXP, runs, 2), "2": Leaders(None, {}, 0, ())})
    data = orjson.loads(orjson.dumps(memo.to_data()))
    assert PolicyMemo.from_data(data) == memo
