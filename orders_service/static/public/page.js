// Enhancements only: the page works without this. Wards follow the province; the amounts follow the form.
(function () {
  "use strict";
  var form = document.getElementById("edit");
  if (!form) return;
  var province = document.getElementById("province");
  var ward = document.getElementById("ward");
  var table = document.getElementById("amounts");
  var timer = null;

  function fillWards(units) {
    ward.textContent = "";
    units.forEach(function (unit) {
      var option = document.createElement("option");
      option.value = String(unit.code);
      option.textContent = unit.name; // text, never markup
      ward.appendChild(option);
    });
  }

  province.addEventListener("change", function () {
    fetch("/api/geo/provinces/" + encodeURIComponent(province.value) + "/wards", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (units) { fillWards(units); quoteSoon(); })
      .catch(function () { /* the plain form still works: the server checks the ward */ });
  });

  function cell(tag, text, className, id) {
    var element = document.createElement(tag);
    element.textContent = text; // text, never markup
    if (className) element.className = className;
    if (id) element.id = id;
    return element;
  }

  // The table of amounts, now and after the change, as the server counts them (rows of text).
  function showRows(rows) {
    var body = document.createElement("tbody");
    rows.forEach(function (row) {
      var cod = row.key === "cod";
      var line = document.createElement("tr");
      line.className = "row-" + row.key + (cod ? " cod" : "");
      var label = cell("th", row.label);
      label.scope = "row";
      line.appendChild(label);
      line.appendChild(cell("td", row.now, "money", cod ? "cod" : null));
      line.appendChild(cell("td", row.after || "", "money after", cod ? "new-cod" : null));
      body.appendChild(line);
    });
    table.replaceChild(body, table.tBodies[0]);
    table.classList.add("compared");
  }

  function quote() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    fetch(form.dataset.quote, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer || !answer.ok) return;
        showRows(answer.rows); // the confirm button comes with the previewed page: its change is the one she saw
      })
      .catch(function () { /* the preview button still works */ });
  }

  function quoteSoon() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(quote, 400);
  }

  form.addEventListener("change", function (event) {
    if (event.target !== province) quoteSoon();
  });
})();
