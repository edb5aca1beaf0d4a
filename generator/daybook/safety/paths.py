"""The building machine's paths, kept off the site.

A local store is full of absolute paths: its own file, `file:///…/mlartifacts/…` artifact roots,
the script that logged a run (`mlflow.source.name`), dataset files, error messages naming files.
None of it means anything to a reader of the published site, and all of it tells where and as
whom the site was built. Every text is rewritten through the known local folders, most specific
first: the store's folder and the site's folder become relative paths, a local artifact root
becomes `public_artifact_root` when daybook.yml sets one, the home folder becomes `~`, the
Python environment `<python>`, the temp folder `<tmp>`. Server URLs are left as they are.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

_END = r"(?=[/\\\s\"'<>()\[\]`,;:|]|$)"  # a path component ends here
_REST = r"(?P<rest>(?:/[^\s\"'<>()\[\]`,;|]*)?)"


@dataclass(frozen=True)
class LocalPaths:
    """Rewrites absolute local paths (plain or as `file:` URIs) in text."""

    roots: tuple[tuple[str, str], ...]  # (absolute folder, shown instead; "" = relative)

    def __post_init__(self) -> None:
        ordered = sorted(
            {p.rstrip("/"): r for p, r in self.roots if len(p.rstrip("/")) > 1}.items(),
            key=lambda pr: -len(pr[0]),
        )
        object.__setattr__(self, "roots", tuple(ordered))
        alternatives = "|".join(re.escape(p) for p, _ in ordered)  # longest first
        pattern = rf"(?:file:(?://(?:localhost)?)?)?(?P<root>{alternatives}){_END}{_REST}"
        object.__setattr__(self, "_rx", re.compile(pattern) if ordered else None)
        object.__setattr__(self, "_shown", dict(ordered))  # a matched root's text: its key
        # Any root at all, as one search of literals: most values hold none, and this test
        # runs on every one (6x cheaper than a substring test per root).
        probe = "|".join(re.escape(p) for p, _ in ordered)
        object.__setattr__(self, "_probe", re.compile(probe).search if ordered else None)

    @property
    def probe(self) -> Callable[[str], object] | None:
        """A test for "holds a local folder" (a match or None), in C; None when no folder is
        known."""
        return self._probe  # type: ignore[attr-defined,no-any-return]

    def text(self, text: str) -> str:
        rx: re.Pattern[str] | None = self._rx  # type: ignore[attr-defined]
        if rx is None or self._probe(text) is None:  # type: ignore[attr-defined]
            return text
        return rx.sub(self._replace, text)

    def _replace(self, m: re.Match[str]) -> str:
        root, rest = m.group("root", "rest")
        shown = self._shown[root]  # type: ignore[attr-defined]
        if not shown:
            return rest.lstrip("/") or "."
        return shown.rstrip("/") + rest

    @classmethod
    def of(
        cls,
        site_root: Path,
        store_dir: Path | None = None,
        artifact_roots: Iterable[tuple[str, str]] = (),
        public_artifact_root: str | None = None,
    ) -> LocalPaths:
        """The building machine's folders: `artifact_roots` are local experiment artifact
        folders with their experiment ids (MLflow puts each under a common root)."""
        roots: list[tuple[str, str]] = []
        if public_artifact_root:
            for location, experiment_id in artifact_roots:
                path = local_path(location)
                if path is not None and path.name == experiment_id:
                    roots.append((str(path.parent), public_artifact_root))
        for folder in (store_dir, site_root, Path.cwd()):
            if folder is not None:
                roots += [(p, "") for p in _spellings(folder)]
        roots += [(p, "<python>") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]
        roots += [(p, "~") for p in _spellings(Path.home())]
        roots += [(p, "<tmp>") for p in _spellings(Path(tempfile.gettempdir()))]
        return cls(tuple(roots))


def local_path(uri: str) -> Path | None:
    """The local folder of an artifact location (`file:///x`, `/x`), else None."""
    if uri.startswith("file:"):
        rest = re.sub(r"^file:(?://(?:localhost)?)?", "", uri)
        return Path(rest) if rest.startswith("/") else None
    return Path(uri) if uri.startswith("/") else None


def _spellings(folder: Path) -> set[str]:
    """A folder as written and with symlinks resolved (/tmp vs /private/tmp on macOS)."""
    out = {os.path.abspath(folder)}
    with contextlib.suppress(OSError):
        out.add(str(folder.resolve()))
    return out
