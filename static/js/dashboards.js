/* Draws the Plotly figures the server built, and wires the window and filter controls. */
(function () {
  "use strict";

  function drawCharts() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
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
