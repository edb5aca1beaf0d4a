"""The `daybook` command: parse options, call the library, turn its errors into one line.

No logic lives here that a test would have to reach through the CLI.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from daybook import __version__
from daybook.core.errors import DaybookError

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
    # Several mistakes (daybook.yml's, in line order) are one line each, so all are fixed at once.
    for line in str(exc).splitlines() or [""]:
        click.echo(f"Error: {line}", err=True)
    sys.exit(exc.exit_code)


# `daybook --help` lists the commands in the order of a day's use; a command missing here comes
# after them, alphabetically, so a new command shows up even before it gets its place.
COMMAND_ORDER = (
    "demo",
    "init",
    "note",
    "build",
    "serve",
    "check",
    "review",
    "link",
    "card",
    "publish",
    "pull",
    "generate",
)


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        known = [name for name in COMMAND_ORDER if name in self.commands]
        return known + sorted(name for name in self.commands if name not in COMMAND_ORDER)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole summary (Click cuts them at ~45 characters with "..."):
        `short_help` is written to fit one line at 80 columns; a longer one wraps, never cut."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        """As click's, but a command run as the `daybook` process (arguments from the command
        line, standalone) may end it without a teardown (`_done`); a caller that passes the
        arguments (a test's runner) always gets control back."""
        global _PROCESS_ENTRY
        _PROCESS_ENTRY = args is None and kwargs.get("standalone_mode", True) and not rest
        return super().main(args, *rest, **kwargs)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DaybookError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


_PROCESS_ENTRY = False  # set by _Group.main: this command is the process


def _done(*held: object) -> None:
    """The end of a command that holds a big snapshot or site (`held`, so it is not freed
    before): as the `daybook` process, end now without freeing it object by object
    (daybook.core.leave); otherwise return."""
    if _PROCESS_ENTRY:
        from daybook.core.leave import leave

        leave(0)


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
offline_option = click.option(
    "--offline",
    is_flag=True,
    help="Read no tracking store: use the snapshot the last pull saved in .daybook/ (the home "
    "page says how old it is).",
)
full_option = click.option(
    "--full",
    is_flag=True,
    help="Read the whole store again instead of only what changed since the last pull.",
)
since_option = click.option(
    "--since",
    metavar="WHEN",
    help="Start the home page's morning review here: a time (2026-11-25, 2026-11-25T06:00; UTC "
    "unless an offset is given) or a span back from now (24h, 3d, 1w). Default: review.since "
    "in daybook.yml, else the last published build (build --publish), else 24 hours ago.",
)


def _modes(offline: bool, full: bool) -> None:
    if offline and full:
        raise click.UsageError("--offline and --full exclude each other (--full reads the store)")


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


@main.command(short_help="Create a demo MLflow store (real scikit-learn runs) and notes.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Where to create mlflow.db and mlartifacts/.",
)
@click.option(
    "--site",
    "notes_site",
    type=click.Path(file_okay=False, path_type=Path),
    help="The site whose journal gets the demo notes (default: DIR, when it holds mkdocs.yml).",
)
@click.option("--no-notes", is_flag=True, help="Only the store: write no demo notes.")
@quiet_option
def demo(directory: Path, notes_site: Path | None, no_notes: bool, quiet: bool) -> None:
    """Create the demo MLflow store: real scikit-learn runs on bundled datasets.

    Writes DIR/mlflow.db (MLflow's default store, so `daybook build` in DIR finds it) and
    DIR/mlartifacts/. An existing mlflow.db is left alone.

    In a site (`daybook init site && cd site && daybook demo`) it also writes a week of journal
    notes about those runs into the site's docs/notes/ (daily notes, a model review meeting with
    decisions and action items, a decision record, a postmortem), plus the authors file and
    avatars. Notes that exist are never overwritten. A new demo store also gets a hand-written
    card for cancer-detector (docs/models/, some sections left to fill in) and the alias history
    of its story (history/aliases.jsonl), unless those files exist.
    """
    from daybook.commands.demo import run_demo

    outcome = run_demo(
        directory,
        notes_site,
        notes=not no_notes,
        progress=_Progress(quiet),
        now_ms=int(time.time() * 1000),  # the story's "now": the demo alias history shares it
    )
    for notice in outcome.notices:
        click.echo(notice, err=True)


@main.command(short_help="Create a new Daybook site in DIRECTORY.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a new Daybook site in DIRECTORY (refuses to overwrite any file)."""
    from daybook.commands.init import init

    written = init(directory)
    for path in written:
        click.echo(f"created {path}")
    click.echo(
        f"\nNext: cd {directory} && MLFLOW_TRACKING_URI=sqlite:///path/to/mlflow.db daybook build"
    )


@main.command(short_help="Write the generated Markdown pages to a folder, for any generator.")
@site_option
@uri_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the Markdown tree into (one an earlier generate wrote is brought up "
    "to date: only the files that changed are written, the ones it no longer holds removed).",
)
@click.option(
    "--with-docs",
    is_flag=True,
    help="Copy the site's docs/ in too, so the folder is a whole docs folder (for generators "
    "that run no gen-files, such as Zensical).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when a file people wrote has an error (the warnings `build --strict` fails on).",
)
@offline_option
@full_option
@since_option
@quiet_option
def generate(
    site_root: Path,
    tracking_uri: str | None,
    out_dir: Path,
    with_docs: bool,
    strict: bool,
    offline: bool,
    full: bool,
    since: str | None,
    quiet: bool,
) -> None:
    """Write the generated Markdown pages to a folder, for any static site generator.

    Pulls first (only what changed since the last pull), unless --offline. An offline
    generate whose inputs all match the last one's (snapshot, notes, settings, templates)
    reuses its pages from .daybook/cache/pages.bin instead of rendering them again. Mistakes in
    notes and cards are printed as warnings, as `daybook build` prints them; with --strict they
    are errors and the command exits 1 (the pages are written all the same). A big site's
    pages are rendered half in a second process, as `daybook build` does.
    """
    from daybook.commands.generate import generate_to, load_site

    _modes(offline, full)
    progress = _Progress(quiet)
    site = load_site(site_root, tracking_uri)
    generated, count = generate_to(
        site, out_dir, progress, with_docs=with_docs, offline=offline, full=full, since=since
    )
    failing = [p for p in generated.problems if p.level == "error"]
    for problem in generated.problems:  # as a build logs them (-q: only what --strict fails on)
        if problem.level == "error":
            click.echo(f"{'error' if strict else 'warning'}: {problem}", err=True)
        elif not quiet:
            click.echo(f"info: {problem}", err=True)
    docs = f" over a copy of {site.docs_dir}" if with_docs else ""
    progress(f"wrote {count} pages to {out_dir}{docs}")
    if strict and failing:
        click.echo(f"Error: {len(failing)} error(s) in files people wrote (--strict)", err=True)
        sys.exit(1)
    _done()


@main.command(short_help="Pull, generate the pages and build the site (into site/).")
@site_option
@uri_option
@click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the built HTML (default: mkdocs.yml's site_dir).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on any warning (broken links, bad pages) and without a store; a failed build "
    "leaves the previous site in place.",
)
@offline_option
@full_option
@since_option
@click.option(
    "--publish",
    is_flag=True,
    help="Record this build as published (a line in history/published.jsonl; commit it): the "
    "next morning review starts here. For the CI step that deploys the site.",
)
@click.option(
    "--file-urls",
    is_flag=True,
    help="A site that works opened from disk (file://…/index.html, zipped, a shared drive): "
    "pages at x.html and offline search. Also `site: {file_urls: true}` in daybook.yml.",
)
@quiet_option
def build(
    site_root: Path,
    tracking_uri: str | None,
    site_dir: Path | None,
    strict: bool,
    offline: bool,
    full: bool,
    since: str | None,
    publish: bool,
    file_urls: bool,
    quiet: bool,
) -> None:
    """Pull (only what changed since the last pull), generate the pages and build the static
    site with MkDocs. --offline builds from the saved snapshot without reading the store.

    The morning review starts at --since, else daybook.yml's review.since (a daily cut), else
    the last build made with --publish, else 24 hours back. A plain build never moves it.

    On Linux with two cores or more, a site with 100 experiment, run and compare pages or more
    has half of them rendered, by Daybook and then by MkDocs, in a second process (the same
    site, sooner), and a first pull of 20,000 runs or more reads half of them there;
    DAYBOOK_PROCESSES=1 keeps it to one (=2 forks on macOS too).
    """
    from daybook.commands.build import build as build_command
    from daybook.commands.generate import load_site

    _modes(offline, full)
    progress = _Progress(quiet)
    site = load_site(site_root, tracking_uri)
    out = build_command(
        site,
        progress,
        site_dir=site_dir,
        strict=strict,
        offline=offline,
        full=full,
        since=since,
        publish=publish,
        file_urls=file_urls,
        before_mkdocs=lambda: _mkdocs_logging(quiet),
    )
    progress(f"site built in {out}")
    _done()


@main.command(short_help="Preview the site with live reload.")
@site_option
@uri_option
@click.option("-a", "--dev-addr", default="127.0.0.1:8000", show_default=True, metavar="IP:PORT")
@offline_option
@since_option
def serve(
    site_root: Path, tracking_uri: str | None, dev_addr: str, offline: bool, since: str | None
) -> None:
    """Preview the site with live reload; edits to docs/, daybook.yml and templates/ rebuild it.

    Each rebuild pulls what changed since the last pull, unless --offline; offline, a rebuild
    whose inputs did not change (an edit to a hand-written page) reuses the last pages.
    """
    from daybook.commands.build import serve as serve_command
    from daybook.commands.generate import load_site

    site = load_site(site_root, tracking_uri)
    _mkdocs_logging(False)
    serve_command(site, dev_addr, offline=offline, since=since)


@main.command("pull", short_help="Read the tracking store into the site's snapshot (.daybook/).")
@site_option
@uri_option
@full_option
@quiet_option
def pull_command(site_root: Path, tracking_uri: str | None, full: bool, quiet: bool) -> None:
    """Read the tracking store into the site's snapshot (.daybook/snapshot.json.gz).

    Only what changed since the last pull is read: new runs, runs that were still running or
    have ended since, deleted runs, and the registry; metric histories and artifact listings
    only for page runs that changed. `build --offline` then needs no store.

    A full pull of 20,000 runs or more (SQL stores) reads half of them in a second process on
    Linux with two cores or more; DAYBOOK_PROCESSES=1 keeps it to one.
    """
    from daybook.commands.pull import pull_result
    from daybook.sources.site import load_site  # not via commands.generate: 0.5 s of page imports

    site = load_site(site_root, tracking_uri)
    pulled = pull_result(site, _Progress(quiet), full=full)
    _done(pulled)


@main.command(short_help="Start a note in the journal; a daily note gets the store's digest.")
@site_option
@uri_option
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The note's day, YYYY-MM-DD (default: today).",
)
@click.option(
    "--author",
    metavar="ID",
    help="Author id from the journal's .authors.yml (default: `git config user.name`, matched "
    "to an author's id or name).",
)
@click.option(
    "--type",
    "note_type",
    type=click.Choice(["daily", "meeting", "decision", "postmortem"]),
    default="daily",
    show_default=True,
    help="Which template: a daily note gets a digest of the tracking store.",
)
@click.option("--title", help="The note's title (default: the day, and who wrote it).")
@click.option("--print", "to_stdout", is_flag=True, help="Write the note to stdout, not to a file.")
@click.option(
    "--open",
    "open_editor",
    is_flag=True,
    help="Open the note in $VISUAL or $EDITOR once it is written (or if it exists).",
)
@quiet_option
def note(
    site_root: Path,
    tracking_uri: str | None,
    day: dt.datetime | None,
    author: str | None,
    note_type: str,
    title: str | None,
    to_stdout: bool,
    open_editor: bool,
    quiet: bool,
) -> None:
    """Start a note in the journal (docs/notes/), from the site's template for its type.

    A daily note is prefilled with a digest of the tracking store since your previous note (or
    the last 24 hours): runs finished per experiment, new best results, failed runs, new model
    versions and alias changes, each line an MLflow URI that becomes a link on the site. A note
    that exists is never overwritten: its path is printed and the command succeeds.
    """
    from daybook.commands.generate import load_site
    from daybook.commands.note import NoteRequest, create_note

    if open_editor and to_stdout:
        raise click.UsageError("--open edits the note's file; it cannot go with --print")
    progress = _Progress(quiet)
    site = load_site(site_root, tracking_uri)
    request = NoteRequest(
        date=day.date() if day else dt.date.today(), type=note_type, author=author, title=title
    )
    result = create_note(site, request, write=not to_stdout, progress=progress)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if to_stdout:
        if result.text:
            click.echo(result.text, nl=False)
        else:
            click.echo(f"{_shown(result.path)} already exists", err=True)
            click.echo(result.path.read_text(encoding="utf-8", errors="replace"), nl=False)
        return
    if result.created:
        click.echo(f"created {_shown(result.path)}")
    else:
        click.echo(f"{_shown(result.path)} already exists; left it as it is")
    if open_editor:
        click.edit(filename=str(result.path))  # $VISUAL, $EDITOR, else a platform default


@main.command(short_help="Check notes, model cards and daybook.yml (for CI and pre-commit).")
@site_option
@uri_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="`text`: one `path:line: message` a line; `json`: for tools.",
)
@click.option(
    "--no-store",
    is_flag=True,
    help="Skip the checks that read the tracking store (whether references in notes resolve).",
)
@click.option(
    "--monitors",
    is_flag=True,
    help="Also evaluate the monitors of daybook.yml against the store, one line each; exit 1 "
    "when any fails (or names something the store does not have): a CI gate.",
)
def check(
    site_root: Path, tracking_uri: str | None, fmt: str, no_store: bool, monitors: bool
) -> None:
    """Check what people wrote in the site, for CI and pre-commit: notes' front matter, dates,
    authors, references to runs and models, secret-looking strings, one daily note per author
    and day; model cards (metadata, Hub rules, staleness) and the alias history; daybook.yml
    (monitors naming what the store has) and mkdocs.yml. Exits 1 when there is an error.
    """
    from daybook.commands.check import check_site

    if monitors and no_store:
        raise click.UsageError("--monitors reads the store; it cannot go with --no-store")
    report = check_site(site_root, tracking_uri, fmt=fmt, use_store=not no_store, monitors=monitors)
    click.echo(report.output, nl=False)
    if report.summary:
        click.echo(report.summary, err=True)
    if report.exit_code:
        sys.exit(report.exit_code)


