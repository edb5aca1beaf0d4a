"""Secret-looking strings in notes: common token shapes, and values of keys that redaction treats
as secret, without flagging ordinary words."""

from __future__ import annotations

import pytest

from daybook.safety.redact import DEFAULT_PATTERNS
from daybook.safety.secrets import find_secrets
from store_builder import SECRET_VALUE


@pytest.mark.parametrize(
    ("text", "what", "secret"),
    [
        ("key AKIAIOSFODNN7EXAMPLE here", "AWS access key id", "AKIAIOSFODNN7EXAMPLE"),
        ("ghp_" + "a" * 36, "GitHub token", "ghp_" + "a" * 36),
        ("xoxb-1234567890-abcdef", "Slack token", "xoxb-1234567890-abcdef"),
        (f"the key {SECRET_VALUE}.", "API secret key", SECRET_VALUE),
        ("hf_" + "A1" * 17, "Hugging Face token", "hf_" + "A1" * 17),
        ("-----BEGIN RSA PRIVATE KEY-----", "private key", "-----BEGIN RSA PRIVATE KEY-----"),
        ("postgres://ml:s3cretPw@db:5432/x", "password in a URL", "s3cretPw"),
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
        "https://user@example.com/x",
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
