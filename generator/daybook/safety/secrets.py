"""Secret-looking strings in text people wrote: found for `daybook check`, masked on the site.

Two kinds: a value assigned to a key that redaction treats as secret (`api_key: …`, with the
same patterns as `redact` in daybook.yml), and the shapes of common tokens, whatever they are
called. A value must look random (letters and digits, or long) to count, so `tokenizer: bert`
is not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from daybook.safety.redact import DEFAULT_PATTERNS, Redactor

_ASSIGNMENT = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.-]{1,60})[\"']?\s*[:=]\s*[\"']?(?P<value>[^\s\"'`,;<>]{8,})"
)
TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("API secret key", re.compile(r"\bsk-(?:live-|test-|proj-|ant-)?[A-Za-z0-9_-]{16,}")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    (
        "JSON web token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (
        "password in a URL",
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:(?P<value>[^/\s@]+)@"),
    ),
)
_PLACEHOLDER = re.compile(
    r"^(?:\*+|x+|X+|•+|\.+|<.*>|\$\{.*\}|\{\{.*\}\}|changeme|redacted)$", re.I
)


@dataclass(frozen=True, slots=True)
class Secret:
    start: int  # the span to mask
    end: int
    what: str  # e.g. "AWS access key id", "value of 'api_key'"


def _random_looking(value: str) -> bool:
    if _PLACEHOLDER.match(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return (has_digit and has_alpha) or len(value) >= 24


def find_secrets(text: str, patterns: Sequence[str] = DEFAULT_PATTERNS) -> list[Secret]:
    """Every secret-looking span in `text`, in order, without overlaps."""
    redactor = Redactor(patterns)
    found: list[Secret] = []
    for what, rx in TOKEN_SHAPES:
        for m in rx.finditer(text):
            if "value" in rx.groupindex and m.group("value"):
                if _PLACEHOLDER.match(m.group("value")):
                    continue
                found.append(Secret(m.start("value"), m.end("value"), what))
            else:
                found.append(Secret(m.start(), m.end(), what))
    for m in _ASSIGNMENT.finditer(text):
        key, value = m.group("key"), m.group("value")
        if redactor.is_secret(key) and _random_looking(value):
            found.append(Secret(m.start("value"), m.end("value"), f"value of {key!r}"))
    found.sort(key=lambda s: (s.start, -s.end))
    out: list[Secret] = []
    for s in found:
        if out and s.start < out[-1].end:
            continue
        out.append(s)
    return out
