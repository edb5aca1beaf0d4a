"""Links to the MLflow UI ("Open in MLflow") when daybook.yml sets `mlflow_ui_url`: the same
run, experiment, model or version in the MLflow UI (its hash routes), for what the site leaves
out."""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup

from daybook.safety.escape import md_text

LABEL = "Open in MLflow"


class MlflowUi:
    """Templates get one as `mlflow_ui`; every method gives "" when no UI address is set. The
    address was validated with the settings (http(s), no characters Markdown acts on); the ids
    and names are percent-encoded, so a hostile name cannot end the link."""

    def __init__(self, base: str | None) -> None:
        self.base = base or ""

    def _link(self, route: str, label: str = LABEL) -> Markup:
        if not self.base:
            return Markup("")
        return Markup(f"[{md_text(label)}]({self.base}/#/{route})")

    def experiment(self, experiment_id: str) -> Markup:
        return self._link(f"experiments/{_q(experiment_id)}")

    def run(self, experiment_id: str, run_id: str) -> Markup:
        return self._link(f"experiments/{_q(experiment_id)}/runs/{_q(run_id)}")

    def model(self, name: str) -> Markup:
        return self._link(f"models/{_q(name)}")

    def version(self, name: str, version: int, label: str = LABEL) -> Markup:
        return self._link(f"models/{_q(name)}/versions/{int(version)}", label)


def _q(value: str) -> str:
    return quote(str(value), safe="")