@main.command(short_help="Print the site's link for an MLflow URI, to paste in chat.")
@site_option
@click.argument("uri")
@click.option(
    "--permanent",
    is_flag=True,
    help="Print the run viewer's address (runs/#<run id>) even when the run has a page of its "
    "own: it keeps working when the run later loses that page.",
)
def link(site_root: Path, uri: str, permanent: bool) -> None:
    """Print the site's link for an MLflow URI, to paste in chat.

    URI is `runs:/<run id or 8+ character prefix>`, `models:/<name>/<version>`,
    `models:/<name>@<alias>`, `models:/<name>` or `experiments:/<name or id>`, resolved against
    the snapshot of the last build. A run links to its own page when it has one, else to the run
    viewer (runs/#<run id>), which shows every run. mkdocs.yml's site_url goes in front when set.
    """
    from daybook.commands.generate import load_site
    from daybook.commands.link import link as link_command

    click.echo(link_command(load_site(site_root), uri, permanent=permanent).url)


@main.command(short_help="Print the morning review for chat or email (Markdown, Slack, JSON).")
@site_option
@uri_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "slack", "json"]),
    default="markdown",
    show_default=True,
    help="markdown: for email or a chat that renders it; slack: a Block Kit message to POST to "
    "an incoming webhook (within Slack's limits: 50 blocks, 3000 characters a section); json: "
    "data, as documented by review.schema.json (docs/guide/review.md).",
)
@since_option
@offline_option
@click.option(
    "--site-url",
    metavar="URL",
    help="The site's address for the links (default: mkdocs.yml's site_url; one of them is "
    "required: links in chat must be absolute).",
)
@quiet_option
def review(
    site_root: Path,
    tracking_uri: str | None,
    fmt: str,
    since: str | None,
    offline: bool,
    site_url: str | None,
    quiet: bool,
) -> None:
    """Print the morning review, as the home page shows it, for chat and email: what needs
    attention first, then what changed in the store since the reference point (the same one the
    site uses: --since, review.since, the last published build, or 24 hours back).

    Reads the snapshot (pulled first, only what changed, unless --offline); the site need not be
    built. Long sections end with "…and N more" and a link to the site.

    \b
    daybook review --offline --format slack | \\
      curl -sf -X POST -H 'Content-Type: application/json' --data @- "$SLACK_WEBHOOK"
    """
    from typing import Literal, cast

    from daybook.commands.generate import load_site
    from daybook.commands.review import review as review_command

    progress = _Progress(quiet)
    site = load_site(site_root, tracking_uri)
    fmt_ = cast("Literal['markdown', 'slack', 'json']", fmt)
    text = review_command(site, fmt_, since=since, offline=offline, url=site_url, progress=progress)
    click.echo(text, nl=False)


