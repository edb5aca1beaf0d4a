/* Daybook charts: renders every `div.daybook-chart` of the page with vega-embed.
 *
 * Loaded by a one-line bootstrap that Daybook puts on pages with charts only; it loads
 * vega.js (copied from the vl-convert-python package at build time) beside itself, once.
 * Material's instant navigation re-runs the bootstrap on each new page, which then calls
 * `daybookCharts.render()` again. Charts follow Material's palette, and are drawn again when
 * the reader switches between light and dark.
 *
 * The spec of a chart is the JSON array in the <script> inside its div (found by position:
 * instant navigation re-creates scripts without their attributes). The static SVG image stays
 * visible until the live chart has rendered, and comes back if rendering fails.
 */
(function () {
  "use strict";
  if (window.daybookCharts) {
    window.daybookCharts.render();
    return;
  }
  var here = document.currentScript ? document.currentScript.src : document.baseURI;
  var live = []; // {el, view}
  var waiting = null; // callbacks until vega.js has loaded

  function withVega(callback) {
    if (window.vegaEmbed) {
      callback();
      return;
    }
    if (waiting) {
      waiting.push(callback);
      return;
    }
    waiting = [callback];
    var s = document.createElement("script");
    s.src = new URL("vega.js", here).href;
    s.onload = function () {
      var queue = waiting;
      waiting = null;
      queue.forEach(function (f) { f(); });
    };
    s.onerror = function () {
      waiting = null;
      console.warn("daybook: could not load vega.js; showing the static charts");
    };
    document.head.appendChild(s);
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.body).getPropertyValue(name).trim();
    return value || fallback;
  }

  function theme() {
    var dark = document.body.getAttribute("data-md-color-scheme") === "slate";
    var fg = cssVar("--md-default-fg-color", dark ? "#e2e4e9" : "rgba(0,0,0,.87)");
    var light = cssVar("--md-default-fg-color--light", dark ? "#a0a4ad" : "rgba(0,0,0,.54)");
    var lighter = cssVar("--md-default-fg-color--lighter", dark ? "#6b6f78" : "rgba(0,0,0,.32)");
    var lightest = cssVar("--md-default-fg-color--lightest", dark ? "#3a3d45" : "rgba(0,0,0,.07)");
    var accent = cssVar("--md-accent-fg-color", dark ? "#8c9eff" : "#526cfe");
    var font = cssVar("--md-text-font-family", "") || "sans-serif";
    var axis = {
      labelColor: light, titleColor: fg, gridColor: lightest, domainColor: lighter,
      tickColor: lighter, labelFont: font, titleFont: font
    };
    return {
      dark: dark,
      config: {
        background: null,
        font: font,
        axis: axis,
        legend: { labelColor: light, titleColor: fg, labelFont: font, titleFont: font },
        title: { color: fg, font: font, fontSize: 12 },
        header: { labelColor: fg, titleColor: fg },
        view: { stroke: lightest },
        line: { color: accent },
        point: { color: accent }
      }
    };
  }

  function specOf(el) {
    var script = el.querySelector("script");
    if (!script) return null;
    try {
      var parsed = JSON.parse(script.textContent);
      return Array.isArray(parsed) ? parsed[0] : parsed;
    } catch (e) {
      console.warn("daybook: a chart's spec is not valid JSON", e);
      return null;
    }
  }

  function fallbackOf(el) {
    var img = el.querySelector("img.daybook-chart-fallback");
    return img ? (img.closest("p") || img) : null;
  }

  function forget() {
    // Views of charts that instant navigation took off the page: release their listeners.
    live = live.filter(function (entry) {
      if (entry.el.isConnected) return true;
      entry.view.finalize();
      return false;
    });
  }

  function draw(el, look) {
    var spec = specOf(el);
    if (!spec) return;
    el.setAttribute("data-daybook-rendered", "pending");
    var target = el.querySelector(".daybook-chart-view");
    if (!target) {
      target = document.createElement("div");
      target.className = "daybook-chart-view";
      el.insertBefore(target, el.firstChild);
    }
    window.vegaEmbed(target, spec, {
      actions: false,
      renderer: "svg",
      mode: "vega-lite",
      config: look.config,
      tooltip: { theme: look.dark ? "dark" : "light" }
    }).then(function (result) {
      live.push({ el: el, view: result.view });
      el.setAttribute("data-daybook-rendered", "true");
      var fallback = fallbackOf(el);
      if (fallback) fallback.style.display = "none";
    }).catch(function (error) {
      el.setAttribute("data-daybook-rendered", "failed");
      target.remove();
      console.warn("daybook: a chart could not be rendered; showing the static one", error);
    });
  }

  function render() {
    forget();
    var todo = Array.prototype.filter.call(
      document.querySelectorAll("div.daybook-chart"),
      function (el) { return !el.hasAttribute("data-daybook-rendered"); }
    );
    if (!todo.length) return;
    withVega(function () {
      var look = theme();
      todo.forEach(function (el) {
        if (el.isConnected && !el.hasAttribute("data-daybook-rendered")) draw(el, look);
      });
    });
  }

  function redraw() {
    // The reader switched palette: draw every live chart again with the new colours.
    forget();
    live.forEach(function (entry) {
      entry.view.finalize();
      var view = entry.el.querySelector(".daybook-chart-view");
      if (view) view.remove();
      entry.el.removeAttribute("data-daybook-rendered");
    });
    live = [];
    render();
  }

  new MutationObserver(redraw).observe(document.body, {
    attributes: true,
    attributeFilter: ["data-md-color-scheme", "data-md-color-primary", "data-md-color-accent"]
  });

  window.daybookCharts = { render: render, redraw: redraw };
  render();
})();
