/* Draws the Plotly figures the server built, and wires the window and filter controls. */
(function () {
  "use strict";

  var NARROW = 420;  // a phone; a half-width desktop panel is wider
  var LABEL = 16;

  /* On a phone, long category labels would squeeze the bars to nothing: shorten them
     (the table under each chart keeps the full names) and thin out the value ticks. */
  function fitNarrow(element, figure) {
    if (element.clientWidth >= NARROW) { return; }
    var seen = {};
    var shortened = {};
    function shorten(label) {
      if (typeof label !== "string" || label.length <= LABEL) { return label; }
      if (shortened[label]) { return shortened[label]; }
      var text = label.slice(0, LABEL - 1) + "…";
      var n = 2;
      while (seen[text]) { text = label.slice(0, LABEL - 3) + "…" + n; n += 1; }
      seen[text] = true;
      shortened[label] = text;
      return text;
    }
    figure.data.forEach(function (trace) {
      if (trace.orientation === "h" && Array.isArray(trace.y)) { trace.y = trace.y.map(shorten); }
    });
    if (figure.layout.xaxis) { figure.layout.xaxis.nticks = 4; }
  }

  var DOWNLOAD_ICON = {
    width: 1000, height: 1000,
    path: "M450 100h100v450l150-150 70 70-270 270-270-270 70-70 150 150zM150 800h700v100h-700z"
  };

  /* dashboard-chart-window-start-end, lower case, file-system safe. */
  function exportName(element) {
    var main = element.closest("[data-export-name]");
    var parts = [main ? main.dataset.exportName : "chart", element.getAttribute("aria-label") || "chart",
                 main ? main.dataset.exportWindow : ""];
    return parts.join("-").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  }

  /* The toolbar offers exactly the downloads; Plotly renders the files in the browser. */
  function downloadButtons(element) {
    function button(format, label, icon) {
      return {
        name: "download-" + format, title: label, icon: icon,
        click: function (gd) {
          window.Plotly.downloadImage(gd, {
            format: format, filename: exportName(element),
            width: gd._fullLayout.width, height: gd._fullLayout.height, scale: format === "png" ? 2 : 1
          });
        }
      };
    }
    return [[button("png", gettext("Download PNG"), window.Plotly.Icons.camera),
             button("svg", gettext("Download SVG"), DOWNLOAD_ICON)]];
  }

  function drawCharts() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      fitNarrow(element, figure);
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        displayModeBar: true, modeBarButtons: downloadButtons(element), responsive: true, displaylogo: false
      });
      element.dispatchEvent(new CustomEvent("smarketing:chart-drawn", { bubbles: true }));
    });
  }

  function wireControls() {
    document.querySelectorAll(".js-autosubmit").forEach(function (input) {
      input.addEventListener("change", function () { input.form.submit(); });
    });
    var custom = document.getElementById("custom-range");
    document.querySelectorAll('[data-window="custom"]').forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        custom.classList.toggle("open");
        if (custom.classList.contains("open")) { document.getElementById("custom-start").focus(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireControls();
    drawCharts();
  });
})();
