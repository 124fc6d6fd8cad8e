import Chart, { ChartConfiguration } from 'chart.js/auto';

/** One Chart.js instance per canvas id, replaced when its panel redraws. */
const charts = new Map<string, Chart>();

export function drawChart(canvas: HTMLCanvasElement, config: ChartConfiguration): Chart {
  charts.get(canvas.id)?.destroy();
  const chart = new Chart(canvas, config);
  charts.set(canvas.id, chart);
  return chart;
}

// Tests and the curious read a chart's data from the console: Chart.getChart('spend-chart').
(globalThis as typeof globalThis & { Chart: typeof Chart }).Chart = Chart;
