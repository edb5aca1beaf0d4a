"""A week of journal notes for the demo site, written from what the demo store really holds.

`daybook demo` trains real models (daybook.demo.store); this module reads that store back,
through the same light pull the rest of Daybook uses, and writes the notes a team would have
written that week: daily notes, a model review meeting with decisions and action items, a
decision record and a postmortem, each referring to the real runs and models with MLflow URIs
(some by an 8-character run id prefix, as people type them; one plain file without front
matter, as Obsidian writes them).

Dates, ids and numbers all come from the store, so the notes stay true to whatever the demo
builds. A file that exists is never overwritten, and nothing else in the site is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from daybook.core.config import load_config
from daybook.core.numbers import format_number
from daybook.core.site import JournalLayout
from daybook.core.snapshot import RegisteredModel, Run, Snapshot
from daybook.demo.constants import (
    EXP_CANCER,
    EXP_DIABETES,
    EXP_DIGITS,
    EXP_MONITOR,
    MODEL_CANCER,
    MODEL_DIABETES,
)
from daybook.sources.catalog import read_catalog
from daybook.sources.mkdocs_yml import read_layout
from daybook.store.site_files import AUTHORS_YML, ensure_journal_index

AUTHORS = {  # id: (name, description, avatar colour)
    "alice": ("Alice Martin", "Vision models; owns digits-classifier", "#3f51b5"),
    "bob": ("Bob Okafor", "Health models; owns cancer-detector and its monitoring", "#00897b"),
    "chen": ("Chen Wei", "Regression models; owns diabetes-regressor", "#8e24aa"),
}


@dataclass(frozen=True)
class DemoNotes:
    written: list[Path]
    skipped: list[Path]  # already there, left alone
    reason: str = ""  # why nothing was written, when nothing was


def write_demo_notes(
    site_root: Path, tracking_uri: str, progress: Callable[[str], None] = lambda _: None
) -> DemoNotes:
    """Write the demo week into the site's journal (only files that do not exist yet)."""
    layout = read_layout(site_root)
    if layout is None:
        return DemoNotes([], [], f"{site_root / 'mkdocs.yml'} has no blog plugin (no journal)")
    snapshot = read_catalog(load_config(site_root), tracking_uri)
    story = _Story(snapshot)
    if not story.is_demo:
        return DemoNotes([], [], "the store is not the demo store; no demo notes written")
    authors_file = layout.authors_path
    if authors_file.exists() and authors_file.read_text(encoding="utf-8") == AUTHORS_YML:
        authors_file.unlink()  # `daybook init`'s empty file, untouched: the demo's replaces it
    if authors_file.exists() and not _has_demo_authors(authors_file):
        return DemoNotes(
            [], [], f"{authors_file} exists without the demo authors (alice, bob, chen)"
        )
    files = story.notes()
    written: list[Path] = []
    skipped: list[Path] = []
    for path, text in [*_journal_files(layout), *((layout.notes_path / n, t) for n, t in files)]:
        if _write_new(path, text):
            written.append(path)
        else:
            skipped.append(path)
    index = ensure_journal_index(layout)
    if index is not None:
        written.append(index)
    progress(f"demo notes: wrote {len(written)} files, left {len(skipped)} existing ones alone")
    return DemoNotes(written, skipped)


def _has_demo_authors(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return all(f"\n  {aid}:" in f"\n{text}" for aid in AUTHORS)


def _write_new(path: Path, text: str) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except FileExistsError:
        return False
    return True


def _journal_files(layout: JournalLayout) -> list[tuple[Path, str]]:
    """.authors.yml and the authors' avatars (local files: nothing is loaded from elsewhere)."""
    lines = ["# Who writes the journal; the blog plugin shows these beside each note.", "authors:"]
    files: list[tuple[Path, str]] = []
    for aid, (name, description, colour) in AUTHORS.items():
        avatar = f"assets/avatars/{aid}.svg"
        lines += [
            f"  {aid}:",
            f"    name: {name}",
            f"    description: {description}",
            f"    avatar: {avatar}",
        ]
        initials = "".join(part[0] for part in name.split()[:2]).upper()
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
            f'<circle cx="32" cy="32" r="32" fill="{colour}"/>'
            '<text x="32" y="41" font-family="sans-serif" font-size="24" fill="#fff" '
            f'text-anchor="middle">{initials}</text></svg>\n'
        )
        files.append((layout.docs_dir / avatar, svg))
    return [(layout.authors_path, "\n".join(lines) + "\n"), *files]


