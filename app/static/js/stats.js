/* Statistics dashboard: draws each chart from the JSON block next to its canvas with Chart.js.
   Without JavaScript (or without Chart.js) the tables below the charts show the same figures. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") return;
  // Chart boxes are shown only where charts can be drawn; the tables are there either way.
  document.documentElement.classList.add("stats-charts-on");

  var lang = document.documentElement.lang || "ko";
  var COLOURS = ["#1f6f5c", "#c2703d", "#3d6fc2", "#8a5a00", "#7a4fa0", "#b3261e", "#5f6b73",
                 "#2f9c83", "#d9a441", "#6f9fd8"];

  function number(value, percent, money) {
    if (value === null || value === undefined) return "–";
    if (percent) {
      return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 })
        .format(value);
    }
    if (money) {
      return new Intl.NumberFormat(lang, { style: "currency", currency: "KRW" }).format(value);
    }
    return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(value);
  }

  function draw(block) {
    var canvas = document.getElementById(block.dataset.canvas);
    if (!canvas) return;
    var spec;
    try {
      spec = JSON.parse(block.textContent);
    } catch (e) {
      return;
    }
    var doughnut = spec.type === "doughnut";
    var twoAxes = spec.datasets.some(function (d) { return d.axis === "y1"; });
    var datasets = spec.datasets.map(function (d, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: d.label,
        data: d.data,
        yAxisID: doughnut ? undefined : d.axis,
        backgroundColor: doughnut ? spec.labels.map(function (_, j) {
          return COLOURS[j % COLOURS.length];
        }) : colour,
        borderColor: doughnut ? "#fff" : colour,
        borderDash: d.axis === "y1" ? [6, 4] : undefined,
        maxBarThickness: 56,
        tension: 0.2,
        fill: false,
        percent: d.kind === "percent",
        money: d.kind === "money",
      };
    });
    var scales = {};
    var axes = spec.axes || {};
    // The server gives each axis a round maximum just above its data, and a title with the unit.
    function axis(key, extra) {
      var a = axes[key] || {};
      var out = { beginAtZero: true, min: 0 };
      if (a.max) out.max = a.max;
      if (a.title) out.title = { display: true, text: a.title };
      Object.keys(extra).forEach(function (k) { out[k] = extra[k]; });
      return out;
    }
    if (!doughnut) {
      var yPercent = (spec.datasets.filter(function (d) { return d.axis === "y"; })[0] || {})
        .kind === "percent";
      scales.y = axis("y", {
        ticks: {
          callback: function (v) {
            return number(v, yPercent, spec.money);
          },
        },
      });
      if (twoAxes) {
        scales.y1 = axis("y1", {
          position: "right",
          grid: { drawOnChartArea: false },
          ticks: { callback: function (v) { return number(v, true, false); } },
        });
      }
    }
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          legend: { display: doughnut || datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var d = ctx.dataset;
                return d.label + ": " + number(ctx.raw, d.percent, d.money);
              },
            },
          },
        },
      },
    });
    canvas.dataset.drawn = "true";
  }

  function start() {
    document.querySelectorAll("script.stats-chart-data").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