@main.group(cls=_Group, short_help="Model cards: a skeleton to fill in, an export for the Hub.")
def card() -> None:
    """Model cards: a skeleton to fill in, and an export for the Hugging Face Hub.

    A card is `docs/models/<model name>.md` in Hugging Face's format (YAML metadata, then the
    standard sections). The site merges it with facts from the registry on the model's card page.
    """


@card.command("new", short_help="Write a card skeleton for the registered model NAME.")
@click.argument("name")
@site_option
@uri_option
def card_new(name: str, site_root: Path, tracking_uri: str | None) -> None:
    """Write a card skeleton for the registered model NAME into the site's cards folder
    (docs/models/ by default). Never overwrites: an existing card is an error."""
    from daybook.commands.card import new_card
    from daybook.commands.generate import load_site

    path = new_card(load_site(site_root, tracking_uri), name)
    click.echo(f"created {_shown(path)}")


@card.command(
    "export", short_help="Export the merged card of model NAME as a Hugging Face README.md."
)
@click.argument("name")
@site_option
@uri_option
@click.option("--version", "version", type=click.IntRange(min=1), help="Export this version.")
@click.option("--alias", metavar="ALIAS", help="Export the version this alias points at.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the README.md here (default: stdout).",
)
@click.option("--force", is_flag=True, help="Replace the --out file if it exists.")
@quiet_option
def card_export(
    name: str,
    site_root: Path,
    tracking_uri: str | None,
    version: int | None,
    alias: str | None,
    out: Path | None,
    force: bool,
    quiet: bool,
) -> None:
    """Export the merged card of model NAME as a Hugging Face README.md: YAML metadata for the
    Hub (license, tags, datasets, metrics, a model-index built from the run's metrics) and the
    card's sections. Without --version or --alias: the version the site's card describes. The
    result is checked offline to load back unchanged through huggingface_hub."""
    from daybook.commands.card import export_card, write_export
    from daybook.commands.generate import load_site

    if version is not None and alias is not None:
        raise click.UsageError("give --version or --alias, not both")
    progress = _Progress(quiet or out is None)
    result = export_card(
        load_site(site_root, tracking_uri), name, version=version, alias=alias, progress=progress
    )
    for p in result.problems:
        click.echo(f"warning: {p}", err=True)
    if out is None:
        click.echo(result.text, nl=False)
        return
    write_export(result.text, out, force=force)
    click.echo(f"wrote {_shown(out)} (v{result.version} of {name})", err=True)


def _shown(path: Path) -> str:
    """A path as the user can type it: relative to where they are, when it is below."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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
