/* Gonggan maps: renders every <script type="application/json" data-map-for="ID"> block as a
 * Leaflet map in the element with that id, and wires the "use my location" button of the
 * search form ("Near me": fills the form's hidden lat/lon). The page works without it. */
(function () {
  "use strict";

  function popupContent(marker) {
    // Built from DOM nodes, never from HTML strings: names come from users.
    var box = document.createElement("div");
    if (marker.image) {
      var img = document.createElement("img");
      img.className = "popup-cover";
      img.src = marker.image.src;
      if (marker.image.srcset) {
        img.srcset = marker.image.srcset;
        img.sizes = marker.image.sizes;
      }
      img.width = marker.image.width;
      img.height = marker.image.height;
      img.alt = marker.image.alt;
      img.loading = "lazy";
      box.appendChild(img);
    }
    var title = document.createElement(marker.url ? "a" : "strong");
    title.textContent = marker.name;
    if (marker.url) title.href = marker.url;
    box.appendChild(title);
    if (marker.meta) {
      var meta = document.createElement("div");
      meta.textContent = marker.meta;
      box.appendChild(meta);
    }
    return box;
  }

  function renderMap(block) {
    var target = document.getElementById(block.getAttribute("data-map-for"));
    if (!target || !window.L) return;
    var data;
    try {
      data = JSON.parse(block.textContent);
    } catch (e) {
      return;
    }
    var map = L.map(target, { scrollWheelZoom: false });
    if (data.tile_url) {
      L.tileLayer(data.tile_url, { maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
    }
    var points = [];
    (data.markers || []).forEach(function (m) {
      var marker = L.marker([m.lat, m.lon], { title: m.name, alt: m.name }).addTo(map);
      marker.bindPopup(popupContent(m));
      points.push([m.lat, m.lon]);
    });
    if (data.center) {
      points.push(data.center);
      if (data.radius_km) {
        L.circle(data.center, { radius: data.radius_km * 1000, weight: 1, fill: false }).addTo(map);
      }
    }
    // A map inside a folded <details> had no size when drawn: redraw it when it is unfolded.
    var fold = target.closest("details");
    if (fold) {
      fold.addEventListener("toggle", function () {
        if (fold.open) map.invalidateSize();
      });
    }
    if (points.length > 1) {
      map.fitBounds(points, { padding: [24, 24], maxZoom: 16 });
    } else if (points.length === 1) {
      map.setView(points[0], data.zoom || 15);
    } else {
      map.setView([37.5665, 126.978], 11); // Seoul City Hall
    }
  }

  function wireLocate(button) {
    if (!("geolocation" in navigator)) return;
    var form = button.closest("form");
    var status = form.querySelector("[data-locate-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      if (status) {
        status.textContent = button.getAttribute("data-msg-busy");
        status.classList.remove("error");
      }
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(5);
          form.querySelector("[name=lon]").value = pos.coords.longitude.toFixed(5);
          if (status) status.textContent = "";
          form.submit();
        },
        function (error) {
          // 1 = PERMISSION_DENIED: say how to allow it; otherwise the position is just missing.
          var denied = error && error.code === 1 && button.hasAttribute("data-msg-denied");
          if (status) {
            status.textContent = button.getAttribute(denied ? "data-msg-denied" : "data-msg-failed");
            status.classList.add("error");
          }
        },
        { timeout: 10000, maximumAge: 60000 }
      );
    });
  }

  function init() {
    document.querySelectorAll("script[type='application/json'][data-map-for]").forEach(renderMap);
    document.querySelectorAll("[data-locate]").forEach(wireLocate);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
