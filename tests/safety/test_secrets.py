"""Secret-looking strings in notes: common token shapes, and values of keys that redaction treats
as secret, without flagging ordinary words."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daybook.safety.redact import DEFAULT_PATTERNS
from daybook.safety.secrets import _PREFIX, SecretKeys, SecretScanner, find_secrets
from store_builder import SECRET_VALUE


@pytest.mark.parametrize(
    ("text", "what", "secret"),
    [
        ("key AKIAIOSFODNN7EXAMPLE here", "AWS key", "AKIAIOSFODNN7EXAMPLE"),
        ("ghp_" + "a" * 36, "GitHub token", "ghp_" + "a" * 36),
        (
            "xoxb-1765367-1987469-pdFZKVeTuE8sk7oOcB",
            "Slack token",
            "xoxb-1765367-1987469-pdFZKVeTuE8sk7oOcB",
        ),
        (f"the key {SECRET_VALUE}.", "API secret key", SECRET_VALUE),
        ("hf_" + "A1" * 17, "Hugging Face token", "hf_" + "A1" * 17),
        ("-----BEGIN RSA PRIVATE KEY-----", "private key", "-----BEGIN RSA PRIVATE KEY-----"),
        ("postgres://ml:s3cretPw@db:5432/x", "credentials in a URL", "ml:s3cretPw"),
        ("https://oauth2@gitlab.example.com/x.git", "credentials in a URL", "oauth2"),
        ("host=db password=hunter2 port=5432", "value of 'password'", "hunter2"),
        ("glpat-" + "Ab1" * 7, "GitLab token", "glpat-" + "Ab1" * 7),
        (
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ and more",
            "JSON web token",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ",
        ),
        (
            "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\nb",
            "private key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----",
        ),
        ("api_key: 9f8e7d6c5b4a", "value of 'api_key'", "9f8e7d6c5b4a"),
        ('"db_password" = "hunter22x"', "value of 'db_password'", "hunter22x"),
    ],
)
def test_secrets_are_found_and_only_the_secret_is_masked(text: str, what: str, secret: str) -> None:
    [found] = find_secrets(text, DEFAULT_PATTERNS)
    assert found.what == what
    assert text[found.start : found.end] == secret


@pytest.mark.parametrize(
    "text",
    [
        "tokenizer: bert-base-uncased",
        "api_key: <your key here>",
        "password: ********",
        "token = ${TOKEN}",
        "git@github.com:team/repo.git",
        # What an ML store is full of: run ids, git SHAs, digests, logged-model ids, UUIDs.
        "0123456789abcdef0123456789abcdef",
        "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "models:/m-0123456789abcdef0123456789abcdef",
        "123e4567-e89b-12d3-a456-426614174000",
        "max_tokens=4096 lr=0.001 tokenizer=bert-base-uncased",
        "s3://team-bucket/mlartifacts/1/0123456789abcdef0123456789abcdef/artifacts",
        "runs:/0123456789abcdef0123456789abcdef and models:/churn@champion",
        "The secret of good models: regularization.",
    ],
)
def test_ordinary_text_is_not_a_secret(text: str) -> None:
    assert find_secrets(text, DEFAULT_PATTERNS) == []


def test_the_site_redact_patterns_decide_which_keys_are_secret() -> None:
    assert find_secrets("session_id: abc123def456", DEFAULT_PATTERNS) == []
    [found] = find_secrets("session_id: abc123def456", ["session_*"])
    assert found.what == "value of 'session_id'"


def test_a_pattern_from_daybook_yml_adds_a_shape() -> None:
    assert find_secrets("employee E-123456", DEFAULT_PATTERNS) == []
    [found] = find_secrets("employee E-123456", DEFAULT_PATTERNS, [r"E-\d{6}"])
    assert (found.start, found.end) == (9, 17)


TOKENISH = st.text(alphabet="0123456789abcdefABCDEFgzZ_-:=./ \nİK", max_size=40)


@settings(max_examples=500, deadline=None)
@given(TOKENISH)
def test_the_token_pretest_is_a_run_of_twelve_letters_or_digits_not_all_lowercase_hex(
    text: str,
) -> None:
    """`_may_hold_token` asks one regular expression what a loop over the runs used to ask."""
    runs = re.findall(r"[A-Za-z0-9]{12,}", text)
    expected = (
        "PRIVATE KEY" in text
        or "PuTTY" in text
        or any(not re.fullmatch(r"[0-9a-f]+", run) for run in runs)
        or _PREFIX.search(text) is not None
    )
    assert SecretScanner._may_hold_token(text) is expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abKkEeYyTtOoNnİK=: ", max_size=20))
def test_the_key_word_pretest_finds_a_secret_word_in_any_case(text: str) -> None:
    scanner = SecretScanner(DEFAULT_PATTERNS)
    words = SecretKeys(DEFAULT_PATTERNS).words() or ()
    assert scanner._may_name_a_key(text) is any(w in text.lower() for w in words)
