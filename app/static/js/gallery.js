/* The gallery of a space page (templates/spaces/_gallery.html). Without this script each
 * thumbnail is a link to the page showing its photo; with it, a click (or Enter) shows the
 * photo in place, and the arrow keys, Home and End move between thumbnails. */
(function () {
  "use strict";

  function show(gallery, link) {
    var main = gallery.querySelector(".gallery-main picture");
    var thumb = link.querySelector("picture");
    if (!main || !thumb) return;
    var sizes = gallery.getAttribute("data-sizes");
    var source = main.querySelector("source");
    var img = main.querySelector("img");
    var thumbSource = thumb.querySelector("source");
    var thumbImg = thumb.querySelector("img");
    source.srcset = thumbSource.srcset;
    source.sizes = sizes;
    img.srcset = thumbImg.srcset;
    img.sizes = sizes;
    img.src = thumbImg.getAttribute("src");
    img.setAttribute("width", thumbImg.getAttribute("width"));
    img.setAttribute("height", thumbImg.getAttribute("height"));
    img.alt = link.getAttribute("data-alt");
    var caption = gallery.querySelector("[data-gallery-caption]");
    if (caption) caption.textContent = link.getAttribute("data-caption");
    gallery.querySelectorAll(".gallery-thumbs a").forEach(function (a) {
      if (a === link) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  }

  function wire(gallery) {
    var links = Array.prototype.slice.call(gallery.querySelectorAll(".gallery-thumbs a"));
    links.forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        show(gallery, link);
      });
      link.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight" || event.key === "ArrowDown") next = index + 1;
        else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = index - 1;
        else if (event.key === "Home") next = 0;
        else if (event.key === "End") next = links.length - 1;
        if (next === null) return;
        event.preventDefault();
        next = (next + links.length) % links.length;
        links[next].focus();
        show(gallery, links[next]);
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-gallery]").forEach(wire);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
