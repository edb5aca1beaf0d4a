"""The search index waits for the reader: Material's search fetches `search/search_index.json`
(0.87 MB at 20,000 runs, 5 MB at 100,000) as soon as a page loads, competing with the page's
own first paint and data. Daybook delays that one request until the reader focuses the search
box (a click, or Material's `/`, `s`, `f` shortcuts), or at once when the page was opened from a
search result (`?h=` highlights need the index) (issue #14).

How: a small inline script, put before Material's bundle on every page, holds back the `send`
of the XMLHttpRequest whose URL ends in `search/search_index.json` (the only way Material 9.x
loads the index over HTTP) and releases it on the first focus of the search form. Material's
search worker simply waits for its data; nothing else changes. Pages opened from `file://` load
`search_index.js` instead and are left alone. Registered from the gen-files script, like the
squeeze, so plain `mkdocs build` gets it too.
"""

from __future__ import annotations

import re
from typing import Any

SCRIPT = (
    "<script>/* daybook: the search index loads when the search box is first used */"
    "(function(){var P=XMLHttpRequest.prototype,o=P.open,s=P.send,q=[],go=false;"
    "function release(){if(go)return;go=true;q.splice(0).forEach(function(f){f()})}"
    "P.open=function(m,u){this.__dbIndex=/\\/search\\/search_index\\.json([?#]|$)/"
    ".test(String(u));return o.apply(this,arguments)};"
    "P.send=function(){var x=this,a=arguments;if(go||!x.__dbIndex)return s.apply(x,a);"
    "q.push(function(){s.apply(x,a)})};"
    "if(/[?&]h=/.test(location.search))release();"
    "document.addEventListener('focusin',function(e){var t=e.target;"
    "if(t&&t.form&&t.form.getAttribute('name')==='search')release()},true);"
    "window.daybookSearch={release:release}})();</script>"
)
_BUNDLE = re.compile(r'<script src="[^"]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js"></script>')


def defer_search_index(html: str) -> str:
    """The page with the deferring script put before Material's bundle (once; pages without
    the bundle are returned unchanged)."""
    if "daybook: the search index" in html:
        return html
    match = _BUNDLE.search(html)
    if match is None:
        return html
    return html[: match.start()] + SCRIPT + html[match.start() :]


def _on_post_page(output: str, /, **_: Any) -> str:
    return defer_search_index(output)


def _on_post_template(output: str, /, **_: Any) -> str:  # 404.html is a template, not a page
    return defer_search_index(output)


def defer_search(config: Any) -> None:
    """Register the handler with the running MkDocs build, once (`mkdocs serve` re-runs the
    gen-files script), and only when the site uses Material's search plugin."""
    plugins = getattr(config, "plugins", None)
    events = getattr(plugins, "events", None)
    register = getattr(plugins, "_register_event", None)
    if not isinstance(events, dict) or "post_page" not in events or register is None:
        return
    if "search" not in plugins and "material/search" not in plugins:
        return
    if _on_post_page not in events["post_page"]:
        register("post_page", _on_post_page, plugin_name="daybook")
    if "post_template" in events and _on_post_template not in events["post_template"]:
        register("post_template", _on_post_template, plugin_name="daybook")
