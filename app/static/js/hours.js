// Opening-hours editor: "copy Monday" buttons copy the row in the page instead of posting the form
// (without JavaScript they post it and the server copies). CSP-safe: no inline handlers.
(function () {
  "use strict";
  var form = document.getElementById("hours-form");
  if (!form) return;
  function field(name) { return form.elements.namedItem(name); }
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    event.preventDefault();
    var last = button.getAttribute("data-copy") === "all" ? 6 : 4;
    var closed = field("closed_0");
    for (var day = 1; day <= last; day++) {
      var box = field("closed_" + day);
      if (box && closed) box.checked = closed.checked;
      for (var i = 0; ; i++) {
        var from = field("open_0_" + i), to = field("close_0_" + i);
        var o = field("open_" + day + "_" + i), c = field("close_" + day + "_" + i);
        if (!o || !c) break;
        o.value = from ? from.value : "";
        c.value = to ? to.value : "";
      }
    }
    var status = document.getElementById("copy-status");
    if (status) status.textContent = button.getAttribute("data-done") || "";
  });
})();
