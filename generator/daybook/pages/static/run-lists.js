/* Daybook's wide run pages (pages/run_lists.py, issue #15): Daybook's own code, no library.
 *
 * - A filter box over the keys and values of every param and metric of the run, read on the
 *   first keystroke from the run viewer's shard of the run (runs/data/<xx>.json), which holds
 *   all of them; the page itself lists only the params that vary and the first metrics.
 * - The one line "N params equal in every run of this experiment" opens their list, read from
 *   the experiment's constant-params.json when the reader asks.
 *
 * Every key and value comes from the tracking store and is untrusted: written with textContent
 * only. Material's instant navigation re-runs this script: each box is set up once.
 */
(function () {
  "use strict";

  var LIMIT = 500; // matches listed; the rest are counted
  var SAFE_URL = /^(?:\.\.\/|\.\/|[A-Za-z0-9_~-])[A-Za-z0-9._~\/-]*\.json$/;
  var cache = (window.__daybookRunShards = window.__daybookRunShards || {});

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function count(n) {
    return n.toLocaleString("en-US");
  }

  function fetchJson(url) {
    if (!SAFE_URL.test(url)) return Promise.reject(new Error("not a Daybook data file"));
    var key = new URL(url, document.baseURI).href;
    var abs = key;
    if (!cache[key]) {
      cache[key] = fetch(abs, { credentials: "same-origin" }).then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      });
      cache[key].catch(function () { delete cache[key]; });
    }
    return cache[key];
  }

  function table(headers, rows) {
    var t = el("table", "daybook-dense");
    var head = el("thead");
    var tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    head.appendChild(tr);
    t.appendChild(head);
    var body = el("tbody");
    rows.forEach(function (row) {
      var r = el("tr");
      row.forEach(function (cell) { r.appendChild(el("td", null, cell)); });
      body.appendChild(r);
    });
    t.appendChild(body);
    var wrap = el("div", "md-typeset__scrollwrap");
    var inner = el("div", "md-typeset__table");
    inner.appendChild(t);
    wrap.appendChild(inner);
    return wrap;
  }

  function setupFilter(root) {
    var runId = root.getAttribute("data-run") || "";
    var input = el("input", "daybook-kv-filter");
    input.type = "search";
    input.placeholder = "Filter params and metrics by name or value";
    input.setAttribute("aria-label", "Filter params and metrics");
    var status = el("p", "daybook-kv-status");
    status.setAttribute("aria-live", "polite");
    var out = el("div", "daybook-kv-results");
    root.appendChild(input);
    root.appendChild(status);
    root.appendChild(out);
    var timer = null;
    var latest = 0;
    input.addEventListener("focus", function () { fetchJson(root.getAttribute("data-shard")).catch(function () {}); });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = input.value.trim().toLowerCase();
        var mine = ++latest;
        if (!query) {
          status.textContent = "";
          out.replaceChildren();
          return;
        }
        status.textContent = "Searching all " + root.getAttribute("data-params") + " params and " +
          root.getAttribute("data-metrics") + " metrics\u2026";
        fetchJson(root.getAttribute("data-shard")).then(function (doc) {
          if (mine !== latest) return;
          var rec = doc && doc.runs ? doc.runs[runId] : null;
          if (!rec) throw new Error("the run is not in its data file");
          var terms = query.split(/\s+/);
          var rows = [];
          var found = { param: 0, metric: 0 };
          [["param", rec.params || {}], ["metric", rec.metrics || {}]].forEach(function (kv) {
            Object.keys(kv[1]).sort().forEach(function (k) {
              var v = String(kv[1][k]);
              var hay = (k + "\u0000" + v).toLowerCase();
              for (var t = 0; t < terms.length; t++) if (hay.indexOf(terms[t]) < 0) return;
              found[kv[0]]++;
              if (rows.length < LIMIT) rows.push([kv[0] === "param" ? "Param" : "Metric", k, v]);
            });
          });
          var total = found.param + found.metric;
          status.textContent = total
            ? count(found.param) + (found.param === 1 ? " param" : " params") + " and " +
              count(found.metric) + (found.metric === 1 ? " metric" : " metrics") + " match" +
              (total > rows.length ? "; the first " + count(rows.length) + " shown." : ".")
            : "No param or metric matches \u201c" + input.value.trim() + "\u201d.";
          out.replaceChildren(rows.length ? table(["", "Name", "Value"], rows) : el("span"));
        }).catch(function (error) {
          if (mine === latest) status.textContent = "Could not load this run's data (" + error.message + ").";
        });
      }, 120);
    });
  }

  function setupConstant(root) {
    var url = root.getAttribute("data-constant") || "";
    var p = root.querySelector("p");
    var link = p && p.querySelector("a");
    if (!p || !link) return;
    var button = el("button", "daybook-kv-toggle", "show them");
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    link.replaceWith(button);
    var out = el("div", "daybook-kv-constant-list");
    out.hidden = true;
    root.appendChild(out);
    button.addEventListener("click", function () {
      if (!out.hidden) {
        out.hidden = true;
        button.textContent = "show them";
        button.setAttribute("aria-expanded", "false");
        return;
      }
      fetchJson(url).then(function (doc) {
        var params = doc && doc.params ? doc.params : {};
        if (!out.firstChild) {
          out.appendChild(table(["Parameter", "Value"], Object.keys(params).sort().map(function (k) {
            return [k, String(params[k])];
          })));
        }
        out.hidden = false;
        button.textContent = "hide them";
        button.setAttribute("aria-expanded", "true");
      }).catch(function (error) {
        button.textContent = "could not load them (" + error.message + ")";
      });
    });
  }

  Array.prototype.forEach.call(
    document.querySelectorAll(".daybook-kv[data-shard]:not([data-daybook-ready])"), function (root) {
      root.setAttribute("data-daybook-ready", "");
      setupFilter(root);
    });
  Array.prototype.forEach.call(
    document.querySelectorAll(".daybook-kv-constant[data-constant]:not([data-daybook-ready])"),
    function (root) {
      root.setAttribute("data-daybook-ready", "");
      setupConstant(root);
    });
})();
