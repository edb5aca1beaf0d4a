"""The built site: a real `daybook build --strict` of the fixture store, read back as HTML."""

from __future__ import annotations

from pathlib import Path

from conftest import BuiltSite
from daybook.mkdocs.scaffold import init_site
from daybook.safety.redact import MASK
from helpers import HtmlPage, error_lines, parse_html, run_cli, stray_files
from store_builder import StoreInfo


def cells(page: HtmlPage, *header: str, column: str = "Run") -> list[str]:
    return [c.text.strip() for c in page.table_with(*header).column(column)]


def facts(page: HtmlPage) -> dict[str, str]:
    """The page's first two-column table of facts (label -> value)."""
    table = next(t for t in page.tables if t.header == ["", ""])
    return {row[0].text: row[1].text for row in table.body}


def test_the_build_is_strict_and_reports_its_steps(built_site: BuiltSite) -> None:
    # the pull's summary: full, or incremental when an earlier test's generate saved a snapshot
    assert "14 runs in 5 experiments" in built_site.stderr
    assert "WARNING" not in built_site.stderr
    # every generated page is in the nav: MkDocs lists none as left out (a line per page)
    assert "not included in the" not in built_site.stderr
    for page in [
        "index.md",
        "experiments/index.md",
        "experiments/classifier/index.md",
        "models/index.md",
        "models/digits-clf/index.md",
        "about.md",
    ]:
        assert built_site.page(page).is_file(), page
    assert (built_site.html / "search" / "search_index.json").is_file()


def test_the_home_page_summarises_the_store(built_site: BuiltSite, store: StoreInfo) -> None:
    page = parse_html(built_site.page("index.md"))
    assert page.heading() == "Daybook"
    assert "4 experiments with 14 runs" in page.text  # the empty Default is not one of them
    assert "2 registered models with 3 versions" in page.text
    # The store is named relative to its own folder; the building machine's path stays off.
    assert "sqlite:///mlflow.db" in page.text and str(store.db_path.parent) not in page.text
    recent = cells(page, "Run", "Experiment", "Status")
    assert recent[:2] == ["r", "r"]  # newest first
    assert cells(page, "Experiment", "Runs", column="Experiment") == [
        "classifier",
        "My Model",
        "my-model",
        "regression",
    ]


def test_the_experiment_list_names_every_experiment_with_its_best_value(
    built_site: BuiltSite,
) -> None:
    page = parse_html(built_site.page("experiments/index.md"))
    table = page.table_with("Experiment", "Runs")
    rows = {r[0].text: [c.text for c in r] for r in table.body}
    assert set(rows) == {"classifier", "My Model", "my-model", "regression"}  # Default: empty
    # One precision per column, from the spread of its values (core/numbers.decimals_for).
    assert rows["classifier"][1:] == ["9", "2025-11-24 16:14 UTC", "val_accuracy (↑)", "0.9700"]
    assert rows["regression"][3:] == ["val_rmse (↓)", "2.500"]


def test_an_experiment_with_no_runs_has_no_page_nav_entry_or_row(built_site: BuiltSite) -> None:
    """MLflow's Default experiment is empty in the fixture store: `experiments.hide_empty`
    (the default) leaves it out everywhere, so nothing links a page that says "No runs"."""
    assert not (built_site.html / "experiments" / "default").exists()
    for page in ("index.md", "experiments/index.md", "experiments/classifier/index.md"):
        html = parse_html(built_site.page(page))
        hrefs = [h.split("#")[0].rstrip("/") for h in html.links()]
        assert not [h for h in hrefs if h.split("/")[-1] == "default"], page


def test_a_guessed_primary_metric_ranks_the_highest_first_and_says_it_was_guessed(
    built_site: BuiltSite,
) -> None:
    page = parse_html(built_site.page("experiments/classifier/index.md"))
    assert facts(page)["Primary metric"].startswith("val_accuracy, higher is better (guessed")
    assert cells(page, "#", "Run") == [
        "<img src=x onerror=alert(1)>",
        "sweep-lr-0.05",
        "sweep",
        "sweep-lr-0.1",
        "sweep-lr-0.01",
        "a|b c",
        "still-going",
    ]
    assert cells(page, "#", "Run", column="val_accuracy") == [
        "0.9700",
        "0.9500",
        "0.9300",
        "0.9100",
        "0.8800",
        "0.6000",
        "0.4500",
    ]


