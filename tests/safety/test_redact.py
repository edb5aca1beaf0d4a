"""Secrets: values under secret-looking keys, and passwords in URIs, never reach a page."""

from __future__ import annotations

from dataclasses import replace

import pytest

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import (
    CardFile,
    DatasetInput,
    Experiment,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
    Snapshot,
)
from daybook.safety.redact import DEFAULT_PATTERNS, MASK, Redactor, strip_credentials
from daybook.store.pull import pull
from store_builder import SECRET_VALUE, StoreInfo


@pytest.mark.parametrize(
    "key",
    [
        "api_token",
        "API_TOKEN",
        "PASSWORD",
        "db_password",
        "passwd",
        "aws_secret_access_key",
        "AWS_ACCESS_KEY_ID",
        "client_secret",
        "github_token",
        "OPENAI_API_KEY",
        "apikey",
        "private_key",
        "gcp_credentials",
        "hf.token",
        "secret_key",
    ],
)
def test_default_patterns_mask_secret_looking_keys(key: str) -> None:
    redactor = Redactor()
    assert redactor.is_secret(key)
    assert redactor.mask({key: "hunter2"}) == {key: MASK}


@pytest.mark.parametrize(
    "key", ["learning_rate", "max_depth", "alpha", "optimizer", "batch_size", "model_name"]
)
def test_ordinary_keys_are_left_alone(key: str) -> None:
    assert not Redactor().is_secret(key)
    assert Redactor().mask({key: "0.1"}) == {key: "0.1"}


def test_mask_keeps_every_key_in_order() -> None:
    items = {"b": "1", "token": "t", "a": "2"}
    assert list(Redactor().mask(items).items()) == [("b", "1"), ("token", MASK), ("a", "2")]


def test_patterns_with_wildcards_are_case_insensitive_globs() -> None:
    redactor = Redactor(["db_*", "*_pw", "key?"])
    assert redactor.is_secret("db_host") and redactor.is_secret("DB_HOST")
    assert redactor.is_secret("admin_pw")
    assert redactor.is_secret("key1")
    assert not redactor.is_secret("my_db_host")  # a glob matches the whole key
    assert not redactor.is_secret("admin_pw2")
    assert not redactor.is_secret("key12")
    assert not redactor.is_secret("password")  # only the configured patterns apply


def test_no_patterns_mask_nothing() -> None:
    assert not Redactor([]).is_secret("password")


def test_the_default_config_uses_the_default_patterns() -> None:
    assert tuple(DaybookConfig().redact) == DEFAULT_PATTERNS


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@host/x", "https://***@host/x"),
        ("http://token@mlflow.example:5000", "http://***@mlflow.example:5000"),
        ("postgresql://u:p%40ss@db:5432/mlflow", "postgresql://***@db:5432/mlflow"),
        ("s3://bucket/path", "s3://bucket/path"),
        ("https://host/a@b", "https://host/a@b"),
        ("sqlite:////tmp/mlflow.db", "sqlite:////tmp/mlflow.db"),
        ("see https://a:b@x/ and https://c:d@y/", "see https://***@x/ and https://***@y/"),
        ("mysql://db/ml?user=u&password=pw1&x=1", "mysql://db/ml?user=u&password=***&x=1"),
    ],
)
def test_strip_credentials_hides_userinfo_in_uris(url: str, shown: str) -> None:
    assert strip_credentials(url) == shown


def test_a_pull_masks_secrets_in_params_and_model_tags(store: StoreInfo) -> None:
    snap = pull(DaybookConfig(), store.uri)
    hostile = next(r for r in snap.runs if r.run_id == store.runs["hostile"])
    assert hostile.params["api_token"] == MASK
    assert hostile.params["learning_rate"] == "0.2"
    [model] = [m for m in snap.models if m.name == "digits-clf"]
    assert model.tags == {"owner": "alice", "secret_key": MASK}
    assert SECRET_VALUE not in repr(snap)


def test_the_redact_setting_decides_what_is_masked(store: StoreInfo) -> None:
    snap = pull(DaybookConfig(redact=["learning_*"]), store.uri)
    hostile = next(r for r in snap.runs if r.run_id == store.runs["hostile"])
    assert hostile.params["learning_rate"] == MASK
    assert hostile.params["note"] == "x|y\n<b>bold</b>"
    # `api_token` is no longer a secret key (the defaults were replaced), but its value still
    # has the shape of an API key, which is masked whatever its key.
    assert hostile.params["api_token"] == MASK


# --- by value: one pass over every text of a snapshot ---------------------------------------------

GIT_TOKEN = "glpat-" + "Zx9" * 8
DB_PASSWORD = "Pw-" + "q7" * 6
GITHUB_KEY = "ghp_" + "K3y" * 12


