"""A build replaces the site only when MkDocs succeeds: it writes into a new folder beside the
site folder and swaps it in. A failed `--strict` build leaves the previous site byte for byte, so
a deploy step that runs after it cannot publish a site with the errors it refused; nothing of
the attempt is left behind. The same holds for `--site-dir`.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import make_site
from daybook.mkdocs.runner import BUILDING_PREFIX
from helpers import error_lines, fingerprint, run_cli
from store_builder import StoreInfo


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(BUILDING_PREFIX))


def test_a_failed_strict_build_leaves_the_previous_site_in_place(
    tmp_path: Path, store: StoreInfo
) -> None:
    root = make_site(tmp_path / "site")
    first = run_cli("build", "-q", "--strict", "-C", root, "--tracking-uri", store.uri)
    assert first.returncode == 0, first.stderr
    before = fingerprint(root / "site")
    about = root / "docs" / "about.md"
    about.write_text(about.read_text(encoding="utf-8") + "\n[gone](no-such-page.md)\n", "utf-8")

    failed = run_cli("build", "-q", "--strict", "--offline", "-C", root)
    assert failed.returncode != 0
    assert any("no-such-page.md" in line for line in error_lines(failed)), failed.stderr
    assert "Traceback" not in failed.stderr
    assert fingerprint(root / "site") == before  # not one file touched
    assert _leftovers(root) == []

    # Without --strict the warning does not stop the build: the new site takes the old's place.
    plain = run_cli("build", "-q", "--offline", "-C", root)
    assert plain.returncode == 0, plain.stderr
    after = fingerprint(root / "site")
    assert after.keys() == before.keys()
    assert after["about/index.html"] != before["about/index.html"]
    assert "no-such-page.md" in (root / "site/about/index.html").read_text(encoding="utf-8")
    assert _leftovers(root) == []
    umask = os.umask(0)
    os.umask(umask)
    # As a folder MkDocs makes: readable by a web server, not the private mode of a temp folder.
    assert (root / "site").stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_site_dir_elsewhere_is_swapped_the_same_way(tmp_path: Path, store: StoreInfo) -> None:
    root = make_site(tmp_path / "site")
    out = tmp_path / "public" / "html"
    out.mkdir(parents=True)
    (out / "stale.html").write_text("from an earlier deploy", encoding="utf-8")
    result = run_cli(
        "build", "-q", "--strict", "-C", root, "--tracking-uri", store.uri, "--site-dir", out
    )
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file()
    assert not (out / "stale.html").exists()  # MkDocs' clean build: the folder is the new site
    assert not (root / "site").exists()
    assert _leftovers(out.parent) == []
