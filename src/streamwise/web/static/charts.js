// Draw the page's charts with the plotly.js served by Streamwise (no CDN, no build step).
// The chart specs come from the server as JSON in <script id="chart-data">.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("chart-data");
  if (!source || typeof Plotly === "undefined") { return; }
  JSON.parse(source.textContent).forEach(function (chart) {
    var target = document.getElementById("chart-" + chart.id);
    if (target) {
      Plotly.newPlot(target, chart.data, chart.layout, {responsive: true, displaylogo: false});
    }
  });
});
