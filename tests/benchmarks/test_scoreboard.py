"""benchmarks/scoreboard.py, on a tiny store: one command runs every benchmark and prints one
table with a row per target of issue #14. Structure only: no figure is asserted (the machine is
shared, and timing belongs to benchmarks/, run by hand)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCOREBOARD = ROOT / "benchmarks" / "scoreboard.py"
ROWS = [
    "cold generate / MkDocs build, 60 runs (as 20k)",
    "warm generate / MkDocs build, 60 runs (as 20k)",
    "pull / floor, 60 runs (as 20k), snapshot saved and loaded",
    "pull / floor, 60 runs (as 100k), snapshot saved and loaded",
    "incremental pull, 3 new runs into 60 runs (as 100k)",
    "`daybook build`, 60 runs (as 100k), cold, with charts",
    "… its peak memory",
    "experiment page of 60 runs (as 20k): first run row visible",
    "experiment page of 60 runs (as 20k): transferred until settled",
    "home page of 60 runs (as 100k): first table row visible",
    "home page of 60 runs (as 100k): transferred until settled",
]


def test_the_scoreboard_prints_every_target_with_a_measured_figure(tmp_path: Path) -> None:
    work, figures = tmp_path / "work", tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(SCOREBOARD), "--runs", "60", "--new-runs", "3",
         "--reader-repeat", "1", "--workdir", str(work), "--json", str(figures)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.startswith("**Scoreboard of issue #14**")
    header = out.splitlines()[0]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC, commit \w+", header), header
    assert re.search(r"\d+ cores \(.+\), \d+ GB RAM", header) and "load average" in header

    rows = {
        cells[0]: cells[1:]
        for line in out.splitlines()
        if line.startswith("| ") and not line.startswith(("| Measure", "| ---"))
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    for label in ROWS:
        assert label in rows, f"no row {label!r} in:\n{out}"
        target, measured, met = rows[label]
        assert target.startswith("≤ ")
        assert re.fullmatch(r"[\d.]+(×| s| GB| MB)( \(CPU [\d.]+(×| s)\))?", measured), (label, out)
        assert met in ("yes", "**no**")
    assert len(rows) == len(ROWS)
    # The figures as JSON for other tools; nothing left unmeasured.
    measured = json.loads(figures.read_text())["figures"]
    assert len(measured) == 11 and all(v is not None for v in measured.values()), measured
    # The pull and the floor are the fastest of three runs each, on both stores, a pull's run
    # counted with the load of the file it saved; the rest run once.
    for name in ("small", "big"):
        results = json.loads((work / f"{name}.json").read_text())["results"]
        assert len(results["pull"]["runs"]) == len(results["floor"]["runs"]) == 3, name
        pull = results["pull"]["result"]
        assert round(pull["work"], 3) == min(results["pull"]["runs"]), name
        assert pull["marks"][-1][1].startswith("loaded the snapshot in a fresh process"), name
    small = json.loads((work / "small.json").read_text())["results"]
    assert len(small["generate"]["runs"]) == 1
    # The incremental benchmark wrote only to a copy of the store, and removed it.
    assert not (work / "scratch").exists()
    assert "3 new runs" in out
