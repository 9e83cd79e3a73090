// Enhancements only: the page works without this. Wards follow the province; the new amount follows the form.
(function () {
  "use strict";
  var form = document.getElementById("edit");
  if (!form) return;
  var province = document.getElementById("province");
  var ward = document.getElementById("ward");
  var preview = document.getElementById("preview");
  var newCod = document.getElementById("new-cod");
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

  function quote() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    fetch(form.dataset.quote, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer || !answer.ok) return;
        newCod.textContent = answer.text;
        preview.classList.remove("hidden");
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
