/* Print view: a Print button, and charts redrawn to the printed page's width (A4 or Letter)
   before printing, back to the screen's after. */
(function () {
  "use strict";
  var PRINT_WIDTH = 680;  // px: ~180 mm at 96 dpi, inside the margins of A4 and of Letter

  function charts() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-figure]"), function (element) {
      return element.classList.contains("js-plotly-plot");
    });
  }

  function toPrint() {
    if (!window.Plotly) { return; }
    charts().forEach(function (element) {
      window.Plotly.relayout(element, { width: PRINT_WIDTH, autosize: false });
    });
  }

  function toScreen() {
    if (!window.Plotly) { return; }
    charts().forEach(function (element) {
      window.Plotly.relayout(element, { width: null, autosize: true });
    });
  }

  window.addEventListener("beforeprint", toPrint);
  window.addEventListener("afterprint", toScreen);
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("print-dashboard");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
