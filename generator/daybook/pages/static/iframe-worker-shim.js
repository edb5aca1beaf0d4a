/* Daybook: Web Workers for a site opened from disk (`daybook build --file-urls`).
 *
 * Chromium refuses `new Worker(url)` on file:// pages, and Material's search runs in a worker.
 * Material's offline plugin would load a shim for this from a CDN (unpkg's iframe-worker); no
 * Python package ships one, so Daybook has its own, written here: a worker becomes a hidden
 * same-origin iframe whose global `postMessage` talks to this page and whose `importScripts`
 * loads scripts in order. The file name must keep "iframe-worker" in it: that is how the offline
 * plugin knows a shim is already there and adds no CDN script.
 *
 * Only on file://; served sites keep the browser's real Worker.
 */
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  /* Runs inside the iframe: the worker-side globals. */
  function workerPrelude() {
    window.postMessage = function (data) { parent.postMessage(data, "*"); };
    window.importScripts = function () {
      var urls = Array.prototype.slice.call(arguments);
      return urls.reduce(function (done, url) {
        return done.then(function () {
          return new Promise(function (resolve, reject) {
            var script = document.createElement("script");
            script.src = url;
            script.onload = resolve;
            script.onerror = reject;
            document.body.appendChild(script);
          });
        });
      }, Promise.resolve());
    };
  }

  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      var frame = document.createElement("iframe");
      frame.hidden = true;
      document.body.appendChild(frame);
      this.frame = frame;
      var self = this;
      this.listener = function (event) {
        if (event.source !== frame.contentWindow) return;
        var message = new MessageEvent("message", { data: event.data });
        self.dispatchEvent(message);
        if (typeof self.onmessage === "function") self.onmessage(message);
      };
      window.addEventListener("message", this.listener);
      var doc = frame.contentWindow.document;
      var src = String(url).replace(/"/g, "%22");
      doc.open();
      doc.write(
        "<html><body><script>(" + workerPrelude.toString() + ")()<\/script>" +
        '<script src="' + src + '"><\/script></body></html>'
      );
      doc.close();
      this.ready = new Promise(function (resolve, reject) {
        frame.contentWindow.onload = resolve;
        frame.contentWindow.onerror = function (message) {
          var error = new ErrorEvent("error", { message: String(message) });
          self.dispatchEvent(error);
          if (typeof self.onerror === "function") self.onerror(error);
          reject(error);
        };
      });
    }

    postMessage(data) {
      var frame = this.frame;
      this.ready.catch(function () {}).then(function () {
        if (!frame.contentWindow) return;
        frame.contentWindow.dispatchEvent(
          new MessageEvent("message", { data: structuredClone(data) })
        );
      });
    }

    terminate() {
      window.removeEventListener("message", this.listener);
      this.frame.remove();
    }
  }

  window.Worker = FileWorker;
})();
