// The measure lists' bulk delivery: "select all on this page" and the count of ticked rows.
// Without this script the rows can still be ticked one by one; the select-all box stays hidden.
(function () {
  "use strict";

  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="pm"]'));
  }

  function refresh(form) {
    var all = boxes(form);
    var ticked = all.filter(function (box) { return box.checked; }).length;
    var selectAll = form.querySelector("[data-select-all]");
    if (selectAll) {
      selectAll.checked = all.length > 0 && ticked === all.length;
      selectAll.indeterminate = ticked > 0 && ticked < all.length;
    }
    all.forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("is-checked", box.checked); }
    });
    var count = form.querySelector("[data-selected-count]");
    if (count) { count.textContent = (count.dataset.format || "{n}").replace("{n}", String(ticked)); }
  }

  function setUp(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll(".bulk-form") : [];
    Array.prototype.forEach.call(forms, function (form) {
      Array.prototype.forEach.call(form.querySelectorAll("[data-select-all-wrap]"), function (el) {
        el.hidden = false;
      });
      refresh(form);
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest && target.closest(".bulk-form");
    if (!form) { return; }
    if (target.matches("[data-select-all]")) {
      boxes(form).forEach(function (box) { box.checked = target.checked; });
    }
    refresh(form);
  });

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  // The list's results are swapped in by htmx when a filter changes.
  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
})();
