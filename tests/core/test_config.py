"""daybook.yml: defaults, validation that names file:line:key, and where the store is."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from daybook.commands.generate import load_site
from daybook.core.config import (
    DEFAULT_TRACKING_URI,
    DaybookConfig,
    ExperimentFilter,
    PrimaryMetric,
    guess_direction,
    load_config,
    resolve_tracking_uri,
)
from daybook.core.errors import ConfigError
from daybook.mkdocs.scaffold import init_site
from daybook.safety.redact import DEFAULT_PATTERNS
from helpers import error_lines, run_cli


def write_config(site: Path, text: str | bytes) -> Path:
    site.mkdir(parents=True, exist_ok=True)
    path = site / "daybook.yml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- defaults -------------------------------------------------------------------------------------


def test_a_site_without_daybook_yml_gets_every_default(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == DaybookConfig()
    assert config.tracking_uri is None
    assert config.title == "Daybook"
    assert config.experiments.include == ["*"] and config.experiments.exclude == []
    assert config.primary_metrics == []
    assert config.leaderboard_size == 10
    assert (config.run_pages.top, config.run_pages.parents) == (10, True)
    assert (config.run_pages.registered, config.run_pages.all) == (True, False)
    assert (config.run_table.params, config.run_table.metrics) == (4, 4)
    assert config.redact == list(DEFAULT_PATTERNS)


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_an_empty_daybook_yml_means_defaults(tmp_path: Path, text: str) -> None:
    write_config(tmp_path, text)
    assert load_config(tmp_path) == DaybookConfig()


def test_the_scaffold_daybook_yml_is_valid_and_spells_out_the_defaults(tmp_path: Path) -> None:
    init_site(tmp_path / "site")
    assert load_config(tmp_path / "site") == DaybookConfig()


def test_settings_are_read(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "title: Team ML\n"
        "tracking_uri: http://mlflow.internal:5000\n"
        "experiments:\n  include: ['churn-*']\n  exclude: ['*-scratch']\n"
        "primary_metrics:\n  - experiment: 'churn-*'\n    metric: val_auc\n"
        "    direction: maximize\n"
        "leaderboard_size: 5\n"
        "run_pages: {top: 3, all: true}\n",
    )
    config = load_config(tmp_path)
    assert config.title == "Team ML"
    assert config.tracking_uri == "http://mlflow.internal:5000"
    assert config.experiments.wants("churn-v2")
    assert not config.experiments.wants("churn-scratch")
    assert not config.experiments.wants("fraud")
    assert config.primary_for("churn-v2") == PrimaryMetric(
        experiment="churn-*", metric="val_auc", direction="maximize"
    )
    assert config.primary_for("fraud") is None
    assert config.leaderboard_size == 5
    assert (config.run_pages.top, config.run_pages.all, config.run_pages.parents) == (3, True, True)


# --- errors name file:line:key --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ("title: x\nexperiments:\n  inlcude: ['a']\n", 3, "experiments.inlcude", "unknown key"),
        ("title: x\n\ncolour: red\n", 3, "colour", "unknown key"),
        ("title: x\nrun_pages:\n  top: 5\n  al: true\n", 4, "run_pages.al", "unknown key"),
        ("title: x\nleaderboard_size: lots\n", 2, "leaderboard_size", "valid integer"),
        ("run_pages:\n  top: -1\n", 2, "run_pages.top", "greater than or equal to 0"),
        ("experiments:\n  include: a\n", 2, "experiments.include", "valid list"),
        (
            "primary_metrics:\n  - metric: a\n  - metric: b\n    direction: up\n",
            4,
            "primary_metrics.1.direction",
            "'minimize' or 'maximize'",
        ),
        ("primary_metrics:\n  - experiment: x\n", 2, "primary_metrics.0.metric", "required"),
        ("title: x\nredact_values: ['E-(\\d']\n", 2, "redact_values", "not a regular expression"),
        # A union's members are one line, under the key as written (not `max_drop.float`).
        (
            "monitors:\n  - name: a\n    metric: m\n    experiment: e\n    max_drop: [1]\n",
            5,
            "monitors.0.max_drop",
            "valid number; Input should be a valid string",
        ),
    ],
)
def test_a_wrong_setting_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, problem: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert problem in message
    assert "\n" not in message


def test_every_mistake_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    # pydantic reports in model order (leaderboard_size before run_pages); a person reads the
    # file top to bottom, so the lines come in file order, each with its own file:line.
    path = write_config(
        tmp_path,
        "title: x\n"
        "run_page:\n"  # 2: misspelt section
        "  top: 3\n"
        "experiments:\n"
        "  inlcude: ['a']\n"  # 5: misspelt key inside a section
        "colour: red\n"  # 6: nothing close: no suggestion
        "leaderboard_size: lots\n"  # 7: wrong type
        "monitors:\n"
        "  - name: m\n"
        "    experiment: e\n"
        "    metric: acc\n"
        "    warn: {mni: 0.5}\n",  # 12: misspelt key in a list item's section
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}:2: run_page: unknown key (did you mean `run_pages`?)",
        f"{path}:5: experiments.inlcude: unknown key (did you mean `include`?)",
        f"{path}:6: colour: unknown key",
        f"{path}:7: leaderboard_size: Input should be a valid integer, unable to parse string "
        "as an integer",
        f"{path}:12: monitors.0.warn.mni: unknown key (did you mean `min`?)",
    ]


def test_a_key_written_twice_is_an_error_at_its_second_place(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys without a word: a setting fixed at the top would be
    undone by a forgotten copy below. Each repeat is reported, among the other mistakes, in line
    order."""
    path = write_config(
        tmp_path,
        "leaderboard_size: 5\n"
        "run_pages:\n"
        "  top: 3\n"
        "  top: 4\n"  # 4: twice in a section
        "colour: red\n"  # 5: another mistake, reported in its place
        "monitors:\n"
        "  - {name: m, experiment: e, metric: acc, metric: loss, min: 0}\n"  # 7: in a list item
        "leaderboard_size: 10\n",  # 8: twice at the top
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value).splitlines() == [
        f"{path}:4: top: set twice (first on line 3); remove one",
        f"{path}:5: colour: unknown key",
        f"{path}:7: metric: set twice (first on line 7); remove one",
        f"{path}:8: leaderboard_size: set twice (first on line 1); remove one",
    ]
    write_config(tmp_path, "leaderboard_size: 5\nrun_pages: {top: 3}\nleaderboard_size: 5\n")
    with pytest.raises(ConfigError, match=r":3: leaderboard_size: set twice \(first on line 1\)"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("title: x\nexperiments:\n\tinclude: ['a']\n", 3, "cannot start any token"),
        # An unclosed bracket or quote is reported where it opened, not where YAML gave up.
        (
            "title: x\nexperiments: {include: ['a']\nleaderboard_size: 3\n",
            2,
            "in the `{…}` that opens here: expected ',' or '}', but got '<scalar>' (line 3)",
        ),
        (
            "title: 'unclosed\nleaderboard_size: 3\nrun_pages: {}\n",
            1,
            "a quoted string opens here and is never closed",
        ),
        ("a: 1\nexperiments: [x, y\ntitle: t\n", 2, "in the `[…]` that opens here: expected"),
        # A mistake inside a closed string is where it is.
        ('title: x\nrun_pages: {}\ndisplay_uri: "a\\qb"\n', 3, "unknown escape character"),
    ],
)
def test_invalid_yaml_names_the_line_to_fix(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value).startswith(f"{path}:{line}: invalid YAML: ")
    assert says in str(info.value)
    assert "\n" not in str(info.value)


