/* Week calendar on phones: one or three days at a time instead of a week that scrolls sideways.
 * Below 600px wide, the table shows three days (or one), with buttons for the previous and next
 * days; past either end of the week they follow the page's previous/next week links. The day
 * names and the time column stay in view while scrolling (CSS: "Phone calendar" in app.css).
 * A tap on a time that cannot be booked shows why in a line under the table (tooltips need a
 * mouse). Without JavaScript, or on wider screens, the whole week shows as before.
 * Loaded from a file: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";

  var table = document.querySelector("table.calendar[data-book-url]");
  if (!table || !window.matchMedia) return;
  var wrap = table.closest(".table-scroll") || table.parentNode;
  var phone = window.matchMedia("(max-width: 600px)");
  var headCells = table.tHead.rows[0].cells; // [time, Monday, ..., Sunday]
  var days = headCells.length - 1;
  var span = 3;
  var first = null;
  var bar = null;
  var label = null;
  var reason = null;

  function msg(name) {
    return table.getAttribute("data-msg-" + name) || "";
  }

  // The day to start with: the preselected time's, else today's, else the first with a free time.
  function startDay() {
    var pick = table.querySelector("td.chosen") || null;
    if (pick) return pick.cellIndex - 1;
    for (var i = 1; i < headCells.length; i++) {
      if (headCells[i].classList.contains("today")) return i - 1;
    }
    var free = table.querySelector("td.free");
    return free ? free.cellIndex - 1 : 0;
  }

  // A day heading's text with its line break ("수<br>12/16") as a space.
  function text(th) {
    return (th.innerText || th.textContent).replace(/\s+/g, " ").trim();
  }

  function clamp(day) {
    return Math.max(0, Math.min(day, days - span));
  }

  function show() {
    Array.prototype.forEach.call(table.rows, function (row) {
      for (var i = 1; i < row.cells.length; i++) {
        var on = i - 1 >= first && i - 1 < first + span;
        row.cells[i].classList.toggle("day-off", !on);
      }
    });
    var a = headCells[first + 1], b = headCells[first + span];
    label.textContent = text(a) +
      (span > 1 ? " – " + text(b) : "");
    bar.querySelectorAll("[data-span]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(Number(button.getAttribute("data-span")) === span));
    });
  }

  function move(step) {
    var next = first + step * span;
    if (next < 0 || next > days - 1) {
      var link = document.querySelector(".calendar-nav a[rel=" + (step < 0 ? "prev" : "next") + "]");
      if (link) window.location.assign(link.href);
      return;
    }
    first = clamp(next);
    show();
  }

  function button(text, handler, attrs) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { b.setAttribute(k, attrs[k]); });
    b.addEventListener("click", handler);
    return b;
  }

  function build() {
    bar = document.createElement("div");
    bar.className = "cal-days-bar";
    label = document.createElement("strong");
    label.setAttribute("aria-live", "polite");
    bar.appendChild(button("‹", function () { move(-1); }, { "aria-label": msg("prev-days") }));
    bar.appendChild(label);
    bar.appendChild(button("›", function () { move(1); }, { "aria-label": msg("next-days") }));
    var views = document.createElement("span");
    views.className = "cal-days-views";
    [1, 3].forEach(function (n) {
      views.appendChild(button(msg(n === 1 ? "one-day" : "three-days"), function () {
        span = n;
        first = clamp(first);
        show();
      }, { "data-span": String(n) }));
    });
    bar.appendChild(views);
    wrap.parentNode.insertBefore(bar, wrap);
    reason = document.createElement("p");
    reason.className = "cell-reason";
    reason.setAttribute("aria-live", "polite");
    wrap.parentNode.insertBefore(reason, wrap.nextSibling);
  }

  function apply() {
    if (phone.matches) {
      if (!bar) build();
      if (first === null) first = clamp(startDay());
      table.classList.add("cal-days");
      wrap.classList.add("cal-days-wrap");
      bar.hidden = false;
      show();
    } else if (bar) {
      table.classList.remove("cal-days");
      wrap.classList.remove("cal-days-wrap");
      bar.hidden = true;
      Array.prototype.forEach.call(table.querySelectorAll(".day-off"), function (c) {
        c.classList.remove("day-off");
      });
    }
  }

  table.addEventListener("click", function (event) {
    var cell = event.target.closest("td[title]");
    if (!reason || !cell || cell.classList.contains("free")) return;
    reason.textContent = cell.getAttribute("title");
  });

  apply();
  if (phone.addEventListener) phone.addEventListener("change", apply);
})();
