"""Helpers for the sanitizer's tests (issue #10): hostile Markdown built from its structure, the
check every rendered region must pass, and a journal site with the extensions that widen the
attack surface, built offline from a hand-made snapshot (no MLflow store needed)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from daybook.core.config import DaybookConfig
from daybook.core.snapshot import Experiment, Run, Snapshot
from daybook.mkdocs.scaffold import init_site
from daybook.store.snapshot_file import StoredSnapshot, config_fingerprint, save, snapshot_path
from helpers import run_cli
from journal_helpers import AUTHORS_YML, AVATAR

SECRET = "TOP-SECRET-FILE-CONTENT-7f3a"  # in secret.txt beside mkdocs.yml: must never be shown
T0 = 1_764_000_000_000

# --- the site's Markdown --------------------------------------------------------------------------

SCAFFOLD_YML = Path(__file__).parents[1] / "generator/daybook/mkdocs/scaffold/mkdocs.yml"
# What a site may add to the scaffold's extensions, each of which widens what a note can make.
EXTRA_EXTENSIONS: list[Any] = [
    "footnotes",
    "pymdownx.blocks.html",
    "pymdownx.inlinehilite",
    {"pymdownx.tabbed": {"alternate_style": True}},
    {
        "pymdownx.highlight": {
            "anchor_linenums": True,
            "line_spans": "__span",
            "pygments_lang_class": True,
        }
    },
]


class _Lenient(yaml.SafeLoader):
    """mkdocs.yml may hold `!ENV` or `!!python/name` tags: read them as None."""


_Lenient.add_multi_constructor("!", lambda loader, suffix, node: None)


def site_extensions(snippets_base: Path) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The scaffold's Markdown extensions plus EXTRA_EXTENSIONS and pymdownx.snippets (reading
    files from `snippets_base`), as Python-Markdown's `extensions` and `extension_configs`."""
    data = yaml.load(SCAFFOLD_YML.read_text(encoding="utf-8"), Loader=_Lenient)
    items = [*data["markdown_extensions"], *EXTRA_EXTENSIONS]
    items.append({"pymdownx.snippets": {"base_path": [str(snippets_base)]}})
    names: list[str] = []
    configs: dict[str, dict[str, Any]] = {}
    for item in items:
        name, options = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        names.append(name)
        if options:
            configs[name] = options
    return names, configs


# --- hostile Markdown, built from its structure ---------------------------------------------------


def _spelled(word: str) -> st.SearchStrategy[str]:
    """`word` with each letter as is, upper case, a character reference, or followed by a tab or
    newline (which a browser drops from a URL)."""
    return st.tuples(
        *[
            st.sampled_from([c, c.upper(), f"&#{ord(c)};", f"&#x{ord(c):X};", c + "&#9;", c + "\t"])
            for c in word
        ]
    ).map("".join)


