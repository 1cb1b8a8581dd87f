/* "Add line" of a formset: a copy of the formset's empty form (a <template id="PREFIX-empty">)
   is appended to PREFIX-body and the management form's TOTAL_FORMS counted up. Without
   JavaScript the button posts and the page comes back with one more line. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-formset-add]");
    if (!button) { return; }
    var prefix = button.getAttribute("data-formset-add");
    var template = document.getElementById(prefix + "-empty");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var body = document.getElementById(prefix + "-body");
    if (!template || !total || !body) { return; }
    event.preventDefault();
    var index = parseInt(total.value, 10) || 0;
    body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    if (window.htmx) { window.htmx.process(body.lastElementChild); }
    var first = body.lastElementChild.querySelector("select, input");
    if (first) { first.focus(); }
  });
})();
