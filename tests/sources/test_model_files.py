"""Reading model versions' files from a real store: MLmodel files of MLflow 3 LoggedModels and of
`runs:/` sources, cards logged with runs, deleted source runs, unreadable files — through the
direct sqlite reader and through MLflow's client, which must agree."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Snapshot
from daybook.sources.model_files import _parse_mlmodel, logged_model_id, wanted_versions
from daybook.store.pull import pull
from helpers import fingerprint
from model_store import ModelStore, build_model_store


@pytest.fixture(scope="module")
def mstore(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    root = tmp_path_factory.mktemp("model-store")
    with contextlib.chdir(root):
        return build_model_store(root)


@pytest.fixture(scope="module")
def snap(mstore: ModelStore) -> Snapshot:
    return pull(DaybookConfig(), mstore.uri)


def test_logged_models_give_flavor_library_and_signature(
    mstore: ModelStore, snap: Snapshot
) -> None:
    files = snap.files_of("churn-model", 1)
    assert files is not None
    assert files.logged_model_id == mstore.logged["logreg"]
    assert files.location.endswith(f"{mstore.logged['logreg']}/artifacts")
    assert files.flavors == ("python_function", "sklearn")
    assert files.library == "sklearn" and files.library_version
    assert files.mlflow_version.startswith("3.")
    assert files.size_bytes and files.size_bytes > 0
    assert files.signature is not None
    assert [f.name for f in files.signature.inputs][:2] == ["mean radius", "mean texture"]
    assert {f.type for f in files.signature.inputs} == {"double"}
    assert files.problems == () and files.notes == ()


def test_a_card_logged_with_the_run_is_read(mstore: ModelStore, snap: Snapshot) -> None:
    files = snap.files_of("readme-model", 1)
    assert files is not None and files.card is not None
    assert files.card.path == f"runs:/{mstore.runs['with-readme']}/README.md"
    assert files.card.metadata["license"] == "mit"
    assert "Forecasting demand" in files.card.body
    assert files.notes == (f"no MLmodel file at {files.location}",)  # absent: not a problem
    assert files.problems == ()


def test_an_unreadable_mlmodel_is_a_problem(snap: Snapshot) -> None:
    files = snap.files_of("broken-model", 1)
    assert files is not None
    assert len(files.problems) == 1 and "invalid YAML (line 2)" in files.problems[0]


def test_deleted_source_runs_are_told_apart(mstore: ModelStore, snap: Snapshot) -> None:
    assert snap.absent_runs == {mstore.runs["to-delete"]: "deleted"}


def test_the_client_reader_reads_the_same_files(mstore: ModelStore, snap: Snapshot) -> None:
    before = fingerprint(mstore.root)
    via_client = pull(DaybookConfig(), mstore.uri, force_client=True)
    assert via_client.model_files == snap.model_files
    assert via_client.absent_runs == snap.absent_runs
    assert fingerprint(mstore.root) == before  # reading never changes the store


def test_which_versions_files_are_read() -> None:
    from daybook.core.snapshot import ModelVersion, RegisteredModel

    vs = tuple(ModelVersion("m", n, 0, 0, "", "READY", "", "", "") for n in range(1, 8))
    m = RegisteredModel("m", "", 0, 0, aliases={"prod": 2}, versions=vs)
    assert wanted_versions([m], 3) == {("m", 2), ("m", 5), ("m", 6), ("m", 7)}
    assert wanted_versions([m], 0) == {("m", 2)}
    assert logged_model_id("models:/m-abc123") == "m-abc123"
    assert logged_model_id("models:/churn/3") == ""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a list\n", "not a mapping of model fields"),
        ("flavors: {sklearn: {}}\nsignature: {inputs: 'not json'}\n", "signature unreadable"),
    ],
)
def test_odd_mlmodel_files(text: str, problem: str) -> None:
    _, bad = _parse_mlmodel(text)
    assert bad and problem in bad[0]


def test_tensor_signatures_and_params_are_described() -> None:
    text = (
        "flavors: {python_function: {loader_module: mlflow.pytorch}, pytorch: {pytorch_version: "
        '\'2.1\'}}\nsignature:\n  inputs: \'[{"type": "tensor", "tensor-spec": {"dtype": '
        '"float32", "shape": [-1, 28, 28]}}]\'\n  params: \'[{"name": "temperature", '
        '"type": "double", "default": 0.5}]\'\n'
    )
    fields, bad = _parse_mlmodel(text)
    assert bad == []
    assert fields["library"] == "pytorch" and fields["library_version"] == "2.1"
    sig = fields["signature"]
    assert sig.inputs[0].type == "tensor float32 (-1, 28, 28)"
    assert sig.params[0].name == "temperature" and sig.params[0].type == "double = 0.5"


def test_nothing_is_left_in_the_working_directory(snap: Snapshot) -> None:
    assert not list(Path.cwd().glob("mlruns")) and not list(Path.cwd().glob("file:*"))
