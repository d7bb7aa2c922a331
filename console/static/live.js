// Live updates for the console (optional: every page works without it).
// Every 15 seconds, while the tab is visible, the page is fetched again
// and each region marked data-live is replaced by the same region of the
// fresh page; a region being used (focus inside) is left alone. Nothing
// else changes: forms keep what people typed.
(function () {
  "use strict";
  var every = 15000;
  function refresh() {
    if (document.hidden) { return; }
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok || r.redirected) { return null; }
        return r.text();
      })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (el) {
          if (el.contains(document.activeElement)) { return; }
          var next = fresh.getElementById(el.id);
          if (next) { el.replaceWith(document.importNode(next, true)); }
        });
      })
      .catch(function () { /* offline for a moment: try at the next tick */ });
  }
  setInterval(refresh, every);
})();
