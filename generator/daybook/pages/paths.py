"""Where each generated page lives, and how one page links to another.

All paths come from `daybook.safety.slug`; links are relative `.md` paths so MkDocs checks every
one of them (a broken link fails `mkdocs build --strict`).

Every run has a link. Only some runs get a page of their own (see analysis/policy.py); the others
are shown by the run viewer, one page (`runs/index.md`) that renders any run from JSON beside it,
addressed by a fragment (`runs/#<run id>`): a URL that works on any static host and never rots
when a run leaves the top N. MkDocs checks fragments of Markdown links against the anchors of the
target page (and logs one line per miss), so links to the viewer are written as HTML with the
URL the browser resolves (see `page_url`), not as Markdown links.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from daybook.core.snapshot import Experiment, RegisteredModel, Run, Snapshot
from daybook.safety.escape import md_link, md_text
from daybook.safety.slug import page_path, slugify, unique_slugs

HOME = "index.md"
EXPERIMENTS = "experiments/index.md"
MODELS = "models/index.md"
VIEWER = "runs/index.md"  # the run viewer: any run, at runs/#<run id>
_FRAGMENT_OK = re.compile(r"^[A-Za-z0-9_-]+$")  # MLflow run ids are 32 hex digits


@dataclass(frozen=True)
class SitePaths:
    experiment_slugs: dict[str, str]  # experiment id -> slug
    model_slugs: dict[str, str]  # model name -> slug
    run_pages: dict[str, str]  # run id -> page path (only runs that get a page)
    directory_urls: bool = True  # mkdocs.yml's use_directory_urls: where `x.md` is served

    @classmethod
    def build(
        cls, snapshot: Snapshot, page_runs: Iterable[str], directory_urls: bool = True
    ) -> SitePaths:
        by_name = unique_slugs(e.name for e in snapshot.experiments)
        exp_slugs = {e.experiment_id: by_name[e.name] for e in snapshot.experiments}
        model_slugs = unique_slugs(m.name for m in snapshot.models)
        wanted = set(page_runs)
        run_pages: dict[str, str] = {}
        used: set[str] = set()
        for run in sorted(snapshot.runs, key=lambda r: r.run_id):
            if run.run_id not in wanted or run.experiment_id not in exp_slugs:
                continue
            exp = exp_slugs[run.experiment_id]
            name = slugify(run.name)[:40].rstrip("-") if run.name else "run"
            rid = slugify(run.run_id)
            path = page_path("experiments", exp, "runs", f"{name}-{rid[:8]}")
            if path in used:  # two runs whose ids share 8 characters: use the whole id
                path = page_path("experiments", exp, "runs", f"{name}-{rid}")
            used.add(path)
            run_pages[run.run_id] = path
        return cls(exp_slugs, model_slugs, run_pages, directory_urls)

    def experiment(self, experiment_id: str) -> str:
        return page_path("experiments", self.experiment_slugs[experiment_id], "index")

    def model(self, name: str) -> str:
        return page_path("models", self.model_slugs[name], "index")

    def card(self, name: str) -> str:
        """The merged model card, beside the model's page."""
        return page_path("models", self.model_slugs[name], "card")

    def run_page(self, run_id: str) -> str | None:
        """The run's own page, when it has one (it may lose it in a later build)."""
        return self.run_pages.get(run_id)

    def run(self, run_id: str) -> str | None:
        """Where a link to the run goes: its own page, else the viewer with the run's id as the
        fragment (`runs/index.md#<id>`). None only for an id no URL can carry."""
        page = self.run_pages.get(run_id)
        if page is not None:
            return page
        return viewer_target(run_id)

    def url(self, from_page: str, target: str) -> str:
        """A link target (a page path, maybe with `#fragment`) as the URL the browser resolves
        from `from_page`, for HTML and JSON that MkDocs does not rewrite."""
        return relative_url(from_page, target, self.directory_urls)

    def site_url(self, target: str) -> str:
        """A link target as a URL from the site's root (what `daybook link` prints)."""
        path, _, fragment = target.partition("#")
        url = page_url(path, self.directory_urls) if path.endswith(".md") else path
        return url + (f"#{fragment}" if fragment else "")


def viewer_target(run_id: str) -> str | None:
    """The viewer's address of a run; None for an id that is not safe in a URL fragment."""
    return f"{VIEWER}#{run_id}" if _FRAGMENT_OK.match(run_id) else None


def page_url(path: str, directory_urls: bool) -> str:
    """The URL (relative to the site root) MkDocs gives a Markdown page: `x.md` is served at
    `x/` with use_directory_urls, else at `x.html`; `a/index.md` at `a/` or `a/index.html`."""
    stem = path.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        folder = stem.removesuffix("index")
        return folder if directory_urls else folder + "index.html"
    return stem + "/" if directory_urls else stem + ".html"


