"""Where the journal lives, read from the site's mkdocs.yml (the blog plugin's own settings).

The blog plugin decides which files are posts, so its settings are the one source of truth:
Daybook reads `docs_dir`, `blog_dir`, `post_dir` and `authors_file` from the same file instead of
asking for them again in daybook.yml (two places that could disagree).
"""

from __future__ import annotations

import posixpath
from pathlib import Path, PureWindowsPath
from typing import Any

import yaml

from daybook.core.errors import DaybookError
from daybook.core.site import JournalLayout
from daybook.core.snapshot import Problem

BLOG_NAMES = ("blog", "material/blog")
_EXAMPLES = {"blog_dir": "journal", "post_dir": "notes", "authors_file": "journal/.authors.yml"}


class _Lenient(yaml.SafeLoader):
    """Reads mkdocs.yml without running anything: `!ENV`, `!relative` and `!!python/…` tags
    (common in Material configs) become None instead of errors."""


def _ignore(loader: yaml.Loader, suffix: str, node: yaml.Node) -> None:
    return None


_Lenient.add_multi_constructor("!", _ignore)
_Lenient.add_multi_constructor("tag:yaml.org,2002:python/", _ignore)


def _norm(path: str) -> str:
    return posixpath.normpath(path.strip().strip("/")) if path.strip() else "."


def read_layout(root: Path) -> JournalLayout | None:
    """The journal's layout, or None when mkdocs.yml has no (enabled) blog plugin. A blog
    folder outside docs_dir (`blog_dir: ../x`, an absolute path) is refused (DaybookError).

    Problems with the parts Daybook relies on (e.g. gen-files listed after the blog, so the blog
    would read the notes before Daybook completes them) are returned on the layout.
    """
    path = root / "mkdocs.yml"
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_Lenient)
        data = yaml.load(text, Loader=_Lenient)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # MkDocs itself reports an unreadable mkdocs.yml
    if not isinstance(data, dict):
        return None
    plugins = data.get("plugins") or []
    if isinstance(plugins, dict):  # the mapping form of `plugins:`
        plugins = [{k: v} for k, v in plugins.items()]
    if not isinstance(plugins, list):
        return None
    names: list[str] = []
    blog: dict[str, Any] | None = None
    blog_index = -1
    for item in plugins:
        name, options = (item, {}) if isinstance(item, str) else next(iter(item.items()), ("", {}))
        name = str(name)
        names.append(name)
        if name in BLOG_NAMES and blog is None:
            blog = options if isinstance(options, dict) else {}
            blog_index = len(names) - 1
    if blog is None or blog.get("enabled", True) is False:
        return None
    problems: list[Problem] = []
    gen = next((i for i, n in enumerate(names) if n == "gen-files"), None)
    if gen is None or gen > blog_index:
        problems.append(
            Problem(
                "mkdocs.yml",
                _plugin_line(node, blog_index),
                "list the gen-files plugin before the blog plugin, so Daybook completes the notes "
                "before the blog reads them",
                code="mkdocs.plugin-order",
            )
        )
    blog_dir = _inside_docs(path, node, blog_index, "blog_dir", str(blog.get("blog_dir", "blog")))
    post_dir = _inside_docs(
        path,
        node,
        blog_index,
        "post_dir",
        str(blog.get("post_dir", "{blog}/posts")).replace("{blog}", blog_dir),
    )
    authors = _inside_docs(
        path,
        node,
        blog_index,
        "authors_file",
        str(blog.get("authors_file", "{blog}/.authors.yml")).replace("{blog}", blog_dir),
    )
    if post_dir == blog_dir or blog_dir.startswith(post_dir + "/") or post_dir == ".":
        problems.append(
            Problem(
                "mkdocs.yml",
                _plugin_line(node, blog_index),
                f"the blog's post_dir ({post_dir}) must not contain its blog_dir ({blog_dir}): "
                "the journal's index page would be read as a note",
                code="mkdocs.blog-dirs",
            )
        )
    docs = _norm(str(data.get("docs_dir") or "docs"))
    index = root / docs / blog_dir / "index.md"
    return JournalLayout(
        root, docs, blog_dir, post_dir, authors, tuple(problems), has_index=index.is_file()
    )


def _inside_docs(path: Path, node: yaml.Node | None, index: int, key: str, value: str) -> str:
    """A blog path normalized, or a one-line refusal when it leaves docs_dir (absolute, or `..`
    past its top): Daybook reads the notes there and `daybook note` writes new ones, and neither
    may reach outside the site's docs."""
    norm = _norm(value)
    absolute = value.strip().startswith(("/", "\\")) or PureWindowsPath(value.strip()).drive
    if absolute or norm == ".." or norm.startswith("../"):
        line = _option_line(node, index, key)
        raise DaybookError(
            f"{path}:{line}: the blog plugin's {key} {value.strip()!r} leads out of docs_dir; "
            f"give a path inside it (e.g. `{key}: {_EXAMPLES[key]}`)"
        )
    return norm


def _option_line(node: yaml.Node | None, index: int, key: str) -> int:
    """The line of the blog plugin's option `key` (the plugin's line when it is not written)."""
    item = _plugin_node(node, index)
    if isinstance(item, yaml.MappingNode) and item.value:
        options = item.value[0][1]
        if isinstance(options, yaml.MappingNode):
            for k, v in options.value:
                if getattr(k, "value", None) == key:
                    return v.start_mark.line + 1
    return _plugin_line(node, index)


def _plugin_node(node: yaml.Node | None, index: int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                getattr(key, "value", None) == "plugins"
                and isinstance(value, yaml.SequenceNode)
                and 0 <= index < len(value.value)
            ):
                return value.value[index]
    return None


def _plugin_line(node: yaml.Node | None, index: int) -> int:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "plugins":
                if isinstance(value, yaml.SequenceNode) and 0 <= index < len(value.value):
                    return value.value[index].start_mark.line + 1
                return key.start_mark.line + 1
    return 1


def use_directory_urls(root: Path) -> bool:
    """mkdocs.yml's `use_directory_urls` (default true): it decides where `x.md` is served
    (`x/` or `x.html`), so the links that runs.json carries past MkDocs depend on it."""
    try:
        node = yaml.compose((root / "mkdocs.yml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return True  # MkDocs itself reports an unreadable config
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "use_directory_urls" and isinstance(value, yaml.ScalarNode):
                return str(value.value).strip().lower() not in ("false", "no", "off")
    return True


def site_url(root: Path) -> str:
    """mkdocs.yml's `site_url`, or "" when unset (or set through a tag such as `!ENV`, which
    only MkDocs resolves): `daybook link` prints it in front of the site path."""
    try:
        node = yaml.compose((root / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Lenient)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "site_url" and isinstance(value, yaml.ScalarNode):
                if value.tag.startswith("!"):
                    return ""
                return str(value.value).strip()
    return ""
