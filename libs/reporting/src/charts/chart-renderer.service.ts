import { Injectable } from '@nestjs/common';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, ChartConfiguration, registerables } from 'chart.js';
import { DomainError } from '@tokentally/common';
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

/**
 * Drawing runs on the event loop (Chart.js draws synchronously; only the PNG
 * encoding is off-thread), up to half a second for a 2000 x 2000 chart of
 * thousands of buckets. So one chart is drawn at a time, with a turn of the
 * event loop before each (health checks and other requests get in), and at
 * most MAX_WAITING wait: beyond that the answer is 503 with Retry-After. Forty
 * concurrent big charts once held /health for 7 s and memory at 864 MB.
 */
export const MAX_WAITING_CHARTS = 8;

/** Server-side Chart.js on @napi-rs/canvas (prebuilt, no native build step). */
@Injectable()
export class ChartRenderer {
  readonly configs = createChartConfigs();
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  async png(config: ChartConfiguration, width = 900, height = 420): Promise<Buffer> {
    if (this.waiting >= MAX_WAITING_CHARTS) {
      throw new DomainError('unavailable', `${this.waiting} charts are being drawn; retry in a few seconds.`);
    }
    this.waiting++;
    const turn = this.queue.then(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return this.draw(config, width, height);
    });
    this.queue = turn.catch(() => undefined);
    try {
      return await turn;
    } finally {
      this.waiting--;
    }
  }

  /**
   * A chart-sized PNG that says something instead of drawing empty axes (for
   * example "No budgets yet"): white, the first line of `text` bold and dark
   * in the centre, further lines smaller and grey below it. No Chart.js, so it
   * costs a few milliseconds and does not wait in the chart queue.
   */
  async messagePng(text: string, width = 900, height = 420): Promise<Buffer> {
    const canvas = createCanvas(width, height);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    const [headline, ...details] = text.split('\n');
    const size = Math.max(14, Math.min(28, Math.round(Math.min(width / 24, height / 10))));
    const detailSize = Math.max(11, Math.round(size * 0.55));
    const gap = Math.round(detailSize * 0.8);
    // Top of the text block, which is centred vertically.
    let top = height / 2 - (size + details.length * (gap + detailSize)) / 2;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#0f172a';
    ctx.font = `bold ${size}px sans-serif`;
    ctx.fillText(headline, width / 2, top + size / 2, width - 40);
    top += size;
    ctx.fillStyle = '#64748b';
    ctx.font = `${detailSize}px sans-serif`;
    for (const line of details) {
      top += gap;
      ctx.fillText(line, width / 2, top + detailSize / 2, width - 40);
      top += detailSize;
    }
    return canvas.encode('png');
  }

  private async draw(config: ChartConfiguration, width: number, height: number): Promise<Buffer> {
    const canvas = createCanvas(width, height);
    const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], {
      ...config,
      options: {
        ...config.options,
        responsive: false,
        maintainAspectRatio: false,
        animation: false,
        devicePixelRatio: 1,
      },
      plugins: [whiteBackground],
    });
    try {
      return await canvas.encode('png');
    } finally {
      chart.destroy();
    }
  }
}
