"""Daybook's own trees (experiments/, runs/, assets/daybook/) reach MkDocs from memory, not as
files gen-files writes to a temporary folder and MkDocs reads back: a 100,000-run site has
~10,000 of them. What people wrote, the nav file and the journal's pages stay files."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_site
from helpers import run_cli
from store_builder import StoreInfo

HOOK = """
import json
from pathlib import Path


def on_files(files, config):
    seen = {f.src_uri: f.abs_src_path is None for f in files if getattr(f, "generated_by", None)}
    Path(config.config_file_path).with_name("seen.json").write_text(json.dumps(seen))
"""


def test_daybooks_trees_are_handed_to_mkdocs_from_memory(tmp_path: Path, store: StoreInfo) -> None:
    root = make_site(tmp_path / "site")
    (root / "record.py").write_text(HOOK, encoding="utf-8")
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write("\nhooks:\n  - record.py\n")
    result = run_cli("build", "-q", "--strict", "-C", root, "--tracking-uri", store.uri)
    assert result.returncode == 0, result.stderr
    in_memory = json.loads((root / "seen.json").read_text(encoding="utf-8"))
    ours = [p for p in in_memory if p.startswith(("experiments/", "runs/", "assets/daybook/"))]
    assert len(ours) > 10 and all(in_memory[p] for p in ours)
    assert any(p.endswith("runs.json") or p.startswith("runs/data/") for p in ours)
    assert in_memory["SUMMARY.md"] is False and in_memory["index.md"] is False
    # and MkDocs built them: the run viewer's page and its shards, an experiment's page
    html = root / "site"
    assert (html / "runs" / "index.html").is_file()
    assert list((html / "runs" / "data").glob("*.json"))
    assert list((html / "experiments").glob("*/index.html"))
