"""Links to the MLflow UI: its hash routes, a hostile name percent-encoded so it cannot end
the link, nothing at all without `mlflow_ui_url`, and only an http(s) address accepted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from daybook.core.config import DaybookConfig
from daybook.pages.mlflow_ui import MlflowUi

BASE = "https://mlflow.example.com"


def test_routes_of_run_experiment_model_and_version() -> None:
    ui = MlflowUi(BASE)
    assert ui.run("3", "abc") == f"[Open in MLflow]({BASE}/#/experiments/3/runs/abc)"
    assert ui.experiment("3") == f"[Open in MLflow]({BASE}/#/experiments/3)"
    assert ui.model("churn") == f"[Open in MLflow]({BASE}/#/models/churn)"
    assert ui.version("churn", 2) == f"[Open in MLflow]({BASE}/#/models/churn/versions/2)"


def test_a_hostile_model_name_is_percent_encoded() -> None:
    link = MlflowUi(BASE).model("a) [x](javascript:alert(1) <b>")
    assert link.endswith("/#/models/a%29%20%5Bx%5D%28javascript%3Aalert%281%29%20%3Cb%3E)")


def test_no_address_no_link() -> None:
    assert MlflowUi(None).run("3", "abc") == ""


@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "ftp://x", "https://u:p@host", "https://h/?q=1", "https://h/a)b"]
)
def test_only_an_http_address_is_accepted(bad: str) -> None:
    with pytest.raises(ValidationError):
        DaybookConfig(mlflow_ui_url=bad)


def test_a_trailing_slash_is_dropped() -> None:
    assert DaybookConfig(mlflow_ui_url=BASE + "/").mlflow_ui_url == BASE
