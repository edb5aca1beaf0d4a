"""Rendering: the same store gives the same bytes by every route, hostile values stay text in
the built HTML, and site templates override the built-in ones."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BuiltSite
from daybook.analysis.policy import page_run_ids
from daybook.commands.generate import GENERATED_MARKER, generate, load_site
from daybook.core.config import DaybookConfig
from daybook.core.errors import DaybookError
from daybook.core.snapshot import Snapshot
from daybook.pages.render import Renderer
from helpers import HtmlPage, error_lines, parse_html, read_tree, run_cli, stray_files
from store_builder import (
    HOSTILE_RUN_NAME,
    PIPE_RUN_NAME,
    SCRIPT_TAG,
    SECRET_VALUE,
    StoreInfo,
)

# --- the same bytes by every route ----------------------------------------------------------------


def test_two_generates_from_the_same_store_are_byte_identical(
    generated: Path, site_root: Path, store: StoreInfo, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    result = run_cli("generate", "-q", "-C", site_root, "--tracking-uri", store.uri, "--out", again)
    assert result.returncode == 0, result.stderr
    first, second = read_tree(generated), read_tree(again)
    assert len(first) > 20
    assert first == second


def test_generate_replaces_what_an_earlier_generate_wrote(
    generated: Path, site_root: Path, store: StoreInfo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(generated, out)
    (out / "experiments" / "stale-page.md").write_text("left over\n", encoding="utf-8")
    result = run_cli("generate", "-q", "-C", site_root, "--tracking-uri", store.uri, "--out", out)
    assert result.returncode == 0, result.stderr
    assert read_tree(out) == read_tree(generated)


def test_generate_writes_what_render_site_returns(
    generated: Path, site_root: Path, store: StoreInfo
) -> None:
    pages = generate(load_site(site_root, store.uri)).pages
    written = read_tree(generated)
    assert written.pop(GENERATED_MARKER)
    assert written == {path: text.encode("utf-8") for path, text in pages.items()}


DUMP_HOOK = '''
"""Test hook: copies every file mkdocs-gen-files generated during the build to DAYBOOK_DUMP."""
import os
import pathlib


def on_files(files, config):
    out = pathlib.Path(os.environ["DAYBOOK_DUMP"])
    for f in files:
        if getattr(f, "generated_by", None) == "mkdocs-gen-files":
            target = out / f.src_uri
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.content_bytes)
    return files
'''


def test_a_plain_mkdocs_build_uses_the_same_markdown_as_generate(
    generated: Path, site_root: Path, store: StoreInfo, tmp_path: Path, workdir: Path
) -> None:
    """`mkdocs build` runs the gen-files script, which generates the pages itself: the Markdown
    MkDocs reads must be exactly what `daybook generate --out` writes."""
    site = tmp_path / "site"
    shutil.copytree(site_root, site, ignore=shutil.ignore_patterns("site"))
    (site / "dump_hook.py").write_text(DUMP_HOOK, encoding="utf-8")
    with (site / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write("\nhooks:\n  - dump_hook.py\n")
    dump = tmp_path / "dump"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(site / "mkdocs.yml")],
        env={**os.environ, "MLFLOW_TRACKING_URI": store.uri, "DAYBOOK_DUMP": str(dump)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    written = read_tree(generated)
    written.pop(GENERATED_MARKER)
    assert read_tree(dump) == written
    assert (site / "site" / "index.html").is_file()
    assert not (site / "site" / "SUMMARY").exists()  # the nav file is read, not published
    assert stray_files(workdir, site) == []


def test_the_navigation_file_is_plain_links_whatever_the_names(generated: Path) -> None:
    lines = (generated / "SUMMARY.md").read_text(encoding="utf-8").splitlines()
    entry = re.compile(r"^(?:    )*- \[[^\[\]()<>&`*_|\\]+\]\([a-z0-9/.-]+\)$")
    section = re.compile(r"^(?:    )*- Sweeps$")  # an experiment's compare pages
    wrong = [ln for ln in lines if not entry.match(ln) and not section.match(ln)]
    assert not wrong, wrong
    assert "        - [‹img src=x onerror=alert 1 ›](experiments/classifier/runs/" in "\n".join(
        lines
    )
    assert any(line.strip().startswith("- [a b c](") for line in lines)  # "a|b\nc"


def test_compare_pages_are_in_the_nav_under_their_experiment(generated: Path) -> None:
    """So MkDocs has no page to list as left out of the nav on every build."""
    compare = sorted(str(p.relative_to(generated)) for p in generated.rglob("compare/*.md"))
    assert compare, "the fixture store has a sweep"
    nav = (generated / "SUMMARY.md").read_text(encoding="utf-8")
    for page in compare:
        experiment = page.split("/compare/")[0] + "/index.md"
        section = nav.split(f"({experiment})", 1)[1].split("\n    - [", 1)[0]
        assert "        - Sweeps\n" in section and f"({page})" in section, (page, nav)


# --- hostile values are text in the built HTML ----------------------------------------------------


def test_no_built_page_runs_a_hostile_value(built_site: BuiltSite) -> None:
    pages = built_site.html_files()
    assert len(pages) > 20
    for path in pages:
        html = path.read_text(encoding="utf-8")
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "<b>mallory" not in html and "<b onclick" not in html, path
        page = HtmlPage(html)
        for tag, attrs in page.tags:
            handlers = [name for name in attrs if name.startswith("on")]
            assert not handlers, (path, tag, attrs)
            for name in ("href", "src", "action", "formaction"):
                value = (attrs.get(name) or "").strip().lower()
                assert not value.startswith(("javascript:", "vbscript:", "data:text")), (
                    path,
                    attrs,
                )
            if tag == "img":
                assert attrs.get("src") != "x", path
        scripts = [a.get("src") for tag, a in page.tags if tag == "script"]
        # Material's bundle, and the scripts Daybook ships from its package (assets/daybook/:
        # the run viewer, the new-since-your-last-visit marks): none from anywhere else.
        ours = ("assets/javascripts/", "assets/daybook/")
        assert all(s is None or any(o in s for o in ours) for s in scripts), scripts


def test_hostile_run_names_show_as_themselves(built_site: BuiltSite, store: StoreInfo) -> None:
    page = parse_html(built_site.page("experiments/classifier/index.md"))
    board = page.table_with("#", "Run")
    names = [c.text for c in board.column("Run")]
    assert HOSTILE_RUN_NAME in names
    assert PIPE_RUN_NAME.replace("\n", " ") in names


def test_a_hostile_run_page_shows_its_name_tag_and_user_as_text(
    built_site: BuiltSite, store: StoreInfo
) -> None:
    page = parse_html(built_site.run_page(store.runs["hostile"]))
    assert page.heading("h1") == HOSTILE_RUN_NAME
    assert "‹img src=x onerror=alert(1)›" in page.title  # look-alikes, as titles are not escaped
    tags = page.table_with("Tag", "Value")
    assert [c.text for c in tags.body[0]] == ["team", SCRIPT_TAG]
    assert "<b>mallory</b>" in page.text
    assert "x|y <b>bold</b>" in page.text  # a param value with a pipe and HTML


def test_the_hostile_description_is_rendered_inert(built_site: BuiltSite, store: StoreInfo) -> None:
    page = parse_html(built_site.run_page(store.runs["hostile"]))
    text = page.text
    assert "Baseline run." in text
    assert "<b onclick=alert(1)>raw html</b>" in text
    assert '--8<-- "/etc/passwd"' in text
    assert "root:" not in text
    assert "Heading {: onclick=alert(2) }" in text
    hrefs = page.links()
    assert "https://example.org/docs" in hrefs
    assert "http://tracker.example/x.png" in hrefs
    assert not any(tag == "img" for tag, _ in page.tags)


def test_every_table_row_has_as_many_cells_as_its_header(built_site: BuiltSite) -> None:
    checked = 0
    for path in built_site.html_files():
        for table in parse_html(path).tables:
            width = len(table.rows[0])
            for row in table.rows:
                assert len(row) == width, (path, table.header, [c.text for c in row])
                checked += 1
    assert checked > 200


def test_the_secret_value_is_in_no_built_or_generated_file(
    built_site: BuiltSite, generated: Path
) -> None:
    secret = SECRET_VALUE.encode()
    files = [p for root in (built_site.html, generated) for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "search_index.json" for p in files)
    leaked = [str(p) for p in files if secret in p.read_bytes()]
    assert leaked == []


def test_experiments_whose_names_share_a_slug_get_distinct_pages(
    built_site: BuiltSite, generated: Path
) -> None:
    pages = sorted(p.parent.name for p in generated.glob("experiments/my-model*/index.md"))
    assert len(pages) == 2 and pages[0] == "my-model"
    titles = set()
    for slug in pages:
        page = parse_html(built_site.page(f"experiments/{slug}/index.md"))
        titles.add(page.title.split(" - ")[0])
    assert titles == {"My Model", "my-model"}


# --- templates ------------------------------------------------------------------------------------


def render(snapshot: Snapshot, templates: Path | None) -> dict[str, str]:
    config = DaybookConfig()
    runs = page_run_ids(config, snapshot.experiments, snapshot.runs, snapshot.models)
    return Renderer(config, snapshot, runs, templates).render_all()


def test_a_site_template_replaces_the_built_in_one(snapshot: Snapshot, tmp_path: Path) -> None:
    (tmp_path / "home.md.j2").write_text(
        "# {{ site.title }} home\n\n{{ site.experiments | length }} experiments\n", encoding="utf-8"
    )
    pages = render(snapshot, tmp_path)
    assert pages["index.md"] == "# Daybook home\n\n5 experiments\n"
    assert pages["models/index.md"] == render(snapshot, None)["models/index.md"]


def test_a_site_template_can_extend_the_built_in_one(snapshot: Snapshot, tmp_path: Path) -> None:
    (tmp_path / "run.md.j2").write_text('{% extends "default:run.md.j2" %}\n', encoding="utf-8")
    pages, builtin = render(snapshot, tmp_path), render(snapshot, None)
    run_pages = [p for p in builtin if "/runs/" in p]
    assert run_pages
    assert all(pages[p] == builtin[p] for p in run_pages)


def test_an_override_replaces_one_block_and_keeps_the_rest(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    (tmp_path / "run.md.j2").write_text(
        '{% extends "default:run.md.j2" %}\n'
        "{% block params %}\n## Parameters\n\nShown on request: {{ r.params | length }}.\n"
        "{% endblock %}\n",
        encoding="utf-8",
    )
    pages, builtin = render(snapshot, tmp_path), render(snapshot, None)
    run_pages = [p for p in builtin if "/runs/" in p]
    assert run_pages
    for path in run_pages:
        assert "Shown on request: " in pages[path]
        assert "| Parameter | Value |" not in pages[path]
        before, _, _ = builtin[path].partition("## Parameters")
        assert pages[path].startswith(before)  # everything above the block is untouched
        assert "## Tags" in pages[path]


def test_the_most_specific_experiment_template_wins(snapshot: Snapshot, tmp_path: Path) -> None:
    (tmp_path / "experiment.md.j2").write_text("generic {{ exp.experiment.name }}\n", "utf-8")
    (tmp_path / "experiment-classifier.md.j2").write_text(
        "special {{ exp.experiment.name }}\n", encoding="utf-8"
    )
    (tmp_path / "model-digits-clf.md.j2").write_text("model {{ m.model.name }}\n", "utf-8")
    pages = render(snapshot, tmp_path)
    assert pages["experiments/classifier/index.md"] == "special classifier\n"
    assert pages["experiments/regression/index.md"] == "generic regression\n"
    assert pages["models/digits-clf/index.md"] == "model digits-clf\n"
    assert pages["models/empty-model/index.md"].startswith("---\ntitle:")


def test_values_in_a_site_template_are_escaped_too(snapshot: Snapshot, tmp_path: Path) -> None:
    (tmp_path / "run.md.j2").write_text("{{ run.run.name }}\n", encoding="utf-8")
    pages = render(snapshot, tmp_path)
    hostile = next(text for path, text in pages.items() if "onerror" in path)
    assert hostile == "&lt;img src=x onerror=alert&#40;1&#41;&gt;\n"


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("# {{ site.title }}\n\n{% if %}\n", 3),
        ("line one\n{% for x in %}\n", 2),
        ("ok\n\n\n{{ site.no_such_field.deeper }}\n", 4),
        ("{% include 'missing.md.j2' %}\n", 1),
    ],
)
def test_a_broken_template_names_itself_and_the_line(
    snapshot: Snapshot, tmp_path: Path, source: str, line: int
) -> None:
    (tmp_path / "home.md.j2").write_text(source, encoding="utf-8")
    with pytest.raises(DaybookError) as info:
        render(snapshot, tmp_path)
    message = str(info.value)
    assert "home.md.j2" in message
    assert f":{line}" in message


def test_an_error_in_an_included_template_names_that_template(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    (tmp_path / "run_table.md.j2").write_text("rows:\n{{ exp.no_such_field }}\n", "utf-8")
    with pytest.raises(DaybookError) as info:
        render(snapshot, tmp_path)
    message = str(info.value)
    assert "run_table.md.j2:2" in message
    assert "experiment-" not in message  # not the first candidate name, the template that failed


def test_the_cli_reports_a_broken_template_in_one_line(
    site_root: Path, store: StoreInfo, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(site_root, site, ignore=shutil.ignore_patterns("site"))
    (site / "templates" / "model.md.j2").write_text("# {{ m.model.name }\n", encoding="utf-8")
    result = run_cli(
        "generate", "-q", "-C", site, "--tracking-uri", store.uri, "--out", tmp_path / "o"
    )
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith("Error: template ") and "model.md.j2:1" in line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()