def test_a_configured_primary_metric_is_minimized_by_its_name(built_site: BuiltSite) -> None:
    page = parse_html(built_site.page("experiments/regression/index.md"))
    assert facts(page)["Primary metric"] == "val_rmse, lower is better"
    assert cells(page, "#", "Run") == ["ridge-1", "ridge-2", "ridge-0"]
    assert cells(page, "#", "Run", column="val_rmse") == ["2.500", "2.700", "3.000"]


def test_nested_runs_are_listed_under_their_parent(built_site: BuiltSite) -> None:
    page = parse_html(built_site.page("experiments/classifier/index.md"))
    runs = [c.text for c in page.table_with("Run", "Status").column("Run")]
    i = runs.index("sweep")
    assert runs[i + 1 : i + 4] == [
        "\u2003↳ sweep-lr-0.01",
        "\u2003↳ sweep-lr-0.05",
        "\u2003↳ sweep-lr-0.1",
    ]
    assert sum("↳" in r for r in runs) == 3


def test_parent_and_child_run_pages_link_to_each_other(
    built_site: BuiltSite, store: StoreInfo
) -> None:
    parent = parse_html(built_site.run_page(store.runs["parent"]))
    assert facts(parent)["Child runs"] == "sweep-lr-0.01, sweep-lr-0.05, sweep-lr-0.1"
    child = parse_html(built_site.run_page(store.runs["child0"]))
    assert facts(child)["Parent run"] == "sweep"
    assert "../sweep-" + store.runs["parent"][:8] + "/" in child.links()


def test_runs_without_a_page_link_to_the_run_viewer(
    built_site: BuiltSite, store: StoreInfo
) -> None:
    page = parse_html(built_site.page("experiments/classifier/index.md"))
    table = page.table_with("Run", "Status")
    by_name = {r[0].text: r[0] for r in table.body}
    nan_id, crashed_id = store.runs["nan"], store.runs["failed"]
    assert by_name["nan-metrics"].hrefs == [f"../../runs/#{nan_id}"]
    assert by_name["crashed"].hrefs == [f"../../runs/#{crashed_id}"]
    assert by_name["sweep"].hrefs == [by_name["sweep"].hrefs[0]]
    assert not list(built_site.html.glob("experiments/classifier/runs/nan-metrics-*"))
    nan_row = next(r for r in table.body if r[0].text == "nan-metrics")
    assert [c.text for c in nan_row][-3:] == ["NaN", "—", "∞"]


def test_model_aliases_point_at_their_versions(built_site: BuiltSite, store: StoreInfo) -> None:
    page = parse_html(built_site.page("models/digits-clf/index.md"))
    aliases = page.table_with("Alias", "Version")
    assert [(r[0].text, r[1].text) for r in aliases.body] == [
        ("challenger", "digits-clf v3"),
        ("champion", "digits-clf v2"),
    ]
    assert [r[1].hrefs for r in aliases.body] == [["./#v3"], ["./#v2"]]
    ids = {a.get("id") for _, a in page.tags}
    assert {"v1", "v2", "v3"} <= ids
    versions = page.table_with("Version", "Created")
    assert [c.text for c in versions.column("Version")] == ["v3", "v2", "v1"]
    assert [c.text for c in versions.column("Aliases")] == ["challenger", "champion", ""]
    assert [c.text for c in versions.column("Source run")] == [
        "<img src=x onerror=alert(1)>",
        "sweep-lr-0.05",
        "sweep-lr-0.1",
    ]
    v2 = versions.column("Source run")[1]
    assert v2.hrefs == [
        f"../../experiments/classifier/runs/sweep-lr-0-05-{store.runs['child1'][:8]}/"
    ]
    assert [c.text for c in versions.column("Δ previous")] == ["+0.0200", "+0.0400", "—"]
    tags = page.table_with("Tag", "Value")
    assert [(r[0].text, r[1].text) for r in tags.body] == [("owner", "alice"), ("secret_key", MASK)]


def test_the_model_list_shows_aliases(built_site: BuiltSite) -> None:
    page = parse_html(built_site.page("models/index.md"))
    rows = {r[0].text: [c.text for c in r] for r in page.table_with("Model", "Versions").body}
    assert rows["digits-clf"][1:4] == ["3", "challenger → v3, champion → v2", "v3"]
    assert rows["empty-model"][1:4] == ["0", "—", "—"]
    empty = parse_html(built_site.page("models/empty-model/index.md"))
    assert "This model has no versions yet." in empty.text


