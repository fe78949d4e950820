/* Draws the Plotly figures the server built, and wires the window and filter controls. */
(function () {
  "use strict";

  var NARROW = 520;
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

  function drawCharts() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      fitNarrow(element, figure);
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        displayModeBar: false, responsive: true, displaylogo: false
      });
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
