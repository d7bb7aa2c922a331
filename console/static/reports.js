// The reports page's charts: MTTA and MTTR per group, median and p90,
// drawn with the vendored Chart.js from the page's JSON data island
// (#report-data). The tables carry the same numbers without JavaScript.
(function () {
  "use strict";
  var island = document.getElementById("report-data");
  if (!island || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(island.textContent);
  var minutes = function (xs) {
    return xs.map(function (s) { return s === null ? null : Math.round(s / 6) / 10; });
  };
  var draw = function (id, title, median, p90) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "median", data: minutes(median), backgroundColor: "#0b57d0" },
          { label: "p90", data: minutes(p90), backgroundColor: "#b3c7ef" }
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { title: { display: true, text: title } },
        scales: { y: { beginAtZero: true, title: { display: true, text: "minutes" } } }
      }
    });
  };
  draw("chart-tta", "Time to acknowledge (MTTA)", data.tta_median, data.tta_p90);
  draw("chart-ttr", "Time to resolve (MTTR)", data.ttr_median, data.ttr_p90);
})();