SAFE_URLS = [
    "https://example.org/a?b=1&c=2",
    "mailto:team@example.org",
    "notes/other.md#part",
    "#footnote",
    "shot.png",
    "../assets/a.png",
]
REMOTE_URLS = [
    "//evil.example/x.png",
    "/\\evil.example/x.png",
    "https://tracker.example/p.png",
    " http://tracker.example/p.png",
]
hostile_url = st.one_of(
    st.builds(
        lambda pre, scheme, rest: pre + scheme + rest,
        st.sampled_from(["", " ", "&#32;", "\x01", "&#x0A;"]),
        st.one_of(_spelled("javascript"), _spelled("vbscript"), _spelled("data")),
        st.sampled_from([":alert(1)", "&#58;alert(1)", "&colon;alert(1)", ":text/html,<b>x"]),
    ),
    st.sampled_from(["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\nscript:alert(1)"]),
    st.sampled_from(SAFE_URLS + REMOTE_URLS),
)
# Attribute lists (attr_list, fences, /// blocks) asking for Material's ids and classes.
ATTR_TOKENS = [
    "#__drawer", "#__search", "#md-x", "#fine", ".md-dialog", ".md-header", ".md-typeset",
    ".md-button", ".mermaid", ".admonition", ".daybook-x", "onclick=alert(1)",
    'onmouseover="alert(1)"', 'style="position:fixed;inset:0"', "data-md-component=dialog",
    'href="javascript:alert(1)"', 'src="//evil.example/x.png"', 'title="t"',
    'data-toc-label="<img src=x onerror=alert(1)>"', 'formaction="javascript:alert(1)"',
]  # fmt: skip
attr_list = st.builds(
    lambda colon, tokens: "{" + colon + " ".join(tokens) + "}",
    st.sampled_from(["", ": "]),
    st.lists(st.sampled_from(ATTR_TOKENS), min_size=1, max_size=4),
)
HTML_TAGS = [
    "div", "span", "a", "img", "p", "b", "details", "input", "label", "h2", "table", "iframe",
    "object", "embed", "form", "script", "style", "svg", "math", "meta", "link", "base", "video",
    "button", "textarea", "template", "select", "marquee",
]  # fmt: skip
HTML_ATTRS = [
    'onclick="alert(1)"', "onerror=alert(1)", 'OnLoad="alert(1)"', 'id="__drawer"',
    'class="md-dialog md-typeset"', 'style="position:fixed;inset:0"', 'markdown="1"',
    'data-md-component="dialog"', 'formaction="javascript:alert(1)"', "type=password",
    'srcdoc="<script>alert(1)</script>"', 'for="__drawer"', 'name="__search"',
    'type="radio" checked', 'style="text-align: right;"',
]  # fmt: skip
html_attr = st.one_of(
    st.sampled_from(HTML_ATTRS),
    hostile_url.map(lambda u: f'href="{u}"'),
    hostile_url.map(lambda u: f"src='{u}'"),
)
# Classics of HTML injection that rely on how parsers disagree.
HTML_CLASSICS = [
    "<svg><script>alert(1)</script></svg>",
    "<!--><script>alert(1)</script>-->",
    "<img src=x onerror=alert(1)//",
    "<a href=javascript&colon;alert(1)>x</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="java&#9;script:alert(1)">x</a>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>body{display:none}</style>",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
]
SNIPPET_LINES = [
    '--8<-- "secret.txt"',
    "--8<-- 'secret.txt'",
    "--8<--\nsecret.txt\n--8<--",
    '  --8<-- "secret.txt"',
    '---8<--- "secret.txt"',
    '-8<- "secret.txt"',
    ';--8<-- "secret.txt"',
]

