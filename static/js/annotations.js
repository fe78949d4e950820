/* Click a date on a time-series chart to add a note there (the form posts like any other). */
(function () {
  "use strict";

  function openDialog(day) {
    var dialog = document.getElementById("annotation-dialog");
    if (!dialog) { return; }
    document.getElementById("annotation-day").value = day;
    document.getElementById("annotation-end").value = "";
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    document.getElementById("annotation-text").focus();
  }

  function wire(element) {
    if (!element.hasAttribute("data-annotatable") || element.dataset.annotationsWired) { return; }
    element.dataset.annotationsWired = "1";
    element.on("plotly_click", function (data) {
      if (!data || !data.points || !data.points.length) { return; }
      openDialog(String(data.points[0].x).slice(0, 10));
    });
  }

  document.addEventListener("smarketing:chart-drawn", function (event) { wire(event.target); });
  document.addEventListener("DOMContentLoaded", function () {
    var cancel = document.getElementById("annotation-cancel");
    if (cancel) {
      cancel.addEventListener("click", function () { document.getElementById("annotation-dialog").close(); });
    }
  });
})();
