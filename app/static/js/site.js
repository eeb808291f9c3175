/* Small behaviours of every page, wired here because the Content-Security-Policy allows no
 * inline scripts or handlers:
 *   <button data-print>            prints the page (receipts);
 *   <input data-select-on-focus>   selects its text when focused (a token to copy). */
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
})();
