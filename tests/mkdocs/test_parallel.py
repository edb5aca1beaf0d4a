"""A big site's MkDocs build shares its run and compare pages with a second process
(daybook.mkdocs.parallel) and writes, byte for byte, the site one process writes: every page,
the search index, the sitemap, the blog and its tags. The second process's warnings count under
`--strict`, its failure fails the build with its message, and a site with a plugin Daybook does
not know builds in one process.

The builds run the real MkDocs in a fresh process each (`build_site`, as `daybook build` calls
it, with the pages generated from the saved snapshot, so two builds see the same "now"): a
fork needs a process with no other threads, which a pytest-xdist worker is not.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from mkdocs.config import load_config
from mkdocs.structure.files import File

from conftest import make_site
from daybook.core.fork import ENV_PROCESSES
from daybook.mkdocs.parallel import MIN_PAGES, _tagged, why_one_process
from helpers import read_tree, run_cli
from journal_helpers import front, write_notes
from store_builder import StoreInfo

BUILD = textwrap.dedent(
    """
    import logging
    import sys
    from pathlib import Path

    from daybook.core.errors import DaybookError
    from daybook.mkdocs.runner import build_site

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    def say(message):
        print("progress: " + message, file=sys.stderr)

    try:
        build_site(Path(sys.argv[1]), site_dir=Path(sys.argv[2]), strict=True, progress=say)
    except DaybookError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    """
)
SECOND = "pages rendered by a second process"


def _build(root: Path, out: Path, processes: str) -> subprocess.CompletedProcess[str]:
    env = {ENV_PROCESSES: processes, "DAYBOOK_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", BUILD, str(root), str(out)],
        env={**_env(), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", ENV_PROCESSES)}


def _site(tmp_path: Path, store: StoreInfo) -> Path:
    """A site over the fixture store with a journal: tagged notes and a page listing the tags."""
    root = make_site(tmp_path / "site")
    write_notes(
        root,
        {
            "2026-11-30-triage.md": front("2026-11-30", kind="daily", title="Triage").replace(
                "type: daily", "type: daily\ntags: [drift, vision]"
            )
            + "Looked at the drift of the vision runs.\n",
            "2026-12-01-plan.md": front("2026-12-01", kind="daily", title="Plan").replace(
                "type: daily", "type: daily\ntags: [drift]"
            )
            + "Plan for the week.\n",
        },
    )
    (root / "docs" / "tags.md").write_text("# Tags\n\n<!-- material/tags -->\n", encoding="utf-8")
    pulled = run_cli("pull", "-q", "-C", root, "--tracking-uri", store.uri)
    assert pulled.returncode == 0, pulled.stderr
    return root


def test_two_processes_write_the_site_one_process_writes(tmp_path: Path, store: StoreInfo) -> None:
    root = _site(tmp_path, store)
    one = _build(root, tmp_path / "one", "1")
    assert one.returncode == 0, one.stderr
    assert SECOND not in one.stderr
    two = _build(root, tmp_path / "two", "2")
    assert two.returncode == 0, two.stderr
    [line] = [ln for ln in two.stderr.splitlines() if SECOND in ln]
    handed = int(line.split("mkdocs: ")[1].split(" of ")[0])
    assert handed >= 2  # the fixture store has run and compare pages for both processes

    serial, parallel = read_tree(tmp_path / "one"), read_tree(tmp_path / "two")
    assert serial.keys() == parallel.keys()
    differ = [name for name in serial if serial[name] != parallel[name]]
    assert differ == []
    # What the comparison covers: the run pages, the search index with their entries, and
    # the tags the blog's notes carry, listed on the tags page.
    assert any(name.startswith("experiments/") and "/runs/" in name for name in parallel)
    index = parallel["search/search_index.json"].decode()
    assert '"location":"experiments/' in index.replace(" ", "")
    tags_page = parallel["tags/index.html"].decode()
    assert "drift" in tags_page and "vision" in tags_page


def test_a_warning_in_the_second_process_counts_under_strict(
    tmp_path: Path, store: StoreInfo
) -> None:
    root = _site(tmp_path, store)
    # Every run page links a page that does not exist: a warning from each, in both processes.
    (root / "templates" / "run.md.j2").write_text(
        '{% extends "default:run.md.j2" %}\n'
        "{% block tags %}{{ super() }}\n[gone](no-such-page.md)\n{% endblock %}\n",
        encoding="utf-8",
    )
    one = _build(root, tmp_path / "one", "1")
    two = _build(root, tmp_path / "two", "2")
    assert one.returncode == two.returncode == 1
    assert SECOND in two.stderr
    warned = [ln for ln in one.stderr.splitlines() if "no-such-page.md" in ln]
    assert len(warned) >= 2
    assert sorted(ln for ln in two.stderr.splitlines() if "no-such-page.md" in ln) == sorted(warned)
    [aborted] = [ln for ln in one.stderr.splitlines() if "Aborted with" in ln]
    assert f"Aborted with {len(warned)} warnings" in aborted
    assert aborted in two.stderr  # the second process's warnings are counted
    assert "Traceback" not in two.stderr
    assert not (tmp_path / "two").exists()  # a failed build leaves no site


def test_a_site_mkdocs_may_not_split_builds_in_one_process(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    config = load_config(str(root / "mkdocs.yml"))
    assert why_one_process(config, 2) == ""
    assert why_one_process(config, 1) == f"{ENV_PROCESSES}=1"
    text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(text.replace("  - search\n", "  - search\n  - offline\n"))
    other = load_config(str(root / "mkdocs.yml"))
    assert "material/offline" in why_one_process(other, 2)
    assert MIN_PAGES >= 50  # a small site is not worth a fork unless asked


def test_pages_with_tags_stay_with_the_first_process(tmp_path: Path) -> None:
    """The tags plugin collects tags and listings page by page: such pages are not handed over."""
    docs = tmp_path / "docs"

    def page(text: str) -> File:
        path = docs / "experiments/e/runs/r.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return File("experiments/e/runs/r.md", str(docs), str(tmp_path / "site"), True)

    assert not _tagged(page("---\ntitle: A run\nhide: [toc]\n---\n# A run\n\ntags: not front\n"))
    assert _tagged(page("---\ntitle: A run\ntags: [drift]\n---\n# A run\n"))
    assert _tagged(page("# Tags\n\n<!-- material/tags -->\n"))
    assert not _tagged(page("# No front matter\n\n| tags: | x |\n"))


def test_a_mistyped_process_count_is_one_line_before_anything_is_read(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    result = run_cli("build", "-C", root, "--offline", env={ENV_PROCESSES: "two"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"Error: {ENV_PROCESSES}='two': give 1 or 2"]
    assert not (root / "site").exists()
