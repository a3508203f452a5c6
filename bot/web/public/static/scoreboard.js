// The scoreboard's monthly trends: for each canvas, the figures in its data-trend attribute
// (months, answered on time in %, mean rating), drawn with Chart.js. A month with too few
// cases has no figure (null): the line has a gap there, as the table beside it has a dash.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return; // the tables say the same
  for (const canvas of document.querySelectorAll("canvas[data-trend]")) {
    const trend = JSON.parse(canvas.dataset.trend);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: trend.months,
        datasets: [
          { label: "Trả lời đúng hạn (%)", data: trend.on_time, yAxisID: "share", borderColor: "#1f6feb", backgroundColor: "#1f6feb", spanGaps: false },
          { label: "Điểm hài lòng (trên 5)", data: trend.satisfaction, yAxisID: "score", borderColor: "#d97706", backgroundColor: "#d97706", spanGaps: false },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          share: { type: "linear", position: "left", min: 0, max: 100, title: { display: true, text: "%" } },
          score: { type: "linear", position: "right", min: 1, max: 5, grid: { drawOnChartArea: false }, title: { display: true, text: "điểm" } },
        },
      },
    });
  }
});
