"""Masking of secret-looking values before they can reach a page, a snapshot file or the index."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence

MASK = "••••••"

DEFAULT_PATTERNS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "credential",
)

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


class Redactor:
    """Decides which keys are secret: a pattern matches as a case-insensitive substring, or as a
    glob when it contains `*`, `?` or `[`."""

    def __init__(self, patterns: Sequence[str] = DEFAULT_PATTERNS) -> None:
        self._subs = tuple(p.lower() for p in patterns if not any(c in p for c in "*?["))
        self._globs = tuple(p.lower() for p in patterns if any(c in p for c in "*?["))

    def is_secret(self, key: str) -> bool:
        k = key.lower()
        return any(s in k for s in self._subs) or any(
            fnmatch.fnmatchcase(k, g) for g in self._globs
        )

    def mask(self, items: Mapping[str, str]) -> dict[str, str]:
        return {k: (MASK if self.is_secret(k) else v) for k, v in items.items()}


def strip_credentials(url: str) -> str:
    """`https://user:pw@host/x` -> `https://***@host/x`: URIs are shown, their passwords are not."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme") + "***@", url)
