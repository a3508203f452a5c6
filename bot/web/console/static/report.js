// The report screen's bar charts (bot/web/console/templates/reports.html): every
// <canvas data-chart='{"label", "labels", "values"}'> becomes a horizontal Chart.js bar chart,
// one bar per place. The numbers stay in the table under each chart for screen readers; no
// inline script or style is needed, so the console's Content-Security-Policy holds.
"use strict";

(function () {
  var BAR = 28; // pixels per place, so long lists stay readable
  var BRAND = "#0b5cad"; // the console's --brand

  function draw(canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    var percent = canvas.getAttribute("data-unit") === "%";
    // Setting a style property from a script file is allowed by style-src 'self'.
    canvas.parentElement.style.height = Math.max(160, spec.labels.length * BAR + 60) + "px";
    var x = { beginAtZero: true, ticks: { precision: 0 } };
    if (percent) {
      x.max = 100;
      x.ticks.callback = function (value) { return value + " %"; };
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [{ label: spec.label, data: spec.values, backgroundColor: BRAND }],
      },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        scales: { x: x },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                if (item.raw === null) { return "—"; }
                return item.formattedValue + (percent ? " %" : "");
              },
            },
          },
        },
      },
    });
  }

  function start() {
    if (!window.Chart) { return; } // the library failed to load: the tables remain
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
