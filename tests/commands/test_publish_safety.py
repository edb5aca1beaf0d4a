"""Safe to publish: a store, a note and a card holding secrets in their *values* build a site,
snapshot and history in which none of the secrets appears, and `daybook check` names the files
people must clean (`path:line`). No absolute path of the building machine reaches the site."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from mlflow import MlflowClient

from helpers import error_lines, run_cli
from journal_helpers import front, journal_site

GIT_TOKEN = "glpat-" + "Zx9" * 8
DB_PASSWORD = "pw-" + "q7" * 6
GITHUB_KEY = "ghp_" + "K3y" * 12
NOTE_TOKEN = "xoxb-1234567890-" + "abcd" * 4
CARD_KEY = "hf_" + "Hg5" * 11
SECRETS = (GIT_TOKEN, DB_PASSWORD, GITHUB_KEY, NOTE_TOKEN, CARD_KEY)


@pytest.fixture(scope="module")
def leaky_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site whose store, note and card each hold secrets under harmless keys."""
    root = tmp_path_factory.mktemp("leaky") / "site"
    note = front("2026-11-30", ["alice"], title="Leaky day") + (
        "We trained on the new table.\n\n"
        f"The connection was `postgresql://ml:{DB_PASSWORD}@db.example.com/runs`.\n\n"
        f"Bot token for the alerts: {NOTE_TOKEN}\n"
    )
    journal_site(root, {"2026-11-30.md": note})
    with (root / "daybook.yml").open("a", encoding="utf-8") as fh:
        fh.write("\nrun_table:\n  paged_above: 0\n")  # every table also goes to runs.json
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("leaky", artifact_location=str(root / "mlartifacts" / "1"))
    client.set_experiment_tag(exp, "mlflow.note.content", f"Shared key: {GIT_TOKEN}")
    run = client.create_run(exp, run_name="baseline")
    rid = run.info.run_id
    client.set_tag(rid, "mlflow.source.git.repoURL", f"https://oauth2:{GIT_TOKEN}@gitlab.com/x.git")
    client.set_tag(rid, "mlflow.note.content", f"Pushed with `{GITHUB_KEY}`, oops.")
    client.log_param(rid, "db_url", f"postgresql://ml:{DB_PASSWORD}@db.example.com/runs")
    for step, value in enumerate((0.5, 0.7, 0.9)):
        client.log_metric(rid, "val_accuracy", value, step=step)
    client.set_terminated(rid)
    client.create_registered_model("leaky-model", description=f"Reads with {GITHUB_KEY}")
    client.create_model_version(
        "leaky-model",
        f"https://reader:{DB_PASSWORD}@models.example.com/leaky",
        rid,
        description=f"token={GIT_TOKEN}",
    )
    card = root / "docs" / "models" / "leaky-model.md"
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(
        f"---\nlicense: mit\n---\n# leaky-model\n\n## Intended use\n\nCall it with `{CARD_KEY}`.\n",
        encoding="utf-8",
    )
    return root


def _published(root: Path) -> dict[str, str]:
    """Every file Daybook wrote that leaves the machine or is committed: the built site, the
    snapshot (decompressed) and the alias history."""
    out = {}
    for base in (root / "site", root / "history", root / ".daybook"):
        for path in sorted(base.rglob("*")) if base.exists() else ():
            if not path.is_file() or path.suffix in (".png", ".ico", ".woff2"):
                continue
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            out[path.relative_to(root).as_posix()] = data.decode("utf-8", "replace")
    return out


def test_check_names_the_note_and_the_card_holding_secrets(leaky_site: Path) -> None:
    result = run_cli("check", "-C", leaky_site)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    note_lines = [ln for ln in text.splitlines() if "docs/notes/2026-11-30.md:" in ln]
    card_lines = [ln for ln in text.splitlines() if "docs/models/leaky-model.md:" in ln]
    assert any(":10:" in ln and "secret-looking" in ln for ln in note_lines), text  # the URL
    assert any(":12:" in ln and "secret-looking" in ln for ln in note_lines), text  # the token
    assert any(":8:" in ln and "secret-looking" in ln for ln in card_lines), text
    assert not any(secret in text for secret in SECRETS)


def test_no_secret_and_no_machine_path_is_published(leaky_site: Path) -> None:
    result = run_cli("build", "-C", leaky_site, timeout=300)
    assert result.returncode == 0, error_lines(result)
    files = _published(leaky_site)
    assert "site/search/search_index.json" in files
    assert any(name.endswith("runs.json") for name in files)
    assert any(name.startswith(".daybook/snapshot") for name in files)
    for name, text in files.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} in {name}"
    # The run's repo URL is shown, without its credentials; the run's description is kept.
    site_text = "\n".join(t for n, t in files.items() if n.startswith("site/"))
    assert "gitlab.com/x.git" in site_text and "oops" in site_text
    for name, text in files.items():
        if name.startswith("site/") and not name.endswith((".js", ".map")):
            assert str(leaky_site) not in text, name
            assert str(Path.home()) + "/" not in text, name


def test_an_offline_build_from_the_saved_snapshot_publishes_no_secret_and_no_path(
    leaky_site: Path,
) -> None:
    """The snapshot names the masking its pull applied (`masked_by`), so an offline build in a
    fresh process does not scan it for secrets again: it must still publish none, and still
    rewrite every path of the building machine, the notes and cards being scanned as before."""
    assert run_cli("pull", "-C", leaky_site, timeout=300).returncode == 0
    snapshot = gzip.decompress((leaky_site / ".daybook" / "snapshot.json.gz").read_bytes())
    assert b'"masked_by":"sha256:' in snapshot
    result = run_cli("build", "--offline", "-C", leaky_site, timeout=300)
    assert result.returncode == 0, error_lines(result)
    site = {n: t for n, t in _published(leaky_site).items() if n.startswith("site/")}
    assert any(name.endswith("runs.json") for name in site)
    for name, text in site.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} in {name}"
        if not name.endswith((".js", ".map")):
            assert str(leaky_site) not in text, name
