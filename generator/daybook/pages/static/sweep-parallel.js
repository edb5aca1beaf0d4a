/* A sweep's parallel coordinates follow the columns the reader picks (issue #15). Daybook's own
 * code, no library of its own: charts.js draws the chart (vega-embed); this script only swaps
 * the chart's data once the runs table below says which params and metrics it shows (the
 * `daybook:columns` event of static/runs-table.js), then asks charts.js to draw it again.
 *
 * The new spec is the page's own parallel-coordinates spec (pages/charts.py: parallel_chart)
 * with new data: one axis per shown param or metric (at most MAX_AXES) and the primary metric
 * last, positions computed here as charts.py computes them (numbers scaled to [0, 1], other
 * values evenly by sorted value). Names and values are data only, never field names.
 */
(function () {
  "use strict";

  var MAX_AXES = 12;

  function clone(value) {
    return JSON.parse(JSON.stringify(value));
  }

  function asNumber(v) {
    if (typeof v === "number") return isFinite(v) ? v : null;
    if (v === null || v === undefined || String(v).trim() === "") return null;
    var n = Number(v);
    return isFinite(n) ? n : null;
  }

  function positions(raw, numeric) { // raw: [value], one per run -> {pos: [..], ticks: [..]}
    if (numeric) {
      var lo = Math.min.apply(null, raw);
      var hi = Math.max.apply(null, raw);
      var span = hi - lo || 1;
      return {
        pos: raw.map(function (v) { return hi !== lo ? (v - lo) / span : 0.5; }),
        ticks: hi !== lo ? [[0, lo.toPrecision(4)], [1, hi.toPrecision(4)]]
          : [[0.5, lo.toPrecision(4)]]
      };
    }
    var values = raw.map(String).filter(function (v, i, all) { return all.indexOf(v) === i; })
      .sort();
    var step = values.length > 1 ? 1 / (values.length - 1) : 0;
    var place = {};
    values.forEach(function (v, i) { place[v] = values.length > 1 ? i * step : 0.5; });
    var shown = values.length <= 12 ? values : [values[0], values[values.length - 1]];
    return {
      pos: raw.map(function (v) { return place[String(v)]; }),
      ticks: shown.map(function (v) { return [place[v], v.slice(0, 24)]; })
    };
  }

  function build(original, detail) {
    var layers = original.layer;
    if (!Array.isArray(layers) || layers.length < 3) return null;
    var axes0 = layers[0].encoding && layers[0].encoding.x && layers[0].encoding.x.sort;
    if (!Array.isArray(axes0) || !axes0.length) return null;
    var metric = axes0[axes0.length - 1];
    var score = {}; // run label -> the primary metric (the runs the chart draws: finite ones)
    (layers[1].data.values || []).forEach(function (row) { score[row.run] = row.metric; });
    var runs = [];
    detail.ids.forEach(function (id, i) {
      var label = detail.labels[i];
      var short = id.slice(0, 8);
      var candidates = [label, label + " " + short, "run " + short];
      for (var c = 0; c < candidates.length; c++) {
        if (Object.prototype.hasOwnProperty.call(score, candidates[c])) {
          runs.push({ at: i, run: candidates[c], metric: score[candidates[c]] });
          return;
        }
      }
    });
    if (runs.length < 2) return null;
    var chosen = detail.columns.filter(function (col) {
      return col.kind === "param" || col.name !== metric;
    }).slice(0, MAX_AXES);
    if (!chosen.length) return null;
    var axes = chosen.map(function (col) { return col.name; }).concat([metric]);
    var rows = [];
    var ticks = [];
    chosen.concat([null]).forEach(function (col, a) {
      var raw = runs.map(function (r) {
        return col ? col.values[r.at] : r.metric;
      });
      var numbers = raw.map(asNumber);
      var numeric = numbers.every(function (n) { return n !== null; });
      var shown = raw.map(function (v) {
        return v === null || v === undefined || v === "" ? "\u2014" : String(v);
      });
      var placed = positions(numeric ? numbers : shown, numeric);
      runs.forEach(function (r, i) {
        rows.push({ axis: axes[a], pos: placed.pos[i], value: shown[i], run: r.run,
          metric: r.metric });
      });
      placed.ticks.forEach(function (t) { ticks.push({ axis: axes[a], pos: t[0], label: t[1] }); });
    });
    var spec = clone(original);
    spec.width = Math.max(360, Math.min(900, 150 * axes.length));
    spec.layer[0].data = { values: axes.map(function (a) { return { axis: a }; }) };
    spec.layer[1].data = { values: rows };
    spec.layer[2].data = { values: ticks };
    spec.layer.forEach(function (layer) {
      if (layer.encoding && layer.encoding.x) layer.encoding.x.sort = axes;
    });
    return spec;
  }

  function setup() {
    var root = document.querySelector(".daybook-runs[data-runs]");
    var chart = document.querySelector(".daybook-parallel .daybook-chart");
    if (!root || !chart || chart.__daybookParallel) return;
    chart.__daybookParallel = true;
    var original = null;
    var pending = null;

    function apply() {
      if (!pending || chart.getAttribute("data-daybook-rendered") !== "true") return;
      if (!chart.__daybookSpec || !window.daybookCharts) return;
      if (!original) original = clone(chart.__daybookSpec);
      var spec = build(original, pending) || original;
      pending = null;
      chart.__daybookSpec = spec;
      chart.setAttribute("data-daybook-axes", JSON.stringify(
        spec.layer[0].data.values.map(function (v) { return v.axis; })));
      window.daybookCharts.redraw();
    }

    root.addEventListener("daybook:columns", function (event) {
      pending = event.detail;
      apply();
    });
    new MutationObserver(apply).observe(chart, {
      attributes: true, attributeFilter: ["data-daybook-rendered"]
    });
  }

  setup();
})();
