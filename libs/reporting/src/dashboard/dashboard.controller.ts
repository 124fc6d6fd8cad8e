import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Public } from '@tokentally/auth';
import { DomainError } from '@tokentally/common';
import { chartConfigsBrowserScript } from '../charts/chart-configs';

const ASSETS = path.join(__dirname, 'assets');
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js');

const read = (file: string) => fs.readFileSync(file, 'utf8');

/** The dashboard page and its assets, all served locally (no CDN: it works offline). */
@Controller()
@Public()
export class DashboardController {
  private readonly files = new Map<string, { body: string; type: string }>([
    ['dashboard.js', { body: read(path.join(ASSETS, 'dashboard.js')), type: 'text/javascript; charset=utf-8' }],
    ['dashboard.css', { body: read(path.join(ASSETS, 'dashboard.css')), type: 'text/css; charset=utf-8' }],
    ['charts.js', { body: chartConfigsBrowserScript(), type: 'text/javascript; charset=utf-8' }],
    ['chart.umd.js', { body: read(CHART_JS), type: 'text/javascript; charset=utf-8' }],
  ]);
  private readonly page = read(path.join(ASSETS, 'index.html'));

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  index(): string {
    return this.page;
  }

  @Get('assets/:file')
  @Header('cache-control', 'public, max-age=300')
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    const asset = this.files.get(file);
    if (!asset) throw DomainError.notFound(`Asset ${file}`);
    reply.header('content-type', asset.type);
    return asset.body;
  }
}
