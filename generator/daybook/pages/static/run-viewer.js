// Daybook's run viewer (pages/run_viewer.py): shows the run named by the URL's fragment
// (runs/#<run id>, or an unambiguous prefix of 8+ characters) from the JSON shard beside the page.
// Every value comes from the tracking store and is untrusted: it is written with textContent
// only, never parsed as HTML; links are the site's own relative URLs, checked before use.
(function () {
  "use strict";

  var SAFE_HREF = /^(?:\.\.\/|\.\/|[A-Za-z0-9_~-])[A-Za-z0-9._~\/-]*(?:#[A-Za-z0-9_-]+)?$|^#[A-Za-z0-9_-]+$/;
  var RUN_ID = /^[A-Za-z0-9_-]+$/;
  var MIN_PREFIX = 8;
  var cache = (window.__daybookRunShards = window.__daybookRunShards || {});
  var latest = 0; // the newest render wins when shards arrive out of order

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function link(href, text) {
    if (typeof href !== "string" || !SAFE_HREF.test(href)) return el("span", null, text);
    var a = el("a", null, text);
    a.setAttribute("href", href);
    return a;
  }

  function shardOf(id) {
    var two = id.slice(0, 2).toLowerCase();
    return /^[0-9a-f]{2}$/.test(two) ? two : "other";
  }

  function loadShard(root, key) {
    var base = root.getAttribute("data-shards") || "data/";
    var keys = (root.getAttribute("data-shard-keys") || "").split(" ");
    if (keys.indexOf(key) < 0) return Promise.resolve({ runs: {} }); // no run starts this way
    var url = base + key + ".json";
    if (!cache[url]) {
      cache[url] = fetch(url).then(function (res) {
        if (res.status === 404) return { runs: {} }; // no run of the site starts this way
        if (!res.ok) throw new Error("HTTP " + res.status + " for " + url);
        return res.json();
      });
      cache[url].catch(function () {
        delete cache[url]; // try again next time
      });
    }
    return cache[url];
  }

  function wanted() {
    var raw = window.location.hash.replace(/^#/, "");
    try {
      raw = decodeURIComponent(raw);
    } catch (e) {
      /* keep it as written */
    }
    return raw.trim();
  }

  function message(out, text, cls) {
    out.replaceChildren(el("p", "daybook-run-viewer__message " + (cls || ""), text));
  }

  function row(tbody, label, value) {
    var tr = el("tr");
    tr.appendChild(el("th", null, label));
    var td = el("td");
    if (value instanceof Node) td.appendChild(value);
    else td.textContent = value === undefined || value === null || value === "" ? "—" : value;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }

  function table(headers, numeric) {
    var t = el("table", "daybook-dense");
    var thead = el("thead");
    var tr = el("tr");
    headers.forEach(function (h, i) {
      var th = el("th", numeric && i > 0 ? "daybook-num" : null, h);
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    t.appendChild(thead);
    t.appendChild(el("tbody"));
    return t;
  }

  function pairs(out, title, values, numeric, empty) {
    out.appendChild(el("h3", null, title));
    var keys = Object.keys(values || {});
    if (!keys.length) {
      out.appendChild(el("p", null, empty));
      return;
    }
    var wrap = el("div", "md-typeset__scrollwrap");
    var inner = el("div", "md-typeset__table");
    var t = table(["Key", "Value"], numeric);
    var tbody = t.querySelector("tbody");
    keys.forEach(function (k) {
      var tr = el("tr");
      tr.appendChild(el("td", null, k));
      tr.appendChild(el("td", numeric ? "daybook-num" : null, values[k]));
      tbody.appendChild(tr);
    });
    inner.appendChild(t);
    wrap.appendChild(inner);
    out.appendChild(wrap);
  }

  function statusBadge(word) {
    var css = String(word || "")
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "-");
    return el("span", "daybook-status daybook-status--" + css, word || "—");
  }

  function joined(items) {
    var span = el("span");
    items.forEach(function (item, i) {
      if (i) span.appendChild(document.createTextNode(", "));
      span.appendChild(link(item[1], item[0]));
    });
    return span;
  }

  function show(out, id, run) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el("h2", "daybook-run-viewer__name", run.name));
    if (run.page) {
      var box = el("div", "admonition info daybook-run-viewer__page");
      box.appendChild(el("p", "admonition-title", "This run has a page of its own"));
      var p = el("p");
      p.appendChild(link(run.page, "Open the page of " + run.name));
      p.appendChild(document.createTextNode(": charts, comparisons and notes that mention it."));
      box.appendChild(p);
      frag.appendChild(box);
    }
    var facts = el("table", "daybook-run-viewer__facts");
    var tbody = el("tbody");
    var exp = run.experiment || [];
    row(tbody, "Experiment", link(exp[1], exp[0]));
    row(tbody, "Status", statusBadge(run.status));
    row(tbody, "Started", run.start);
    row(tbody, "Ended", run.end);
    row(tbody, "Duration", run.duration);
    row(tbody, "User", run.user);
    row(tbody, "Run id", el("code", null, id));
    if (run.parent) row(tbody, "Parent run", link(run.parent[2], run.parent[1]));
    if (run.children) row(tbody, "Child runs", String(run.children));
    if (run.versions && run.versions.length) row(tbody, "Model versions", joined(run.versions));
    facts.appendChild(tbody);
    frag.appendChild(facts);
    if (run.description) {
      frag.appendChild(el("h3", null, "Description"));
      frag.appendChild(el("div", "daybook-run-viewer__description", run.description));
    }
    var rest = el("div");
    pairs(rest, "Parameters", run.params, false, "This run logged no parameters.");
    pairs(rest, "Metrics (last value)", run.metrics, true, "This run logged no metrics.");
    pairs(rest, "Tags", run.tags, false, "No tags besides MLflow's own.");
    frag.appendChild(rest);
    out.replaceChildren(frag);
    var root = document.getElementById("daybook-run-viewer");
    if (root && !root.hasAttribute("data-title")) root.setAttribute("data-title", document.title);
    document.title = run.name + " - " + (root ? root.getAttribute("data-title") : document.title);
  }

  function ambiguous(out, id, ids) {
    var frag = document.createDocumentFragment();
    frag.appendChild(
      el("p", "daybook-run-viewer__message", ids.length + " runs start with " + id + ":")
    );
    var ul = el("ul");
    ids.slice(0, 20).forEach(function (full) {
      var li = el("li");
      li.appendChild(link("#" + full, full));
      ul.appendChild(li);
    });
    frag.appendChild(ul);
    out.replaceChildren(frag);
  }

  function render() {
    var root = document.getElementById("daybook-run-viewer");
    if (!root) return;
    var out = root.querySelector(".daybook-run-viewer__run");
    var input = root.querySelector("input[name=run]");
    var id = wanted();
    if (input && input !== document.activeElement) input.value = id;
    var ticket = ++latest;
    if (!id) {
      message(out, "Give a run id above, or open runs/#<run id>.");
      return;
    }
    if (!RUN_ID.test(id)) {
      message(out, "“" + id + "” is not a run id.", "daybook-run-viewer__unknown");
      return;
    }
    message(out, "Loading run " + id + "…");
    loadShard(root, shardOf(id)).then(
      function (data) {
        if (ticket !== latest) return;
        var runs = data.runs || {};
        var key = id.toLowerCase();
        if (Object.prototype.hasOwnProperty.call(runs, id)) return show(out, id, runs[id]);
        if (Object.prototype.hasOwnProperty.call(runs, key)) return show(out, key, runs[key]);
        var hits =
          key.length >= MIN_PREFIX
            ? Object.keys(runs).filter(function (k) {
                return k.indexOf(key) === 0;
              })
            : [];
        if (hits.length === 1) return show(out, hits[0], runs[hits[0]]);
        if (hits.length > 1) return ambiguous(out, id, hits.sort());
        message(
          out,
          key.length < MIN_PREFIX
            ? "No run with the id " + id + " in this site (a prefix needs " + MIN_PREFIX +
                " characters or more)."
            : "No run with the id " + id + " in this site: deleted, in an experiment the site " +
                "leaves out, or newer than this build.",
          "daybook-run-viewer__unknown"
        );
      },
      function (err) {
        if (ticket !== latest) return;
        var why = location.protocol === "file:" // a browser fetches nothing from disk
          ? "the site is opened from disk; serve it (daybook serve, or any web server)"
          : err.message;
        message(out, "Could not load the runs' data: " + why, "daybook-run-viewer__unknown");
      }
    );
  }

  function wire() {
    var root = document.getElementById("daybook-run-viewer");
    if (!root) return;
    var form = root.querySelector("form");
    if (form && !form.__daybook) {
      form.__daybook = true;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var value = (form.querySelector("input[name=run]").value || "").trim();
        if (value) window.location.hash = value;
      });
    }
    render();
  }

  if (!window.__daybookRunViewer) {
    window.__daybookRunViewer = true;
    window.addEventListener("hashchange", render);
    // Material's instant navigation swaps pages without a load: render on every page it shows.
    if (window.document$ && typeof window.document$.subscribe === "function") {
      window.document$.subscribe(wire);
    }
  }
  wire();
})();
