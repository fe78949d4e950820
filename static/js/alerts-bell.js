/* A bell on every tile whose metric an alert rule of the reader watches (list from json_script). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("alert-watched");
    if (!source) { return; }
    var watched = JSON.parse(source.textContent);
    var href = source.dataset.href || "/alerts/";
    document.querySelectorAll(".tile[data-metric]").forEach(function (tile) {
      if (watched.indexOf(tile.dataset.metric) === -1) { return; }
      var label = tile.querySelector(".tile-label");
      if (!label || label.querySelector(".tile-bell")) { return; }
      var bell = document.createElement("a");
      bell.className = "tile-bell";
      bell.href = href;
      bell.title = gettext("An alert rule watches this metric");
      bell.setAttribute("aria-label", gettext("An alert rule watches this metric: see alerts"));
      // An SVG bell: emoji fonts are not on every machine (a missing glyph draws a box).
      var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("aria-hidden", "true");
      var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z");
      svg.appendChild(path);
      bell.appendChild(svg);
      label.appendChild(bell);
    });
  });
})();