def test_a_list_instead_of_settings_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, "- title\n- x\n")
    with pytest.raises(ConfigError, match="expected a mapping of settings"):
        load_config(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value).startswith(f"{path}:1: ")


def test_a_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, b"title: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value).startswith(f"{path}: not UTF-8")


@pytest.mark.parametrize("command", ["generate", "build"])
def test_the_cli_reports_a_config_error_in_one_line_with_exit_code_2(
    tmp_path: Path, command: str
) -> None:
    site = tmp_path / "site"
    init_site(site)
    path = write_config(site, "title: x\nexperiments:\n  inlcude: ['a']\n")
    out = tmp_path / "out"
    args = ["--out", out] if command == "generate" else []
    result = run_cli(command, "-C", site, *args)
    assert result.returncode == 2
    assert error_lines(result) == [
        f"Error: {path.resolve()}:3: experiments.inlcude: unknown key (did you mean `include`?)"
    ]
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not (site / "site").exists()


def test_the_cli_reports_every_config_error_on_a_line_of_its_own(tmp_path: Path) -> None:
    site = tmp_path / "site"
    init_site(site)
    path = write_config(site, "run_page: {top: 1}\ntitle: x\nexperiments:\n  inlcude: ['a']\n")
    result = run_cli("build", "-C", site)
    assert result.returncode == 2
    assert error_lines(result) == [
        f"Error: {path.resolve()}:1: run_page: unknown key (did you mean `run_pages`?)",
        f"Error: {path.resolve()}:4: experiments.inlcude: unknown key (did you mean `include`?)",
    ]
    assert "Traceback" not in result.stderr
    assert not (site / "site").exists()


