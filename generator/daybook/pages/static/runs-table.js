/* Daybook's runs table: Daybook's own code, no third-party library.
 *
 * An experiment page with more runs than `run_table.paged_above` holds only the first page of its
 * table, and runs.json beside it holds every row (format: daybook/pages/runs_table.py). This
 * script pages, sorts and filters all of them, fetching runs.json on the reader's first sort,
 * filter or page turn, so opening the page costs no more than a small table.
 *
 * Everything in runs.json is untrusted (run names, users, params come from the tracking store):
 * values are inserted as text (textContent), never as HTML, and a link is made only from a
 * relative URL of the shape Daybook writes.
 *
 * A wide experiment (#15) also has columns/ beside the page (data-columns: its index.json): the
 * picker lists every param and metric by prefix group, searchable by name, and a picked column's
 * values are fetched from its group's small file, only then. The reader's choice is remembered
 * per experiment (localStorage); daybook.yml can preset it (data-preset).
 *
 * Material's instant navigation re-runs scripts in the page content, so this may run many times
 * in one window: each table is set up once (data-daybook-ready) and fetched data is cached.
 */
(function () {
  "use strict";

  var FIXED = 8; // id, label, depth, href, status, start (s), duration (ms), user
  var SHOWN = 5; // the columns before the params: Run, Status, Started, Duration, User
  // One spelling of each run state, as pages/words.py writes it.
  var STATUS = { FINISHED: "Finished", RUNNING: "Running", SCHEDULED: "Scheduled",
    FAILED: "Failed", KILLED: "Killed" };
  var STORE = "daybook.runs-columns."; // + experiment id: the columns a reader hid
  var PICKED = "daybook.runs-picked."; // + experiment id: the columns a reader added (#15)
  var SAFE_FILE = /^[a-z0-9-]+\.json$/; // a columns/ file name, as pages/columns_data.py makes it
  var MATCHES = 200; // keys listed for a search in the picker; the rest are counted
  var SAFE_HREF = /^(?:\.\.\/|[A-Za-z0-9_~-])[A-Za-z0-9._~\/-]*(?:#[A-Za-z0-9_-]+)?$/; // #: the run viewer
  var cache = (window.__daybookRunsCache = window.__daybookRunsCache || {});
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // --- formatting: the same rules as daybook.escape.format_number and pages.render --------------

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function when(s) {
    if (s === null || s === undefined) return "\u2014";
    var d = new Date(s * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return "\u2014";
    var s = Math.floor(ms / 1000);
    if (s < 60) return ms < 10000 ? (ms / 1000).toFixed(1) + " s" : s + " s";
    var m = Math.floor(s / 60);
    s = s % 60;
    if (m < 60) return m + " min " + pad(s) + " s";
    var h = Math.floor(m / 60);
    m = m % 60;
    if (h < 48) return h + " h " + pad(m) + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  function trimZeros(text) {
    return text.indexOf(".") >= 0 ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }

  function general(v, p) { // Python's "%.{p}g"
    var parts = v.toExponential(p - 1).split("e");
    var exp = parseInt(parts[1], 10);
    if (exp < -4 || exp >= p) {
      return trimZeros(parts[0]) + "e" + (exp < 0 ? "-" : "+") + pad(Math.abs(exp));
    }
    return trimZeros(v.toFixed(Math.max(0, p - 1 - exp)));
  }

  function num(v, decimals) { // decimals: the column's, from runs.json (core/numbers.py)
    if (v === null || v === undefined) return "\u2014";
    if (v === "NaN") return "NaN";
    if (v === "Infinity") return "\u221e";
    if (v === "-Infinity") return "\u2212\u221e";
    if (typeof v !== "number") return String(v);
    if (typeof decimals === "number" && decimals >= 0 && decimals <= 20) return v.toFixed(decimals);
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e6 || a < 1e-4) return general(v, 4);
    if (Number.isInteger(v)) return String(v);
    return a < 1 ? general(v, 4) : general(v, 6);
  }

  function metricKey(v) { // sort key; null sorts last in both directions
    if (v === null || v === undefined || v === "NaN") return null;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    return typeof v === "number" ? v : null;
  }

  function count(n) {
    return n.toLocaleString("en-US");
  }

  function statusBadge(value) {
    var text = String(value === null || value === undefined ? "" : value);
    var word = STATUS[text.toUpperCase()] ||
      (text.charAt(0).toUpperCase() + text.slice(1).toLowerCase()).replace(/_/g, " ");
    var badge = el("span", "daybook-status daybook-status--" +
      (word.toLowerCase().replace(/[^a-z0-9]/g, "-") || "unknown"), word || "\u2014");
    var td = el("td");
    td.appendChild(badge);
    return td;
  }

  function readHidden(key) {
    try {
      var list = JSON.parse(window.localStorage.getItem(key) || "[]");
      return Array.isArray(list) ? list.filter(function (k) { return typeof k === "string"; }) : [];
    } catch (e) {
      return []; // storage off or garbled: every column shows
    }
  }

  function writeHidden(key, list) {
    try {
      if (list.length) window.localStorage.setItem(key, JSON.stringify(list));
      else window.localStorage.removeItem(key);
    } catch (e) { /* storage off: the choice lasts this page only */ }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fetchJson(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
      cache[url].catch(function () { delete cache[url]; }); // a later try may succeed
    }
    return cache[url];
  }

  function numericText(values) { // a param column whose values all read as numbers sorts as numbers
    return values.every(function (value) {
      var v = String(value);
      return v === "" || (v.trim() !== "" && isFinite(Number(v)));
    });
  }

  // --- one table --------------------------------------------------------------------------------

  function Table(root) {
    this.root = root;
    this.table = root.querySelector("table");
    this.tbody = this.table && this.table.tBodies[0];
    var head = this.table && this.table.tHead;
    this.headers = head ? Array.prototype.slice.call(head.rows[0].cells) : [];
    this.url = root.getAttribute("data-runs");
    this.total = parseInt(root.getAttribute("data-total"), 10) || 0;
    this.pageSize = parseInt(root.getAttribute("data-page-size"), 10) || 50;
    this.data = null;
    this.loading = null;
    this.sortCol = -1;
    this.sortDir = 1;
    this.query = "";
    this.page = 0;
    this.order = null; // row indices after filter and sort
    this.storeKey = STORE + (root.getAttribute("data-experiment") || location.pathname);
    this.columns = this.columnKeys();
    this.hidden = readHidden(this.storeKey);
    this.base = this.columns.length; // columns of the page's own table; picked ones follow
    this.metricCount = parseInt(root.getAttribute("data-metrics"), 10) || 0;
    this.columnsUrl = root.getAttribute("data-columns");
    this.pickKey = PICKED + (root.getAttribute("data-experiment") || location.pathname);
    this.extras = []; // picked columns: {key, kind, name, values, decimals}
    this.index = null; // promise of columns/index.json
  }

  // Each column's key: "run:Status", "param:lr", "metric:acc". The picker is built from these, so
  // a runs.json with more columns (#15) needs only more headers, not a new picker.
  Table.prototype.columnKeys = function () {
    var metrics = parseInt(this.root.getAttribute("data-metrics"), 10) || 0;
    var n = this.headers.length;
    return this.headers.map(function (th, i) {
      var name = th.textContent.trim();
      if (i < SHOWN) return "run:" + name;
      return (i >= n - metrics ? "metric:" : "param:") + name;
    });
  };

  Table.prototype.picker = function () {
    var self = this;
    var box = el("details", "daybook-columns");
    var summary = el("summary", null, "Columns");
    summary.title = "Show or hide columns (remembered for this experiment in this browser)";
    box.appendChild(summary);
    var list = el("div", "daybook-columns-list");
    this.columns.forEach(function (key, col) {
      list.appendChild(self.checkbox(key, col === 0));
    });
    box.appendChild(list);
    if (this.columnsUrl) {
      var more = el("div", "daybook-columns-more");
      var find = el("input", "daybook-columns-find");
      find.type = "search";
      find.placeholder = "Find a param or metric by name";
      find.setAttribute("aria-label", "Find a param or metric by name");
      var found = el("div", "daybook-columns-groups");
      more.appendChild(find);
      more.appendChild(found);
      box.appendChild(more);
      var timer = null;
      var draw = function () {
        self.loadIndex().then(function (index) {
          self.drawGroups(found, index, find.value.trim().toLowerCase());
        }, function (error) {
          found.replaceChildren(el("p", null, "Could not load the columns (" + error.message + ")."));
        });
      };
      box.addEventListener("toggle", function () { if (box.open && !found.firstChild) draw(); });
      find.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(draw, 120);
      });
    }
    this.pickerBox = box;
    return box;
  };

  // One checkbox: a column of the page's table (shown or hidden), or any other column (picked).
  Table.prototype.checkbox = function (key, fixed) {
    var self = this;
    var label = el("label");
    var check = el("input");
    check.type = "checkbox";
    check.checked = this.isShown(key);
    check.disabled = !!fixed; // the run itself always shows
    check.setAttribute("data-column", key);
    check.addEventListener("change", function () { self.toggle(key, check.checked); });
    label.appendChild(check);
    label.appendChild(document.createTextNode(" " + key.slice(key.indexOf(":") + 1)));
    return label;
  };

  Table.prototype.isShown = function (key) {
    var col = this.columns.indexOf(key);
    return col >= 0 && this.hidden.indexOf(key) < 0;
  };

  Table.prototype.toggle = function (key, on) {
    var self = this;
    var col = this.columns.indexOf(key);
    if (col >= 0 && col < this.base) { // a column of the page's own table: hide or show it
      var rest = this.hidden.filter(function (k) { return k !== key; });
      this.hidden = on ? rest : rest.concat([key]);
      writeHidden(this.storeKey, this.hidden);
      this.applyColumns();
      this.announce();
    } else if (on && col < 0) { // the box stays ticked while the column's file loads
      var settle = function () { self.syncChecks(key); };
      this.addColumn(key).then(function () { self.savePicked(); settle(); }, settle);
      return;
    } else if (!on && col >= 0) {
      this.removeColumn(key);
      this.savePicked();
    }
    this.syncChecks(key);
  };

  Table.prototype.syncChecks = function (key) {
    var shown = this.isShown(key);
    var boxes = this.root.querySelectorAll(".daybook-columns input[type=checkbox]");
    Array.prototype.forEach.call(boxes, function (check) {
      if (check.getAttribute("data-column") === key) check.checked = shown;
    });
  };

  Table.prototype.savePicked = function () {
    writeHidden(this.pickKey, this.extras.map(function (x) { return x.key; }));
  };

  Table.prototype.loadIndex = function () {
    var self = this;
    if (!this.index) {
      var url = new URL(this.columnsUrl, document.baseURI).href;
      this.indexUrl = url;
      this.index = fetchJson(url).then(function (doc) {
        if (!doc || doc.format !== 1 || !Array.isArray(doc.groups)) {
          throw new Error("not a Daybook columns index (format 1)");
        }
        var shown = doc.shown || {};
        doc.known = {};
        doc.groups.forEach(function (g) {
          if (!Array.isArray(g.keys) || !Array.isArray(g.files)) return;
          g.keys.forEach(function (k, i) {
            doc.known[g.kind + ":" + k] = { group: g, position: i };
          });
        });
        doc.base = {}; // runs.json's own keys -> the page's column keys (headers may be cut)
        (shown.params || []).forEach(function (k, i) { doc.base["param:" + k] = self.columns[5 + i]; });
        var params = (shown.params || []).length;
        (shown.metrics || []).forEach(function (k, i) {
          doc.base["metric:" + k] = self.columns[5 + params + i];
        });
        return doc;
      });
      this.index.catch(function () { self.index = null; });
    }
    return this.index;
  };

  // The picker's list: every group, collapsed, filled when opened; or the keys matching `query`.
  Table.prototype.drawGroups = function (out, index, query) {
    var self = this;
    var body = document.createDocumentFragment();
    var keyOf = function (kind, k) { return index.base[kind + ":" + k] || kind + ":" + k; };
    if (query) {
      var hits = [];
      var total = 0;
      index.groups.forEach(function (g) {
        g.keys.forEach(function (k) {
          if (String(k).toLowerCase().indexOf(query) < 0) return;
          total++;
          if (hits.length < MATCHES) hits.push(keyOf(g.kind, k));
        });
      });
      var list = el("div", "daybook-columns-list");
      hits.forEach(function (key) { list.appendChild(self.checkbox(key, key === self.columns[0])); });
      body.appendChild(list);
      body.appendChild(el("p", "daybook-columns-count", total > hits.length
        ? "The first " + count(hits.length) + " of " + count(total) + " matches."
        : total ? count(total) + (total === 1 ? " match." : " matches.") : "No column matches."));
    } else {
      index.groups.forEach(function (g) {
        var group = el("details", "daybook-columns-group");
        var title = (g.kind === "param" ? "Params " : "Metrics ") +
          (g.name ? g.name + "\u2026" : "without a prefix") + " (" + count(g.keys.length) + ")";
        group.appendChild(el("summary", null, title));
        group.addEventListener("toggle", function () {
          if (!group.open || group.querySelector(".daybook-columns-list")) return;
          var list = el("div", "daybook-columns-list");
          g.keys.forEach(function (k) { list.appendChild(self.checkbox(keyOf(g.kind, k), false)); });
          group.appendChild(list);
        });
        body.appendChild(group);
      });
    }
    out.replaceChildren(body);
  };

  // A column from columns/: its group's file fetched (once), its values in runs.json's row order.
  Table.prototype.addColumn = function (key) {
    var self = this;
    return Promise.all([this.load(), this.loadIndex()]).then(function (both) {
      var index = both[1];
      var where = index.known[key];
      if (!where || self.columns.indexOf(key) >= 0) return null;
      var g = where.group;
      var size = typeof g.size === "number" && g.size > 0 ? g.size : g.keys.length;
      var file = String(g.files[Math.floor(where.position / size)] || "");
      if (!SAFE_FILE.test(file)) throw new Error("bad column file name");
      return fetchJson(new URL(file, self.indexUrl).href).then(function (doc) {
        var at = doc && Array.isArray(doc.keys) ? doc.keys.indexOf(g.keys[where.position]) : -1;
        var values = at >= 0 && Array.isArray(doc.values) ? doc.values[at] : null;
        if (values && !Array.isArray(values) && Object.prototype.hasOwnProperty.call(values, "same")
            && doc.total === self.data.rows.length) { // every run has this one value
          values = new Array(doc.total).fill(values.same);
        }
        if (!values || values.length !== self.data.rows.length) {
          throw new Error("the columns do not match runs.json");
        }
        if (self.columns.indexOf(key) >= 0) return null; // picked twice while loading
        var decimals = Array.isArray(doc.decimals) ? doc.decimals[at] : null;
        self.extras.push({ key: key, kind: g.kind, name: String(g.keys[where.position]),
          values: values, decimals: decimals });
        self.columns.push(key);
        var th = el("th", g.kind === "metric" ? "daybook-num" : null);
        var button = el("button", "daybook-sort", String(g.keys[where.position]));
        button.type = "button";
        button.title = "Sort by this column";
        th.appendChild(button);
        self.table.tHead.rows[0].appendChild(th);
        self.headers.push(th);
        var col = self.headers.length - 1;
        button.addEventListener("click", function () { self.sort(self.headers.indexOf(th)); });
        self.kinds.push(g.kind === "metric" ? "metric" : numericText(values) ? "numeric-text" : "text");
        self.refresh();
        return col;
      });
    }).catch(function (error) {
      self.status.textContent = "Could not add the column (" + error.message + ").";
      throw error;
    });
  };

  Table.prototype.removeColumn = function (key) {
    var col = this.columns.indexOf(key);
    if (col < this.base) return;
    var th = this.headers[col];
    if (th.parentNode) th.parentNode.removeChild(th);
    this.headers.splice(col, 1);
    this.columns.splice(col, 1);
    this.kinds.splice(col, 1);
    this.extras.splice(col - this.base, 1);
    if (this.sortCol === col) this.sortCol = -1;
    else if (this.sortCol > col) this.sortCol--;
    this.refresh();
  };

  Table.prototype.refresh = function () { // after a picked column came or went
    this.haystackFor();
    this.order = null;
    this.update();
    this.announce();
  };

  // Tell the page which params and metrics the table shows, with their values in runs.json's
  // row order: a sweep's parallel coordinates follow them (static/sweep-parallel.js).
  Table.prototype.announce = function () {
    if (!this.data || typeof CustomEvent !== "function") return;
    var doc = this.data;
    var params = doc.params.length;
    var columns = [];
    for (var c = 5; c < this.columns.length; c++) {
      if (this.hidden.indexOf(this.columns[c]) >= 0) continue;
      if (c >= this.base) {
        var x = this.extras[c - this.base];
        columns.push({ kind: x.kind, name: x.name, values: x.values });
        continue;
      }
      var field = this.fields[c];
      var metric = c >= 5 + params;
      columns.push({ kind: metric ? "metric" : "param",
        name: metric ? doc.metrics[c - 5 - params] : doc.params[c - 5],
        values: doc.rows.map(function (row) { return row[field]; }) });
    }
    this.root.dispatchEvent(new CustomEvent("daybook:columns", { detail: {
      ids: doc.rows.map(function (row) { return String(row[0]); }),
      labels: doc.rows.map(function (row) { return String(row[1]); }),
      columns: columns } }));
  };

  // The reader's picked columns (or daybook.yml's preset, until the reader chose) at page start.
  Table.prototype.restore = function () {
    var self = this;
    var stored = null;
    try {
      stored = window.localStorage.getItem(this.pickKey);
    } catch (e) { /* storage off */ }
    var wanted = stored !== null ? readHidden(this.pickKey) : null;
    var preset = null;
    if (wanted === null) {
      try {
        preset = JSON.parse(this.root.getAttribute("data-preset") || "[]");
      } catch (e) {
        preset = [];
      }
      if (!Array.isArray(preset) || !preset.length) return;
    } else if (!wanted.length) {
      return;
    }
    this.loadIndex().then(function (index) {
      var keys = wanted || [];
      if (preset) { // names as daybook.yml has them: a param, else a metric
        preset.forEach(function (name) {
          var k = index.known["param:" + name] ? "param:" + name : "metric:" + name;
          if (index.known[k] && !index.base[k]) keys.push(k);
        });
      }
      return keys.reduce(function (chain, key) {
        return chain.then(function () {
          return self.addColumn(key).then(function () { self.syncChecks(key); }, function () {});
        });
      }, Promise.resolve());
    }).catch(function () {});
  };

  Table.prototype.applyColumns = function () {
    var self = this;
    var off = this.columns.map(function (key) { return self.hidden.indexOf(key) >= 0; });
    Array.prototype.forEach.call(this.table.rows, function (tr) {
      if (tr.cells.length !== off.length) return; // the "no run matches" row
      for (var i = 0; i < off.length; i++) tr.cells[i].hidden = off[i];
    });
  };

  Table.prototype.setup = function () {
    var self = this;
    if (!this.tbody || !this.url) return;
    var note = this.root.querySelector(".daybook-runs-note");
    if (note) note.hidden = true;

    var controls = el("div", "daybook-runs-controls");
    this.input = el("input", "daybook-runs-filter");
    this.input.type = "search";
    this.input.placeholder = "Filter runs: name, id, status, user, params, picked columns";
    this.input.setAttribute("aria-label", "Filter runs");
    this.status = el("span", "daybook-runs-status");
    this.status.setAttribute("aria-live", "polite");
    var pager = el("span", "daybook-runs-pager");
    this.buttons = {};
    [["first", "\u00ab First"], ["prev", "\u2039 Previous"], ["next", "Next \u203a"],
      ["last", "Last \u00bb"]].forEach(function (b) {
      var button = el("button", "daybook-runs-" + b[0], b[1]);
      button.type = "button";
      button.addEventListener("click", function () { self.turn(b[0]); });
      self.buttons[b[0]] = button;
      pager.appendChild(button);
    });
    this.pageLabel = el("span", "daybook-runs-page");
    pager.insertBefore(this.pageLabel, this.buttons.next);
    var download = el("a", "daybook-runs-download", "runs.json");
    download.setAttribute("href", this.url); // Daybook's own relative path (data-runs)
    download.title = "Every run of this table, as JSON";
    controls.appendChild(this.input);
    controls.appendChild(pager);
    controls.appendChild(this.status);
    controls.appendChild(this.picker());
    controls.appendChild(download);

    var timer = null;
    this.input.addEventListener("focus", function () { self.load(); });
    this.input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.filter(self.input.value); }, 150);
    });

    this.headers.forEach(function (th, col) {
      var button = el("button", "daybook-sort");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild); // the page's own, escaped text
      button.title = "Sort by this column";
      button.addEventListener("click", function () { self.sort(col); });
      th.appendChild(button);
    });

    // Material wraps tables in scroll containers: put the controls above the outermost one.
    var anchor = this.table;
    while (anchor.parentNode && anchor.parentNode !== this.root) anchor = anchor.parentNode;
    this.root.insertBefore(controls, anchor);
    // Metric columns align right by class, not by the page's nth-last-child rule, so picked
    // columns can follow them.
    var first = this.base - this.metricCount;
    Array.prototype.forEach.call(this.table.rows, function (tr) {
      if (tr.cells.length !== self.base) return;
      for (var i = first; i < self.base; i++) tr.cells[i].classList.add("daybook-num");
    });
    this.root.setAttribute("data-metrics", "0");
    this.applyColumns();
    this.update();
    if (this.columnsUrl) this.restore();
  };

  Table.prototype.load = function () {
    var self = this;
    if (this.data) return Promise.resolve(this.data);
    if (!this.loading) {
      var url = new URL(this.url, document.baseURI).href;
      this.status.textContent = "Loading all " + count(this.total) + " runs\u2026";
      if (!cache[url]) {
        cache[url] = fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        }).then(function (doc) {
          if (!doc || doc.format !== 1 || !Array.isArray(doc.rows)) {
            throw new Error("not a Daybook runs.json (format 1)");
          }
          return doc;
        });
        cache[url].catch(function () { delete cache[url]; }); // a later try may succeed
      }
      this.loading = cache[url].then(function (doc) {
        var columns = 5 + doc.params.length + doc.metrics.length;
        if (columns !== self.base) throw new Error("runs.json does not match the table");
        self.data = doc;
        self.prepare();
        self.update(); // the same page, now drawn from runs.json (and linked by run id)
        return doc;
      }).catch(function (error) {
        self.loading = null;
        self.status.textContent = "Could not load all runs (" + error.message + "); " +
          "showing the first " + count(self.tbody.rows.length) + ".";
        throw error;
      });
    }
    return this.loading;
  };

  Table.prototype.prepare = function () {
    var doc = this.data;
    var params = doc.params.length;
    this.fields = [1, 4, 5, 6, 7];
    this.kinds = ["text", "text", "number", "number", "text"];
    for (var p = 0; p < params; p++) {
      var field = FIXED + p;
      var numeric = doc.rows.every(function (row) {
        var v = String(row[field]);
        return v === "" || (v.trim() !== "" && isFinite(Number(v)));
      });
      this.fields.push(field);
      this.kinds.push(numeric ? "numeric-text" : "text");
    }
    for (var m = 0; m < doc.metrics.length; m++) {
      this.fields.push(FIXED + params + m);
      this.kinds.push("metric");
    }
    this.baseHay = doc.rows.map(function (row) {
      return [row[0], row[1], row[4], row[7]].concat(row.slice(FIXED, FIXED + params))
        .join("\u0000").toLowerCase();
    });
    this.haystackFor();
  };

  // What the filter box searches: the run, its params, and every picked column's values.
  Table.prototype.haystackFor = function () {
    var extras = this.extras;
    if (!this.baseHay) return;
    this.haystack = extras.length ? this.baseHay.map(function (base, i) {
      return base + "\u0000" + extras.map(function (x) {
        return x.kind === "metric" ? num(x.values[i], x.decimals) : String(x.values[i]);
      }).join("\u0000").toLowerCase();
    }) : this.baseHay;
  };

  Table.prototype.cell = function (col, i) { // the raw value of column `col` in row `i`
    if (col >= this.base) return this.extras[col - this.base].values[i];
    return this.data.rows[i][this.fields[col]];
  };

  Table.prototype.filter = function (query) {
    var self = this;
    this.load().then(function () {
      self.query = query.trim().toLowerCase();
      self.page = 0;
      self.order = null;
      self.update();
    }, function () {});
  };

  Table.prototype.sort = function (col) {
    var self = this;
    this.load().then(function () {
      if (self.sortCol === col) {
        self.sortDir = -self.sortDir;
      } else {
        self.sortCol = col;
        self.sortDir = self.kinds[col] === "metric" ? -1 : 1; // metrics: highest first
      }
      self.page = 0;
      self.order = null;
      self.update();
    }, function () {});
  };

  Table.prototype.turn = function (where) {
    var self = this;
    this.load().then(function () {
      var pages = self.pages();
      if (where === "first") self.page = 0;
      else if (where === "prev") self.page = Math.max(0, self.page - 1);
      else if (where === "next") self.page = Math.min(pages - 1, self.page + 1);
      else if (where === "last") self.page = pages - 1;
      self.update();
    }, function () {});
  };

  Table.prototype.compute = function () {
    var rows = this.data.rows;
    var order = [];
    var terms = this.query ? this.query.split(/\s+/) : [];
    for (var i = 0; i < rows.length; i++) {
      var hay = this.haystack[i];
      var ok = true;
      for (var t = 0; t < terms.length && ok; t++) ok = hay.indexOf(terms[t]) >= 0;
      if (ok) order.push(i);
    }
    if (this.sortCol >= 0) {
      var col = this.sortCol;
      var kind = this.kinds[col];
      var dir = this.sortDir;
      var self = this;
      var key = function (i) {
        var v = self.cell(col, i);
        if (kind === "metric") return metricKey(v);
        if (kind === "number") return typeof v === "number" ? v : null;
        if (v === "" || v === null || v === undefined) return null;
        return kind === "numeric-text" ? Number(v) : String(v);
      };
      var keys = {};
      order.forEach(function (i) { keys[i] = key(i); });
      order.sort(function (a, b) {
        var x = keys[a];
        var y = keys[b];
        if (x === null || y === null) return x === y ? a - b : (x === null ? 1 : -1);
        var c = typeof x === "string" ? collator.compare(x, y) : (x < y ? -1 : x > y ? 1 : 0);
        return c ? c * dir : a - b;
      });
    }
    this.order = order;
  };

  Table.prototype.pages = function () {
    var n = this.order ? this.order.length : this.total;
    return Math.max(1, Math.ceil(n / this.pageSize));
  };

  Table.prototype.update = function () {
    if (this.data && !this.order) this.compute();
    var pages = this.pages();
    this.page = Math.min(this.page, pages - 1);
    var shown = this.order ? this.order.length : this.total;
    var from = this.page * this.pageSize;
    var to = Math.min(shown, from + this.pageSize);
    if (this.data) this.render(from, to);
    this.pageLabel.textContent = "Page " + count(this.page + 1) + " of " + count(pages);
    this.buttons.first.disabled = this.buttons.prev.disabled = this.page === 0;
    this.buttons.next.disabled = this.buttons.last.disabled = this.page >= pages - 1;
    var text = shown ? "Runs " + count(from + 1) + "\u2013" + count(to) + " of " + count(shown)
      : "No run matches";
    if (shown !== this.total) text += " (filtered from " + count(this.total) + ")";
    this.status.textContent = text;
    var self = this;
    this.headers.forEach(function (th, col) {
      if (col === self.sortCol) {
        th.setAttribute("aria-sort", self.sortDir > 0 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  };

  Table.prototype.render = function (from, to) {
    var doc = this.data;
    var params = doc.params.length;
    var plain = this.sortCol < 0 && !this.query; // the page's own order: show nesting
    var align = this.headers.map(function (th) { return th.style.textAlign; });
    var body = document.createDocumentFragment();
    for (var k = from; k < to; k++) {
      var row = doc.rows[this.order[k]];
      var tr = document.createElement("tr");
      tr.setAttribute("data-run-id", String(row[0]));
      var name = el("td");
      var depth = typeof row[2] === "number" ? Math.min(row[2], 20) : 0;
      if (depth && plain) name.appendChild(document.createTextNode("\u2003".repeat(depth)));
      if (depth) name.appendChild(document.createTextNode("\u21b3 "));
      var href = typeof row[3] === "string" && SAFE_HREF.test(row[3]) ? row[3] : "";
      var label = href ? el("a", null, String(row[1])) : el("span", null, String(row[1]));
      if (href) label.setAttribute("href", href);
      label.title = String(row[0]);
      name.appendChild(label);
      var cells = [name, statusBadge(row[4]), el("td", null, when(row[5])),
        el("td", null, duration(row[6])), el("td", null, String(row[7]))];
      for (var p = 0; p < params; p++) cells.push(el("td", null, String(row[FIXED + p])));
      for (var m = 0; m < doc.metrics.length; m++) {
        var decimals = Array.isArray(doc.decimals) ? doc.decimals[m] : null;
        cells.push(el("td", "daybook-num", num(row[FIXED + params + m], decimals)));
      }
      for (var x = 0; x < this.extras.length; x++) {
        var extra = this.extras[x];
        var v = extra.values[this.order[k]];
        cells.push(extra.kind === "metric" ? el("td", "daybook-num", num(v, extra.decimals))
          : el("td", null, String(v === null || v === undefined ? "" : v)));
      }
      cells.forEach(function (td, col) {
        if (align[col]) td.style.textAlign = align[col];
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    if (to <= from) {
      var none = el("td", null, "No run matches \u201c" + this.query + "\u201d.");
      none.colSpan = this.headers.length;
      none.style.textAlign = "left";
      var tr0 = document.createElement("tr");
      tr0.appendChild(none);
      body.appendChild(tr0);
    }
    this.tbody.replaceChildren(body);
    this.applyColumns();
  };

  function setupAll() {
    var roots = document.querySelectorAll(".daybook-runs[data-runs]:not([data-daybook-ready])");
    Array.prototype.forEach.call(roots, function (root) {
      root.setAttribute("data-daybook-ready", "");
      new Table(root).setup();
    });
  }

  setupAll();
})();
