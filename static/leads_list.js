// The lead list's bulk bar: shown only while rows are chosen, with how
// many ("已选 N 条"), the "all N matching" choice once the whole page is
// chosen, and only the field the chosen action needs. Without script the
// bar is always shown with every field, and the server reads the form as
// it is. Bound by event delegation, so it works after htmx swaps the table.
(function () {
  "use strict";

  function bar(form) { return form.querySelector("[data-testid=bulk-bar]"); }

  function update(form) {
    var b = bar(form);
    if (!b) { return; }
    var boxes = form.querySelectorAll('input[type=checkbox][name=lead]');
    var checked = form.querySelectorAll('input[type=checkbox][name=lead]:checked').length;
    var matching = form.querySelector('input[name=all_matching]');
    var label = b.querySelector("[data-testid=bulk-matching]");
    var wholePage = boxes.length > 0 && checked === boxes.length;
    if (matching && !wholePage) { matching.checked = false; }
    if (label) { label.hidden = !wholePage; }
    var n = matching && matching.checked ? Number(b.getAttribute("data-total")) : checked;
    var count = b.querySelector("[data-testid=bulk-selected]");
    count.setAttribute("data-count", String(n));
    count.textContent = count.getAttribute("data-text").replace("{n}", new Intl.NumberFormat(document.documentElement.lang || undefined).format(n));
    b.classList.toggle("bulk-bar-active", n > 0);
    var action = form.querySelector("#bulk-action");
    Array.prototype.forEach.call(b.querySelectorAll("[data-bulk-for]"), function (f) {
      f.hidden = !action || f.getAttribute("data-bulk-for").split(" ").indexOf(action.value) < 0;
    });
  }

  function all() { Array.prototype.forEach.call(document.querySelectorAll("#bulk-form"), update); }

  // app.js (loaded first, so its listener runs first) has already set the
  // boxes of "select all on this page" when this runs.
  document.addEventListener("change", function (evt) {
    var form = evt.target && evt.target.form;
    if (form && form.id === "bulk-form") { update(form); }
  });
  document.addEventListener("htmx:load", all);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", all);
  } else {
    all();
  }
})();
