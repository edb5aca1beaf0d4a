"""`daybook demo`: the demo store, and in a site the demo's notes, card, settings and history.

The demo trains real scikit-learn models, so it needs the optional `demo` extra; without it the
command says in one line what to install instead of failing on an import.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from daybook.core.errors import DaybookError

Progress = Callable[[str], None]
# What the demo imports beyond the core install (module: distribution), and the extra that
# brings them: the full `mlflow` (its store writer, pandas, skops) and scikit-learn.
NEEDS = {"sklearn": "scikit-learn", "skops": "skops", "pandas": "pandas"}
INSTALL_HINT = "pip install 'daybook[demo]'"


@dataclass
class DemoOutcome:
    created: bool
    db_path: Path
    tracking_uri: str
    notices: list[str] = field(default_factory=list)  # what the user should read (stderr)


def missing_demo_packages() -> list[str]:
    """What the demo needs and this environment lacks (distribution names, for pip)."""
    missing = [dist for module, dist in NEEDS.items() if not _importable(module)]
    try:
        importlib.metadata.version("mlflow")  # the core install has mlflow-skinny only
    except importlib.metadata.PackageNotFoundError:
        missing.insert(0, "the full mlflow")
    return missing


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked install
        return False


def run_demo(
    directory: Path,
    notes_site: Path | None,
    *,
    notes: bool,
    progress: Progress,
    now_ms: int,
) -> DemoOutcome:
    """Create the store in `directory` (left alone if it exists); in a site, the rest of the
    demo too. Files that exist are never overwritten."""
    missing = missing_demo_packages()
    if missing:
        raise DaybookError(
            f"`daybook demo` trains real models and needs {', '.join(missing)}: {INSTALL_HINT}"
        )
    from daybook.demo.models import write_demo_models
    from daybook.demo.notes import write_demo_notes
    from daybook.demo.settings import write_demo_settings
    from daybook.demo.store import DemoError, create_demo_store

    directory.mkdir(parents=True, exist_ok=True)
    try:
        store = create_demo_store(directory, progress=progress, now_ms=now_ms)
    except DemoError as exc:
        raise DaybookError(str(exc)) from None
    outcome = DemoOutcome(store.created, store.db_path, store.tracking_uri)
    if store.created:
        progress(f"demo store ready: {store.tracking_uri}")
    else:
        outcome.notices.append(f"{store.db_path} already exists; leaving it as it is.")
    site = notes_site if notes_site is not None else directory
    if store.created and (site / "mkdocs.yml").is_file():
        for path in write_demo_models(site, store, now_ms):
            progress(f"wrote {shown(path)}")
        for key in write_demo_settings(site):
            progress(f"added the demo's {key} to {shown(site / 'daybook.yml')}")
    if not notes:
        return outcome
    if not (site / "mkdocs.yml").is_file():
        if notes_site is not None:
            raise DaybookError(f"{site / 'mkdocs.yml'}: not found; --site must be a Daybook site")
        progress(f"no mkdocs.yml in {site}: no demo notes (run it in a site, or pass --site)")
        return outcome
    result = write_demo_notes(site, store.tracking_uri, progress)
    if result.reason:
        outcome.notices.append(f"No demo notes: {result.reason}.")
    return outcome


def shown(path: Path) -> str:
    """A path as the user can type it: relative to where they are, when it is below."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