# --- the story -----------------------------------------------------------------------------------


def _day(ms: int | None) -> dt.date:
    return dt.datetime.fromtimestamp((ms or 0) / 1000, tz=dt.UTC).date()


def _n(value: float | None) -> str:
    return format_number(value)


class _Story:
    """Finds the demo's runs and models by name and tells what happened, with real numbers."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.s = snapshot
        self.exp_ids = {e.name: e.experiment_id for e in snapshot.experiments}
        self.models = {m.name: m for m in snapshot.models}

    @property
    def is_demo(self) -> bool:
        wanted = {EXP_DIGITS, EXP_CANCER, EXP_DIABETES}
        return wanted <= set(self.exp_ids) and MODEL_CANCER in self.models

    def run(self, exp: str, name: str) -> Run | None:
        eid = self.exp_ids.get(exp)
        hits = [r for r in self.s.runs if r.experiment_id == eid and r.name == name]
        return max(hits, key=lambda r: r.start_time or 0) if hits else None

    def runs(self, exp: str) -> list[Run]:
        eid = self.exp_ids.get(exp)
        return sorted(
            (r for r in self.s.runs if r.experiment_id == eid), key=lambda r: r.start_time or 0
        )

    def model(self, name: str) -> RegisteredModel | None:
        return self.models.get(name)

    @staticmethod
    def ref(run: Run, full: bool = False) -> str:
        """How people write run references: usually an 8-character prefix."""
        return f"runs:/{run.run_id if full else run.run_id[:8]}"

    # Each note is (file name under the notes folder, text); a note whose runs are missing is
    # left out rather than written with holes.
    def notes(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for make in (
            self._bob_failed_svm,
            self._alice_sweep,
            self._model_review,
            self._diabetes_decision,
            self._bob_challenger,
            self._chen_refresh,
            self._alice_scaled,
            self._postmortem,
        ):
            note = make()
            if note is not None:
                out.append(note)
        seen: set[str] = set()
        unique = []
        for name, text in out:
            if name not in seen:
                seen.add(name)
                unique.append((name, text))
        return unique

    def _bob_failed_svm(self) -> tuple[str, str] | None:
        svm = self.run(EXP_CANCER, "svm-rbf")
        base = self.run(EXP_CANCER, "logreg-baseline")
        if svm is None or base is None:
            return None
        day = _day(svm.start_time)
        kernel = svm.params.get("kernel", "?")
        return f"{day}-bob.md", _front(day, ["bob"], "daily", "Baseline registered, SVM typo") + (
            "## Morning review\n\n"
            f"- The logistic-regression baseline {self.ref(base)} finished overnight: val_auc "
            f"{_n(base.metric('val_auc'))} on the 10 `mean *` features only. Registered as "
            f"models:/{MODEL_CANCER}/1 and made champion.\n\n"
            "## Experiments\n\n"
            f"- {self.ref(svm)} failed before training. The config had `kernel: {kernel}`, a "
            "typo for `rbf`; scikit-learn's parameter check caught it. No metrics, nothing to "
            "compare. Fixing the config and moving on to a random forest.\n\n"
            "## Learnings\n\n"
            "- Validate configs before queueing runs: a typo cost a slot on the shared box.\n"
        )

    def _alice_sweep(self) -> tuple[str, str] | None:
        sweep = self.run(EXP_DIGITS, "gbm-sweep")
        base = self.run(EXP_DIGITS, "logreg-baseline")
        if sweep is None or base is None:
            return None
        kids = [r for r in self.runs(EXP_DIGITS) if r.parent_id == sweep.run_id]
        scored = [r for r in kids if r.metric("val_accuracy") is not None]
        if not scored:
            return None
        best = max(scored, key=lambda r: r.metric("val_accuracy") or 0)
        b, v = best.metric("val_accuracy") or 0, base.metric("val_accuracy") or 0
        verdict = (
            f"beats the baseline {self.ref(base)} ({_n(v)})"
            if b > v
            else f"is still below the plain logistic-regression baseline {self.ref(base)} ({_n(v)})"
        )
        day = _day(sweep.start_time)
        deep = next((r for r in kids if r.params.get("max_depth") == "4"), None)
        deep_line = (
            f"- Deeper trees ({self.ref(deep)}, `max_depth=4`) did not help: val_accuracy "
            f"{_n(deep.metric('val_accuracy'))}.\n"
            if deep
            else ""
        )
        return f"{day}-alice.md", _front(day, ["alice"], "daily", "GBM sweep on digits") + (
            "## Experiments\n\n"
            f"- Ran the gradient-boosting grid [gbm-sweep]({self.ref(sweep, full=True)}) in "
            f"experiments:/{EXP_DIGITS}: {len(kids)} trials over `learning_rate` × `max_depth`.\n"
            f"- Best trial {self.ref(best)} reaches val_accuracy {_n(b)}, which {verdict}.\n"
            f"{deep_line}\n"
            "## Learnings\n\n"
            "- On 8×8 digits a well-regularised linear model is hard to beat; the trees overfit "
            "(train loss near zero). Next: scale the pixels before trying bigger models.\n"
        )

    def _model_review(self) -> tuple[str, str] | None:
        cancer = self.model(MODEL_CANCER)
        rf = self.run(EXP_CANCER, "random-forest")
        base = self.run(EXP_CANCER, "logreg-baseline")
        if cancer is None or rf is None or base is None or len(cancer.versions) < 2:
            return None
        v2 = cancer.versions[1]
        day = _day(v2.creation_time)
        shallow = self.run(EXP_CANCER, "rf-depth4-s3")
        ridge = self.run(EXP_DIABETES, "ridge-alpha1")
        lasso = self.run(EXP_DIABETES, "lasso-alpha0.1")
        diabetes = ""
        if ridge and lasso:
            diabetes = (
                f"- Diabetes: lasso {self.ref(lasso)} (val_rmse {_n(lasso.metric('val_rmse'))}) "
                f"edges out the ridge baseline {self.ref(ridge)} "
                f"({_n(ridge.metric('val_rmse'))}); chen wants to try gradient boosting.\n"
            )
        s3 = (
            f"- {self.ref(shallow)} read its training data from the S3 export and logged an "
            "access key as a parameter; the site masks it, but the key must be rotated.\n"
            if shallow
            else ""
        )
        return f"{day}-meeting-model-review.md", _front(
            day, ["bob", "alice", "chen"], "meeting", "Weekly model review"
        ) + (
            "**Attendees:** @alice, @bob, @chen\n\n"
            "## Notes\n\n"
            f"- Cancer: the random forest {self.ref(rf)} reaches val_auc "
            f"{_n(rf.metric('val_auc'))} against {_n(base.metric('val_auc'))} for "
            f"models:/{MODEL_CANCER}/1. Registered as models:/{MODEL_CANCER}/{v2.version}.\n"
            f"{s3}{diabetes}\n"
            "## Decisions\n\n"
            f"- Promote models:/{MODEL_CANCER}/{v2.version} to `champion`; v1 stays registered "
            "as the fallback.\n"
            f"- Monitor the champion daily in experiments:/{EXP_MONITOR}, alerting below 0.9 "
            "accuracy.\n"
            "- No model goes to `champion` without a day of shadow evaluation as `challenger`.\n\n"
            "## Action items\n\n"
            f"- [x] @bob point the champion alias at models:/{MODEL_CANCER}/{v2.version}\n"
            "- [ ] @bob rotate the S3 access key that was logged as a run parameter\n"
            "- [x] @chen try gradient boosting for the diabetes model, logging `val_rmse` per "
            "stage\n"
            "- [x] @alice standardise the digits pixels and re-run the linear baseline\n"
            "- [ ] write the shadow-evaluation checklist\n"
        )

    def _diabetes_decision(self) -> tuple[str, str] | None:
        model = self.model(MODEL_DIABETES)
        gbr = self.run(EXP_DIABETES, "gbr-shallow")
        ridge = self.run(EXP_DIABETES, "ridge-alpha1")
        if model is None or gbr is None or ridge is None or "champion" not in model.aliases:
            return None
        champion = model.aliases["champion"]
        day = _day(max(v.creation_time or 0 for v in model.versions)) + dt.timedelta(days=1)
        return f"{day}-decision-diabetes-champion.md", _front(
            day, ["chen"], "decision", "Serve gradient boosting for diabetes progression"
        ) + (
            "## Context\n\n"
            f"The ridge baseline {self.ref(ridge)} (models:/{MODEL_DIABETES}/1) has served since "
            f"the start, at val_rmse {_n(ridge.metric('val_rmse'))}. Gradient boosting with "
            f"depth-2 trees, {self.ref(gbr)}, reaches {_n(gbr.metric('val_rmse'))} on the same "
            "split, and its per-stage curve shows no overfitting.\n\n"
            "## Decisions\n\n"
            f"- Serve models:/{MODEL_DIABETES}/{champion}, the gradient-boosting model from "
            f"{self.ref(gbr)}: the `champion` alias moves to it.\n"
            "- Keep the ridge model registered as the fallback; roll back by moving the alias.\n\n"
            "## Consequences\n\n"
            "- Predictions are no longer a linear function of the features: explanations need "
            "SHAP values instead of coefficients.\n\n"
            "## Action items\n\n"
            "- [ ] @chen document the feature list and the training data version in the model "
            "card\n"
            "- [x] @chen move the champion alias\n"
        )

    def _bob_challenger(self) -> tuple[str, str] | None:
        gbm = self.run(EXP_CANCER, "gbm-tuned")
        cancer = self.model(MODEL_CANCER)
        if gbm is None or cancer is None or "challenger" not in cancer.aliases:
            return None
        rf = self.run(EXP_CANCER, "random-forest")
        day = _day(gbm.start_time)
        compare = (
            f" against {_n(rf.metric('val_auc'))} for the champion's run {self.ref(rf)}"
            if rf
            else ""
        )
        evals = [r for r in self.runs(EXP_MONITOR) if _day(r.start_time) == day]
        monitoring = (
            f"- Today's evaluation {self.ref(evals[-1])} of models:/{MODEL_CANCER}@champion: "
            f"accuracy {_n(evals[-1].metric('accuracy'))}. Lower than the days before; keeping "
            "an eye on it.\n"
            if evals
            else "-\n"
        )
        return f"{day}-bob.md", _front(
            day, ["bob"], "daily", "A challenger for cancer-detector"
        ) + (
            "## Experiments\n\n"
            f"- Tuned gradient boosting, {self.ref(gbm)}: val_auc {_n(gbm.metric('val_auc'))}"
            f"{compare}.\n\n"
            "## Deployment\n\n"
            f"- Registered it as models:/{MODEL_CANCER}/{cancer.aliases['challenger']} and set "
            f"models:/{MODEL_CANCER}@challenger, for a day of shadow evaluation before any "
            "promotion.\n\n"
            "## Monitoring\n\n"
            f"{monitoring}"
        )

    def _chen_refresh(self) -> tuple[str, str] | None:
        refresh = self.run(EXP_DIABETES, "ridge-alpha1-refresh")
        ridge = self.run(EXP_DIABETES, "ridge-alpha1")
        if refresh is None or ridge is None:
            return None
        day = _day(refresh.start_time)
        # A plain Obsidian-style note: no front matter; the date and author come from its name.
        return f"{day}-chen.md", (
            "# Refreshed diabetes data\n\n"
            f"The data refresh landed: {refresh.params.get('n_rows', 'more')} patients instead of "
            f"{ridge.params.get('n_rows', 'fewer')}. Re-ran the ridge baseline on it, "
            f"{self.ref(refresh)}: val_rmse {_n(refresh.metric('val_rmse'))} (was "
            f"{_n(ridge.metric('val_rmse'))} on the old snapshot, {self.ref(ridge)}). The numbers "
            "are not comparable across snapshots; every model needs a re-run on the new data.\n\n"
            f"- [ ] re-train models:/{MODEL_DIABETES}@champion on the refreshed data\n"
        )

    def _alice_scaled(self) -> tuple[str, str] | None:
        scaled = self.run(EXP_DIGITS, "logreg-c0.1-scaled")
        base = self.run(EXP_DIGITS, "logreg-baseline")
        if scaled is None or base is None:
            return None
        day = _day(scaled.start_time)
        gain = (scaled.metric("val_accuracy") or 0) - (base.metric("val_accuracy") or 0)
        return f"{day}-alice.md", _front(day, ["alice"], "daily", "Scaling the pixels") + (
            "## Experiments\n\n"
            f"- Standardised pixels with `C=0.1`, {self.ref(scaled)}: val_accuracy "
            f"{_n(scaled.metric('val_accuracy'))}, {gain * 100:+.1f} points over the raw-pixel "
            f"baseline {self.ref(base)}. Best digits model so far; closes the action item from "
            "the model review.\n\n"
            "## Learnings\n\n"
            "- Feature scaling mattered more than model family here. Try it first next time.\n"
        )

    def _postmortem(self) -> tuple[str, str] | None:
        evals = self.runs(EXP_MONITOR)
        cancer = self.model(MODEL_CANCER)
        if len(evals) < 3 or cancer is None:
            return None
        last, prev, good = evals[-1], evals[-2], evals[-3]
        day = _day(last.start_time)
        challenger = cancer.aliases.get("challenger")
        hold = (
            f"- Do not promote models:/{MODEL_CANCER}@challenger until the "
            "inputs are fixed: it was never evaluated on the drifted data.\n"
            if challenger
            else ""
        )
        return f"{day}-postmortem-monitoring-drift.md", _front(
            day, ["bob"], "postmortem", "Accuracy drop in cancer-detector monitoring"
        ) + (
            "## Summary\n\n"
            f"The daily evaluation of models:/{MODEL_CANCER}@champion fell from accuracy "
            f"{_n(good.metric('accuracy'))} ({self.ref(good)}) to "
            f"{_n(prev.metric('accuracy'))} ({self.ref(prev)}) and then "
            f"{_n(last.metric('accuracy'))} ({self.ref(last)}), below the 0.9 alert line. "
            "The model did not change; its inputs did.\n\n"
            "## Timeline\n\n"
            f"- {_day(prev.start_time)}: first low evaluation, {self.ref(prev)}; read as noise.\n"
            f"- {day}: second low evaluation, {self.ref(last)}; alert fired.\n\n"
            "## Root cause\n\n"
            "The imaging pipeline started sending noisier features upstream (a scanner "
            "calibration change). Bootstrap samples of the hold-out set with that noise reproduce "
            "the drop.\n\n"
            "## Decisions\n\n"
            f"- Keep models:/{MODEL_CANCER}@champion serving; the drop is in the data, not the "
            "model.\n"
            f"{hold}\n"
            "## Action items\n\n"
            "- [ ] @bob add a feature-range check in front of the model\n"
            f"- [ ] @alice re-run {self.ref(last)}'s evaluation once the scanner fix lands\n"
        )


def _front(day: dt.date, authors: list[str], kind: str, title: str) -> str:
    listed = "".join(f"  - {a}\n" for a in authors)
    return f"---\ndate: {day}\nauthors:\n{listed}type: {kind}\ntitle: {title}\n---\n\n"
