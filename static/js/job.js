/* The import job page: polls the job's status and shows its progress until it finishes. */
(function () {
  var box = document.getElementById("job-progress");
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (!s.running) { window.location.reload(); return; }
        if (s.progress) {
          bar.max = s.progress.total || 1;
          bar.value = s.progress.bytes;
          text.textContent = interpolate(gettext("%(rows)s rows done"), {rows: s.progress.rows.toLocaleString()}, true) +
            (s.progress.resource ? " (" + s.progress.resource + ")" : "");
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
