// The leads board: native HTML5 drag and drop between columns, the note
// dialog for closing statuses, and arrow keys in "Move to…" menus. Loaded
// on every page (the layout's head) and bound by event delegation, so it
// works after htmx swaps; it does nothing where there is no #board.
// Moves are answered with out-of-band swaps only (see MoveAnswer): the
// server deletes the card wherever it is and lands it in its column.
(function () {
  "use strict";

  var dragged = null; // the card being dragged
  var refocus = null; // the card whose menu had the keyboard when its move was sent

  function board() { return document.getElementById("board"); }

  function contextValues() {
    var values = {};
    var ctx = document.getElementById("board-context");
    if (ctx) {
      Array.prototype.forEach.call(ctx.querySelectorAll("input"), function (i) { values[i.name] = i.value; });
    }
    return values;
  }

  // list is the column's list of cards under el: a drop anywhere on a
  // column (its header too) lands in it.
  function list(el) {
    if (!el || !el.closest) { return null; }
    var col = el.closest(".board-col");
    return col ? col.querySelector(".board-cards") : el.closest(".board-cards");
  }

  // While a card is dragged near the left or right edge of the board
  // (which scrolls sideways when its columns do not fit the window), the
  // board scrolls, so every column can be reached; the nearer the edge,
  // the faster.
  var EDGE = 72;
  function autoScroll(evt) {
    var b = board();
    if (!b || b.scrollWidth <= b.clientWidth) { return; }
    var r = b.getBoundingClientRect();
    if (evt.clientY < r.top || evt.clientY > r.bottom) { return; }
    var left = evt.clientX - r.left, right = r.right - evt.clientX;
    if (left < EDGE) { b.scrollLeft -= Math.ceil((EDGE - left) / 3); }
    else if (right < EDGE) { b.scrollLeft += Math.ceil((EDGE - right) / 3); }
  }

  // move sends a card to a status: it lands in the target column at once
  // (pending) and the server's answer puts it where it really is.
  function move(card, targetList, note) {
    var origin = card.parentNode;
    var next = card.nextSibling;
    var values = contextValues();
    values.to = targetList.getAttribute("data-status");
    values.seen = card.getAttribute("data-seen");
    if (note) { values.note = note; }
    var menu = card.querySelector("details[open]");
    if (menu) { menu.open = false; }
    targetList.insertBefore(card, targetList.firstChild);
    card.classList.add("board-card-pending");
    card.setAttribute("aria-busy", "true");
    card.setAttribute("draggable", "false");
    var uuid = card.getAttribute("data-uuid");
    var b = board();
    var path = "/leads/" + encodeURIComponent(uuid) + "/move";
    return htmx.ajax("POST", path, { source: card, target: card, swap: "none", values: values }).then(function () {
      // Still pending: no answer was swapped in (the request failed).
      // (An error answer without a card shows in the toast area.)
      if (card.isConnected && card.classList.contains("board-card-pending")) { restore(card, origin, next, ""); }
    }, function () {
      restore(card, origin, next, b ? b.getAttribute("data-error-network") : "");
    });
  }

  function restore(card, origin, next, message) {
    card.classList.remove("board-card-pending");
    card.removeAttribute("aria-busy");
    card.setAttribute("draggable", "true");
    origin.insertBefore(card, next && next.parentNode === origin ? next : origin.firstChild);
    if (!message) { return; }
    var p = card.querySelector(".board-card-message") || document.createElement("p");
    p.className = "board-card-message";
    p.setAttribute("role", "alert");
    p.textContent = message;
    card.classList.add("board-card-error");
    if (!p.parentNode) { card.insertBefore(p, card.querySelector(".board-menu")); }
  }

  // askNote opens the note dialog for a closing status; done(note) runs
  // only when the user confirms with a note.
  function askNote(card, statusName, done) {
    var dlg = document.getElementById("board-note-dialog");
    if (!dlg || !dlg.showModal) { return; }
    var text = dlg.querySelector("textarea");
    text.value = "";
    dlg.querySelector("[data-note-lead]").textContent = card.getAttribute("data-name") || "";
    dlg.querySelector("[data-note-status]").textContent = statusName;
    dlg.returnValue = "";
    dlg.addEventListener("close", function onClose() {
      dlg.removeEventListener("close", onClose);
      if (dlg.returnValue === "ok" && text.value.trim() !== "") { done(text.value.trim()); }
    });
    dlg.showModal();
    text.focus();
  }

  function moveWithNoteIfClosing(card, targetList) {
    if (targetList.getAttribute("data-closing") === "true") {
      askNote(card, targetList.getAttribute("data-status-name") || "", function (note) { move(card, targetList, note); });
    } else {
      move(card, targetList, "");
    }
  }

  // ---- Drag and drop ----
  document.addEventListener("dragstart", function (evt) {
    var card = evt.target && evt.target.closest ? evt.target.closest(".board-card[data-movable]") : null;
    if (!card || card.classList.contains("board-card-pending")) { return; }
    dragged = card;
    card.classList.add("board-card-dragging");
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", card.getAttribute("data-uuid"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("board-card-dragging"); }
    dragged = null;
    Array.prototype.forEach.call(document.querySelectorAll(".board-drop-target"), function (el) { el.classList.remove("board-drop-target"); });
  });

  document.addEventListener("dragover", function (evt) {
    if (dragged) { autoScroll(evt); }
    var target = list(evt.target);
    if (!dragged || !target || target === dragged.parentNode) { return; }
    evt.preventDefault();
    evt.dataTransfer.dropEffect = "move";
    target.classList.add("board-drop-target");
  });

  document.addEventListener("dragleave", function (evt) {
    var target = list(evt.target);
    if (target && !target.contains(evt.relatedTarget)) { target.classList.remove("board-drop-target"); }
  });

  document.addEventListener("drop", function (evt) {
    var target = list(evt.target);
    if (!dragged || !target) { return; }
    evt.preventDefault();
    target.classList.remove("board-drop-target");
    var card = dragged;
    dragged = null;
    card.classList.remove("board-card-dragging");
    if (target !== card.parentNode) { moveWithNoteIfClosing(card, target); }
  });

  // ---- "Move to…" ----
  // A closing status asks for the note first; the other buttons are plain
  // htmx form submissions.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest ? evt.target.closest("[data-board-move] button[data-closing]") : null;
    if (!btn) { return; }
    var card = btn.closest(".board-card");
    var target = document.getElementById("cards-" + btn.getAttribute("data-status").replace(/[^A-Za-z0-9_-]/g, "_"));
    if (!card || !target) { return; }
    evt.preventDefault();
    askNote(card, btn.getAttribute("data-status-name") || "", function (note) { move(card, target, note); });
  });

  // A card's "Move to…" list is asked for when the menu first opens: the
  // board carries only the link to it (a page without script), which the
  // answer (the list's form) replaces. A failed request is asked again on
  // the next opening.
  document.addEventListener("toggle", function (evt) {
    var menu = evt.target;
    if (!menu.matches || !menu.matches(".board-menu") || !menu.open || !window.htmx) { return; }
    var link = menu.querySelector("a.board-menu-load");
    if (!link || link.hasAttribute("aria-busy")) { return; }
    link.setAttribute("aria-busy", "true");
    htmx.ajax("GET", link.getAttribute("href"), { source: link, target: link, swap: "outerHTML" }).then(function () {
      if (link.isConnected) { link.removeAttribute("aria-busy"); }
    }, function () { link.removeAttribute("aria-busy"); });
  }, true);

  // Arrow keys move between a menu's buttons; Escape closes it.
  document.addEventListener("keydown", function (evt) {
    var menu = evt.target.closest ? evt.target.closest(".board-menu") : null;
    if (!menu || !menu.open) { return; }
    var items = Array.prototype.slice.call(menu.querySelectorAll(".board-menu-item"));
    var at = items.indexOf(document.activeElement);
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      var step = evt.key === "ArrowDown" ? 1 : -1;
      var next = at < 0 ? (step > 0 ? 0 : items.length - 1) : (at + step + items.length) % items.length;
      if (items[next]) { items[next].focus(); }
    } else if (evt.key === "Escape") {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // A menu's form being posted: the card shows it is pending.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.target;
    if (form && form.matches && form.matches("[data-board-move], .board-note-form")) {
      var card = form.closest(".board-card");
      if (card) {
        card.classList.add("board-card-pending");
        card.setAttribute("aria-busy", "true");
        if (card.contains(document.activeElement)) { refocus = card.getAttribute("data-uuid"); }
      }
    }
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.target;
    if (!form || !form.matches || !form.matches("[data-board-move], .board-note-form")) { return; }
    // Every answer of the move replaces the card; one still pending got
    // none (no connection) or an error the toast area shows.
    var card = form.closest(".board-card");
    if (card && card.isConnected && card.classList.contains("board-card-pending")) {
      var b = board();
      var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
      restore(card, card.parentNode, card.nextSibling, !status && b ? b.getAttribute("data-error-network") : "");
    }
  });

  // After a move from a menu lands, keep the keyboard where it was: on
  // the moved card's "Move to…".
  document.addEventListener("htmx:load", function (evt) {
    var card = evt.target;
    if (!refocus || !card || !card.classList || !card.classList.contains("board-card") || card.getAttribute("data-uuid") !== refocus) { return; }
    refocus = null;
    var s = card.querySelector("summary");
    if (s) { s.focus(); }
  });
})();

