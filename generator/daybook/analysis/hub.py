"""Hugging Face Hub metadata for a model card: built from the card and the registry, and checked
against the Hub's rules offline (the Hub's own validation is a network call).

The `model-index` block is generated from the version's run metrics unless the person wrote
one. Only keys that `huggingface_hub`'s `EvalResult` keeps are written, since anything else is
dropped silently when the card is loaded back (huggingface_hub#1361). Pure functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from daybook.analysis.cards import EVAL_CONTEXTS, MergedCard
from daybook.core.snapshot import Problem

DAYBOOK_KEYS = ("last_updated",)  # Daybook's own front matter: not Hub metadata

# Hub pipeline tags (huggingface.js packages/tasks, 2026).
HUB_TASKS = frozenset(
    (
        "any-to-any",
        "audio-classification",
        "audio-text-to-text",
        "audio-to-audio",
        "automatic-speech-recognition",
        "depth-estimation",
        "document-question-answering",
        "feature-extraction",
        "fill-mask",
        "graph-ml",
        "image-classification",
        "image-feature-extraction",
        "image-segmentation",
        "image-text-to-text",
        "image-to-3d",
        "image-to-image",
        "image-to-text",
        "image-to-video",
        "keypoint-detection",
        "mask-generation",
        "multiple-choice",
        "object-detection",
        "other",
        "question-answering",
        "reinforcement-learning",
        "robotics",
        "sentence-similarity",
        "summarization",
        "table-question-answering",
        "table-to-text",
        "tabular-classification",
        "tabular-regression",
        "tabular-to-text",
        "text-classification",
        "text-generation",
        "text-ranking",
        "text-retrieval",
        "text-to-3d",
        "text-to-audio",
        "text-to-image",
        "text-to-speech",
        "text-to-video",
        "text2text-generation",
        "time-series-forecasting",
        "token-classification",
        "translation",
        "unconditional-image-generation",
        "video-classification",
        "video-text-to-text",
        "video-to-video",
        "visual-document-retrieval",
        "visual-question-answering",
        "voice-activity-detection",
        "zero-shot-classification",
        "zero-shot-image-classification",
        "zero-shot-object-detection",
    )
)

# Hub license identifiers (https://huggingface.co/docs/hub/repositories-licenses).
HUB_LICENSES = frozenset(
    (
        "apache-2.0",
        "mit",
        "openrail",
        "bigscience-openrail-m",
        "creativeml-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
        "afl-3.0",
        "artistic-2.0",
        "bsl-1.0",
        "bsd",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "c-uda",
        "cc",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "cdla-sharing-1.0",
        "cdla-permissive-1.0",
        "cdla-permissive-2.0",
        "wtfpl",
        "ecl-2.0",
        "epl-1.0",
        "epl-2.0",
        "etalab-2.0",
        "eupl-1.1",
        "eupl-1.2",
        "agpl-3.0",
        "gfdl",
        "gpl",
        "gpl-2.0",
        "gpl-3.0",
        "lgpl",
        "lgpl-2.1",
        "lgpl-3.0",
        "isc",
        "h-research",
        "intel-research",
        "lppl-1.3c",
        "ms-pl",
        "apple-ascl",
        "apple-amlr",
        "mpl-2.0",
        "odc-by",
        "odbl",
        "openmdw-1.0",
        "openrail++",
        "osl-3.0",
        "postgresql",
        "ofl-1.1",
        "ncsa",
        "unlicense",
        "zlib",
        "pddl",
        "lgpl-lr",
        "deepfloyd-if-license",
        "fair-noncommercial-research-license",
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "gemma",
        "unknown",
        "other",
    )
)

# MLflow flavor -> the Hub's library_name, where the Hub knows the library.
HUB_LIBRARIES = {
    "sklearn": "sklearn",
    "transformers": "transformers",
    "sentence_transformers": "sentence-transformers",
    "keras": "keras",
    "tensorflow": "tf-keras",
    "pytorch": "pytorch",
    "onnx": "onnx",
    "spacy": "spacy",
    "fastai": "fastai",
    "diffusers": "diffusers",
    "setfit": "setfit",
    "timm": "timm",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "statsmodels": "statsmodels",
}

# What huggingface_hub's EvalResult keeps of a model-index entry (others are lost on load).
_TASK_KEYS = {"type", "name"}
_DATASET_KEYS = {"type", "name", "config", "split", "revision", "args"}
_METRIC_KEYS = {"type", "value", "name", "config", "args", "verified", "verifyToken"}
_RESULT_KEYS = {"task", "dataset", "metrics", "source"}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict, tuple)) and not value)


def _as_list(value: Any) -> list[Any]:
    if _empty(value):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _unique(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def task_type(card: MergedCard) -> str:
    """The Hub task for model-index: the card's `pipeline_tag`, else a registered-model tag
    (`pipeline_tag` or `task`) that is a Hub task id; "" when nothing says."""
    value = card.metadata.get("pipeline_tag")
    if isinstance(value, str) and value.strip():
        return value.strip()
    for key in ("pipeline_tag", "task"):
        tag = card.model.tags.get(key, "").strip()
        if tag in HUB_TASKS:
            return tag
    return ""


# Libraries whose models take a table of features (Hub tasks tabular-classification/-regression).
TABULAR_LIBRARIES = frozenset({"sklearn", "xgboost", "lightgbm", "catboost", "statsmodels"})
# A signature type, with or without a tensor's shape: "long", "tensor int64 (-1)", "double" …
_SIG_TYPE = re.compile(r"^(?:tensor\s+)?(?P<dtype>[a-z]+)(?P<bits>\d*)\s*(?:\((?P<shape>[^)]*)\))?")
_LABELS = frozenset({"int", "uint", "long", "integer", "string", "str", "bool", "boolean"})
_VALUES = frozenset({"float", "double"})


@dataclass(frozen=True, slots=True)
class InferredTask:
    """A Hub task guessed from the model's files, for a card that names none."""

    task: str
    reason: str  # what it was inferred from, for the export's log


