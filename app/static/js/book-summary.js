/* The request form's summary panel (spaces/_book_summary.html), kept up to date while the form
 * changes: after a short pause the server judges the request again (the same rules and prices
 * as sending it) and the panel's contents are swapped for its answer. Without this script the
 * panel shows what the page was rendered with, and "Check price and rules" refreshes it.
 * On a phone the panel is a bar at the bottom of the screen that opens on a tap. */
(function () {
  "use strict";
  var panel = document.querySelector("[data-summary-url]");
  var form = document.querySelector("form[data-book-form]");
  if (!panel || !form || !window.fetch) {
    return;
  }
  var FIELDS = ["date", "start_time", "end_time", "attendees", "purpose_category", "waiver",
                "group_id"];
  var timer = null;
  var latest = 0;
  var phone = window.matchMedia("(max-width: 899px)");

  if (phone.matches) {
    panel.removeAttribute("open");
  }

  function refresh() {
    var data = new FormData(form);
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var value = data.get(name);
      if (value !== null) {
        params.set(name, value);
      }
    });
    var mine = ++latest;
    panel.setAttribute("aria-busy", "true");
    fetch(panel.getAttribute("data-summary-url") + "?" + params.toString(), {
      credentials: "same-origin",
      headers: {"Accept": "text/html"}
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && mine === latest) {
        panel.innerHTML = html;
        // The quote inside the form was for the values the page was loaded with: the panel
        // now speaks for the form, so the older answer goes rather than contradict it.
        var stale = form.querySelector(".quote");
        if (stale) {
          stale.hidden = true;
        }
      }
    }).catch(function () {
      /* Offline or limited: the panel keeps its last answer; sending still checks all. */
    }).then(function () {
      if (mine === latest) {
        panel.removeAttribute("aria-busy");
      }
    });
  }

  function later(event) {
    if (event.target && FIELDS.indexOf(event.target.name) === -1) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 350);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
