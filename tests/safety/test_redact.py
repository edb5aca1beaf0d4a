"""Secrets: values under secret-looking keys, and passwords in URIs, never reach a page."""

from __future__ import annotations

import pytest

from daybook.core.config import DaybookConfig
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
    assert hostile.params["api_token"] == SECRET_VALUE  # the defaults were replaced
