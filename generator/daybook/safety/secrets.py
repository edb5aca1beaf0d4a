"""What a secret looks like: secret keys, and secret-looking spans inside any text.

Three kinds of span are found in a value, whatever its key:

- the shapes of known tokens. The list is Yelp's `detect-secrets` (its regex plugins: cloud keys,
  GitHub/GitLab/Slack/Stripe/PyPI/npm/… tokens, JWTs, private keys), kept by people who follow
  the providers; the few it lacks (Hugging Face, Google, generic `sk-` keys) are added here, and
  `redact_values` in daybook.yml adds a team's own. Its entropy plugins are left out: they flag
  every run id, git SHA and digest an ML store is full of; its keyword, IP and basic-auth plugins
  too (noisy, or done better below). Its scanner is not used: at ~0.7 ms a line it would add
  minutes to a 20,000-run pull, while one combined pattern rejects an ordinary value in ~1 µs;
- the userinfo of any URL (`https://oauth2:<token>@host` keeps `https://••••••@host`);
- a value assigned to a secret key inside text (`password=…` in a connection string, `api_key:
  …` in a note), with the same key rules as params and tags. The value must look random (letters
  and digits, or long), so `tokenizer: bert` is never flagged; `password`-like keys mask any value.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from daybook.core.config import DEFAULT_PATTERNS

__all__ = ["DEFAULT_PATTERNS", "Secret", "SecretKeys", "SecretScanner", "find_secrets"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", text).lower()) if w]


class SecretKeys:
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

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - a few hundred distinct keys per store
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

    def words(self) -> tuple[str, ...] | None:
        """Substrings one of which every secret key holds, lowercased (None with globs)."""
        if self._globs:
            return None
        return tuple(sorted({w for pw in self._words for w in pw[-1:]}))


@dataclass(frozen=True, slots=True)
class Secret:
    start: int  # the span to mask
    end: int
    what: str  # e.g. "GitHub token", "value of 'api_key'"


# detect-secrets' regex plugins used for shapes (module, class, what we call it).
_DETECT_SECRETS = (
    ("aws", "AWSKeyDetector", "AWS key"),
    ("azure_storage_key", "AzureStorageKeyDetector", "Azure storage key"),
    ("discord", "DiscordBotTokenDetector", "Discord bot token"),
    ("github_token", "GitHubTokenDetector", "GitHub token"),
    ("gitlab_token", "GitLabTokenDetector", "GitLab token"),
    ("jwt", "JwtTokenDetector", "JSON web token"),
    ("mailchimp", "MailchimpDetector", "Mailchimp key"),
    ("npm", "NpmDetector", "npm token"),
    ("openai", "OpenAIDetector", "OpenAI key"),
    ("pypi_token", "PypiTokenDetector", "PyPI token"),
    ("sendgrid", "SendGridDetector", "SendGrid key"),
    ("slack", "SlackDetector", "Slack token"),
    ("square_oauth", "SquareOAuthDetector", "Square OAuth secret"),
    ("stripe", "StripeDetector", "Stripe key"),
    ("telegram_token", "TelegramBotTokenDetector", "Telegram bot token"),
    ("twilio", "TwilioKeyDetector", "Twilio key"),
)
_OWN_SHAPES = (
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("API secret key", r"\bsk-(?:live-|test-|proj-|ant-|svcacct-)?[A-Za-z0-9_-]{16,}"),
    ("GitHub token", r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
    (
        "private key",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    ),
)
# `scheme://userinfo@`: all of the userinfo goes, user names included (often a token themselves).
_URL_USERINFO = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://(?P<value>[^/?#@\s\"'<>`]+)@")
_ASSIGNMENT = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.-]{1,60})[\"']?\s*[:=]\s*[\"']?(?P<value>[^\s\"'`,;&<>]{4,})"
)
_PASSWORDISH = SecretKeys(("password", "passwd", "pwd", "pass", "secret"))
_PLACEHOLDER = re.compile(
    r"^(?:\*+|x+|X+|•+|\.+|<.*>|\$\{.*\}|\$[A-Z_]+|\{\{.*\}\}|changeme|redacted|none|null)$", re.I
)
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_\-+/=]*")
_KEY_OR_URL = re.compile(r"[:=@]").search  # an assignment or a URL's userinfo needs one
_HEXISH = re.compile(r"[0-9a-f]+")  # run ids, git SHAs, digests, UUIDs: no shape
# Prefixes of the shapes whose body may be short or broken by dashes.
_PREFIX = re.compile(r"\b(?:sk|rk)[-_]|\bgh[pousr]_|\bgl[a-z]+-|\bxox[a-z]-|\bhf_|\beyJ")
# Every token shape has a run of 12+ letters and digits that is not all lowercase hex (run names,
# ids and digests do not). Found at the start of a maximal run, where the negative lookahead
# fails only if hex digits reach the run's end: one search, where a loop over the runs made a
# Python call each.
_TOKEN_START = re.compile(r"(?<![A-Za-z0-9])(?![0-9a-f]*(?![A-Za-z0-9]))[A-Za-z0-9]{12}")


@functools.cache
def _library_shapes() -> tuple[tuple[str, str], ...]:
    """detect-secrets' patterns, imported once (the import costs ~0.3 s; not every command
    needs it)."""
    import importlib

    out: list[tuple[str, str]] = []
    for module, cls, what in _DETECT_SECRETS:
        plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)
        for rx in plugin().denylist:
            out.append((what, rx.pattern))
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    # Its private-key patterns name the header only; ours masks the whole block.
    skip = {rx.pattern for rx in PrivateKeyDetector().denylist}
    return tuple((w, p) for w, p in out if p not in skip)


class SecretScanner:
    """Finds secret spans in text. Cheap tests come first, since almost every value holds no
    secret: every token shape needs a run of 16 token characters (or names a private key), a URL
    with credentials needs `://` and `@`, an assignment needs `:` or `=` and a secret word."""

    def __init__(
        self, key_patterns: Sequence[str] = DEFAULT_PATTERNS, extra_shapes: Iterable[str] = ()
    ) -> None:
        self.keys = SecretKeys(key_patterns)
        self._extra = tuple(re.compile(p, re.S) for p in extra_shapes)
        self._key_words = self.keys.words()
        # One of the key words in lowercased text, in one search (none: "(?!)" never matches).
        self._key_word = re.compile("|".join(map(re.escape, self._key_words or ())) or "(?!)")

    @functools.cached_property
    def _shapes(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """The token shapes, compiled when a value first passes `_may_hold_token`: most values
        of an ML store never do (the benchmark stores' none), and a pull that meets none never
        imports detect-secrets (0.08 s, before the store is read). One that does pays it there,
        in the process that met it."""
        return tuple((what, re.compile(p, re.S)) for what, p in (*_library_shapes(), *_OWN_SHAPES))

    def find(self, text: str) -> list[Secret]:
        """Every secret-looking span in `text`, in order, without overlaps."""
        if not self._extra and (
            (len(text) < 16 and _KEY_OR_URL(text) is None) or _HEXISH.fullmatch(text)
        ):
            return []  # most values: too short to hold a token, no key, no URL; or run ids
        found: list[Secret] = []
        if self._may_hold_token(text):
            for what, rx in self._shapes:
                for m in rx.finditer(text):
                    start, end = m.span(1) if rx.groups and m.group(1) else m.span()
                    if what != "private key":  # a match may stop short of a token's end (JWT)
                        end = _TOKEN_TAIL.match(text, end).end()  # type: ignore[union-attr]
                    if end > start:
                        found.append(Secret(start, end, what))
        for rx in self._extra:
            found += [Secret(*m.span(), "a pattern of redact_values") for m in rx.finditer(text)]
        if "://" in text and "@" in text:
            for m in _URL_USERINFO.finditer(text):
                found.append(Secret(m.start("value"), m.end("value"), "credentials in a URL"))
        if ("=" in text or ":" in text) and self._may_name_a_key(text):
            for m in _ASSIGNMENT.finditer(text):
                key, value = m.group("key"), m.group("value")
                if not self.keys.is_secret(key) or _PLACEHOLDER.match(value):
                    continue
                if _PASSWORDISH.is_secret(key) or _random_looking(value):
                    found.append(Secret(m.start("value"), m.end("value"), f"value of {key!r}"))
        if not found:
            return found
        found.sort(key=lambda s: (s.start, -s.end))
        out: list[Secret] = []
        for s in found:
            if out and s.start < out[-1].end:
                continue
            out.append(s)
        return out

    @staticmethod
    def _may_hold_token(text: str) -> bool:
        if "PRIVATE KEY" in text or "PuTTY" in text:
            return True
        return _TOKEN_START.search(text) is not None or _PREFIX.search(text) is not None

    def _may_name_a_key(self, text: str) -> bool:
        if self._key_words is None:  # glob patterns: no cheap test
            return True
        return self._key_word.search(text.lower()) is not None


def _random_looking(value: str) -> bool:
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return len(value) >= 8 and ((has_digit and has_alpha) or len(value) >= 24)


@functools.lru_cache(maxsize=16)
def _scanner(patterns: tuple[str, ...], extra: tuple[str, ...]) -> SecretScanner:
    return SecretScanner(patterns, extra)


def find_secrets(
    text: str, patterns: Sequence[str] = DEFAULT_PATTERNS, extra_shapes: Sequence[str] = ()
) -> list[Secret]:
    """Every secret-looking span in `text` (a scanner per settings, built once)."""
    return _scanner(tuple(patterns), tuple(extra_shapes)).find(text)
