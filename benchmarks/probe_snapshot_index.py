"""What a snapshot head carrying a run index would cost (the next step for the incremental pull,
docs/guide/scale.md): CPU time of each part, measured on a site's saved snapshot.

    python benchmarks/probe_snapshot_index.py --snapshot SITE/.daybook/snapshot.json.gz

A probe, not a format: nothing here is read by Daybook.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from daybook.core.snapshot import Run
from daybook.store.snapshot_file import _gunzip, _gzip, load, run_to_list


def best(work: Callable[[], Any], rounds: int = 5) -> tuple[float, Any]:
    """The least CPU time of `rounds` runs of `work`, and its result."""
    least, out = float("inf"), None
    for _ in range(rounds):
        start = time.process_time()
        out = work()
        least = min(least, time.process_time() - start)
    return least, out


def digest(r: Run) -> str:
    return hashlib.blake2b(orjson.dumps(run_to_list(r)), digest_size=8).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--snapshot", type=Path, required=True)
    args = ap.parse_args()
    gc.disable()
    snap = load(args.snapshot).snapshot
    runs = sorted(snap.runs, key=lambda r: (r.start_time or 0, r.run_id))
    took, digests = best(lambda: [digest(r) for r in runs], 2)
    print(f"| digests of every run (a full save) | {took:.2f} s |")
    rows = [
        [r.run_id, r.experiment_id, r.status, r.start_time, r.end_time, d]
        for r, d in zip(runs, digests, strict=True)
    ]
    took, blob = best(lambda: _gzip(orjson.dumps(rows)), 3)
    print(f"| the index encoded and gzipped | {took:.2f} s, {len(blob) / 1e6:.1f} MB |")
    took, back = best(lambda: orjson.loads(_gunzip(blob)))
    print(f"| … gunzipped and decoded | {took:.2f} s |")
    store = {r.run_id: (r.status, r.end_time) for r in runs}
    took, _ = best(lambda: store.items() - {x[0]: (x[2], x[4]) for x in back}.items())
    print(f"| … compared with the store's index | {took:.2f} s |")
    live = [r for r in runs if r.status in ("RUNNING", "SCHEDULED")]
    took, _ = best(lambda: [digest(r) for r in live])
    print(f"| digests of the {len(live):,} running runs read again | {took:.2f} s |")


if __name__ == "__main__":
    main()
