/* Week calendar enhancement. Without JavaScript every free cell is a link to the request form
 * with that start. With it: the first click on a free cell chooses the start, a click on a later
 * free cell of the same day chooses the end (the range must be free throughout), and the form
 * opens with both; clicking the start again opens the form with the shortest length.
 * Escape clears the choice. */
(function () {
  "use strict";

  var table = document.querySelector("table.calendar[data-book-url]");
  if (!table) return;
  var status = document.querySelector("[data-calendar-status]");
  var start = null; // the <td> chosen as start

  function say(text) {
    if (status) status.textContent = text;
  }

  function timeOf(cell) {
    return cell.getAttribute("data-start").slice(11, 16);
  }

  function columnCells(cell) {
    var index = cell.cellIndex;
    return Array.prototype.map.call(table.tBodies[0].rows, function (row) {
      return row.cells[index];
    });
  }

  function clear() {
    table.querySelectorAll("td.selected").forEach(function (td) {
      td.classList.remove("selected");
      td.removeAttribute("aria-selected");
    });
  }

  function reset(announce) {
    clear();
    if (start && announce) say(table.getAttribute("data-msg-reset"));
    start = null;
  }

  function go(startCell, endCell) {
    var url = table.getAttribute("data-book-url") +
      "?start=" + encodeURIComponent(startCell.getAttribute("data-start")) +
      "&end=" + encodeURIComponent(endCell.getAttribute("data-end"));
    window.location.assign(url);
  }

  // The cells from `a` to `b` in one column, if all of them are free; null otherwise.
  function freeRange(a, b) {
    var cells = columnCells(a);
    var i = cells.indexOf(a), j = cells.indexOf(b);
    if (i < 0 || j < i) return null;
    var range = cells.slice(i, j + 1);
    for (var k = 0; k < range.length; k++) {
      if (!range[k].classList.contains("free")) return null;
    }
    return range;
  }

  function choose(cell) {
    if (start === cell) {
      // Same cell twice: the link's own default length.
      window.location.assign(cell.querySelector("a").href);
      return;
    }
    var range = start && start.getAttribute("data-day") === cell.getAttribute("data-day")
      ? freeRange(start, cell) : null;
    if (!range) {
      clear();
      start = cell;
      cell.classList.add("selected");
      cell.setAttribute("aria-selected", "true");
      say(table.getAttribute("data-msg-start").replace("{time}", timeOf(cell)));
      return;
    }
    range.forEach(function (td) {
      td.classList.add("selected");
      td.setAttribute("aria-selected", "true");
    });
    say(table.getAttribute("data-msg-range")
      .replace("{start}", timeOf(start))
      .replace("{end}", cell.getAttribute("data-end").slice(11, 16)));
    go(start, cell);
  }

  table.addEventListener("click", function (event) {
    var link = event.target.closest("td.free a");
    if (!link || !table.contains(link)) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1) return;
    event.preventDefault();
    choose(link.closest("td"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") reset(true);
  });
})();
