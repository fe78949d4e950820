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
      bell.title = "An alert rule watches this metric";
      bell.setAttribute("aria-label", "An alert rule watches this metric: see alerts");
      bell.textContent = "🔔";
      label.appendChild(bell);
    });
  });
})();
