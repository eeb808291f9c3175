/* Small behaviours of every page, wired here because the Content-Security-Policy allows no
 * inline scripts or handlers:
 *   <button data-print>            prints the page (receipts);
 *   <input data-select-on-focus>   selects its text when focused (a token to copy);
 *   <details data-open-wide>       starts open on wide screens (folded on phones, so the
 *                                  results come first). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print]");
    if (target) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  });
  if (window.matchMedia && window.matchMedia("(min-width: 900px)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
  }
  // The header's menu button says whether the menu is open (a <summary> with aria-controls).
  document.querySelectorAll("details > summary[aria-controls]").forEach(function (summary) {
    var details = summary.parentElement;
    var sync = function () { summary.setAttribute("aria-expanded", details.open ? "true" : "false"); };
    sync();
    details.addEventListener("toggle", sync);
  });
})();
