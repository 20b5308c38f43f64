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

  function list(el) { return el && el.closest ? el.closest(".board-cards") : null; }

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
