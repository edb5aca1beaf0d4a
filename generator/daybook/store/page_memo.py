"""The pages of the last render, kept with a digest of everything they were made from
(`.daybook/cache/pages.bin`): a render whose inputs are all the same reuses them instead of
rendering again (issue #14: 6.5 s of a 20,000-run site's generate, where MkDocs takes 18 s).

The caller keeps pages only where "now" is fixed (an offline generate: the time of the pull), so
it happens on every offline rebuild that reads nothing new: `daybook generate --offline` again,
`daybook serve --offline` (or `mkdocs serve` with DAYBOOK_OFFLINE) reloading after an edit to a
hand-written page. Any change (one note, one run, one setting) renders everything again: the pages
are one function of all their inputs, so there is no smaller unit that is safe to reuse.

Safe by construction, not by a list of what pages happen to read: the key digests every argument
of the render whole, with Daybook's own code and the versions of the libraries that shape its
output (see `render_key`). A value of a type the digest does not know raises `TypeError`, and the
caller then renders without the memo: a key can change for nothing, never stay the same when
something changed. One file, replaced by each render, so it never outgrows one site's pages; a
file that cannot be read or written only costs the render (it is a cache).
"""

from __future__ import annotations

import array
import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import importlib.metadata
import mmap
import os
import struct
import sys
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import Any

import orjson
import pydantic

import daybook
from daybook.core.site import Generated
from daybook.core.snapshot import Problem, Snapshot
from daybook.store.atomic import temporary_for

MEMO_FILE = "pages.bin"
FORMAT = b"daybook-pages 1 "  # then the key and a newline; bump the number on any change
# Libraries whose version can change a page's bytes: the template engine and its escaping, the
# sanitizer of notes' HTML, the JSON writer of data files, Markdown and its highlighter (notes'
# checks), the chart library's bundler, YAML (cards' front matter), the settings' models.
LIBRARIES = ("jinja2", "markupsafe", "nh3", "orjson", "markdown", "pygments", "pyyaml",
             "pydantic", "vl-convert-python")  # fmt: skip
_RUN_CHUNK = 4096  # runs encoded per orjson call: bounded memory, few calls


