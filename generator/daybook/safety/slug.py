"""The one place where names become file paths.

Every page path is built from slugs made here, so a hostile name can never produce `..`, an
absolute path, or a path that collides with another name's.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_MAX_LEN = 60
# Names that mean something to MkDocs or to some file systems.
_RESERVED = {"index", "con", "prn", "aux", "nul", "com1", "lpt1", "assets", "search"}


def _digest(text: str, length: int = 6) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def slugify(text: str) -> str:
    """Lowercase ASCII letters, digits and single dashes; never empty, never a dot path."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    slug = slug[:_MAX_LEN].rstrip("-")
    if not slug:
        # Names with no ASCII letters at all (e.g. CJK) still get a stable, distinct slug.
        return "n-" + _digest(str(text), 8)
    if slug in _RESERVED:
        slug = f"{slug}-{_digest(str(text))}"
    return slug


def is_slug(part: str) -> bool:
    return bool(_SLUG_RE.match(part))


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Map each name to a slug no other name in the group shares.

    A name that is already its own slug keeps it; any other name whose slug collides gets a short
    hash of the name appended, so the result depends only on the set of names, not their order.
    """
    groups: dict[str, list[str]] = {}
    for name in sorted(set(names)):
        groups.setdefault(slugify(name), []).append(name)
    result: dict[str, str] = {}
    taken = set(groups)
    for base, members in groups.items():
        if len(members) == 1:
            result[members[0]] = base
            continue
        for name in members:
            if name == base:
                result[name] = base
                continue
            length = 6
            candidate = f"{base[: _MAX_LEN - 9]}-{_digest(name, length)}"
            while candidate in taken:
                length += 2
                candidate = f"{base[: _MAX_LEN - 9]}-{_digest(name, length)}"
            taken.add(candidate)
            result[name] = candidate
    return result


def page_path(*parts: str, suffix: str = ".md") -> str:
    """Join slugs into a relative page path, refusing anything that is not a slug."""
    for part in parts:
        if not is_slug(part):
            raise ValueError(f"not a slug: {part!r}")
    return "/".join(parts) + suffix