def _dims(sig_type: str) -> tuple[str, int] | None:
    """(dtype, number of dimensions; 1 for a column) of a signature type, None if unreadable."""
    m = _SIG_TYPE.match(sig_type.strip().lower())
    if m is None:
        return None
    shape = m.group("shape")
    dims = 1 if shape is None else len([d for d in shape.split(",") if d.strip()])
    return m.group("dtype"), dims


def inferred_task(card: MergedCard) -> InferredTask | None:
    """`tabular-classification` or `tabular-regression` for a model of a tabular library (e.g.
    scikit-learn) whose signature takes a table and returns one column of class labels (integers,
    strings, booleans) or of numbers (floats); None when the files do not say that much."""
    files = card.files
    if files is None or files.library not in TABULAR_LIBRARIES or files.signature is None:
        return None
    sig = files.signature
    inputs = [_dims(f.type) for f in sig.inputs]
    if not inputs or any(d is None or d[1] > 2 for d in inputs):  # images, sequences: not tabular
        return None
    if len(sig.outputs) != 1 or (out := _dims(sig.outputs[0].type)) is None or out[1] > 1:
        return None  # several outputs or columns (e.g. class probabilities): cannot tell
    dtype = out[0]
    if dtype in _LABELS:
        task, kind = "tabular-classification", "class labels"
    elif dtype in _VALUES:
        task, kind = "tabular-regression", "numbers"
    else:
        return None
    why = f"the {files.library} flavor and its signature (a table in, one column of {kind} out)"
    return InferredTask(task, why)