def test_a_run_page_shows_params_metrics_and_artifacts(
    built_site: BuiltSite, store: StoreInfo
) -> None:
    page = parse_html(built_site.run_page(store.runs["child1"]))
    assert page.heading() == "sweep-lr-0.05"
    info = facts(page)
    assert info["Experiment"] == "classifier"
    assert info["Status"] == "Finished"
    assert info["Duration"] == "8 min 00 s"
    assert info["Run id"] == store.runs["child1"]
    assert info["Leaderboard"] == "#2 by val_accuracy"
    assert info["Model versions"] == "digits-clf v2"
    params = page.table_with("Parameter", "Value")
    assert [[c.text for c in r] for r in params.body] == [
        ["learning_rate", "0.05"],
        ["max_depth", "3"],
    ]
    metrics = page.table_with("Metric", "Last")
    assert [[c.text for c in r] for r in metrics.body] == [
        ["train_loss", "0.2000", "2", "0.2000", "1.0000", "3"],
        ["val_accuracy", "0.9500", "2", "0.5000", "0.9500", "3"],
    ]
    artifacts = page.table_with("Path", "Size", "Preview")
    assert [[c.text for c in r] for r in artifacts.body] == [
        ["reports/", "", ""],
        ["reports/confusion.txt", "17", "shown above"],
    ]
    assert "confusion matrix" in page.text  # the small text artifact, shown inline


def test_a_run_page_shows_its_datasets(built_site: BuiltSite, store: StoreInfo) -> None:
    page = parse_html(built_site.run_page(store.runs["reg2"]))
    datasets = page.table_with("Name", "Context", "Digest")
    assert [[c.text for c in r] for r in datasets.body] == [
        ["diabetes", "training", "d1g35t2", "local", "/data/diabetes-v2.csv"]
    ]


def test_system_tags_are_kept_apart_from_the_runs_own_tags(
    built_site: BuiltSite, store: StoreInfo
) -> None:
    page = parse_html(built_site.run_page(store.runs["hostile"]))
    own, system = [t for t in page.tables if t.header == ["Tag", "Value"]]
    assert [r[0].text for r in own.body] == ["team"]
    assert [r[0].text for r in system.body] == [
        "mlflow.runName",
        "mlflow.source.git.commit",
        "mlflow.user",
    ]
    assert "System tags (3)" in page.text
    summaries = [t for t, _ in page.tags if t == "details"]
    assert summaries == ["details"]  # folded away
    assert facts(page)["Git commit"] == "0123456789abcdef0123456789abcdef01234567"
    params = page.table_with("Parameter", "Value")
    assert ["api_token", MASK] in [[c.text for c in r] for r in params.body]


def test_handwritten_pages_are_kept(built_site: BuiltSite) -> None:
    page = parse_html(built_site.page("about.md"))
    assert page.heading() == "About this site"


# --- a new site -----------------------------------------------------------------------------------


def test_a_new_site_without_a_store_builds_with_a_warning_and_says_what_to_do(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    assert run_cli("init", site, cwd=cwd).returncode == 0
    # --strict refuses (issue #13): a CI job pointed at the wrong folder must not publish an
    # empty site. One line naming the file and the fix; no site written, no store created.
    strict = run_cli("build", "--strict", "-C", site, cwd=cwd)
    assert strict.returncode == 1
    [line] = error_lines(strict)
    assert line.startswith(f"Error: {(site / 'mlflow.db').resolve()}: no MLflow store")
    assert "daybook demo" in line and "tracking_uri" in line
    assert not (site / "site").exists()
    result = run_cli("build", "-C", site, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "warning: no MLflow store at" in result.stderr
    home = parse_html(site / "site" / "index.html")
    assert "No MLflow store at mlflow.db beside mkdocs.yml" in home.text
    assert "daybook demo" in home.text
    assert "No runs yet." in home.text
    assert (site / "site" / "experiments" / "index.html").is_file()
    assert not (site / "mlflow.db").exists()
    assert list(cwd.iterdir()) == []
    assert stray_files(site) == []


def test_init_writes_a_complete_site(tmp_path: Path) -> None:
    written = init_site(tmp_path / "new")
    names = sorted(p.relative_to(tmp_path / "new").as_posix() for p in written)
    assert names == [
        ".gitignore",
        "daybook.yml",
        "docs/about.md",
        "docs/journal/.authors.yml",
        "docs/journal/index.md",
        "docs/notes/.gitkeep",
        "docs/writing-notes.md",
        "gen_pages.py",
        "mkdocs.yml",
        "templates/README.md",
    ]