word = st.sampled_from(
    ["alpha", "beta", "8", "--8<--", "{", "}", "<", ">", "&amp;", "&#60;", "@alice", "|", "x_y"]
)
raw_html = st.one_of(
    st.builds(
        lambda tag, attrs, body: f"<{tag} {' '.join(attrs)}>{body}</{tag}>",
        st.sampled_from(HTML_TAGS),
        st.lists(html_attr, max_size=3),
        word,
    ),
    st.sampled_from(HTML_CLASSICS),
)
inline = st.recursive(
    st.one_of(word, raw_html),
    lambda inner: st.one_of(
        inner.map(lambda a: f"*{a}*"),
        inner.map(lambda a: f"**{a}**"),
        inner.map(lambda a: f"_{a}_"),
        inner.map(lambda a: f"~~{a}~~"),
        word.map(lambda a: f"`{a}`"),
        st.builds(lambda a, u: f"[{a}]({u})", inner, hostile_url),
        st.builds(lambda a, u: f'[{a}]({u} "title")', inner, hostile_url),
        st.builds(lambda a, u: f"![{a}]({u})", word, hostile_url),
        hostile_url.map(lambda u: f"<{u}>"),
        st.builds(lambda a, i: f"[{a}][{i}]", inner, st.sampled_from(["r1", "r2"])),
        st.builds(lambda a, attrs: f"[{a}](other.md){attrs}", word, attr_list),
        st.builds(lambda a, attrs: f"**{a}**{attrs}", word, attr_list),
        st.lists(inner, min_size=2, max_size=3).map(" ".join),
    ),
    max_leaves=8,
)
paragraph = st.lists(inline, min_size=1, max_size=4).map(" ".join)
block = st.one_of(
    paragraph,
    paragraph.map(lambda p: p + "\n"),
    st.builds(
        lambda n, text, attrs: "#" * n + " " + text + attrs,
        st.integers(1, 3),
        paragraph,
        st.one_of(st.just(""), attr_list.map(lambda a: " " + a)),
    ),
    st.builds(lambda p, attrs: p + "\n" + attrs, paragraph, attr_list),
    st.builds(
        lambda mark, info, body: f"{mark}{info}\n{body}\n{mark}",
        st.sampled_from(["```", "~~~", "````"]),
        st.one_of(
            st.sampled_from(["", "python", 'python title="t.py" linenums="1"', "text"]),
            attr_list,
            attr_list.map(lambda a: "python " + a),
        ),
        st.one_of(paragraph, raw_html, st.sampled_from(SNIPPET_LINES)),
    ),
    st.sampled_from(SNIPPET_LINES),
    st.builds(lambda i, u: f'[{i}]: {u} "t"', st.sampled_from(["r1", "r2"]), hostile_url),
    st.builds(
        lambda kind, title, body: f'!!! {kind} "{title}"\n\n    {body}\n',
        st.sampled_from(["note", "md-dialog", "danger inline end", "mermaid", "tip"]),
        word,
        paragraph,
    ),
    st.builds(lambda title, body: f'??? note "{title}"\n\n    {body}\n', word, paragraph),
    st.builds(lambda a, b: f'=== "{a}"\n\n    {b}\n\n=== "Two"\n\n    {b}\n', word, paragraph),
    st.builds(lambda h, c: f"| {h} | b |\n| :-- | --: |\n| {c} | 2 |\n", word, inline),
    st.builds(
        lambda tag, attrs, body: f"/// html | {tag}[{' '.join(attrs)}]\n\n{body}\n\n///",
        st.sampled_from(["div", "span", "iframe", "script", "svg", "input", "details"]),
        st.lists(html_attr, min_size=1, max_size=3),
        paragraph,
    ),
    # MkDocs stops with an AssertionError on an <a> without href or an <img> without src made
    # by /// html (its link rewriter expects one): a bug of its own, so these always have one.
    st.builds(
        lambda url, attrs, body: f"/// html | a[href='{url}' {' '.join(attrs)}]\n\n{body}\n\n///",
        hostile_url.filter(lambda u: "'" not in u),
        st.lists(html_attr, max_size=2),
        paragraph,
    ),
    st.builds(
        lambda url, attrs: f"/// html | img[src='{url}' {' '.join(attrs)}]\n///",
        hostile_url.filter(lambda u: "'" not in u),
        st.lists(html_attr, max_size=2),
    ),
    st.builds(
        lambda attrs, body: f'<div markdown="1" {" ".join(attrs)}>\n\n{body}\n\n</div>',
        st.lists(html_attr, max_size=3),
        paragraph,
    ),
    raw_html.map(lambda h: h + "\n"),
    st.builds(lambda a, b: f"Text[^1] {a}\n\n[^1]: {b}", word, paragraph),
    st.builds(lambda a, b: f"- [x] {a}\n- [ ] @alice {b}", inline, inline),
    st.builds(lambda a: f"## Decisions\n\n- {a}\n", inline),
)
document = st.lists(block, min_size=1, max_size=6).map("\n\n".join)


# --- what no rendered region may hold -------------------------------------------------------------

FORBIDDEN_TAGS = frozenset(
    {
        *("script", "style", "iframe", "object", "embed", "form", "meta", "link", "base"),
        *("svg", "math", "frame", "frameset", "template", "button", "textarea", "select"),
        *("video", "audio", "source", "marquee", "noscript"),
    }
)
_GENERATED_ID = re.compile(r"__tabbed_\d+(?:_\d+)?|__codelineno-[\w-]+|__span-[\w-]+|__code_\d+")
MATERIAL_BUTTONS = {"md-button", "md-button--primary"}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background", "srcset"}


