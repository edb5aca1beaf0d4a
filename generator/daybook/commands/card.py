"""`daybook card new` and `daybook card export`: a card skeleton in the site, and a Hugging Face
README.md from the merged card.

An export is validated offline before it is written: it must load back through
`huggingface_hub`'s `ModelCard` / `ModelCardData` with the same metadata and body (a malformed
`model-index` loses data silently on load), and pass Daybook's checks of the Hub's metadata
rules. The Hub's own validation is a network call; nothing here makes one.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from daybook.analysis.hub import check_metadata, hub_metadata, inferred_task, task_type
from daybook.core.errors import DaybookError
from daybook.core.site import Site
from daybook.core.snapshot import Problem
from daybook.pages.render import make_environment
from daybook.safety.slug import slugify, unique_slugs
from daybook.store.records import read_records

Progress = Callable[[str], None]
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,150}$")


def _quiet(_: str) -> None:
    pass


def card_file_name(name: str, slug: str | None = None) -> str:
    """The card's file name: the model's name when it makes a plain file name, else its slug
    (both are how the site finds a model's card)."""
    if _SAFE_FILE.match(name) and not name.endswith((".", " ")):
        return f"{name}.md"
    return f"{slug or slugify(name)}.md"


def new_card(site: Site, name: str, today: dt.date | None = None) -> Path:
    """Write a card skeleton for a registered model; never over an existing card."""
    from daybook.sources.catalog import read_catalog, store_exists

    if not store_exists(site.tracking_uri):
        raise DaybookError(
            f"no MLflow store at {site.tracking_uri}: set --tracking-uri (or tracking_uri in "
            "daybook.yml) so Daybook can check that the model exists"
        )
    snapshot = read_catalog(site.config, site.tracking_uri)
    names = [m.name for m in snapshot.models]
    if name not in names:
        known = ", ".join(sorted(names)) or "none"
        raise DaybookError(f"no registered model named {name!r} (registered models: {known})")
    slug = unique_slugs(names)[name]
    folder = site.root / site.config.models.cards_dir
    for existing in (folder / f"{name}.md", folder / f"{slug}.md"):
        if existing.is_file() and _is_inside(existing, folder):
            raise DaybookError(f"{existing}: a card for {name} already exists; edit it instead")
    path = folder / card_file_name(name, slug)
    env = make_environment(site.templates).overlay(finalize=None, bytecode_cache=None)
    text = env.get_template("card_new.md.j2").render(
        name=name, today=(today or dt.date.today()).isoformat()
    )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as fh:  # "x": never overwrite
            fh.write(text.lstrip("\n"))
    except FileExistsError:
        raise DaybookError(f"{path}: already exists; edit it instead") from None
    return path


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Export:
    text: str  # the README.md
    metadata: dict[str, Any]
    version: int
    problems: list[Problem]  # warnings: the export was written anyway


def export_card(
    site: Site,
    name: str,
    *,
    version: int | None = None,
    alias: str | None = None,
    progress: Progress = _quiet,
) -> Export:
    """The merged card of one version as a Hugging Face README.md, validated offline. Raises
    DaybookError when there is nothing to export or the result would not survive the Hub."""
    from daybook.analysis.policy import page_run_ids
    from daybook.pages.context import SiteModel
    from daybook.pages.models import model_page
    from daybook.pages.paths import SitePaths
    from daybook.store.pull import pull

    extra = [(name, version)] if version is not None else []
    snapshot = pull(site.config, site.tracking_uri, progress=progress, extra_model_versions=extra)
    if name not in {m.name for m in snapshot.models}:
        known = ", ".join(sorted(m.name for m in snapshot.models)) or "none"
        raise DaybookError(f"no registered model named {name!r} (registered models: {known})")
    records = read_records(site)
    runs = page_run_ids(site.config, snapshot.experiments, snapshot.runs, snapshot.models)
    paths = SitePaths.build(snapshot, runs)
    view = SiteModel.build(site.config, snapshot, paths)
    mv = next(m for m in view.models if m.model.name == name)
    from daybook.analysis.cards import find_card

    page = model_page(
        mv,
        snapshot,
        records,
        {r.run_id: r for r in snapshot.runs},
        {e.experiment_id: e for e in snapshot.experiments},
        find_card(mv.model, paths.model_slugs[name], records.cards),
        site.config.models.card_aliases,
        version=version,
        alias=alias,
    )
    card = page.card
    if card.version is None:
        raise DaybookError(f"cannot export: {card.chosen_by}")
    broken = [p for p in card.problems if p.level == "error" and p.code.startswith("card.")]
    if broken:
        raise DaybookError(
            "cannot export until the card is fixed:\n" + "\n".join(f"  {p}" for p in broken)
        )
    meta = hub_metadata(card)
    bad = [(k, m) for k, m, level in check_metadata(meta) if level == "error"]
    if bad:
        lines = "\n".join(f"  {k}: {m}" for k, m in bad)
        raise DaybookError(f"the metadata breaks the Hub's rules:\n{lines}")
    env = make_environment(site.templates)
    guess = None if task_type(card) else inferred_task(card)
    if guess is not None and meta.get("pipeline_tag") != guess.task:
        guess = None  # the card's own pipeline_tag or model-index stands
    body = env.get_template("card_export.md.j2").render(
        card=card, hub=meta, inferred=guess, Markup=Markup
    )
    body = body.strip("\n") + "\n"
    text = render_readme(meta, body)
    losses = round_trip_losses(text)
    if losses:
        raise DaybookError(
            "the README.md would not load back unchanged through huggingface_hub:\n"
            + "\n".join(f"  {x}" for x in losses)
        )
    warnings = [p for p in card.problems if p.level != "error"]
    if guess is not None:
        warnings.append(
            Problem(
                card.card.path if card.card else f"models:/{name}",
                1 if card.card else 0,
                f"pipeline_tag: {guess.task}, inferred from {guess.reason}: write "
                "`pipeline_tag` in the card's metadata to confirm or correct it",
                "warning",
                "card.pipeline-tag-inferred",
            )
        )
    if "model-index" not in meta:
        warnings.append(
            Problem(
                card.card.path if card.card else f"models:/{name}",
                card.card.metadata_lines.get("pipeline_tag", 1) if card.card else 0,
                "no model-index: set `pipeline_tag` (a Hub task id) in the card's metadata so "
                "the export can report the evaluation results",
                "warning",
                "card.model-index",
            )
        )
    return Export(text, meta, card.version.version, warnings)


def render_readme(meta: dict[str, Any], body: str) -> str:
    """YAML metadata between `---` lines, then the body: the layout huggingface_hub reads."""
    block = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{block}---\n\n{body}"


def round_trip_losses(text: str) -> list[str]:
    """What changes when `text` goes through huggingface_hub's ModelCard and back (offline):
    the metadata as ModelCardData understands it, and the body. Empty means lossless."""
    from huggingface_hub import ModelCard

    front, body = _split(text)
    expected = yaml.safe_load(front) if front else {}
    try:
        card = ModelCard(text)
    except (ValueError, TypeError, KeyError) as exc:
        return [f"huggingface_hub cannot load it: {exc}"]
    losses = _differences(expected, card.data.to_dict(), "metadata")
    if card.text != body:
        losses.append("the body is not read back as written")
    again = ModelCard(str(card))  # and what huggingface_hub writes reads back the same
    losses += _differences(card.data.to_dict(), again.data.to_dict(), "rewritten metadata")
    return losses


def _split(text: str) -> tuple[str, str]:
    if not text.startswith("---\n"):
        return "", text
    end = text.index("\n---\n", 3)
    return text[4 : end + 1], text[end + 5 :]


def _differences(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in b:
                out.append(f"{where}.{k}: lost")
            elif k not in a:
                out.append(f"{where}.{k}: added ({b[k]!r})")
            else:
                out += _differences(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} entries became {len(b)}"]
        return [x for i, (p, q) in enumerate(zip(a, b, strict=True))
                for x in _differences(p, q, f"{where}[{i}]")]  # fmt: skip
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    if a != b or type(a) is not type(b):
        return [f"{where}: {a!r} became {b!r}"]
    return []


def write_export(text: str, out: Path, force: bool = False) -> None:
    if out.exists() and not force:
        raise DaybookError(f"{out}: already exists; pass --force to replace it")
    if out.exists() and out.is_dir():
        raise DaybookError(f"{out}: is a folder; give a file name such as {out / 'README.md'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="\n")
