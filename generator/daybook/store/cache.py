"""Daybook's rebuildable cache (`.daybook/cache/`): the chart library (vega.js, seconds for
vl-convert to bundle), kept between builds. Chart SVGs are drawn in Python now, too cheap to
cache (issue #14); `charts/` left by earlier versions is emptied. Best effort: a cache that cannot
be written is only slower."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR = ".daybook/cache"


class FileCache:
    """Text files by relative name (`charts/<key>.svg`), written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, name: str) -> str | None:
        path = self.folder / name
        try:
            return path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, name: str, text: str) -> None:
        path = self.folder / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass

    def keep_only(self, folder: str, names: set[str]) -> None:
        """Forget the files of `folder` a build did not use, so the cache never outgrows the
        site."""
        base = self.folder / folder
        if not base.is_dir():
            return
        for f in base.iterdir():
            if f.is_file() and f.name not in names:
                f.unlink(missing_ok=True)