// ---- Live: the board follows the platform's changes (issue 9) ----
// Every 2 s (not while the tab is hidden) the board asks GET
// /leads/changes for the leads written after the seq it was drawn at
// (data-live-seq on #board), with its filter and board=1: the server
// answers, per lead, whether it belongs on this board and then its card,
// plus every column's count. A card whose status changed lands at the top
// of its new column with a fading highlight; a voided one, or one that left
// the board's business type or filter, goes. Cards being moved by the user
// are left to the move's own answer.
(function () {
  "use strict";

  // A second: a move on the platform shows within about one, and the
  // request is one indexed query when nothing changed.
  var POLL_MS = 1000;
  var timer = null;
  var inFlight = false;

  function board() { return document.getElementById("board"); }

  function htmlID(s) { return String(s).replace(/[^A-Za-z0-9_-]/g, "_"); }

  function contextParams() {
    var p = new URLSearchParams();
    var ctx = document.getElementById("board-context");
    if (ctx) {
      Array.prototype.forEach.call(ctx.querySelectorAll("input"), function (i) { if (i.value) { p.set(i.name, i.value); } });
    }
    return p;
  }

  function text(el, sel) {
    var x = el.querySelector(sel);
    return x ? x.textContent.trim() : "";
  }

  // signature is what a card shows that a change can alter.
  function signature(card) {
    return [card.getAttribute("data-status"), card.getAttribute("data-seen"), text(card, "[data-testid=card-name]"),
      text(card, ".board-card-company"), text(card, "[data-testid=card-owner]")].join("\u0000");
  }

  function highlight(card) {
    card.classList.remove("board-card-live");
    void card.offsetWidth; // restart the animation
    card.classList.add("board-card-live");
    card.addEventListener("animationend", function done() {
      card.removeEventListener("animationend", done);
      card.classList.remove("board-card-live");
    });
  }

  function applyLead(b, l) {
    var card = document.getElementById("card-" + htmlID(l.uuid));
    if (card && !b.contains(card)) { card = null; }
    if (card && (card.classList.contains("board-card-pending") || card.classList.contains("board-card-dragging"))) { return; }
    if (!l.on_board || !l.card) {
      if (card) { card.remove(); }
      return;
    }
    var target = document.getElementById("cards-" + htmlID(l.status));
    if (!target || !b.contains(target)) {
      if (card) { card.remove(); }
      return;
    }
    var tpl = document.createElement("template");
    tpl.innerHTML = l.card.trim();
    var fresh = tpl.content.firstElementChild;
    if (!fresh) { return; }
    if (card && signature(card) === signature(fresh)) { return; } // written, but nothing the card shows changed
    if (card && card.parentNode === target) {
      target.replaceChild(fresh, card);
    } else {
      if (card) { card.remove(); }
      var empty = target.querySelector(".board-empty");
      if (empty) { empty.remove(); }
      target.insertBefore(fresh, target.firstChild);
    }
    if (window.htmx) { htmx.process(fresh); }
    highlight(fresh);
  }

  function applyCounts(ans) {
    if (!ans.counts) { return; }
    var fmt = new Intl.NumberFormat(document.documentElement.lang || undefined);
    Object.keys(ans.counts).forEach(function (status) {
      var el = document.getElementById("count-" + htmlID(status));
      if (!el) { return; }
      var n = ans.counts[status];
      el.setAttribute("data-count", String(n));
      // Counted to the end now: no longer a lower bound.
      el.removeAttribute("data-at-least");
      el.removeAttribute("title");
      el.removeAttribute("aria-label");
      el.textContent = fmt.format(n);
    });
    var total = document.getElementById("board-total");
    if (total && ans.total_text) { total.removeAttribute("data-at-least"); total.textContent = ans.total_text; }
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = null;
    if (!board() || document.hidden) { return; } // resumes on htmx:load or when the tab shows again
    timer = setTimeout(poll, ms);
  }

  function poll() {
    timer = null;
    var b = board();
    if (!b || !b.hasAttribute("data-live-seq") || inFlight) { return; }
    if (document.hidden) { return; }
    var p = contextParams();
    p.set("after", b.getAttribute("data-live-seq"));
    p.set("board", "1");
    inFlight = true;
    var more = false;
    fetch("/leads/changes?" + p.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (ans) {
        // The board may have been replaced (a filter, a tab) meanwhile:
        // the answer was for the old one.
        if (!ans || board() !== b || b.getAttribute("data-live-seq") !== p.get("after")) { return; }
        (ans.leads || []).forEach(function (l) { applyLead(b, l); });
        applyCounts(ans);
        b.setAttribute("data-live-seq", String(ans.last));
        more = !!ans.more;
      })
      .catch(function () { /* offline for a moment: the next poll asks again */ })
      .then(function () {
        inFlight = false;
        schedule(more ? 0 : POLL_MS);
      });
  }

  function start() { if (board() && !timer && !inFlight) { schedule(POLL_MS); } }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && board() && !inFlight) { clearTimeout(timer); timer = null; poll(); }
  });
  document.addEventListener("htmx:load", start);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