def browser_scheme(url: str) -> str:
    """The scheme a browser could read (entities are already decoded by the parser); blanks and
    control characters are dropped everywhere, which is stricter than a browser."""
    probe = re.sub(r"[\x00-\x20\x7f]", "", url)
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", probe)
    return m.group(1).lower() if m else ""


def tag_problems(tag: str, attrs: dict[str, str | None]) -> list[str]:
    """What is wrong with one start tag of sanitized content (empty: nothing)."""
    out: list[str] = []
    where = f"<{tag} {attrs}>"
    if tag in FORBIDDEN_TAGS:
        out.append(f"forbidden tag {where}")
    for name, raw in attrs.items():
        value = raw or ""
        if name.startswith("on"):
            out.append(f"event handler {where}")
        if name in ("srcdoc", "style") and not (
            name == "style"
            and tag in ("th", "td")
            and re.fullmatch(r"\s*text-align:\s*(left|right|center)\s*;?\s*", value)
        ):
            out.append(f"{name} {where}")
        if name in URL_ATTRS:
            if name not in ("href", "src"):
                out.append(f"url attribute {where}")
            elif browser_scheme(value) not in ("", "http", "https", "mailto"):
                out.append(f"script url {where}")
            elif name == "src" and (
                browser_scheme(value) or value.strip().replace("\\", "/").startswith("//")
            ):
                out.append(f"remote image {where}")
        if name in ("id", "for", "name"):
            if value.startswith("__") and not _GENERATED_ID.fullmatch(value):
                out.append(f"Material's id {where}")
            if value.lower().startswith("md-"):
                out.append(f"Material's id {where}")
        if name == "class":
            for c in value.split():
                if (c.startswith("md-") and c not in MATERIAL_BUTTONS) or c == "mermaid":
                    out.append(f"Material's class {c} {where}")
        if tag == "input" and name == "type" and value not in ("checkbox", "radio"):
            out.append(f"input type {where}")
    return out


Predicate = Callable[[str, set[str]], bool]


