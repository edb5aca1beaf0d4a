"""Session fixtures: one real MLflow store, one real site built from it with MkDocs --strict.

The whole session runs in a fresh, empty working directory, so a test can tell when anything (a
reader, MLflow, MkDocs) leaves a file where it should not.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Snapshot
from daybook.mkdocs.scaffold import init_site
from daybook.store.pull import pull
from helpers import fingerprint, run_cli
from store_builder import StoreInfo, build_deleted_store, build_store

# No example database in the working directory, and no flaky deadlines on a busy machine.
settings.register_profile(
    "daybook", database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("daybook")

# The regression experiment ranks by a configured metric; every other one by a guessed metric.
SITE_CONFIG = """
primary_metrics:
  - experiment: "regression"
    metric: val_rmse
"""


@pytest.fixture(scope="session", autouse=True)
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh, empty working directory for the whole session, with no tracking URI set."""
    path = tmp_path_factory.mktemp("cwd")
    saved_env = {k: os.environ.pop(k) for k in ("MLFLOW_TRACKING_URI",) if k in os.environ}
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    os.environ.setdefault("DISABLE_MKDOCS_2_WARNING", "true")
    old = Path.cwd()
    os.chdir(path)
    yield path
    os.chdir(old)
    os.environ.update(saved_env)


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> StoreInfo:
    """The fixture MLflow store (tests/store_builder.py), built once, in a folder of its own."""
    root = tmp_path_factory.mktemp("store")
    with contextlib.chdir(root):  # whatever MLflow writes while building stays beside the store
        return build_store(root)


@pytest.fixture(scope="session")
def store_before(store: StoreInfo) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file of the store, taken before anything read it."""
    return fingerprint(store.db_path.parent)


@pytest.fixture(scope="session")
def deleted_store(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> StoreInfo:
    root = tmp_path_factory.mktemp("deleted-store")
    with contextlib.chdir(root):
        return build_deleted_store(root)


@pytest.fixture(scope="session")
def snapshot(store: StoreInfo, store_before: dict) -> Snapshot:
    """What the default configuration pulls from the fixture store (direct SQL reader)."""
    return pull(DaybookConfig(), store.uri)


@dataclass(frozen=True)
class BuiltSite:
    root: Path  # the site folder (mkdocs.yml, daybook.yml, docs/, templates/)
    html: Path  # the built HTML
    stderr: str  # what `daybook build` printed

    def page(self, rel: str) -> Path:
        """The HTML of a page, by its Markdown path (`experiments/x/index.md`)."""
        stem = rel.removesuffix(".md")
        if stem == "index" or stem.endswith("/index"):
            return self.html / stem.removesuffix("index") / "index.html"
        return self.html / stem / "index.html"

    def run_page(self, run_id: str) -> Path:
        """The HTML page of a run (run pages end with the first 8 characters of the id)."""
        [path] = self.html.glob(f"experiments/*/runs/*-{run_id[:8]}/index.html")
        return path

    def html_files(self) -> list[Path]:
        return sorted(self.html.rglob("*.html"))


def make_site(root: Path) -> Path:
    """`daybook init` a site and give it the test configuration."""
    init_site(root)
    with (root / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write(SITE_CONFIG)
    return root


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> Path:
    return make_site(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture(scope="session")
def built_site(site_root: Path, store: StoreInfo, store_before: dict) -> BuiltSite:
    """`daybook build --strict` of the fixture store with the real MkDocs, once per session."""
    result = run_cli("build", "--strict", "-C", site_root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    html = site_root / "site"
    assert (html / "index.html").is_file()
    return BuiltSite(site_root, html, result.stderr)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, site_root: Path, store: StoreInfo) -> Path:
    """`daybook generate --out` of the same site and store, once per session."""
    out = tmp_path_factory.mktemp("generated") / "out"
    result = run_cli("generate", "-q", "-C", site_root, "--tracking-uri", store.uri, "--out", out)
    assert result.returncode == 0, result.stderr
    return out