def model_index(card: MergedCard, task: str | None = None) -> list[dict[str, Any]] | None:
    """model-index from the run's finite metrics, against its evaluation dataset (validation or
    test inputs first, then any input, else the experiment): None without metrics or a task.
    `task`: the Hub task when the card's own (`task_type`) is missing (an inferred one)."""
    task = task_type(card) or task or ""
    if not card.metrics or not task:
        return None
    evals = [d for d in card.datasets if d.context.lower() in EVAL_CONTEXTS] or list(card.datasets)
    dataset: dict[str, Any]
    if evals:
        d = sorted(
            evals,
            key=lambda d: (
                EVAL_CONTEXTS.index(d.context.lower())
                if d.context.lower() in EVAL_CONTEXTS
                else 99,
                d.name,
            ),
        )[0]
        dataset = {"type": d.name, "name": f"{d.name} ({d.context})" if d.context else d.name}
        if d.context:
            dataset["split"] = d.context
        if d.digest:
            dataset["revision"] = d.digest
    else:  # the run logged no dataset: the card's first Hub dataset, else the experiment
        named = [d for d in _as_list(card.metadata.get("datasets")) if isinstance(d, str)]
        name = card.experiment.name if card.experiment else card.model.name
        dataset = (
            {"type": named[0], "name": named[0]} if named else {"type": "custom", "name": name}
        )
    metrics = [{"type": k, "value": v} for k, v in card.metrics]
    return [
        {
            "name": card.model.name,
            "results": [{"task": {"type": task}, "dataset": dataset, "metrics": metrics}],
        }
    ]


def hub_metadata(card: MergedCard) -> dict[str, Any]:
    """The card's YAML metadata for the Hub: what the person wrote (minus Daybook's own keys and
    empty values), completed from the registry where they left something out; a card that names
    no task gets the one `inferred_task` finds, so its evaluation results have a model-index."""
    meta: dict[str, Any] = {
        k: v for k, v in card.metadata.items() if k not in DAYBOOK_KEYS and not _empty(v)
    }
    files = card.files
    library = files.library if files else ""
    if "library_name" not in meta and library in HUB_LIBRARIES:
        meta["library_name"] = HUB_LIBRARIES[library]
    tags = [str(t) for t in _as_list(meta.get("tags"))]
    tags += ["mlflow"] + ([library] if library else [])
    meta["tags"] = _unique(tags)
    if "datasets" not in meta:
        names = sorted({d.name for d in card.datasets if d.name})
        if names:
            meta["datasets"] = names
    guess = None if task_type(card) else inferred_task(card)
    if guess is not None and "pipeline_tag" not in meta:
        meta["pipeline_tag"] = guess.task
    if "model-index" not in meta:
        index = model_index(card, guess.task if guess else None)
        if index is not None:
            meta["model-index"] = index
    if "metrics" not in meta and isinstance(meta.get("model-index"), list):
        keys = [
            m.get("type")
            for entry in meta["model-index"]
            if isinstance(entry, dict)
            for r in entry.get("results") or []
            if isinstance(r, dict)
            for m in r.get("metrics") or []
            if isinstance(m, dict)
        ]
        if keys:
            meta["metrics"] = _unique([k for k in keys if isinstance(k, str)])
    return meta


