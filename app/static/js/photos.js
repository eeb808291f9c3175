/* The photos page of a space (templates/manage/photos.html). Without this script the ↑/↓
 * buttons post their form and the page comes back scrolled to the photo. With it, the form is
 * sent in the background, the list is replaced by the new one, and the keyboard focus stays
 * on the photo that moved, so it can be moved again at once. */
(function () {
  "use strict";

  function moveInPlace(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-move]") || form.dataset.plain) return;
    var button = event.submitter;
    if (!button) return;
    event.preventDefault();
    var item = form.closest(".photo-item");
    var id = item.id;
    var body = new FormData(form);
    body.append(button.name, button.value);
    var list = document.querySelector(".photo-list");
    list.setAttribute("aria-busy", "true");
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector(".photo-list");
        if (!fresh) throw new Error("no list");
        list.replaceWith(fresh);
        var moved = document.getElementById(id);
        var again = moved && (moved.querySelector("button[value='" + button.value + "']") ||
                              moved.querySelector("button[name=to]"));
        if (again) again.focus();
      })
      .catch(function () {
        // The page way, which always works.
        form.dataset.plain = "1";
        form.requestSubmit(button);
      });
  }

  document.addEventListener("submit", moveInPlace);
})();