def _leaky_snapshot() -> Snapshot:
    run = Run(
        run_id="0123456789abcdef0123456789abcdef",
        experiment_id="1",
        name=f"run with {GITHUB_KEY}",
        status="FINISHED",
        start_time=1,
        end_time=2,
        user="alice",
        artifact_uri=f"https://u:{DB_PASSWORD}@store.example.com/1/0123/artifacts",
        params={"db_url": f"postgresql://ml:{DB_PASSWORD}@db.example.com/runs", "lr": "0.1"},
        metrics={"acc": 0.9},
        metric_steps={"acc": 1},
        metric_times={"acc": 2},
        tags={
            "mlflow.source.git.repoURL": f"https://oauth2:{GIT_TOKEN}@gitlab.example.com/x.git",
            "mlflow.source.git.commit": "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
            "mlflow.note.content": f"Trained with `{GITHUB_KEY}` by mistake.",
        },
        datasets=(
            DatasetInput(
                "train", "sha256:9f86d081884c7d659a2f", "http",
                f"https://reader:{DB_PASSWORD}@data.example.com/train.csv", "training",
            ),
        ),
    )  # fmt: skip
    version = ModelVersion(
        "m", 1, 1, 1, f"notes: api_key={GITHUB_KEY}", "READY",
        f"s3://k:{DB_PASSWORD}@bucket/model", run.run_id, "alice", {"token": "t0ps3cret99"},
    )  # fmt: skip
    model = RegisteredModel("m", f"Owner key {GIT_TOKEN}", 1, 1, {}, {"champion": 1}, (version,))
    experiment = Experiment("1", "exp", "s3://bucket/1", 1, 1, {"mlflow.note.content": GIT_TOKEN})
    histories = {run.run_id: (MetricHistory("acc", (0, 1), (0.5, 0.9), (1, 2)),)}
    return Snapshot("sqlite:///mlflow.db", (experiment,), (run,), (model,), histories=histories)


def test_secrets_are_masked_by_value_in_every_text_of_a_snapshot() -> None:
    masked = Redactor().value(_leaky_snapshot())
    for secret in (GIT_TOKEN, DB_PASSWORD, GITHUB_KEY, "t0ps3cret99"):
        assert secret not in repr(masked), secret
    [run] = masked.runs
    assert run.tags["mlflow.source.git.repoURL"] == f"https://{MASK}@gitlab.example.com/x.git"
    assert run.params["db_url"] == f"postgresql://{MASK}@db.example.com/runs"
    assert run.tags["mlflow.note.content"] == f"Trained with `{MASK}` by mistake."
    # What an ML store is full of is left alone: ids, SHAs, digests, numbers, histories.
    assert run.run_id == "0123456789abcdef0123456789abcdef" and run.params["lr"] == "0.1"
    assert run.tags["mlflow.source.git.commit"] == "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
    assert run.datasets[0].digest == "sha256:9f86d081884c7d659a2f"
    assert masked.histories == _leaky_snapshot().histories


def test_a_snapshot_without_secrets_comes_back_unchanged() -> None:
    clean = replace(_leaky_snapshot(), runs=(), models=(), experiments=())
    assert Redactor().value(clean) is clean


def test_the_value_pass_reaches_notes_and_cards() -> None:
    card = CardFile("docs/models/m.md", "m", {"license": f"mit {GITHUB_KEY}"}, f"Key: {GIT_TOKEN}")
    masked = Redactor().value(card)
    assert GITHUB_KEY not in repr(masked) and GIT_TOKEN not in repr(masked)
    assert masked.path == card.path and masked.key == "m"


def test_strings_remembered_as_clean_never_hide_a_secret_seen_later() -> None:
    """The redactor remembers strings it found clean, so 600,000 params of a wide experiment
    cost set lookups; a secret that arrives later (in a dict value, a dict key, a metric's key
    with its step and time, or under a secret key whose value was seen clean elsewhere) is
    still masked."""
    redactor = Redactor()
    metrics = {f"m{i}": 0.5 for i in range(500)}
    params = {f"p{i}": "adam" for i in range(2000)}
    clean = Run("r" * 32, "1", "clean", "FINISHED", 1, 2, "alice", "", params, metrics, {})
    assert redactor.value(clean) is clean  # learns every string above
    later = replace(
        clean,
        params={**params, "p3": f"postgresql://ml:{DB_PASSWORD}@db/x", "api_token": "adam"},
        tags={"notes": GITHUB_KEY},
    )
    masked = redactor.value(later)
    assert masked.params["api_token"] == MASK  # "adam" was clean as p0's value, not here
    assert masked.params["p3"] == f"postgresql://{MASK}@db/x"
    assert masked.tags == {"notes": MASK}
    assert masked.params["p0"] == "adam" and masked.metrics is later.metrics
    keyed = redactor.value(replace(clean, metrics={**metrics, f"loss {GIT_TOKEN}": 0.5}))
    assert GIT_TOKEN not in repr(keyed)  # nor in the keys of its steps and times
    assert keyed.metrics[f"loss {MASK}"] == 0.5 and keyed.metrics["m7"] == 0.5
    assert keyed.metrics.keys() == keyed.metric_steps.keys() == keyed.metric_times.keys()
