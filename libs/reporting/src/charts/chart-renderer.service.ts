import { Injectable } from '@nestjs/common';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables } from 'chart.js';
import { createChartConfigs } from './chart-configs';

Chart.register(...registerables);

/** Paints the chart's background: a transparent PNG vanishes in dark-mode chat clients. */
const whiteBackground = {
  id: 'whiteBackground',
  beforeDraw(chart: Chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/** Server-side Chart.js on @napi-rs/canvas (prebuilt, no native build step). */
@Injectable()
export class ChartRenderer {
  readonly configs = createChartConfigs();

  async png(config: any, width = 900, height = 420): Promise<Buffer> {
    const canvas = createCanvas(width, height);
    const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], {
      ...config,
      options: { ...config.options, responsive: false, maintainAspectRatio: false, animation: false, devicePixelRatio: 1 },
      plugins: [whiteBackground],
    });
    try {
      return await canvas.encode('png');
    } finally {
      chart.destroy();
    }
  }
}
