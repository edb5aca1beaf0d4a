"""The `daybook` command: parse options, call the library, turn its errors into one line.

No logic lives here that a test would have to reach through the CLI.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import click

from daybook import __version__
from daybook.errors import DaybookError

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
os.environ.setdefault("DISABLE_MKDOCS_2_WARNING", "true")


class _Progress:
    """Progress lines on stderr, with the time since the command started."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"[{time.monotonic() - self.start:5.1f}s] {message}", err=True)


def _fail(exc: DaybookError) -> None:
    click.echo(f"Error: {exc}", err=True)
    sys.exit(exc.exit_code)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DaybookError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


site_option = click.option(
    "-C",
    "--site",
    "site_root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The site folder (holding mkdocs.yml and daybook.yml).",
)
uri_option = click.option(
    "--tracking-uri",
    metavar="URI",
    help="MLflow tracking URI; overrides MLFLOW_TRACKING_URI and daybook.yml.",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress lines.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="daybook")
def main() -> None:
    """Daybook turns an ML team's MLflow runs and model registry into a searchable static
    knowledge site, built with MkDocs Material.

    \b
    Quick start:
      daybook demo            create a demo MLflow store (real sklearn runs)
      daybook build           generate the pages and build the site into site/
      daybook serve           preview with live reload
    """


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Where to create mlflow.db and mlartifacts/.",
)
@quiet_option
def demo(directory: Path, quiet: bool) -> None:
    """Create the demo MLflow store: real scikit-learn runs on bundled datasets.

    Writes DIR/mlflow.db (MLflow's default store, so `daybook build` in DIR finds it) and
    DIR/mlartifacts/. An existing mlflow.db is left alone.
    """
    from daybook.demo import DemoError, create_demo_store

    progress = _Progress(quiet)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        store = create_demo_store(directory, progress=progress)
    except DemoError as exc:
        raise DaybookError(str(exc)) from None
    if store.created:
        progress(f"demo store ready: {store.tracking_uri}")
    else:
        click.echo(f"{store.db_path} already exists; leaving it as it is.", err=True)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a new Daybook site in DIRECTORY (refuses to overwrite any file)."""
    from daybook.scaffold import init_site

    written = init_site(directory)
    for path in written:
        click.echo(f"created {path}")
    click.echo(
        f"\nNext: cd {directory} && MLFLOW_TRACKING_URI=sqlite:///path/to/mlflow.db daybook build"
    )


@main.command()
@site_option
@uri_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the Markdown tree into (replaced if an earlier generate wrote it).",
)
@quiet_option
def generate(site_root: Path, tracking_uri: str | None, out_dir: Path, quiet: bool) -> None:
    """Write the generated Markdown pages to a folder, for any static site generator."""
    from daybook.site import generate_pages, load_site, write_pages

    progress = _Progress(quiet)
    site = load_site(site_root, tracking_uri)
    pages = generate_pages(site, progress)
    count = write_pages(pages, out_dir)
    progress(f"wrote {count} pages to {out_dir}")


@main.command()
@site_option
@uri_option
@click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the built HTML (default: mkdocs.yml's site_dir).",
)
@click.option("--strict", is_flag=True, help="Fail on any warning (broken links, bad pages).")
@quiet_option
def build(
    site_root: Path, tracking_uri: str | None, site_dir: Path | None, strict: bool, quiet: bool
) -> None:
    """Generate the pages and build the static site with MkDocs."""
    from daybook.mkdocs_runner import build_site
    from daybook.site import generate_pages, load_site, precompute

    progress = _Progress(quiet)
    site = load_site(site_root, tracking_uri)
    pages = generate_pages(site, progress)
    precompute(site, pages)
    progress(f"generated {len(pages)} pages; building the site with MkDocs")
    _mkdocs_logging(quiet)
    out = build_site(site.root, site_dir=site_dir, strict=strict)
    progress(f"site built in {out}")


@main.command()
@site_option
@uri_option
@click.option("-a", "--dev-addr", default="127.0.0.1:8000", show_default=True, metavar="IP:PORT")
def serve(site_root: Path, tracking_uri: str | None, dev_addr: str) -> None:
    """Preview the site with live reload; edits to docs/, daybook.yml and templates/ rebuild it."""
    from daybook.mkdocs_runner import serve_site
    from daybook.site import load_site

    site = load_site(site_root, tracking_uri)
    os.environ["MLFLOW_TRACKING_URI"] = site.tracking_uri  # the gen script reads the same store
    _mkdocs_logging(False)
    serve_site(site.root, dev_addr)


def _mkdocs_logging(quiet: bool) -> None:
    logger = logging.getLogger("mkdocs")
    if not any(getattr(h, "_daybook", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        handler._daybook = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


if __name__ == "__main__":  # pragma: no cover
    main()
