"""Masking of secret-looking values before they can reach a page, a snapshot file or the index."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence

from daybook.core.config import DEFAULT_PATTERNS

__all__ = ["DEFAULT_PATTERNS", "MASK", "Redactor", "strip_credentials"]

MASK = "••••••"


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", text).lower()) if w]


_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


class Redactor:
    """Decides which keys are secret.

    A plain pattern matches whole words of the key (split at `_`, `-`, `.`, spaces and camelCase),
    or the end of one word: `token` masks `auth_token`, `githubToken` and `hf_token`, but not
    `tokenizer` or `max_tokens`, which ML runs log all the time. A pattern with `*`, `?` or `[`
    is a glob over the whole lowercased key.
    """

    def __init__(self, patterns: Sequence[str] = DEFAULT_PATTERNS) -> None:
        plain = [p for p in patterns if not any(c in p for c in "*?[")]
        self._words = tuple(tuple(_words(p)) for p in plain if _words(p))
        self._globs = tuple(p.lower() for p in patterns if any(c in p for c in "*?["))

    def is_secret(self, key: str) -> bool:
        words = _words(key)
        for pw in self._words:
            n = len(pw)
            joined = "".join(pw)
            for i, w in enumerate(words):
                if w.endswith(joined):  # githubtoken, openaiapikey
                    return True
                if w.endswith(pw[0]) and words[i + 1 : i + n] == list(pw[1:]):  # api_key
                    return True
        k = key.lower()
        return any(fnmatch.fnmatchcase(k, g) for g in self._globs)

    def mask(self, items: Mapping[str, str]) -> dict[str, str]:
        return {k: (MASK if self.is_secret(k) else v) for k, v in items.items()}


def strip_credentials(url: str) -> str:
    """`https://user:pw@host/x` -> `https://***@host/x`: URIs are shown, their passwords are not."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme") + "***@", url)
