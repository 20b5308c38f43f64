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

  // The header's search box (issue 20): "/" focuses it unless the user is
  // typing somewhere; Ctrl+K (Cmd+K) focuses it from anywhere.
  document.addEventListener("keydown", function (evt) {
    var box = document.getElementById("global-search");
    if (!box || evt.defaultPrevented || evt.isComposing) { return; }
    var t = evt.target;
    var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    var ctrlK = (evt.ctrlKey || evt.metaKey) && !evt.altKey && (evt.key === "k" || evt.key === "K");
    var slash = evt.key === "/" && !evt.ctrlKey && !evt.metaKey && !evt.altKey && !typing;
    if (ctrlK || slash) {
      evt.preventDefault();
      box.focus();
      box.select();
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

  // A choice among several (a heatmap cell whose selection is shown
  // beside it) says which one is chosen: aria-current on the clicked one,
  // removed from the others of its group (data-select-group).
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest ? evt.target.closest("[data-select-group]") : null;
    if (!el) { return; }
    var group = el.getAttribute("data-select-group");
    document.querySelectorAll("[data-select-group]").forEach(function (other) {
      if (other.getAttribute("data-select-group") === group && other !== el) { other.removeAttribute("aria-current"); }
    });
    el.setAttribute("aria-current", "true");
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

// --- Live updates (issue 9) ---
// A button with data-copy-target="<input id>" copies that input's value
// (the webhook URL on Settings → Platform) and says so for a moment.
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest ? evt.target.closest("button[data-copy-target]") : null;
    if (!btn) { return; }
    var input = document.getElementById(btn.getAttribute("data-copy-target"));
    if (!input) { return; }
    var done = function () {
      var label = btn.getAttribute("data-label") || btn.textContent;
      btn.setAttribute("data-label", label);
      btn.textContent = btn.getAttribute("data-copied") || label;
      setTimeout(function () { btn.textContent = label; }, 2000);
    };
    input.focus();
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { if (document.execCommand("copy")) { done(); } });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();

// A lead's page and its edit form ([data-live-lead]) poll GET
// /leads/changes every 3 s (not while the tab is hidden) and, when the
// lead's revision differs from the one drawn, show the notice with the new
// status. Without data-live-seq (the edit form) they start from now. The
// page's own writes (htmx posts) are taken as the new revision.
(function () {
  "use strict";
  var POLL_MS = 3000;
  var timer = null;
  var inFlight = false;
  var rebase = false;

  function notice() { return document.querySelector("[data-live-lead]"); }

  function show(el, l) {
    var msg = el.querySelector("[data-live-message]");
    if (msg) { msg.textContent = (el.getAttribute("data-live-text") || "").replace("{status}", l.status_name || l.status || ""); }
    el.hidden = false;
  }

  function ask(el, query) {
    inFlight = true;
    return fetch("/leads/changes?" + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .catch(function () { return null; })
      .then(function (ans) { inFlight = false; return ans; });
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = null;
    if (!notice() || document.hidden) { return; }
    timer = setTimeout(poll, ms);
  }

  function poll() {
    timer = null;
    var el = notice();
    if (!el || inFlight || document.hidden) { return; }
    var uuid = el.getAttribute("data-live-lead");
    if (!el.hasAttribute("data-live-seq")) {
      ask(el, "lead=" + encodeURIComponent(uuid)).then(function (ans) {
        if (ans && el.isConnected) {
          el.setAttribute("data-live-seq", String(ans.last));
          var mine = (ans.leads || []).filter(function (l) { return l.uuid === uuid; })[0];
          el.setAttribute("data-live-rev", mine ? mine.rev || "" : "");
        }
        schedule(POLL_MS);
      });
      return;
    }
    var after = el.getAttribute("data-live-seq");
    ask(el, "after=" + encodeURIComponent(after)).then(function (ans) {
      var more = false;
      if (ans && el.isConnected && el.getAttribute("data-live-seq") === after) {
        (ans.leads || []).forEach(function (l) {
          if (l.uuid !== uuid || l.rev === el.getAttribute("data-live-rev")) { return; }
          if (rebase) { el.setAttribute("data-live-rev", l.rev || ""); return; } // the page's own write
          el.setAttribute("data-live-rev", l.rev || "");
          show(el, l);
        });
        rebase = false;
        el.setAttribute("data-live-seq", String(ans.last));
        more = !!ans.more;
      }
      schedule(more ? 0 : POLL_MS);
    });
  }

  function start() { if (notice() && !timer && !inFlight) { schedule(notice().hasAttribute("data-live-seq") ? POLL_MS : 0); } }

  // The page's own writes (owner, collaborators, notes) are not news: the
  // next answer's revision of the lead becomes the page's.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var cfg = evt.detail && evt.detail.requestConfig;
    if (notice() && cfg && cfg.verb && cfg.verb.toLowerCase() !== "get" && evt.detail.successful) {
      rebase = true;
      clearTimeout(timer);
      timer = null;
      if (!inFlight) { poll(); }
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && notice() && !inFlight) { clearTimeout(timer); timer = null; poll(); }
  });
  document.addEventListener("htmx:load", start);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
