/* Daybook: "new since your last visit".
 *
 * Marks the items of the home page (elements with data-daybook-item="<stable id>": runs,
 * needs-attention lines, notes) and the journal's posts (Material's article.md-post, by their
 * link) that this browser has not shown before, then records them as seen. The record lives in
 * localStorage only, scoped to the site (Material's __md_get/__md_set); nothing is sent anywhere.
 * A first visit marks everything; a second visit marks only what appeared in between.
 *
 * Loaded on every page through extra_javascript (mkdocs.yml); re-run after Material's instant
 * navigation through its document$ observable.
 */
(function () {
  "use strict";
  var KEY = "daybook.seen";
  var VISIT = "daybook.last-visit";
  var LIMIT = 5000; // ids kept, newest first: the record never grows without bound

  function load() {
    try {
      var data = window.__md_get ? window.__md_get(KEY, localStorage) : null;
      return data && typeof data === "object" ? data : {};
    } catch (e) {
      return {};
    }
  }

  function save(seen) {
    var ids = Object.keys(seen).sort(function (a, b) { return seen[b] - seen[a]; });
    var kept = {};
    ids.slice(0, LIMIT).forEach(function (id) { kept[id] = seen[id]; });
    try {
      if (window.__md_set) {
        window.__md_set(KEY, kept, localStorage);
        window.__md_set(VISIT, Date.now(), localStorage);
      }
    } catch (e) {
      /* storage full or disabled: marks simply come back next time */
    }
  }

  function items() {
    var out = [];
    document.querySelectorAll("[data-daybook-item]").forEach(function (el) {
      out.push([el.getAttribute("data-daybook-item"), el]);
    });
    document.querySelectorAll("article.md-post").forEach(function (post) {
      var link = post.querySelector(".md-post__content h2 a, .md-post__content a[href]");
      if (link) {
        var path = new URL(link.getAttribute("href"), location.href).pathname;
        out.push(["post:" + path, link.closest("h2") || link]);
      }
    });
    return out;
  }

  function mark() {
    if (!window.__md_get || typeof localStorage === "undefined") return;
    var found = items();
    if (!found.length) return;
    var seen = load();
    var now = Date.now();
    var fresh = 0;
    found.forEach(function (pair) {
      var id = pair[0];
      var el = pair[1];
      if (!id) return;
      if (!seen[id]) {
        fresh += 1;
        var badge = document.createElement("span");
        badge.className = "daybook-new";
        badge.textContent = "new";
        badge.title = "New since your last visit";
        el.insertBefore(badge, el.firstChild);
      }
      seen[id] = seen[id] || now;
    });
    document.documentElement.setAttribute("data-daybook-new", String(fresh));
    save(seen);
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(mark);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
})();