def relative_url(from_page: str, target: str, directory_urls: bool) -> str:
    """The URL of `target` (a page path ending in .md, maybe with a `#fragment`, or any other
    file) relative to the URL of `from_page`, as the browser resolves it."""
    path, _, fragment = target.partition("#")
    rel = _relative_path(from_page, path, directory_urls)
    return rel + "#" + fragment if fragment else rel


@functools.lru_cache(maxsize=65_536)
def _relative_path(from_page: str, path: str, directory_urls: bool) -> str:
    """`relative_url` without the fragment, remembered: a build asks for the same few (page,
    target) pairs tens of thousands of times (every run of the viewer's shards and of runs.json
    links from one page to the viewer), and `posixpath.relpath` was a fifth of rendering."""
    base = page_url(from_page, directory_urls)
    base_dir = base if base.endswith("/") or not base else posixpath.dirname(base)
    to = page_url(path, directory_urls) if path.endswith(".md") else path
    rel = _relpath(to or ".", base_dir or ".")
    if to.endswith("/") or not to:
        rel = rel.rstrip("/") + "/"
    return rel


@functools.lru_cache(maxsize=65_536)
def relative(from_page: str, to_page: str) -> str:
    """A link from one page to another, as MkDocs resolves Markdown links (remembered, as
    `_relative_path`)."""
    return _relpath(to_page, posixpath.dirname(from_page) or ".")


def _relpath(path: str, start: str) -> str:
    """`posixpath.relpath` of two site paths, worked out on the names alone: the same result
    for paths inside the site, without asking the OS for the working directory each time
    (`getcwd` alone cost seconds of a 20,000-run build on a busy machine). Anything else
    (absolute, or leaving the site with `..`) goes to `posixpath.relpath`."""
    p, s = posixpath.normpath(path), posixpath.normpath(start)
    if not path or not start or p.startswith(("/", "..")) or s.startswith(("/", "..")):
        return posixpath.relpath(path, start)
    to = [x for x in p.split("/") if x and x != "."]
    base = [x for x in s.split("/") if x and x != "."]
    common = 0
    for a, b in zip(to, base, strict=False):
        if a != b:
            break
        common += 1
    parts = [".."] * (len(base) - common) + to[common:]
    return "/".join(parts) if parts else "."


class Linker:
    """Links as seen from one page: `link.run(r)` links the run's page when it has one, the run
    viewer otherwise (its escaped name only for a run the snapshot does not hold). Templates get
    one as `link`."""

    def __init__(self, paths: SitePaths, page: str, runs: dict[str, Run]) -> None:
        self.paths = paths
        self.page = page
        self._runs = runs

    def to(self, path: str, label: object) -> Markup:
        return md_link(label, relative(self.page, path))

    def run(self, run: Run | str, label: object | None = None) -> Markup:
        r = self._runs.get(run) if isinstance(run, str) else run
        if r is None:
            return md_text(label if label is not None else str(run)[:8])
        text = label if label is not None else run_label(r)
        page = self.paths.run_page(r.run_id)
        if page is not None:
            return self.to(page, text)
        target = viewer_target(r.run_id)
        if target is None:
            return md_text(text)
        return html_link(text, self.paths.url(self.page, target))

    def experiment(self, exp: Experiment | str, label: object | None = None) -> Markup:
        eid = exp if isinstance(exp, str) else exp.experiment_id
        if eid not in self.paths.experiment_slugs:
            return md_text(label if label is not None else eid)
        text = label if label is not None else (exp if isinstance(exp, str) else exp.name)
        return self.to(self.paths.experiment(eid), text)

    def model(self, model: RegisteredModel | str, label: object | None = None) -> Markup:
        name = model if isinstance(model, str) else model.name
        if name not in self.paths.model_slugs:
            return md_text(label if label is not None else name)
        return self.to(self.paths.model(name), label if label is not None else name)

    def version(self, name: str, version: int) -> Markup:
        label = f"{name} v{version}"
        if name not in self.paths.model_slugs:
            return md_text(label)
        return md_link(label, relative(self.page, self.paths.model(name)) + f"#v{int(version)}")


def html_link(label: object, href: str) -> Markup:
    """A link MkDocs must not check (the viewer's fragments are no anchors of its page), as
    inline HTML inside Markdown; `href` is built from slugs and a checked run id."""
    if not _HTML_HREF_OK.match(href):
        raise ValueError(f"unsafe link target: {href!r}")
    return Markup(f'<a href="{href}">{md_text(label)}</a>')


_HTML_HREF_OK = re.compile(r"^[A-Za-z0-9._~/-]*(?:#[A-Za-z0-9_-]+)?$")


def run_label(run: Run) -> str:
    return run.name or run.run_id[:8]
