// The admin dashboard (/Admin): draws the charts from the page's <script type="application/json" id="dashboard-data">
// block (the CSP allows no inline script), and shows the custom period's day inputs only when "Custom" is chosen.
// The server renders every figure as a table too; the charts are a view of the same numbers.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartConfiguration,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

interface DashboardData {
  hourly: boolean;
  labels: string[];
  requests: number[];
  errors: number[];
  promptTokens: number[];
  completionTokens: number[];
  cost: number[];
}

const period = document.getElementById("period");
if (period instanceof HTMLSelectElement) {
  const custom = document.querySelectorAll<HTMLElement>("[data-period-custom]");
  const show = () => custom.forEach((field) => { field.hidden = period.value !== "custom"; });
  period.addEventListener("change", show);
  show();
}

const block = document.getElementById("dashboard-data");
if (block?.textContent) drawCharts(JSON.parse(block.textContent) as DashboardData);

function drawCharts(data: DashboardData): void {
  const style = getComputedStyle(document.documentElement);
  const colour = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const text = colour("--bs-secondary-color", "#6c757d");
  const grid = colour("--bs-border-color", "#dee2e6");
  const primary = colour("--bs-primary", "#0d6efd");
  const info = colour("--bs-info", "#0dcaf0");
  const success = colour("--bs-success", "#198754");
  const danger = colour("--bs-danger", "#dc3545");
  const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

  const charts: Record<string, ChartConfiguration> = {
    requests: { type: "bar", data: { labels: data.labels, datasets: [{ label: "Requests", data: data.requests, backgroundColor: primary }] }, options: {} },
    tokens: {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Prompt", data: data.promptTokens, backgroundColor: info, stack: "tokens" },
          { label: "Completion", data: data.completionTokens, backgroundColor: primary, stack: "tokens" },
        ],
      },
      options: {},
    },
    cost: {
      type: "line",
      data: { labels: data.labels, datasets: [{ label: "Cost (USD)", data: data.cost, borderColor: success, backgroundColor: success, fill: false, tension: 0.2 }] },
      options: {},
    },
    errors: { type: "bar", data: { labels: data.labels, datasets: [{ label: "Errors", data: data.errors, backgroundColor: danger }] }, options: {} },
  };

  for (const canvas of document.querySelectorAll<HTMLCanvasElement>("canvas[data-chart]")) {
    const config = charts[canvas.dataset.chart ?? ""];
    if (!config) continue;
    config.options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion ? false : undefined,
      plugins: { legend: { display: config.data.datasets.length > 1, labels: { color: text } } },
      scales: {
        x: { stacked: true, ticks: { color: text, maxRotation: 0, autoSkip: true }, grid: { display: false } },
        y: { stacked: true, beginAtZero: true, ticks: { color: text, precision: canvas.dataset.chart === "cost" ? undefined : 0 }, grid: { color: grid } },
      },
    };
    new Chart(canvas, config);
  }
}
