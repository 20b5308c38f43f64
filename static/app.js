// jingdesk page behaviour. No inline scripts exist anywhere (CSP script-src
// 'self'), so everything interactive beyond htmx attributes lives here.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every htmx request carries the CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // A session that ended while the page was open: go to the sign-in page
  // (the server answers 401 to htmx instead of redirecting a fragment).
  document.addEventListener("htmx:responseError", function (evt) {
    if (evt.detail.xhr && evt.detail.xhr.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    }
  });

  // Elements marked data-autosubmit submit their form when changed (the
  // language switcher); the form also has a button for use without script.
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.matches && el.matches("[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });

  // An input marked data-debounced already refreshes its form as the user
  // types; the change event its blur fires would only repeat that request,
  // and the repeat would redraw the table under the user's next click
  // (clearing a fresh "select all"). Stop it before it reaches the form.
  document.addEventListener("change", function (evt) {
    if (evt.target && evt.target.matches && evt.target.matches("[data-debounced]")) {
      evt.stopPropagation();
    }
  }, true);

  // A checkbox marked data-check-all="name" checks or clears every
  // checkbox of that name in its form (the lead list's "select all on this
  // page"; without script the server reads the box itself).
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    var name = el && el.getAttribute && el.getAttribute("data-check-all");
    if (name && el.form) {
      el.form.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
        if (box.name === name) { box.checked = el.checked; }
      });
    }
  });

  // Dismiss buttons on flash messages and toasts.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest ? evt.target.closest("[data-dismiss]") : null;
    if (btn) {
      var box = btn.closest(".flash, .toast");
      if (box) { box.remove(); }
    }
  });

  // Forms marked data-confirm ask before submitting (non-htmx forms; htmx
  // elements use hx-confirm).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  document.documentElement.classList.add("js");
})();

// --- SMS sends (issue 7): the draft form's preview follows the chosen
// message (the previews are rendered by the server, hidden but one).
(function () {
  "use strict";
  document.addEventListener("change", function (evt) {
    var sel = evt.target;
    if (!sel || !sel.matches || !sel.matches("select[data-sms-select]")) { return; }
    var form = sel.form || document;
    form.querySelectorAll("[data-sms-preview]").forEach(function (el) {
      el.hidden = el.getAttribute("data-sms-preview") !== sel.value;
    });
  });
})();

// --- Scores (issue 8): the population chooser shows the fields of the
// chosen population and, for intention, the product.
(function () {
  "use strict";
  document.addEventListener("change", function (evt) {
    var sel = evt.target;
    if (!sel || !sel.matches) { return; }
    var form = sel.form || document;
    if (sel.matches("select[data-scores-pop]")) {
      form.querySelectorAll("[data-pop-field]").forEach(function (el) {
        el.hidden = el.getAttribute("data-pop-field").split(" ").indexOf(sel.value) < 0;
      });
    } else if (sel.matches("select[data-scores-kind]")) {
      form.querySelectorAll("[data-kind-field]").forEach(function (el) {
        el.hidden = el.getAttribute("data-kind-field") !== sel.value;
      });
    }
  });
})();