def test_the_cli_reports_invalid_yaml_with_exit_code_2(tmp_path: Path) -> None:
    site = tmp_path / "site"
    path = write_config(site, "title: x\nrun_pages:\n\ttop: 3\n")
    result = run_cli("generate", "-C", site, "--out", tmp_path / "out")
    assert result.returncode == 2
    [line] = error_lines(result)
    assert line.startswith(f"Error: {path.resolve()}:3: invalid YAML")


# --- primary metric direction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        "loss",
        "val_loss",
        "train_loss",
        "RMSE",
        "val_rmse",
        "mae",
        "mse",
        "mape",
        "error_rate",
        "test_error",
        "perplexity",
        "Val_Loss",
    ],
)
def test_error_like_metrics_are_minimized(metric: str) -> None:
    assert guess_direction(metric) == "minimize"


@pytest.mark.parametrize(
    "metric", ["accuracy", "val_accuracy", "auc", "roc_auc", "f1", "r2", "precision", "score"]
)
def test_other_metrics_are_maximized(metric: str) -> None:
    assert guess_direction(metric) == "maximize"


def test_the_first_matching_primary_metric_wins() -> None:
    config = DaybookConfig(
        primary_metrics=[
            PrimaryMetric(experiment="churn-*", metric="val_auc"),
            PrimaryMetric(metric="val_loss"),
        ]
    )
    assert config.primary_for("churn-eu").metric == "val_auc"
    assert config.primary_for("fraud").metric == "val_loss"


def test_experiment_filters_are_case_sensitive_globs() -> None:
    f = ExperimentFilter(include=["team-*", "shared"], exclude=["*-old"])
    assert f.wants("team-a") and f.wants("shared")
    assert not f.wants("Team-a")
    assert not f.wants("team-a-old")
    assert not f.wants("other")


