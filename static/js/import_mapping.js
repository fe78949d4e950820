/* The upload page's mapping step: once a CSV file is chosen, the server proposes how its columns
   map to the contract's; the data manager picks or ignores columns, sets formats, fixed values and
   the values of enumerations, and sees the first 100 rows checked by the import's own path (a dry
   run) after each change. The mapping travels with the upload as JSON in a hidden field. */
(function () {
  "use strict";

  var HEAD_BYTES = 256 * 1024;
  var context, form, step, hidden, state = null, timer = null, sequence = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function option(value, label, selected) {
    var node = el("option", { value: value }, label);
    if (selected) { node.selected = true; }
    return node;
  }

  function csrf() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function resourceName() { return form.querySelector("[name=resource]").value; }
  function fileInput() { return form.querySelector("input[type=file]"); }
  function columnsOf(resource) { return context.resources[resource] ? context.resources[resource].columns : []; }

  /* A mapping that only renames each contract column to itself changes nothing: send none. */
  function isIdentity(mapping) {
    var names = Object.keys(mapping.fields);
    return !mapping.comment && names.every(function (name) {
      var rule = mapping.fields[name];
      var keys = Object.keys(rule);
      return keys.length === 1 && rule.from && rule.from.length === 1 && rule.from[0] === name;
    });
  }

  function syncHidden() {
    hidden.value = state && state.mapping && !isIdentity(state.mapping) ? JSON.stringify(state.mapping) : "";
  }

  function request(body) {
    var mine = ++sequence;
    document.getElementById("mapping-result").textContent = "Checking…";
    fetch(context.preview_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      credentials: "same-origin",
      body: JSON.stringify(body)
    }).then(function (response) { return response.json(); }).then(function (answer) {
      if (mine !== sequence) { return; }  // a later change already asked again
      if (answer.error) { document.getElementById("mapping-result").textContent = answer.error; return; }
      state.header = answer.header;
      state.mapping = answer.mapping;
      render(answer);
    }).catch(function () {
      document.getElementById("mapping-result").textContent = gettext("The check could not run; the upload still checks the whole file.");
    });
  }

  function recheck() {
    syncHidden();
    clearTimeout(timer);
    timer = setTimeout(function () {
      request({ resource: state.resource, text: state.text, truncated: state.truncated, mapping: state.mapping });
    }, 250);
  }

  function start() {
    var input = fileInput();
    var file = input.files && input.files[0];
    var resource = resourceName();
    state = null;
    syncHidden();
    if (!file || !resource || !context.resources[resource] || /\.zip$/i.test(file.name)) {
      step.hidden = true;
      return;
    }
    file.slice(0, HEAD_BYTES).text().then(function (text) {
      state = { resource: resource, text: text, truncated: file.size > HEAD_BYTES, mapping: null, header: [] };
      step.hidden = false;
      fillChoices(resource);
      request({ resource: resource, text: text, truncated: state.truncated });
    });
  }

  function fillChoices(resource) {
    var select = document.getElementById("mapping-choice");
    var meta = context.resources[resource];
    select.replaceChildren(option("", gettext("Proposed for this file"), true));
    meta.presets.forEach(function (preset) { select.appendChild(option(preset.name, interpolate(gettext("Preset: %(name)s"), {name: preset.label}, true))); });
    meta.saved.forEach(function (name) { select.appendChild(option(name, interpolate(gettext("Saved: %(name)s"), {name: name}, true))); });
  }

  function render(answer) {
    var origin = {
      saved: interpolate(gettext("Proposed: the mapping saved as “%(name)s” for files with these columns."), {name: answer.name}, true),
      preset: interpolate(gettext("Proposed: the preset “%(name)s”, completed by column names."), {name: answer.name}, true),
      names: gettext("Proposed from the column names; check each column."),
      named: interpolate(gettext("The mapping “%(name)s”."), {name: answer.name}, true),
      given: gettext("Your mapping.")
    }[answer.origin] || "";
    document.getElementById("mapping-origin").textContent = origin;
    renderColumns();
    renderValues(answer.uncovered || {});
    renderSample(answer.header, answer.rows);
    renderResult(answer);
    syncHidden();
  }

  function ruleOf(name) { return state.mapping.fields[name]; }

  function setRule(name, rule) {
    if (!rule || (!(rule.from && rule.from.length) && rule["default"] === undefined)) {
      delete state.mapping.fields[name];
    } else {
      state.mapping.fields[name] = rule;
    }
    recheck();
  }

  function renderColumns() {
    var body = document.querySelector("#mapping-columns tbody");
    var used = {};
    body.replaceChildren();
    columnsOf(state.resource).forEach(function (column) {
      var rule = ruleOf(column.name) || {};
      var sources = rule.from || [];
      sources.forEach(function (source) { used[source] = true; });
      var row = el("tr", { "data-column": column.name });
      var name = el("td");
      name.appendChild(el(column.required ? "strong" : "span", {}, column.name));
      if (column.required && !sources.length && rule["default"] === undefined) {
        name.appendChild(el("span", { "class": "then required-missing" }, "required: not mapped"));
      }
      row.appendChild(name);

      var pick = el("td");
      var select = el("select", { "aria-label": interpolate(gettext("File column for %(column)s"), {column: column.name}, true), "data-role": "source" });
      select.appendChild(option("", gettext("— not mapped —"), !sources.length));
      state.header.forEach(function (header) { select.appendChild(option(header, header, sources[0] === header)); });
      select.addEventListener("change", function () {
        var next = Object.assign({}, ruleOf(column.name) || {});
        if (select.value) {
          next.from = [select.value].concat((next.from || []).slice(1).filter(function (s) { return s !== select.value; }));
          if (column.kind === "member") { next.owner = true; }
        } else {
          delete next.from;
        }
        setRule(column.name, next);
      });
      pick.appendChild(select);
      if (sources.length > 1) {
        pick.appendChild(el("span", { "class": "then" },
          (rule.join !== undefined ? gettext("joined with: ") : gettext("if empty, then: ")) + sources.slice(1).join(", ")));
      }
      row.appendChild(pick);

      var extra = el("td");
      if (column.kind === "date" || column.kind === "timestamp") {
        var format = el("select", { "aria-label": interpolate(gettext("Date format of %(column)s"), {column: column.name}, true), "data-role": "format" });
        format.appendChild(option("", column.kind === "date" ? gettext("YYYY-MM-DD (contract)") : gettext("ISO 8601 (contract)"), !rule.format));
        context.formats.forEach(function (name) { format.appendChild(option(name, name, rule.format === name)); });
        format.addEventListener("change", function () {
          var next = Object.assign({}, ruleOf(column.name) || {});
          if (format.value) { next.format = format.value; } else { delete next.format; }
          setRule(column.name, next);
        });
        extra.appendChild(format);
      }
      if (column.kind === "enum" && rule.values) {
        extra.appendChild(el("span", { "class": "then" }, interpolate(gettext("%(count)s values mapped"), {count: Object.keys(rule.values).length}, true) +
          (rule.otherwise ? interpolate(gettext("; any other: %(value)s"), {value: rule.otherwise}, true) : "")));
      }
      // A fixed value is what a required column the file lacks needs; optional ones may stay empty.
      if ((!sources.length && column.required) || rule["default"] !== undefined) {
        extra.appendChild(fixedInput(column, rule));
      }
      row.appendChild(extra);
      body.appendChild(row);
    });
    var ignored = state.header.filter(function (header) { return !used[header]; });
    document.getElementById("mapping-ignored").textContent =
      ignored.length ? interpolate(gettext("Ignored file columns: %(columns)s"), {columns: ignored.join(", ")}, true) : gettext("Every file column is used.");
  }

  function fixedInput(column, rule) {
    var label = el("label", { "class": "then" }, rule.from && rule.from.length ? gettext("If empty: ") : gettext("Fixed value: "));
    var input;
    if (column.kind === "enum") {
      input = el("select", { "data-role": "default" });
      input.appendChild(option("", "—", rule["default"] === undefined));
      column.choices.forEach(function (choice) { input.appendChild(option(choice, choice, rule["default"] === choice)); });
    } else {
      input = el("input", { type: "text", "data-role": "default", size: "14" });
      input.value = rule["default"] === undefined ? "" : rule["default"];
    }
    input.setAttribute("aria-label", interpolate(gettext("Fixed value of %(column)s"), {column: column.name}, true));
    input.addEventListener("change", function () {
      var next = Object.assign({}, ruleOf(column.name) || {});
      if (input.value) { next["default"] = input.value; } else { delete next["default"]; }
      setRule(column.name, next);
    });
    label.appendChild(input);
    return label;
  }

  function renderValues(uncovered) {
    var box = document.getElementById("mapping-values");
    box.replaceChildren();
    var targets = Object.keys(uncovered);
    if (!targets.length) { return; }
    box.appendChild(el("h4", {}, gettext("Values to map")));
    box.appendChild(el("p", { "class": "muted" }, gettext("These values of the first rows are not values of the contract column: choose one for each.")));
    var table = el("table", { "class": "data compact", id: "mapping-values-table" });
    table.appendChild(el("thead")).appendChild(el("tr")).append(el("th", {}, gettext("Column")), el("th", {}, gettext("Value in the file")), el("th", {}, gettext("Contract value")));
    var body = table.appendChild(el("tbody"));
    var columns = {};
    columnsOf(state.resource).forEach(function (column) { columns[column.name] = column; });
    targets.forEach(function (target) {
      uncovered[target].forEach(function (raw) {
        var row = el("tr", { "data-column": target, "data-value": raw });
        var select = el("select", { "aria-label": interpolate(gettext("Contract value for %(value)s"), {value: raw}, true), "data-role": "value" });
        select.appendChild(option("", gettext("— choose —"), true));
        columns[target].choices.forEach(function (choice) { select.appendChild(option(choice, choice)); });
        select.addEventListener("change", function () {
          if (!select.value) { return; }
          var next = Object.assign({}, ruleOf(target) || {});
          next.values = Object.assign({}, next.values || {});
          next.values[raw] = select.value;
          setRule(target, next);
        });
        row.append(el("td", {}, target), el("td", {}, raw), el("td"));
        row.lastChild.appendChild(select);
        body.appendChild(row);
      });
    });
    box.appendChild(table);
  }

  function renderSample(header, rows) {
    var table = document.getElementById("mapping-sample");
    var headRow = el("tr");
    header.forEach(function (name) { headRow.appendChild(el("th", {}, name)); });
    table.tHead.replaceChildren(headRow);
    table.tBodies[0].replaceChildren();
    rows.forEach(function (cells) {
      var row = el("tr");
      cells.forEach(function (cell) { row.appendChild(el("td", {}, cell)); });
      table.tBodies[0].appendChild(row);
    });
  }

  function count(n) { return Number(n).toLocaleString("en-US"); }

  function renderResult(answer) {
    var box = document.getElementById("mapping-result");
    box.replaceChildren();
    var problems = answer.problems || [];
    var result = answer.result;
    var errors = problems.length ? problems.map(function (p) { return { row: 0, field: p.field, message: p.message }; })
      : (result ? result.errors : []);
    if (!errors.length && result) {
      box.appendChild(el("p", { "class": "ok", id: "mapping-ok" },
        interpolate(gettext("All %(rows)s rows checked are valid: %(created)s would be created, %(updated)s updated."),
                    {rows: count(result.rows), created: count(result.created), updated: count(result.updated)}, true)));
      return;
    }
    box.appendChild(el("p", { "class": "bad", id: "mapping-errors-count" },
      interpolate(ngettext("%(count)s problem in the rows checked (row 0 is the header):",
                           "%(count)s problems in the rows checked (row 0 is the header):", errors.length),
                  {count: count(errors.length)}, true)));
    var table = el("table", { "class": "data compact errors-table", id: "mapping-errors" });
    table.appendChild(el("thead")).appendChild(el("tr")).append(el("th", { "class": "num" }, gettext("Row")), el("th", {}, gettext("Column")), el("th", {}, gettext("Problem")));
    var body = table.appendChild(el("tbody"));
    errors.slice(0, 50).forEach(function (error) {
      var row = el("tr");
      row.append(el("td", { "class": "num" }, String(error.row)), el("td", {}, error.field || "—"), el("td", {}, error.message));
      body.appendChild(row);
    });
    box.appendChild(table);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("mapping-context");
    form = document.getElementById("upload-form");
    step = document.getElementById("mapping-step");
    if (!source || !form || !step) { return; }
    context = JSON.parse(source.textContent);
    hidden = form.querySelector("input[name=mapping]");
    fileInput().addEventListener("change", start);
    form.querySelector("[name=resource]").addEventListener("change", start);
    document.getElementById("mapping-choice").addEventListener("change", function (event) {
      if (!state) { return; }
      var name = event.target.value;
      request(name ? { resource: state.resource, text: state.text, truncated: state.truncated, name: name }
                   : { resource: state.resource, text: state.text, truncated: state.truncated });
    });
    start();
  });
}());
