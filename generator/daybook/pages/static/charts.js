/* Daybook charts: renders each `div.daybook-chart` of the page with vega-embed when it is
 * about to scroll into view.
 *
 * Loaded by a one-line bootstrap that Daybook puts on pages with charts only. vega.js (0.9 MB,
 * copied from the vl-convert-python package at build time) is loaded beside this file once,
 * and only when the first chart nears the viewport (an IntersectionObserver), so a page opened
 * at its runs table never downloads it and nothing chart-related delays the page (issue #14).
 * Material's instant navigation re-runs the bootstrap on each new page, which then calls
 * `daybookCharts.render()` again. Charts follow Material's palette, and are drawn again when
 * the reader switches between light and dark.
 *
 * A chart's spec is `charts/<key>.json` beside the chart images, `<key>` being the div's
 * `data-daybook-spec` (a hex hash written by Daybook). The static SVG image stays visible
 * until the live chart has rendered, and stays if loading or rendering fails.
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
  var NEAR = "300px 0px"; // start loading when a chart is this close to the viewport
  var SETTLE_MS = 250; // ... and stays there this long: not while the page jumps to an anchor
  var observer = "IntersectionObserver" in window
    ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var el = entry.target;
        clearTimeout(el.__daybookTimer);
        if (!entry.isIntersecting) return;
        el.__daybookTimer = setTimeout(function () {
          if (!near(el)) return; // scrolled away meanwhile (the observer says so, maybe later)
          observer.unobserve(el);
          load(el);
        }, SETTLE_MS);
      });
    }, { rootMargin: NEAR })
    : null;

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

  function near(el) {
    var box = el.getBoundingClientRect();
    return box.bottom > -300 && box.top < window.innerHeight + 300; // as NEAR says
  }

  function specUrl(el) {
    var key = el.getAttribute("data-daybook-spec") || "";
    var img = el.querySelector("img.daybook-chart-fallback");
    if (!/^[0-9a-f]{8,64}$/.test(key) || !img) return null;
    if (location.protocol === "file:") return null; // opened from disk: no fetch, static chart
    return new URL(key + ".json", img.src).href; // the images sit beside the specs
  }

  function load(el) {
    // Fetch the spec and the library together, then draw.
    var url = specUrl(el);
    if (!url || el.hasAttribute("data-daybook-rendered")) return;
    el.setAttribute("data-daybook-rendered", "pending");
    var spec = fetch(url).then(function (response) {
      if (!response.ok) throw new Error(url + ": " + response.status);
      return response.json();
    });
    spec.catch(function () {}); // reported below, once vega.js is there
    withVega(function () {
      spec.then(function (value) {
        if (el.isConnected) draw(el, value, theme());
      }).catch(function (error) {
        el.setAttribute("data-daybook-rendered", "failed");
        console.warn("daybook: a chart's spec could not be loaded; showing the static one",
          error);
      });
    });
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

  function draw(el, spec, look) {
    el.setAttribute("data-daybook-rendered", "pending");
    el.__daybookSpec = spec;
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
    // Watch the page's charts; each is drawn when it nears the viewport (all at once where
    // the browser has no IntersectionObserver). Not before the page has loaded: a page opened
    // at an anchor (`#all-runs`) is still at its top until then, charts and all in view.
    if (document.readyState !== "complete") {
      window.addEventListener("load", function () { requestAnimationFrame(render); },
        { once: true });
      return;
    }
    forget();
    Array.prototype.forEach.call(document.querySelectorAll("div.daybook-chart"), function (el) {
      if (el.hasAttribute("data-daybook-rendered") || el.__daybookWatched) return;
      el.__daybookWatched = true;
      if (observer) observer.observe(el);
      else load(el);
    });
  }

  function redraw() {
    // The reader switched palette: draw every live chart again with the new colours.
    forget();
    var again = live;
    live = [];
    if (!again.length) return;
    var look = theme();
    again.forEach(function (entry) {
      entry.view.finalize();
      var view = entry.el.querySelector(".daybook-chart-view");
      if (view) view.remove();
      draw(entry.el, entry.el.__daybookSpec, look);
    });
  }

  new MutationObserver(redraw).observe(document.body, {
    attributes: true,
    attributeFilter: ["data-md-color-scheme", "data-md-color-primary", "data-md-color-accent"]
  });

  window.daybookCharts = { render: render, redraw: redraw };
  render();
})();