# --- where the store is ---------------------------------------------------------------------------


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A site folder and a different working directory."""
    site, cwd = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return site, cwd


def test_the_option_beats_the_environment_and_the_config(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, _ = places
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://env:5000")
    config = DaybookConfig(tracking_uri="http://config:5000")
    assert resolve_tracking_uri(config, site, "http://option:5000") == "http://option:5000"


def test_the_environment_beats_the_config(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, _ = places
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://env:5000")
    config = DaybookConfig(tracking_uri="http://config:5000")
    assert resolve_tracking_uri(config, site, None) == "http://env:5000"


def test_the_config_beats_the_default(places: tuple[Path, Path]) -> None:
    site, _ = places
    config = DaybookConfig(tracking_uri="http://config:5000")
    assert resolve_tracking_uri(config, site, None) == "http://config:5000"


def test_the_default_is_mlflow_db_beside_the_site(places: tuple[Path, Path]) -> None:
    site, _ = places
    assert DEFAULT_TRACKING_URI == "sqlite:///mlflow.db"
    assert resolve_tracking_uri(DaybookConfig(), site, None) == f"sqlite:///{site / 'mlflow.db'}"
    assert load_site(site).default_store
    assert not load_site(site, "sqlite:///mlflow.db").default_store


def test_a_relative_sqlite_path_in_the_config_is_relative_to_the_site(
    places: tuple[Path, Path],
) -> None:
    site, _ = places
    config = DaybookConfig(tracking_uri="sqlite:///data/runs.db")
    assert resolve_tracking_uri(config, site, None) == f"sqlite:///{site / 'data' / 'runs.db'}"


def test_a_relative_sqlite_path_from_the_environment_is_relative_to_the_cwd(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, cwd = places
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///data/runs.db")
    expected = f"sqlite:///{cwd / 'data' / 'runs.db'}"
    assert resolve_tracking_uri(DaybookConfig(), site, None) == expected


def test_a_relative_sqlite_path_from_the_option_is_relative_to_the_cwd(
    places: tuple[Path, Path],
) -> None:
    site, cwd = places
    expected = f"sqlite:///{cwd / 'runs.db'}"
    assert resolve_tracking_uri(DaybookConfig(), site, "sqlite:///runs.db") == expected
    assert resolve_tracking_uri(DaybookConfig(), site, "sqlite:///./x/../runs.db") == expected


@pytest.mark.parametrize(
    "uri",
    [
        "sqlite:////abs/path/mlflow.db",
        "sqlite:///:memory:",
        "http://127.0.0.1:5000",
        "https://user:pw@mlflow.example/",
        "postgresql://u:p@db/mlflow",
    ],
)
def test_other_uris_are_left_as_they_are(places: tuple[Path, Path], uri: str) -> None:
    site, _ = places
    assert resolve_tracking_uri(DaybookConfig(tracking_uri=uri), site, None) == uri
    assert resolve_tracking_uri(DaybookConfig(), site, uri) == uri


def test_the_cli_follows_the_same_precedence(tmp_path: Path, store) -> None:
    """A daybook.yml naming a missing store is overridden by MLFLOW_TRACKING_URI and by
    --tracking-uri; without either, the error names the store the config points at."""
    site = tmp_path / "site"
    init_site(site)
    with (site / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write("tracking_uri: sqlite:///nowhere/missing.db\n")
    missing = site.resolve() / "nowhere" / "missing.db"

    result = run_cli("generate", "-q", "-C", site, "--out", tmp_path / "a", cwd=tmp_path)
    assert result.returncode == 1
    [line] = error_lines(result)
    assert f"sqlite:///{missing}" in line and "daybook demo" in line

    result = run_cli(
        "generate",
        "-q",
        "-C",
        site,
        "--out",
        tmp_path / "b",
        env={"MLFLOW_TRACKING_URI": store.uri},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    home = html.unescape((tmp_path / "b" / "index.md").read_text(encoding="utf-8"))
    # The store is named relative to its own folder: the building machine's path stays off.
    assert "sqlite:///mlflow.db" in home and str(store.db_path.parent) not in home

    result = run_cli(
        "generate",
        "-q",
        "-C",
        site,
        "--out",
        tmp_path / "c",
        "--tracking-uri",
        store.uri,
        env={"MLFLOW_TRACKING_URI": "sqlite:///also/missing.db"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "also").exists()


def test_preset_columns_of_a_wide_experiment_match_by_name_or_glob(tmp_path: Path) -> None:
    write_config(tmp_path, "experiments:\n  columns:\n    churn: [val_auc]\n"
                 "    churn-*: [optimizer.lr, val_auc]\n")  # fmt: skip
    experiments = load_config(tmp_path).experiments
    assert experiments.columns_for("churn") == ["val_auc"]
    assert experiments.columns_for("churn-v2") == ["optimizer.lr", "val_auc"]  # the first match
    assert experiments.columns_for("fraud") == []


def test_preset_columns_must_be_lists_of_names(tmp_path: Path) -> None:
    path = write_config(tmp_path, "experiments:\n  columns:\n    churn: val_auc\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value).startswith(f"{path}:3: experiments.columns.churn: "), str(info.value)
    assert "\n" not in str(info.value)
