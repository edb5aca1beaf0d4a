"""Runs MkDocs in this process, so `daybook build` can hand it pages it already generated."""

from __future__ import annotations

from pathlib import Path

from daybook.core.errors import DaybookError


def config_file(root: Path) -> Path:
    path = root / "mkdocs.yml"
    if not path.is_file():
        raise DaybookError(f"{path}: not found; run `daybook init {root}` to create a site")
    return path


def build_site(root: Path, *, site_dir: Path | None = None, strict: bool = False) -> Path:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    overrides: dict[str, object] = {"strict": strict}
    if site_dir is not None:
        overrides["site_dir"] = str(site_dir.resolve())
    try:
        config = load_config(config_file=str(config_file(root)), **overrides)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
    except MkDocsException as exc:
        raise DaybookError(f"mkdocs: {exc}") from None
    return Path(config["site_dir"])


def serve_site(root: Path, dev_addr: str) -> None:
    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import MkDocsException

    try:
        serve(config_file=str(config_file(root)), dev_addr=dev_addr, livereload=True)
    except MkDocsException as exc:
        raise DaybookError(f"mkdocs: {exc}") from None
