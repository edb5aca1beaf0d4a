"""The run viewer: one page that shows any run, so every run has a link that never rots.

A page per run does not scale (see analysis/policy.py), and a run that leaves the top N would lose
its page between two builds. So the site has one more page, `runs/index.md` (served at `runs/`),
and every run is in a JSON shard beside it, `runs/data/<first two characters of the id>.json`:
100,000 runs cost one MkDocs page and at most 256 small files (MLflow run ids are hex). The
viewer's script (`static/run-viewer.js`) reads the run id from the URL's fragment
(`runs/#<run id>`, which works on any static host), fetches the run's shard and renders the run
with `textContent` only. A run that has a page of its own keeps it; the viewer links there.

Shard format 1 is compact, deterministic JSON (sorted keys, ASCII only):

    {"format": 1, "runs": {run_id: {
        "name", "status" (one word, as the pages say it), "start", "end", "duration", "user"
        (display strings), "experiment": [name, url], "page": url or "", "parent":
        [id, label, url] or null, "children": count, "versions": [[label, url], …],
        "params": {key: value}, "metrics": {key: formatted value},
        "tags": {key: value} (without MLflow's own, but for a few worth reading),
        "description": text}, …}}

URLs are relative to the viewer page. Values come from the snapshot as `pages.site.render`
publishes it (masked by the publishing redactor); the script never parses them as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup

from daybook.core.numbers import format_number
from daybook.core.snapshot import TAG_DESCRIPTION, TAG_PARENT, TAG_RUN_NAME, TAG_USER, Run, Snapshot
from daybook.pages.json_text import compact
from daybook.pages.paths import VIEWER, SitePaths, run_label
from daybook.pages.words import status_word

FORMAT = 1
DATA_DIR = "runs/data"  # the shards, beside the viewer page
SCRIPT = "assets/daybook/run-viewer.js"  # shipped from daybook/pages/static by every generate
OTHER_SHARD = "other"  # ids that do not start with two hex digits (none from MLflow itself)
_SHARD = re.compile(r"^[0-9a-f]{2}")
KEPT_MLFLOW_TAGS = (  # MLflow's own tags worth a reader's time; the rest is noise
    "mlflow.source.git.commit",
    "mlflow.source.git.branch",
    "mlflow.source.git.repoURL",
    "mlflow.source.name",
    "mlflow.source.type",
    "mlflow.project.entryPoint",
    "mlflow.docker.image.name",
)
_SHOWN_ELSEWHERE = {TAG_DESCRIPTION, TAG_PARENT, TAG_RUN_NAME, TAG_USER}
VALUE_LIMIT = 2000  # a param or tag value longer than this is cut (with …)
DESCRIPTION_LIMIT = 20_000


@dataclass(frozen=True)
class ViewerPage:
    """What run_viewer.md.j2 gets as `viewer`."""

    data_url: Markup  # the shards' folder, relative to the page, ending in "/"
    script_url: Markup
    run_count: int
    shard_keys: str  # the shards that exist, space-separated: no request for one that does not


def shard_key(run_id: str) -> str:
    """Which shard holds a run (run-viewer.js computes the same)."""
    prefix = run_id[:2].lower()
    return prefix if _SHARD.match(prefix) else OTHER_SHARD


def shard_path(run_id: str) -> str:
    return f"{DATA_DIR}/{shard_key(run_id)}.json"


def in_part(run_id: str, part: tuple[int, int]) -> bool:
    """Whether a run's shard is in `part` (index, of): the shards split among `of` processes by
    their key, so each shard is written whole by one of them ("other" goes with part 0)."""
    index, of = part
    key = shard_key(run_id)
    return (0 if key == OTHER_SHARD else int(key, 16)) % of == index


def viewer_page(paths: SitePaths, files: Iterable[str], run_count: int) -> ViewerPage:
    """The page's context; `files`: the shards' paths (the keys of `shards()`)."""
    keys = sorted(path.removeprefix(DATA_DIR + "/").removesuffix(".json") for path in files)
    return ViewerPage(
        data_url=Markup(paths.url(VIEWER, DATA_DIR + "/x").removesuffix("x")),
        script_url=Markup(paths.url(VIEWER, SCRIPT)),
        run_count=run_count,
        shard_keys=" ".join(keys),
    )


Formatter = Callable[[int | None], str]


def shards(
    snapshot: Snapshot,
    paths: SitePaths,
    when: Formatter,
    duration: Formatter,
    decimals: dict[str, dict[str, int | None]] | None = None,
    part: tuple[int, int] = (0, 1),
) -> dict[str, str]:
    """Every run of the site in its shard: `{site path: JSON text}`. `when`, `duration`: the
    pages' formats of a time and a duration (pages/render.py), so the viewer says them the same;
    `decimals`: experiment id -> metric -> the decimals its pages write it with; `part`: only
    the shards of that part (`in_part`), for a render shared by two processes."""
    runs = {r.run_id: r for r in snapshot.runs}
    exp_names = {e.experiment_id: e.name for e in snapshot.experiments}
    children: dict[str, int] = {}
    for r in snapshot.runs:
        if r.parent_id:
            children[r.parent_id] = children.get(r.parent_id, 0) + 1
    versions: dict[str, list[list[str]]] = {}
    for m in sorted(snapshot.models, key=lambda m: m.name):
        for v in sorted(m.versions, key=lambda v: v.version):
            if v.run_id in runs:
                url = _url(paths, paths.model(m.name)) + f"#v{int(v.version)}"
                versions.setdefault(v.run_id, []).append([f"{m.name} v{v.version}", url])
    grouped: dict[str, dict[str, object]] = {}
    mine = [r for r in snapshot.runs if part == (0, 1) or in_part(r.run_id, part)]
    for run in sorted(mine, key=lambda r: r.run_id):
        if run.experiment_id not in exp_names:
            continue
        record = _record(run, paths, runs, exp_names, children, versions)
        record["start"], record["end"] = when(run.start_time), when(run.end_time)
        record["duration"] = duration(run.duration_ms)
        digits = (decimals or {}).get(run.experiment_id) or {}
        record["metrics"] = {
            k: format_number(v, digits.get(k)) for k, v in sorted(run.metrics.items())
        }
        grouped.setdefault(shard_path(run.run_id), {})[run.run_id] = record
    return {path: _dump({"format": FORMAT, "runs": recs}) for path, recs in sorted(grouped.items())}


def _record(
    run: Run,
    paths: SitePaths,
    runs: dict[str, Run],
    exp_names: dict[str, str],
    children: dict[str, int],
    versions: dict[str, list[list[str]]],
) -> dict[str, object]:
    page = paths.run_page(run.run_id)
    parent = runs.get(run.parent_id) if run.parent_id else None
    exp_id = run.experiment_id
    return {
        "name": run_label(run),
        "status": status_word(run.status),
        "user": run.user,
        "experiment": [exp_names[exp_id], _url(paths, paths.experiment(exp_id))],
        "page": _url(paths, page) if page else "",
        "parent": _run_ref(paths, parent),
        "children": children.get(run.run_id, 0),
        "versions": versions.get(run.run_id, []),
        "params": _cut_all(run.params, VALUE_LIMIT),
        "tags": {k: _cut(v, VALUE_LIMIT) for k, v in sorted(_reader_tags(run.tags))},
        "description": _cut(run.description, DESCRIPTION_LIMIT),
    }


def _run_ref(paths: SitePaths, run: Run | None) -> list[str] | None:
    if run is None:
        return None
    target = paths.run(run.run_id)
    return [run.run_id, run_label(run), _url(paths, target) if target else ""]


def _reader_tags(tags: dict[str, str]) -> Iterable[tuple[str, str]]:
    for key, value in tags.items():
        if key in _SHOWN_ELSEWHERE:
            continue
        if key.startswith("mlflow.") and key not in KEPT_MLFLOW_TAGS:
            continue
        yield key, value


def _url(paths: SitePaths, target: str) -> str:
    return paths.url(VIEWER, target)


def _cut_all(items: dict[str, str], limit: int) -> dict[str, str]:
    """`items` sorted, each value cut to `limit`; checked in C first, since values are almost
    always short (600,000 params in a wide experiment)."""
    ordered = dict(sorted(items.items()))
    if all(map(str.__instancecheck__, ordered.values())) and max(map(len, ordered.values()),
                                                                  default=0) <= limit:  # fmt: skip
        return ordered
    return {k: _cut(v, limit) for k, v in ordered.items()}


def _cut(value: object, limit: int) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dump(doc: object) -> str:
    # ASCII only: a lone surrogate in a hostile name stays a valid \u escape, never a write error.
    return compact(doc, sort_keys=True, ascii_only=True) + "\n"
