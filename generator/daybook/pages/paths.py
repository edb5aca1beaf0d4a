"""Where each generated page lives, and how one page links to another.

All paths come from `daybook.safety.slug`; links are relative `.md` paths so MkDocs checks every
one of them (a broken link fails `mkdocs build --strict`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from daybook.core.snapshot import Experiment, RegisteredModel, Run, Snapshot
from daybook.safety.escape import md_link, md_text
from daybook.safety.slug import page_path, slugify, unique_slugs

HOME = "index.md"
EXPERIMENTS = "experiments/index.md"
MODELS = "models/index.md"


@dataclass(frozen=True)
class SitePaths:
    experiment_slugs: dict[str, str]  # experiment id -> slug
    model_slugs: dict[str, str]  # model name -> slug
    run_pages: dict[str, str]  # run id -> page path (only runs that get a page)

    @classmethod
    def build(cls, snapshot: Snapshot, page_runs: Iterable[str]) -> SitePaths:
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
        return cls(exp_slugs, model_slugs, run_pages)

    def experiment(self, experiment_id: str) -> str:
        return page_path("experiments", self.experiment_slugs[experiment_id], "index")

    def model(self, name: str) -> str:
        return page_path("models", self.model_slugs[name], "index")

    def card(self, name: str) -> str:
        """The merged model card, beside the model's page."""
        return page_path("models", self.model_slugs[name], "card")

    def run(self, run_id: str) -> str | None:
        return self.run_pages.get(run_id)


def relative(from_page: str, to_page: str) -> str:
    """A link from one page to another, as MkDocs resolves Markdown links."""
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")


class Linker:
    """Links as seen from one page: `link.run(r)` is a link when the run has a page, its escaped
    name otherwise. Templates get one as `link`."""

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
        path = self.paths.run(r.run_id)
        return self.to(path, text) if path else md_text(text)

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


def run_label(run: Run) -> str:
    return run.name or run.run_id[:8]
