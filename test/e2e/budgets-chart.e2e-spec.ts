import { createCanvas, loadImage } from '@napi-rs/canvas';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

interface Pixels {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

async function decode(png: Buffer): Promise<Pixels> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  return { width: image.width, height: image.height, data: ctx.getImageData(0, 0, image.width, image.height).data };
}

const rgb = (p: Pixels, x: number, y: number) =>
  Array.from(p.data.subarray((y * p.width + x) * 4, (y * p.width + x) * 4 + 3));
const isDark = (p: Pixels, x: number, y: number) => rgb(p, x, y).every((c) => c < 100);
const isInk = (p: Pixels, x: number, y: number) => rgb(p, x, y).some((c) => c < 245);

/** The longest straight run of drawn pixels, across rows and columns: an axis or a grid line is one. */
function longestLine(p: Pixels): number {
  let longest = 0;
  for (const [outer, inner, at] of [
    [p.height, p.width, (i: number, j: number) => isInk(p, j, i)],
    [p.width, p.height, (i: number, j: number) => isInk(p, i, j)],
  ] as const) {
    for (let i = 0; i < outer; i++) {
      let run = 0;
      for (let j = 0; j < inner; j++) {
        run = at(i, j) ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
    }
  }
  return longest;
}

describe('budgets.png', () => {
  let t: TestApp;
  let viewer: HttpClient;

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await viewerClient(t.http);
  });
  afterAll(() => t?.close());

  const png = async (query = '') => {
    const res = await fetch(`${t.url}/v1/charts/budgets.png${query}`, {
      headers: { authorization: `Bearer ${viewer.key}` },
    });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/png']);
    return Buffer.from(await res.arrayBuffer());
  };

  it('says "No budgets yet" when there is none, instead of empty axes', async () => {
    const image = await decode(await png('?width=640&height=320'));
    expect([image.width, image.height]).toEqual([640, 320]);
    // Dark text in the middle...
    let dark = 0;
    for (let y = 110; y < 210; y++) for (let x = 220; x < 420; x++) if (isDark(image, x, y)) dark++;
    expect(dark).toBeGreaterThan(100);
    // ...white corners, and no line as long as an axis.
    for (const [x, y] of [
      [2, 2],
      [637, 2],
      [2, 317],
      [637, 317],
    ])
      expect(rgb(image, x, y)).toEqual([255, 255, 255]);
    expect(longestLine(image)).toBeLessThan(320 * 0.6);
  });

  it('draws the bars with their axes once there is a budget, as before', async () => {
    const project = await projectWithIngestKey(t.http);
    await project.client.post('/v1/events', { events: [usageEvent()] });
    const budget = await t.http.post('/v1/budgets', { name: 'Chart budget', amount_usd: '0.50', period: 'month' });
    expect(budget.status).toBe(201);
    for (const query of ['?width=640&height=320', `?budget_id=${budget.body.id}&width=640&height=320`]) {
      const image = await decode(await png(query));
      expect([image.width, image.height]).toEqual([640, 320]);
      expect(longestLine(image)).toBeGreaterThan(320 * 0.6);
    }
  });
});