class Regions(HTMLParser):
    """The start tags inside the regions of a page that hold sanitized content: elements for
    which `is_region(tag, classes)` holds, less subtrees `is_chrome(tag, classes)` (Material's
    own markup inside them, e.g. a post excerpt's "Continue reading")."""

    VOID = frozenset({"img", "input", "br", "hr", "meta", "link", "base", "col", "source", "wbr"})

    def __init__(self, html: str, is_region: Predicate, is_chrome: Predicate | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.is_region = is_region
        self.is_chrome = is_chrome or (lambda tag, classes: False)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.count = 0  # regions found
        self._stack: list[tuple[str, str]] = []  # (tag, "region" | "chrome" | "")
        self.feed(html)
        self.close()

    def _state(self) -> tuple[bool, bool]:
        kinds = {kind for _, kind in self._stack}
        return "region" in kinds, "chrome" in kinds

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        inside, chrome = self._state()
        kind = ""
        if not inside and self.is_region(tag, classes):
            kind = "region"
            self.count += 1
        elif inside and not chrome and self.is_chrome(tag, classes):
            kind = "chrome"
        elif inside and not chrome:
            self.tags.append((tag, a))
        if tag not in self.VOID:
            self._stack.append((tag, kind))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        inside, chrome = self._state()
        if inside and not chrome:
            self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def problems(self) -> list[str]:
        return [p for tag, attrs in self.tags for p in tag_problems(tag, attrs)]


def problems_in(html: str) -> list[str]:
    """Problems anywhere in a fragment of sanitized HTML."""
    return Regions(f"<div>{html}</div>", lambda tag, classes: tag == "div").problems()


# --- a site with a journal, built offline ---------------------------------------------------------

SITE_EXTRA_YML = """
  - footnotes
  - pymdownx.blocks.html
  - pymdownx.inlinehilite
  - pymdownx.tabbed:
      alternate_style: true
  - pymdownx.highlight:
      anchor_linenums: true
      line_spans: __span
      pygments_lang_class: true
  - pymdownx.snippets:
      base_path: [{base}]
"""


def hostile_site(root: Path, *, plugin: bool = True) -> Path:
    """`daybook init` a site whose mkdocs.yml also enables snippets (reading `secret.txt` beside
    mkdocs.yml), blocks.html, tabs, highlighting and footnotes; a page for every run; two
    authors. `plugin=False` leaves the daybook plugin out of mkdocs.yml."""
    init_site(root)
    docs = root / "docs"
    (docs / "journal" / ".authors.yml").write_text(AUTHORS_YML, encoding="utf-8")
    avatars = docs / "assets" / "avatars"
    avatars.mkdir(parents=True, exist_ok=True)
    for aid in ("alice", "bob"):
        (avatars / f"{aid}.svg").write_text(AVATAR, encoding="utf-8")
    (root / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    mkdocs = root / "mkdocs.yml"
    text = mkdocs.read_text(encoding="utf-8")
    extra = SITE_EXTRA_YML.format(base=str(root))
    text = text.replace("markdown_extensions:\n", "markdown_extensions:" + extra, 1)
    if not plugin:
        assert "  - daybook\n" in text
        text = text.replace("  - daybook\n", "")
    mkdocs.write_text(text, encoding="utf-8")
    config = root / "daybook.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("  all: false", "  all: true"), encoding="utf-8"
    )
    return root


def write_notes(root: Path, bodies: Sequence[str]) -> list[str]:
    """Replace the notes with one meeting note per body; their paths under docs/."""
    notes = root / "docs" / "notes"
    if notes.exists():
        for p in notes.rglob("*.md"):
            p.unlink()
    notes.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, body in enumerate(bodies):
        name = f"2025-11-{1 + i % 28:02d}-n{i}.md"
        front = f"---\ndate: 2025-11-{1 + i % 28:02d}\nauthors: [alice]\ntype: meeting\n"
        (notes / name).write_text(f"{front}title: Note {i}\n---\n\n{body}\n", encoding="utf-8")
        paths.append(f"notes/{name}")
    return paths


def write_runs(root: Path, descriptions: Sequence[str], experiment: str = "") -> None:
    """A saved snapshot (what `daybook pull` writes) with one experiment and a run per
    description, so `daybook build --offline` needs no MLflow store."""
    exp = Experiment("1", "hostile", "file:///a", T0, T0, {"mlflow.note.content": experiment})
    runs = tuple(
        Run(
            f"{i:032x}",
            "1",
            f"run-{i}",
            "FINISHED",
            T0 + i * 1000,
            T0 + i * 1000 + 500,
            "alice",
            "file:///a",
            tags={"mlflow.note.content": text},
        )
        for i, text in enumerate(descriptions)
    )
    snapshot = Snapshot("sqlite:///mlflow.db", (exp,), runs, ())
    config = DaybookConfig.model_validate(
        yaml.safe_load((root / "daybook.yml").read_text(encoding="utf-8")) or {}
    )
    save(snapshot_path(root), StoredSnapshot(snapshot, T0 + 10**6, config_fingerprint(config)))


def build(root: Path, *args: str) -> tuple[int, str]:
    """`daybook build --offline` of the site: exit code and stderr."""
    result = run_cli("build", "--offline", "-q", "-C", root, *args, timeout=300)
    return result.returncode, result.stderr


def note_regions(html: str) -> Regions:
    """The sanitized parts of a journal page: a post's article, every excerpt on an index,
    archive, category or author page (less Material's own "Continue reading")."""
    return Regions(
        html,
        lambda tag, classes: (
            (tag == "article" and "md-content__inner" in classes)
            or (tag == "div" and "md-post__content" in classes)
        ),
        lambda tag, classes: tag == "nav" and "md-post__action" in classes,
    )


def description_regions(html: str) -> Regions:
    """The sanitized parts of a run or experiment page: its rendered descriptions."""
    return Regions(html, lambda tag, classes: tag == "div" and "daybook-markdown" in classes)
