/* The board editor: panels as a sortable list (SortableJS), a metric picker, and saving the
   board JSON through /api/v1/boards/. The server validates; its errors are shown as they come. */
(function () {
  "use strict";

  function data(id) { return JSON.parse(document.getElementById(id).textContent); }
  var definition = data("board-definition");
  var config = data("board-config");
  var metrics = data("board-metrics");
  var text = config.text;
  var byKey = {};
  metrics.forEach(function (metric) { byKey[metric.key] = metric; });

  var list = document.getElementById("editor-panels");
  var template = document.getElementById("panel-template");
  var errors = document.getElementById("editor-errors");
  var target = null;  // the panel "+ metric" adds to; null = a new panel per metric

  function option(select, value, label) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    select.appendChild(element);
  }

  function needsDimension(kind) {
    return config.kinds.some(function (item) { return item.value === kind && item.needs_dimension; });
  }

  /* The dimensions every metric of the panel allows: the only ones the server accepts. */
  function commonDimensions(keys) {
    if (!keys.length) { return []; }
    return byKey[keys[0]].dimensions.filter(function (dimension) {
      return keys.every(function (key) { return byKey[key].dimensions.indexOf(dimension) >= 0; });
    });
  }

  function panelKeys(item) {
    return Array.prototype.map.call(item.querySelectorAll(".panel-metrics li"), function (li) { return li.dataset.key; });
  }

  function refreshPanel(item) {
    var keys = panelKeys(item);
    var kind = item.querySelector(".panel-kind").value;
    var dimension = item.querySelector(".panel-dimension");
    var current = dimension.value || item.dataset.dimension || "";
    dimension.innerHTML = "";
    commonDimensions(keys).forEach(function (name) { option(dimension, name, config.dimension_labels[name] || name); });
    if (current) { dimension.value = current; }
    item.querySelector(".panel-dimension-field").hidden = !needsDimension(kind);
    var filterDimension = item.querySelector(".panel-filter-dimension");
    var filterCurrent = filterDimension.value || item.dataset.filterDimension || "";
    filterDimension.length = 1;
    commonDimensions(keys).filter(function (name) { return config.filter_dimensions.indexOf(name) >= 0; })
      .forEach(function (name) { option(filterDimension, name, config.dimension_labels[name] || name); });
    filterDimension.value = filterCurrent;
    item.querySelector(".panel-filter-key-field").hidden = !filterDimension.value;
    var width = Number(item.dataset.width || 3);
    item.className = item.className.replace(/\bwidth-\d\b/g, "").trim() + " width-" + width;
    Array.prototype.forEach.call(item.querySelectorAll("[data-width]"), function (button) {
      button.classList.toggle("active", Number(button.dataset.width) === width);
      button.setAttribute("aria-pressed", String(Number(button.dataset.width) === width));
    });
  }

  function addMetric(item, key) {
    if (panelKeys(item).indexOf(key) >= 0) { return; }
    var li = document.createElement("li");
    li.dataset.key = key;
    li.className = "chip metric-chip";
    li.title = byKey[key].help;
    li.appendChild(document.createTextNode(byKey[key].label + " "));
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "linkish remove-metric";
    remove.textContent = "×";
    remove.setAttribute("aria-label", text.remove_metric + " " + byKey[key].label);
    remove.addEventListener("click", function () { li.remove(); refreshPanel(item); });
    li.appendChild(remove);
    item.querySelector(".panel-metrics").appendChild(li);
    refreshPanel(item);
  }

  function setTarget(item) {
    Array.prototype.forEach.call(list.children, function (other) { other.classList.toggle("targeted", other === item); });
    target = item;
    document.getElementById("picker-target").textContent = item ? text.adding_to : text.adding_new;
    document.getElementById("picker-done").hidden = !item;
  }

  function addPanel(panel) {
    var item = template.content.firstElementChild.cloneNode(true);
    item.dataset.width = String(panel.width || 3);
    item.dataset.dimension = panel.dimension || "";
    item.dataset.filterDimension = panel.filter ? panel.filter.dimension : "";
    // Not editable here: a duplicated role dashboard's mature-cohort breakdown stays one when saved.
    item.dataset.mature = panel.mature ? "true" : "";
    item.querySelector(".panel-title").value = panel.title || "";
    item.querySelector(".panel-kind").value = panel.kind || "tile";
    item.querySelector(".panel-window").value = panel.window || "";
    if (panel.filter) {
      var key = panel.filter.key;
      item.querySelector(".panel-filter-key").value = Array.isArray(key) ? key.join(", ") : key;
    }
    list.appendChild(item);
    (panel.metrics || []).forEach(function (key) { if (byKey[key]) { addMetric(item, key); } });
    item.querySelector(".panel-kind").addEventListener("change", function () { refreshPanel(item); });
    item.querySelector(".panel-filter-dimension").addEventListener("change", function () { refreshPanel(item); });
    item.querySelector(".remove-panel").addEventListener("click", function () {
      if (target === item) { setTarget(null); }
      item.remove();
      counted();
    });
    item.querySelector(".add-metric").addEventListener("click", function () { setTarget(item); document.getElementById("metric-search").focus(); });
    Array.prototype.forEach.call(item.querySelectorAll("[data-width]"), function (button) {
      button.addEventListener("click", function () { item.dataset.width = button.dataset.width; refreshPanel(item); });
    });
    refreshPanel(item);
    counted();
    return item;
  }

  function counted() {
    var count = list.children.length;
    document.getElementById("panel-count").textContent = text.panels.replace("%(count)s", count).replace("%(limit)s", config.max_panels);
    document.getElementById("empty-panels").hidden = count > 0;
  }

  function panelJson(item) {
    var panel = {kind: item.querySelector(".panel-kind").value, metrics: panelKeys(item), width: Number(item.dataset.width || 3)};
    var title = item.querySelector(".panel-title").value.trim();
    if (title) { panel.title = title; }
    if (needsDimension(panel.kind)) { panel.dimension = item.querySelector(".panel-dimension").value || null; }
    var windowName = item.querySelector(".panel-window").value;
    if (windowName) { panel.window = windowName; }
    if (item.dataset.mature && panel.kind === "breakdown") { panel.mature = true; }
    var filterDimension = item.querySelector(".panel-filter-dimension").value;
    if (filterDimension) {
      var keys = item.querySelector(".panel-filter-key").value.split(",").map(function (key) { return key.trim(); })
        .filter(Boolean);
      panel.filter = {dimension: filterDimension, key: keys.length === 1 ? keys[0] : keys};
    }
    return panel;
  }

  function boardJson() {
    var out = {
      title: document.getElementById("board-title").value,
      description: document.getElementById("board-description").value,
      visibility: document.getElementById("board-visibility").value,
      panels: Array.prototype.map.call(list.children, panelJson)
    };
    if (definition.side_by_side) { out.side_by_side = definition.side_by_side; }
    return out;
  }

  function showErrors(items) {
    errors.innerHTML = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "error";
      li.textContent = (item.field ? item.field + ": " : "") + item.message;
      errors.appendChild(li);
    });
    errors.hidden = !items.length;
    if (items.length) { errors.scrollIntoView({block: "center"}); }
  }

  function csrf() { return document.querySelector("[name=csrfmiddlewaretoken]").value; }

  function send(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  }

  document.getElementById("save-board").addEventListener("click", function () {
    var url = config.board_id ? config.api + config.board_id + "/" : config.api;
    send(config.board_id ? "PUT" : "POST", url, boardJson()).then(function (response) {
      return response.json().then(function (body) { return {ok: response.ok, body: body}; });
    }).then(function (answer) {
      if (answer.ok) { window.location.href = answer.body.url; return; }
      showErrors(answer.body.errors || [{message: text.not_saved}]);
    }).catch(function () { showErrors([{message: text.not_saved}]); });
  });

  var deleteButton = document.getElementById("delete-board");
  if (deleteButton) {
    deleteButton.addEventListener("click", function () {
      if (!window.confirm(deleteButton.dataset.confirm)) { return; }
      send("DELETE", config.api + config.board_id + "/").then(function (response) {
        if (response.ok) { window.location.href = "/"; } else { showErrors([{message: text.not_deleted}]); }
      });
    });
  }

  /* The picker: every metric with its formula, filtered as one types. */
  var options = document.getElementById("metric-options");
  metrics.forEach(function (metric) {
    var li = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "metric-option";
    button.dataset.key = metric.key;
    var name = document.createElement("strong");
    name.textContent = metric.label;
    var key = document.createElement("code");
    key.textContent = metric.key;
    var help = document.createElement("span");
    help.className = "muted small metric-help";
    help.textContent = metric.help;
    button.appendChild(name);
    button.appendChild(document.createTextNode(" "));
    button.appendChild(key);
    button.appendChild(help);
    button.addEventListener("click", function () {
      if (target) { addMetric(target, metric.key); return; }
      if (list.children.length >= config.max_panels) { showErrors([{field: "panels", message: text.too_many}]); return; }
      addPanel({kind: "tile", metrics: [metric.key], width: 1});
    });
    li.appendChild(button);
    li.dataset.search = (metric.label + " " + metric.key + " " + metric.help).toLowerCase();
    options.appendChild(li);
  });
  document.getElementById("metric-search").addEventListener("input", function (event) {
    var words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(options.children, function (li) {
      li.hidden = !words.every(function (word) { return li.dataset.search.indexOf(word) >= 0; });
    });
  });
  document.getElementById("picker-done").addEventListener("click", function () { setTarget(null); });

  document.getElementById("board-title").value = definition.title || "";
  document.getElementById("board-description").value = definition.description || "";
  document.getElementById("board-visibility").value = definition.visibility || "private";
  (definition.panels || []).forEach(addPanel);
  counted();

  // The fallback drags with pointer events, so touch screens and mice move panels the same way.
  window.Sortable.create(list, {handle: ".drag-handle", animation: 120, ghostClass: "drag-ghost", forceFallback: true});
})();