class Digest:
    """An unambiguous digest of plain data: every value is written with its type and length,
    containers in their order (sets sorted by their items' digests), dataclasses and pydantic
    models field by field under their class name. Nothing depends on `hash()` or `id()`, so
    two processes (any PYTHONHASHSEED) give equal digests for equal data."""

    def __init__(self) -> None:
        self._h = hashlib.blake2b(digest_size=20)

    def hexdigest(self) -> str:
        return self._h.hexdigest()

    def raw(self, tag: bytes, data: bytes) -> None:
        self._h.update(tag + struct.pack("<Q", len(data)) + data)

    def add(self, value: Any) -> None:
        handler = _HANDLERS.get(type(value))
        if handler is not None:
            handler(self, value)
        elif isinstance(value, Snapshot):
            self._snapshot(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            self.raw(b"D", type(value).__qualname__.encode())
            for f in dataclasses.fields(value):
                self.raw(b"F", f.name.encode())
                self.add(getattr(value, f.name))
        elif isinstance(value, pydantic.BaseModel):
            self.raw(b"M", type(value).__qualname__.encode())
            self.add(value.model_dump(mode="python"))
        elif isinstance(value, enum.Enum):
            self.raw(b"E", type(value).__qualname__.encode())
            self.add(value.value)
        elif isinstance(value, PurePath):
            self.raw(b"P", str(value).encode("utf-8", "surrogateescape"))
        elif isinstance(value, (dt.date, dt.time)):  # datetime is a date
            self.raw(b"T", f"{type(value).__name__} {value.isoformat()}".encode())
        elif isinstance(value, (str, bytes, int, float, tuple, list, dict, set, frozenset)):
            self.raw(b"C", type(value).__qualname__.encode())  # a subclass (Markup is a str)
            _HANDLERS[_base(value)](self, value)
        else:
            raise TypeError(f"cannot digest a {type(value).__qualname__}")

    def _snapshot(self, s: Snapshot) -> None:
        """The runs and histories in bulk (a walk over 100,000 runs' fields in Python takes
        seconds): orjson writes dataclasses whole, in C. It skips fields named `_x` (a run has
        none: tested) and writes every non-finite float as null, so the floats (metric values,
        the only floats a run holds: tested) are added again as their 8 bytes each. Every other
        field of the snapshot goes through `add`."""
        self.raw(b"N", type(s).__qualname__.encode())
        for f in dataclasses.fields(s):
            self.raw(b"F", f.name.encode())
            value = getattr(s, f.name)
            if f.name == "runs":
                for i in range(0, len(value), _RUN_CHUNK):
                    chunk = value[i : i + _RUN_CHUNK]
                    self.raw(b"r", orjson.dumps(chunk))
                    floats = [v for r in chunk for v in r.metrics.values()]
                    self.raw(b"v", array.array("d", floats).tobytes())
            elif f.name == "histories":
                self.raw(b"d", str(len(value)).encode())
                for run_id, histories in value.items():
                    self.raw(b"h", orjson.dumps([run_id, histories]))
                    for h in histories:
                        self.raw(b"v", array.array("d", h.values).tobytes())
            else:
                self.add(value)


def _base(value: Any) -> type:
    return next(t for t in _HANDLERS if type(value) is not t and isinstance(value, t))


def _items(tag: bytes) -> Callable[[Digest, Iterable[Any]], None]:
    def add(d: Digest, values: Iterable[Any]) -> None:
        values = list(values)
        d.raw(tag, str(len(values)).encode())
        for v in values:
            d.add(v)

    return add


def _dict(d: Digest, value: dict[Any, Any]) -> None:
    d.raw(b"d", str(len(value)).encode())
    for k, v in value.items():  # in their order: an order pages follow is part of the input
        d.add(k)
        d.add(v)


def _set(d: Digest, value: set[Any] | frozenset[Any]) -> None:
    digests = []
    for item in value:
        one = Digest()
        one.add(item)
        digests.append(one.hexdigest())
    d.raw(b"S", " ".join(sorted(digests)).encode())


_HANDLERS: dict[type, Callable[[Digest, Any], None]] = {
    type(None): lambda d, v: d.raw(b"n", b""),
    bool: lambda d, v: d.raw(b"?", b"1" if v else b"0"),
    int: lambda d, v: d.raw(b"i", str(v).encode()),
    float: lambda d, v: d.raw(b"f", repr(v).encode()),  # repr: nan, inf and -0.0 stay apart
    str: lambda d, v: d.raw(b"s", v.encode("utf-8", "surrogatepass")),
    bytes: lambda d, v: d.raw(b"b", v),
    tuple: _items(b"t"),
    list: _items(b"l"),
    dict: _dict,
    set: _set,
    frozenset: _set,
}


def digest(*values: Any) -> str:
    d = Digest()
    for v in values:
        d.add(v)
    return d.hexdigest()


@functools.cache
def code_digest() -> str:
    """Daybook's own files (code, templates, scripts, stylesheets) and the versions of Python
    and of the libraries in LIBRARIES: a changed template or an upgrade renders again, even in
    an editable install whose version number did not move."""
    d = Digest()
    root = Path(daybook.__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            d.add(path.relative_to(root).as_posix())
            d.add(path.read_bytes())
    d.add(sys.version)
    for name in LIBRARIES:
        try:
            d.add(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            d.add(f"{name} -")
    return d.hexdigest()


def folder_digest(folder: Path) -> str:
    """Every file below `folder` (a site's templates/), by relative path and bytes."""
    d = Digest()
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                d.add(path.relative_to(folder).as_posix())
                d.add(path.read_bytes())
    return d.hexdigest()


def file_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


class PageMemo:
    """`get` the pages kept under a key, `put` a render's: one file in `folder`.

    The file: the format line with the key (so a miss reads one line), then the pages' and
    files' bytes one after another, then a JSON footer (their paths and sizes, the problems,
    the replaced files) and its size in 8 bytes. Written page by page to a temporary file and
    renamed into place: no second copy of a 270 MB site in memory, and no half file read."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / MEMO_FILE

    def get(self, key: str) -> Generated | None:
        """The render kept under `key` (its `reference` is the caller's: it is in the key).
        The file is mapped, not read: only the pages made from it are held in memory."""
        try:
            with self.path.open("rb") as fh:
                if fh.readline() != FORMAT + key.encode() + b"\n":
                    return None
                start = fh.tell()
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    return _parse(data, start)
        except (OSError, ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError):
            return None

    def put(self, key: str, generated: Generated) -> None:
        footer: dict[str, Any] = {"pages": [], "files": []}
        tmp = temporary_for(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                fh.write(FORMAT + key.encode() + b"\n")
                for path, text in generated.pages.items():
                    footer["pages"].append([path, fh.write(text.encode("utf-8"))])
                for path, data in generated.files.items():
                    footer["files"].append([path, fh.write(data)])
                footer["problems"] = [dataclasses.asdict(p) for p in generated.problems]
                footer["replaced"] = list(generated.replaced)
                raw = orjson.dumps(footer)
                fh.write(raw + struct.pack("<Q", len(raw)))
            os.replace(tmp, self.path)
        except (OSError, UnicodeEncodeError):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def _parse(data: mmap.mmap, at: int) -> Generated | None:
    (size,) = struct.unpack("<Q", data[-8:])
    end = len(data) - 8 - size
    footer = orjson.loads(data[end:-8])
    pages: dict[str, str] = {}
    for path, n in footer["pages"]:
        pages[path] = data[at : at + n].decode("utf-8")
        at += n
    files: dict[str, bytes] = {}
    for path, n in footer["files"]:
        files[path] = data[at : at + n]
        at += n
    if at != end:
        return None
    problems = [Problem(**p) for p in footer["problems"]]
    return Generated(pages, problems, list(footer["replaced"]), None, files)
