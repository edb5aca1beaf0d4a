"""The bridges from Daybook to a static site generator.

`generate_pages` is the one function both bridges call: the mkdocs-gen-files script (so plain
`mkdocs build` / `mkdocs serve` regenerate the pages) and `daybook generate --out` (so any other
tool can read the pages from disk). Both therefore produce the same bytes.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from daybook.config import DaybookConfig, load_config, resolve_tracking_uri
from daybook.errors import DaybookError
from daybook.pages.nav import build_nav
from daybook.pages.render import Renderer
from daybook.pull import pull
from daybook.snapshot import Snapshot
from daybook.sources.mlflow import sqlite_path

log = logging.getLogger("mkdocs.plugins.daybook")
Progress = Callable[[str], None]
GENERATED_MARKER = ".daybook-generated"
STATIC = Path(__file__).resolve().parent / "static"
STYLESHEET = "assets/daybook/daybook.css"  # referenced by extra_css in mkdocs.yml


@dataclass(frozen=True)
class Site:
    root: Path  # the folder holding mkdocs.yml and daybook.yml
    config: DaybookConfig
    tracking_uri: str
    default_store: bool = False  # the URI is MLflow's default, not chosen by anyone

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"


def load_site(root: Path, tracking_uri: str | None = None) -> Site:
    root = root.resolve()
    config = load_config(root)
    default = not (tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or config.tracking_uri)
    return Site(root, config, resolve_tracking_uri(config, root, tracking_uri), default)


def _quiet(_: str) -> None:
    pass


def render_site(site: Site, snapshot: Snapshot, progress: Progress = _quiet) -> dict[str, str]:
    """Every generated page, keyed by its path under docs/, plus the navigation file."""
    from daybook.analysis.policy import page_run_ids

    page_runs = page_run_ids(site.config, snapshot.experiments, snapshot.runs, snapshot.models)
    page_runs &= {r.run_id for r in snapshot.runs}
    renderer = Renderer(site.config, snapshot, page_runs, site.templates)
    pages = renderer.render_all(progress)
    pages[STYLESHEET] = (STATIC / "daybook.css").read_text(encoding="utf-8")
    if not (site.docs_dir / "SUMMARY.md").exists():
        pages["SUMMARY.md"] = build_nav(renderer.model, renderer.paths, handwritten(site))
    return dict(sorted(pages.items()))


def generate_pages(site: Site, progress: Progress = _quiet) -> dict[str, str]:
    path = sqlite_path(site.tracking_uri)
    if site.default_store and path is not None and not path.exists():
        # A new site with no store yet still builds (and says what to do) instead of failing.
        progress(f"no MLflow store at {path}; building an empty site")
        snapshot = Snapshot(
            tracking_uri=site.tracking_uri,
            experiments=(),
            runs=(),
            models=(),
            warnings=(
                f"No MLflow store at {path.name} beside mkdocs.yml. Run `daybook demo` for a demo "
                "store, or point `tracking_uri` in daybook.yml (or MLFLOW_TRACKING_URI) at yours.",
            ),
        )
    else:
        snapshot = pull(site.config, site.tracking_uri, progress=progress)
    return render_site(site, snapshot, progress)


def handwritten(site: Site) -> list[str]:
    """Top-level entries of docs/ that people wrote (they keep their place in the nav)."""
    if not site.docs_dir.is_dir():
        return []
    skip = {"index.md", "SUMMARY.md", "experiments", "models", "assets", "stylesheets",
            "javascripts", "overrides"}  # fmt: skip
    out = []
    for p in sorted(site.docs_dir.iterdir()):
        if p.name.startswith((".", "_")) or p.name in skip:
            continue
        if p.is_dir() or p.suffix == ".md":
            out.append(p.name)
    return out


def write_pages(pages: dict[str, str], out_dir: Path) -> int:
    """Write the tree to disk, replacing what an earlier `generate` wrote there (and only that:
    a folder that holds anything else is refused, so a typo can never wipe someone's docs)."""
    out_dir = out_dir.resolve()
    if out_dir.exists():
        if not out_dir.is_dir():
            raise DaybookError(f"{out_dir}: exists and is not a folder")
        if any(out_dir.iterdir()) and not (out_dir / GENERATED_MARKER).exists():
            raise DaybookError(
                f"{out_dir}: folder is not empty and was not written by `daybook generate`; "
                "choose an empty or new folder"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / GENERATED_MARKER).write_text(
        "Written by `daybook generate`; replaced on each run.\n"
    )
    for rel, text in pages.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return len(pages)


# --- mkdocs-gen-files bridge ---------------------------------------------------------------------

_PRECOMPUTED: dict[Path, dict[str, str]] = {}


def precompute(site: Site, pages: dict[str, str]) -> None:
    """`daybook build` pulls once with progress and hands the pages to the gen-files script."""
    _PRECOMPUTED[site.root] = pages


def gen_files_main() -> None:
    """Body of the site's gen-files script: regenerate the pages inside a MkDocs build."""
    import mkdocs_gen_files
    from mkdocs.exceptions import PluginError

    config_file = mkdocs_gen_files.config.config_file_path
    root = Path(config_file).resolve().parent if config_file else Path.cwd()
    pages = _PRECOMPUTED.pop(root.resolve(), None)
    if pages is None:
        try:
            site = load_site(root)
            pages = generate_pages(site, progress=log.info)
        except DaybookError as exc:
            raise PluginError(f"daybook: {exc}") from None
    for rel, text in pages.items():
        with mkdocs_gen_files.open(rel, "w", encoding="utf-8") as fh:
            fh.write(text)
    _hide_nav_file()


def _hide_nav_file() -> None:
    """literate-nav reads SUMMARY.md; MkDocs should not also publish it as a page."""
    import mkdocs_gen_files
    from mkdocs.structure.files import InclusionLevel

    editor = mkdocs_gen_files.FilesEditor.current()
    nav = editor.files.get_file_from_path("SUMMARY.md")
    if nav is not None and getattr(nav, "generated_by", None) == "mkdocs-gen-files":
        nav.inclusion = InclusionLevel.EXCLUDED
