// Draws the report charts from the JSON block the page carries (no inline script: CSP).
(function () {
  "use strict";
  var source = document.getElementById("report-charts");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var charts = JSON.parse(source.textContent);
  var palette = ["#17406d", "#d9822b", "#3a9d5d", "#b03a48", "#6b5ca5", "#8c8c8c"];

  function config(spec) {
    var stacked = Boolean(spec.stacked);
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (dataset, index) {
          var colour = palette[index % palette.length];
          return Object.assign(
            { borderColor: colour, backgroundColor: colour, spanGaps: true, tension: 0.2 },
            dataset
          );
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { title: { display: true, text: spec.title } },
        scales: {
          x: { stacked: stacked },
          // A count of tickets has no fractions: ticks at whole numbers only.
          y: { stacked: stacked, beginAtZero: true, ticks: spec.counts ? { precision: 0 } : {} }
        }
      }
    };
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.dataset.chart];
    if (spec) {
      new window.Chart(canvas, config(spec));
    }
  });
})();
