"""A big site's experiment, run and compare pages are rendered half by a second process
(pages/render.py, daybook.core.fork): the generated files are byte for byte those one process
writes, and a page the second process cannot render fails the command with the same one line.

`daybook generate --offline --out` in fresh processes (a fork needs a process with no other
threads, which a pytest-xdist worker is not); `DAYBOOK_PROCESSES=2` splits even this small site.
"""

from __future__ import annotations

from pathlib import Path

from conftest import make_site
from daybook.core.fork import ENV_PROCESSES
from helpers import error_lines, read_tree, run_cli
from store_builder import StoreInfo

SECOND = "rendered by a second process"


def _generate(root: Path, out: Path, processes: str) -> tuple[int, str]:
    memo = root / ".daybook" / "cache" / "pages.bin"
    memo.unlink(missing_ok=True)  # render, never reuse the last render's pages
    result = run_cli("generate", "--offline", "-C", root, "--out", out,
                     env={ENV_PROCESSES: processes})  # fmt: skip
    return result.returncode, result.stderr


def _generated_once(tmp_path: Path, store: StoreInfo) -> Path:
    """A site with a snapshot of the fixture store, generated once in one process into `one`."""
    root = make_site(tmp_path / "site")
    pulled = run_cli("pull", "-q", "-C", root, "--tracking-uri", store.uri)
    assert pulled.returncode == 0, pulled.stderr
    code, log = _generate(root, tmp_path / "one", "1")
    assert code == 0, log
    assert SECOND not in log
    return root


def test_two_processes_generate_the_files_one_process_generates(
    tmp_path: Path, store: StoreInfo
) -> None:
    root = _generated_once(tmp_path, store)
    code, log = _generate(root, tmp_path / "two", "2")
    assert code == 0, log
    assert SECOND in log
    one, two = read_tree(tmp_path / "one"), read_tree(tmp_path / "two")
    assert one.keys() == two.keys()
    assert [name for name in one if one[name] != two[name]] == []
    runs = sorted(n for n in one if "/runs/" in n and n.endswith(".md"))
    assert len(runs) >= 2  # both processes had run pages to render


def test_a_page_the_second_process_cannot_render_fails_with_the_same_line(
    tmp_path: Path, store: StoreInfo
) -> None:
    root = _generated_once(tmp_path, store)
    # Run pages are rendered in run id order; the second process takes every second one.
    pages = sorted(
        (p.name.rsplit("-", 1)[1].removesuffix(".md"), p)
        for p in (tmp_path / "one").glob("experiments/*/runs/*.md")
    )
    second = pages[1][0]
    (root / "templates" / "run.md.j2").write_text(
        '{% extends "default:run.md.j2" %}\n'
        "{% block tags %}"
        f'{{% if run.run.run_id.startswith("{second}") %}}{{{{ no_such_value }}}}{{% endif %}}'
        "{{ super() }}{% endblock %}\n",
        encoding="utf-8",
    )
    one = run_cli("generate", "--offline", "-C", root, "--out", tmp_path / "a",
                  env={ENV_PROCESSES: "1"})  # fmt: skip
    two = run_cli("generate", "--offline", "-C", root, "--out", tmp_path / "b",
                  env={ENV_PROCESSES: "2"})  # fmt: skip
    assert one.returncode == two.returncode == 1
    [failed] = [line for line in error_lines(one) if line.startswith("Error:")]
    assert "no_such_value" in failed
    assert [line for line in error_lines(two) if line.startswith("Error:")] == [failed]
    assert SECOND in two.stderr
    assert "Traceback" not in two.stderr
    assert not (tmp_path / "b").exists()