def check_metadata(meta: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Daybook's own checks of the Hub's metadata rules: (key, message, level) for each
    violation; "error" when the Hub would reject or lose data, "warning" when it is unusual."""
    out: list[tuple[str, str, str]] = []

    def bad(key: str, msg: str, level: str = "error") -> None:
        out.append((key, msg, level))

    lic = meta.get("license")
    if _empty(lic):
        bad(
            "license",
            "no license: add `license:` (a Hub license id such as apache-2.0 or mit)",
            "warning",
        )
    elif not isinstance(lic, str):
        bad("license", "license: expected one license id (text)")
    elif lic not in HUB_LICENSES:
        bad(
            "license",
            f"license {lic!r} is not a Hub license id; use one from "
            "https://huggingface.co/docs/hub/repositories-licenses or `other`",
            "warning",
        )
    elif lic == "other" and (_empty(meta.get("license_name")) or _empty(meta.get("license_link"))):
        bad("license", "license: other needs `license_name` and `license_link`")
    for key in ("tags", "datasets", "metrics", "language", "base_model"):
        value = meta.get(key)
        if _empty(value):
            continue
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str) and i.strip() for i in items):
            bad(key, f"{key}: expected text or a list of text")
    tags = meta.get("tags")
    if isinstance(tags, list) and len(tags) != len(set(map(str, tags))):
        bad("tags", "tags: a tag is listed twice (huggingface_hub drops the repeat)", "warning")
    for key in ("library_name", "pipeline_tag", "license_name", "license_link", "model_name"):
        if not _empty(meta.get(key)) and not isinstance(meta.get(key), str):
            bad(key, f"{key}: expected text")
    tag = meta.get("pipeline_tag")
    if isinstance(tag, str) and tag.strip() and tag.strip() not in HUB_TASKS:
        bad(
            "pipeline_tag",
            f"pipeline_tag {tag!r} is not a Hub task id (e.g. "
            "tabular-classification, text-classification)",
            "warning",
        )
    if "model-index" in meta:
        out.extend(("model-index", m, "error") for m in _check_index(meta["model-index"]))
    return out


def _check_index(index: Any) -> list[str]:
    """The shape huggingface_hub can load without losing anything."""
    if not isinstance(index, list) or not index:
        return ["model-index: expected a list with one entry per model"]
    problems = []
    for i, entry in enumerate(index, 1):
        where = f"model-index entry {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"{where}: needs `name` (the model's name)")
            continue
        results = entry.get("results")
        if not isinstance(results, list) or not results:
            problems.append(f"{where}: needs `results` (a list)")
            continue
        if len(index) > 1:
            problems.append(f"{where}: huggingface_hub keeps one model per model-index")
        for j, r in enumerate(results, 1):
            at = f"{where}, result {j}"
            if not isinstance(r, dict):
                problems.append(f"{at}: expected task, dataset and metrics")
                continue
            problems += [
                f"{at}: key {k!r} is dropped by huggingface_hub"
                for k in sorted(set(r) - _RESULT_KEYS, key=str)
            ]
            task, data, metrics = r.get("task"), r.get("dataset"), r.get("metrics")
            if not isinstance(task, dict) or not isinstance(task.get("type"), str):
                problems.append(f"{at}: task needs `type` (a Hub task id)")
            elif set(task) - _TASK_KEYS:
                problems.append(f"{at}: task keys other than type and name are dropped")
            if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("type", "name")
            ):
                problems.append(f"{at}: dataset needs `type` and `name`")
            elif set(data) - _DATASET_KEYS:
                problems.append(
                    f"{at}: dataset keys {sorted(set(data) - _DATASET_KEYS)} are "
                    "dropped by huggingface_hub"
                )
            if not isinstance(metrics, list) or not metrics:
                problems.append(f"{at}: needs `metrics` (a list of type and value)")
                continue
            for m in metrics:
                if (
                    not isinstance(m, dict)
                    or not isinstance(m.get("type"), str)
                    or "value" not in m
                ):
                    problems.append(f"{at}: each metric needs `type` and `value`")
                    continue
                value = m["value"]
                if isinstance(value, float) and not math.isfinite(value):
                    problems.append(f"{at}: metric {m['type']!r} is not a finite number")
                elif not isinstance(value, (int, float, str)) or isinstance(value, bool):
                    problems.append(f"{at}: metric {m['type']!r} value must be a number or text")
                extra = set(m) - _METRIC_KEYS
                if extra:
                    problems.append(
                        f"{at}: metric keys {sorted(extra)} are dropped by huggingface_hub"
                    )
    return problems


def checked(card: MergedCard) -> MergedCard:
    """The card with the metadata checks' findings added to its problems, each at the line of
    its key in the card file. A model without a hand-written card has nothing to check."""
    if card.card is None or any(p.code == "card.yaml" for p in card.card.problems):
        return card  # no card, or metadata that could not be read (already a problem)
    found = []
    for key, message, level in check_metadata(hub_metadata(card)):
        if key not in card.metadata and key != "license":
            message += " (in the metadata Daybook generated: please report it)"
        line = card.card.metadata_lines.get(key, 1) if card.card_kind == "repo" else 0
        found.append(Problem(card.card.path, line, message, level, "card.metadata"))
    return replace(card, problems=(*card.problems, *found))
